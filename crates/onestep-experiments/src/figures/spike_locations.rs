//! Figure `spike-locations` (paper Fig. 2): the top six singular values of F against α (mean ±
//! sd over seeds), the predicted outlier locations (crosses), the predicted bulk edge and the
//! thresholds (k−1)/(2k). Theory: [`onestep_theory::predict_spikes`] with the Marchenko–Pastur
//! bulk (docs/model.md §4, §6.1 item 6).
//!
//! Which predictions are drawn: every trusted location (`SpikePrediction::trusted_location`):
//! every finite one on the smoothed route the figure uses; the truncated Taylor route would also
//! hide a degree k ≥ 4 location above 2θ_k (θ_k the raw strength), kept in the CSV with
//! `plotted = 0`.
use super::SeriesErr;
use super::*;
use onestep_plot::{Mark, Panel, Series};
use onestep_theory::SpikeReport;

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "spike-locations",
    paper: "Fig. 2",
    description: "top six singular values of F against α (mean ± sd), predicted outlier locations, bulk edge, thresholds (k−1)/(2k)",
    config: include_str!("../../../../configs/spike-locations.toml"),
};
const ID: &str = INFO.id;
/// Singular values drawn per α.
pub const RANKS: usize = 6;

/// Sizes and grid of the centred-ReLU sweep shared with the `alignment` figure.
pub(crate) struct Sweep {
    pub cfg: SimConfig,
    pub alphas: Vec<f64>,
    pub seeds: Vec<u64>,
}

impl Sweep {
    /// The sweep's configuration at step exponent `alpha`.
    pub fn at(&self, alpha: f64) -> SimConfig {
        SimConfig {
            alpha,
            ..self.cfg.clone()
        }
    }

    /// Points ordered α-major (all seeds of the first α, then the next α, …).
    pub fn points(&self) -> Vec<Point> {
        trial_points(&self.alphas, &self.seeds, |a| self.at(a))
    }

    /// The theory's spike report at `alpha`; errors are labelled with `figure`.
    pub fn theory(
        &self,
        figure: &'static str,
        alpha: f64,
        opts: &Options,
    ) -> Result<SpikeReport, FigureError> {
        spike_theory(figure, &check(figure, &self.at(alpha), opts)?)
    }

    /// Records the sweep's grid, sizes, functions, configuration (as `name`) and seeds.
    pub fn settings(&self, m: &mut Manifest, name: &str) {
        m.settings
            .insert(format!("{name}.alphas"), serde_json::json!(self.alphas));
        m.settings.insert(
            format!("{name}.sizes"),
            format!(
                "d={} N={} n={} n_test={}",
                self.cfg.d, self.cfg.width, self.cfg.n, self.cfg.n_test
            ).into(),
        );
        m.settings.insert(
            format!("{name}.functions"),
            format!("σ={} σ*={}", self.cfg.activation, self.cfg.target).into(),
        );
        m.configs.insert(name.to_string(), self.cfg.clone());
        m.seeds = self.seeds.clone();
    }
}

/// One sweep of a grid file (`[SECTION.relu]`, `[SECTION.poly]`): sizes, α grid, seeds per point.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepSpec {
    d: usize,
    width: usize,
    n: usize,
    n_test: usize,
    alphas: Vec<f64>,
    seeds: usize,
}

impl SweepSpec {
    /// `Err` naming the key of an empty α grid or a seed count out of range.
    pub(crate) fn check(&self) -> Result<(), String> {
        nonempty("alphas", &self.alphas)?;
        seeds_ok("seeds", self.seeds)
    }

    /// The sweep at these sizes with the figures' base configuration.
    pub(crate) fn sweep(self, opts: &Options) -> Sweep {
        Sweep {
            cfg: base_config(self.d, self.width, self.n, self.n_test, 0.0),
            alphas: self.alphas,
            seeds: opts.seed_list(self.seeds),
        }
    }
}

/// One section of `configs/spike-locations.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    relu: SweepSpec,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        self.relu.check()
    }
}

/// The centred-ReLU sweep of the grid file (built in: full d = N = 1024, n = 4096, 23 α in
/// [0, 0.44], 3 seeds; quick d = N = 256, n = 1024, 12 α, 2 seeds).
fn relu_sweep(opts: &Options) -> Result<Sweep, FigureError> {
    let g: Grid = opts.grid(&INFO)?;
    Ok(g.relu.sweep(opts))
}

/// The theory's spike report for a configuration (MP bulk, limiting ‖β‖², Gaussian moments of a).
pub(crate) fn spike_theory(
    figure: &'static str,
    cfg: &ValidConfig,
) -> Result<SpikeReport, FigureError> {
    onestep_pipeline::theory::spike_report(cfg).map_err(theory_error(figure))
}

/// Runs the figure: the centred-ReLU sweep, the top singular values and theory per α, and the
/// simulation / theory ratios.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let sweep = relu_sweep(opts)?;
    let results = evaluate(ID, b, opts, ctx, &sweep.points())?;
    let per = sweep.seeds.len();
    let mut sim = simulation_table();
    let mut th = theory_table();
    let mut curves = Curves::new();
    for (g, &alpha) in groups(&results, per).into_iter().zip(&sweep.alphas) {
        let rep = sweep.theory(ID, alpha, opts)?;
        sim.push(curves.add_simulation(g, alpha, &rep));
        curves.add_ratios(g, alpha, &rep);
        theory_rows(alpha, &rep, &mut th, &mut curves.degree_pts);
    }
    let act = &check(ID, &sweep.cfg, opts)?.act_stats;
    let lines = threshold_lines(act, 2..=6, curves.max_alpha);
    let title = format!("centred ReLU, d = N = {}, n = {}", sweep.cfg.d, sweep.cfg.n);
    let (panel, ratio) = curves.panels(title, per, lines);
    let mut manifest = Manifest::default();
    sweep.settings(&mut manifest, "relu");
    manifest.points = results.len();
    manifest.notes.push("Theory: predict_spikes with Spectrum::MarchenkoPastur and the smoothed spike functions with step noise (docs/theory.md §9.5); every finite location is drawn (only the truncated Taylor route, not used here, distrusts a degree ≥ 4 location above 2θ_k).".into());
    let figure = Figure {
        title: "Spike locations: outliers of F = σ(X̃Wᵀ) after one step, against α".into(),
        panels: vec![panel, ratio],
        columns: 2,
        caption: Some(format!(
            "Markers: the {RANKS} largest singular values of F (mean ± sd over {per} seeds). Crosses: outlier locations predicted by the BBP equation on the Marchenko–Pastur bulk, spike functions smoothed per neuron with the step's noise direction (docs/theory.md §9.5; all values in the CSV). Right: simulated over predicted value where every seed separates the outlier (the r-th largest value against the r-th largest prediction); bulk edge of F = its largest value below the detected spikes. Dashed: thresholds (k−1)/(2k) for the degrees with c_k ≠ 0 (centred ReLU has c₃ = 0). σ* = He₁ + He₂/√2, λ = 0.1, σ_ε = 0.1."
        )),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![sim, th],
        figure,
        manifest,
    })
}

/// Palette of the degrees' outlier series, in increasing degree.
const DEGREE_COLORS: [usize; 5] = [1, 3, 4, 5, 7];

/// The columns of the simulation table: α, η, seeds, mean and sd of each of the top singular
/// values, ‖F₀‖, spikes detected and the theory's bulk edge and ℓ.
fn simulation_table() -> Table {
    let mut columns: Vec<String> = vec!["alpha".into(), "eta".into(), "seeds".into()];
    for r in 1..=RANKS {
        columns.push(format!("sv{r}_mean"));
        columns.push(format!("sv{r}_sd"));
    }
    columns.extend(
        [
            "f0_norm_mean",
            "f0_norm_sd",
            "spikes_detected_mean",
            "theory_bulk_edge",
            "theory_ell",
        ]
        .map(String::from),
    );
    Table {
        name: "simulation".into(),
        columns,
        rows: Vec::new(),
    }
}

/// The columns of the theory table (one row per α and predicted spike).
fn theory_table() -> Table {
    Table::new(
        "theory",
        &[
            "alpha",
            "degree",
            "threshold",
            "strength",
            "location",
            "plotted",
            "bulk_edge",
            "ell",
            "alignment",
        ],
    )
}

/// The theory rows at one α; the drawn locations are added to `degree_pts` by degree.
fn theory_rows(
    alpha: f64,
    rep: &SpikeReport,
    th: &mut Table,
    degree_pts: &mut BTreeMap<usize, Vec<(f64, f64)>>,
) {
    for sp in &rep.spikes {
        let plotted = sp.trusted_location().is_some();
        th.push(vec![
            alpha.into(),
            sp.degree.into(),
            onestep_theory::threshold(sp.degree).into(),
            sp.strength.into(),
            sp.location.into(),
            plotted.into(),
            rep.bulk_edge.into(),
            rep.ell.into(),
            sp.alignment.into(),
        ]);
        if plotted {
            degree_pts
                .entry(sp.degree)
                .or_default()
                .push((alpha, sp.location.unwrap_or(f64::NAN)));
        }
    }
}

/// The curves of both panels, gathered α by α.
struct Curves {
    /// Top singular values by rank (mean ± sd).
    rank_series: Vec<SeriesErr>,
    /// ‖F₀‖ (mean) and the theory's bulk edge.
    f0_line: Vec<(f64, f64)>,
    edge_line: Vec<(f64, f64)>,
    /// Drawn outlier locations by degree.
    degree_pts: BTreeMap<usize, Vec<(f64, f64)>>,
    max_alpha: f64,
    /// Simulation / theory: bulk edge of F (the first singular value below the detected spikes)
    /// and the outliers by degree, the r-th largest value matched to the r-th largest drawn
    /// prediction.
    ratio_edge: SeriesErr,
    ratios: BTreeMap<usize, SeriesErr>,
}

impl Curves {
    fn new() -> Self {
        Self {
            rank_series: vec![(Vec::new(), Vec::new()); RANKS],
            f0_line: Vec::new(),
            edge_line: Vec::new(),
            degree_pts: BTreeMap::new(),
            max_alpha: 0.0,
            ratio_edge: (Vec::new(), Vec::new()),
            ratios: BTreeMap::new(),
        }
    }

    /// Adds the seeds `g` at `alpha` to the singular-value curves; returns their simulation row.
    fn add_simulation(&mut self, g: &[PointResult], alpha: f64, rep: &SpikeReport) -> Vec<Cell> {
        self.max_alpha = self.max_alpha.max(alpha);
        let mut row: Vec<Cell> = vec![alpha.into(), g[0].eta.into(), g.len().into()];
        for (r, series) in self.rank_series.iter_mut().enumerate() {
            let (m, s) = mean_sd(g.iter().map(|p| p.top.get(r).copied().unwrap_or(f64::NAN)));
            row.push(m.into());
            row.push(s.into());
            push_mean_sd(series, alpha, (m, s));
        }
        let (fm, fs) = mean_sd(g.iter().map(|p| p.bulk_edge));
        let (sd_mean, _) = mean_sd(g.iter().map(|p| p.spikes_detected as f64));
        row.extend([
            fm.into(),
            fs.into(),
            sd_mean.into(),
            rep.bulk_edge.into(),
            rep.ell.into(),
        ]);
        self.f0_line.push((alpha, fm));
        self.edge_line.push((alpha, rep.bulk_edge));
        row
    }

    /// Adds the seeds `g` at `alpha` to the simulation / theory ratios.
    fn add_ratios(&mut self, g: &[PointResult], alpha: f64, rep: &SpikeReport) {
        let edge =
            mean_sd(g.iter().map(|p| {
                p.top.get(p.spikes_detected).copied().unwrap_or(f64::NAN) / rep.bulk_edge
            }));
        push_mean_sd(&mut self.ratio_edge, alpha, edge);
        for (r, (k, loc, _)) in drawn_spikes(rep).iter().enumerate() {
            // only where every seed separates this many spikes
            if g.iter().all(|p| p.spikes_detected > r) {
                let ratio = mean_sd(g.iter().map(|p| p.top[r] / loc));
                push_mean_sd(self.ratios.entry(*k).or_default(), alpha, ratio);
            }
        }
    }

    /// The singular values against α, and the simulation / theory ratios, both with the
    /// threshold `lines`.
    fn panels(self, title: String, per: usize, lines: Vec<(f64, String)>) -> (Panel, Panel) {
        let mut panel = Panel::new(title, "α  (step size η = n^α)", "singular value of F");
        panel.y_log = true;
        for series in self.rank_series {
            panel.series.push(markers_with_err(
                format!("simulation: top {RANKS} (mean ± sd, {per} seeds)"),
                series,
                0,
            ));
        }
        panel.series.push(
            Series::new(
                "‖F₀‖ (simulation, before the step)",
                Mark::Dotted,
                self.f0_line,
            )
            .with_color(2),
        );
        panel
            .series
            .push(Series::new("bulk edge (theory)", Mark::Line, self.edge_line).with_color(6));
        for (i, (k, pts)) in self.degree_pts.into_iter().enumerate() {
            panel.series.push(
                Series::new(
                    format!("outlier location, degree {k} (theory)"),
                    Mark::Crosses,
                    pts,
                )
                .with_color(DEGREE_COLORS[i % 5]),
            );
        }
        panel.vlines = lines;
        let mut ratio = Panel::new(
            "simulation / theory",
            "α  (step size η = n^α)",
            "simulated / predicted singular value",
        );
        ratio.hlines.push((1.0, "agreement".into()));
        ratio
            .series
            .push(markers_with_err("bulk edge of F", self.ratio_edge, 6));
        for (i, (k, series)) in self.ratios.into_iter().enumerate() {
            ratio.series.push(markers_with_err(
                format!("outlier of degree {k}"),
                series,
                DEGREE_COLORS[i % 5],
            ));
        }
        ratio.vlines = panel.vlines.clone();
        headroom(&mut ratio, 0.35);
        (panel, ratio)
    }
}
