//! Figure `spectrum` (paper Fig. 1/2): histograms of all singular values of F after the step at
//! α = 0 (bulk only), 0.2 (one spike), 0.3 (two spikes) for centred ReLU, and α = 0.36 for
//! σ = He₁ + ½He₂ + ⅙He₃ (three spikes); the histogram of F₀ (before the step) overlaid; the
//! predicted bulk edge and outlier locations ([`onestep_theory::predict_spikes`], MP bulk); the
//! separated singular values annotated with the degree they are matched to.
use super::*;
use onestep_plot::{Mark, Panel, Series};
use onestep_theory::SpikeReport;
use spike_locations::spike_theory;

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "spectrum",
    paper: "Fig. 1/2",
    description: "histograms of the singular values of F at α = 0, 0.2, 0.3 (centred ReLU) and α = 0.36 (σ = He₁ + ½He₂ + ⅙He₃), bulk of F₀ overlaid, spikes annotated with their degree",
    config: include_str!("../../../../configs/spectrum.toml"),
};
const ID: &str = INFO.id;

/// Runs the figure: one trial per panel, histograms of F and F₀ with the theory's bulk edge and
/// outliers, the separated values matched to the predictions.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let Grid { d, n_test, bins } = opts.grid(&INFO)?;
    let seed = opts.seed_list(1)[0];
    let (relu, poly) = configs(d, n_test);
    let cases = cases(&relu, &poly);
    let results = evaluate(ID, b, opts, ctx, &points(&cases, seed))?;
    let mut hist = histogram_table();
    let mut spikes = spikes_table();
    let mut panels = Vec::new();
    let mut notes = Vec::new();
    for (i, (case, r)) in cases.iter().zip(&results).enumerate() {
        let cfg = check(ID, &case.cfg, opts)?;
        let p = PanelData {
            number: i + 1,
            activation: cfg.activation.to_string(),
            alpha: case.cfg.alpha,
            r,
            all: r.all.clone().unwrap_or_default(),
            rep: spike_theory(ID, &cfg)?,
        };
        let mut panel = histogram_panel(&p, case.title, bins, &mut hist);
        spike_rows(&p, &mut panel, &mut spikes, &mut notes);
        panels.push(panel);
    }
    let mut manifest = Manifest::default();
    manifest.configs.insert("relu".into(), relu);
    manifest.configs.insert("poly".into(), poly);
    describe(
        &mut manifest,
        [
            ("sizes", format!("d = N = n = {d}").into()),
            (
                "panels",
                "centred ReLU at α = 0, 0.2, 0.3; σ = He₁ + ½He₂ + ⅙He₃ at α = 0.36".into(),
            ),
        ],
        vec![seed],
        results.len(),
    );
    // Where simulation and theory disagree, the picture says so (the theory of the widened bulk
    // is an open point, docs/theory.md §9.6).
    let mut caption = "Bars: histogram of all singular values of F after the step (log count). Dashed outline: F₀ before the step. Spikes are labelled with the degree k of the polynomial feature they carry (matched in order to the theory's predicted outliers, crosses). Dashed vertical line: predicted bulk edge (Marchenko–Pastur bulk). σ* = He₁ + He₂/√2.".to_string();
    if !notes.is_empty() {
        caption = format!(
            "{caption} Theory and simulation disagree: {}; the widening of the bulk of F after the step is an open point (docs/theory.md §9.6).",
            notes.join("; ")
        );
    }
    manifest.notes = notes;
    let figure = Figure {
        title: format!("Singular values of the feature matrix F after one step (d = N = n = {d})"),
        panels,
        columns: 2,
        caption: Some(caption),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![hist, spikes],
        figure,
        manifest,
    })
}

/// One section of `configs/spectrum.toml`: d = N = n, n_test and the number of histogram bins
/// across the bulk of F₀.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    d: usize,
    n_test: usize,
    bins: usize,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        if (1..=10_000).contains(&self.bins) {
            Ok(())
        } else {
            Err(format!("`bins` = {}; allowed: an integer in 1..=10000", self.bins))
        }
    }
}

/// The centred-ReLU and polynomial-activation configurations (at α = 0).
fn configs(d: usize, n_test: usize) -> (SimConfig, SimConfig) {
    let relu = base_config(d, d, d, n_test, 0.0);
    let poly = SimConfig {
        activation: alignment::POLY.into(),
        ..relu.clone()
    };
    (relu, poly)
}

/// One panel: its title and the configuration at its α.
struct Case {
    title: &'static str,
    cfg: SimConfig,
}

/// The four panels: centred ReLU at α = 0, 0.2, 0.3 and the polynomial activation at α = 0.36.
fn cases(relu: &SimConfig, poly: &SimConfig) -> [Case; 4] {
    let at = |title, c: &SimConfig, alpha| Case {
        title,
        cfg: SimConfig { alpha, ..c.clone() },
    };
    [
        at("σ = centred ReLU, α = 0", relu, 0.0),
        at("σ = centred ReLU, α = 0.2", relu, 0.2),
        at("σ = centred ReLU, α = 0.3", relu, 0.3),
        at("σ = He₁ + ½He₂ + ⅙He₃, α = 0.36", poly, 0.36),
    ]
}

/// One trial per panel, keeping all singular values.
fn points(cases: &[Case], seed: u64) -> Vec<Point> {
    cases
        .iter()
        .map(|c| Point {
            cfg: c.cfg.clone(),
            seed,
            kind: PointKind::TrialWithSpectrum,
        })
        .collect()
}

/// The columns of the histogram table.
fn histogram_table() -> Table {
    Table::new(
        "histogram",
        &[
            "panel",
            "activation",
            "alpha",
            "bin_lo",
            "bin_hi",
            "count_f",
            "count_f0",
        ],
    )
}

/// The columns of the spikes table.
fn spikes_table() -> Table {
    Table::new(
        "spikes",
        &[
            "panel",
            "activation",
            "alpha",
            "rank",
            "sim_singular_value",
            "degree",
            "theory_location",
            "theory_strength",
            "sim_f0_norm",
            "theory_bulk_edge",
            "sim_spikes_detected",
            "theory_ell",
        ],
    )
}

/// What one panel draws from: its number (from 1), activation, α, simulation and theory.
struct PanelData<'a> {
    number: usize,
    activation: String,
    alpha: f64,
    r: &'a PointResult,
    /// All singular values of F after the step.
    all: Vec<f64>,
    rep: SpikeReport,
}

impl PanelData<'_> {
    /// A row of the spikes table: panel, activation and α, then `middle` (rank, simulated value,
    /// degree, theory location and strength), then the bulk edges, spikes detected and ℓ.
    fn spike_row(&self, middle: [Cell; 5]) -> Vec<Cell> {
        let mut row: Vec<Cell> = vec![
            self.number.into(),
            self.activation.clone().into(),
            self.alpha.into(),
        ];
        row.extend(middle);
        row.extend([
            self.r.bulk_edge.into(),
            self.rep.bulk_edge.into(),
            self.r.spikes_detected.into(),
            self.rep.ell.into(),
        ]);
        row
    }
}

/// Counts of the singular values of F and F₀ in bins of equal width.
struct Histogram {
    width: f64,
    f: Vec<usize>,
    f0: Vec<usize>,
}

/// Bins: `bins` across the bulk of F₀, continued at the same width up to the largest value.
fn histogram(r: &PointResult, all: &[f64], bins: usize) -> Histogram {
    let all0 = r.all_f0.clone().unwrap_or_default();
    let hi = all.iter().chain(&all0).cloned().fold(0.0, f64::max) * 1.03;
    let width = (r.bulk_edge.max(1e-12) * 1.05) / bins as f64;
    let nb = ((hi / width).ceil() as usize).max(1);
    let count = |xs: &[f64]| {
        let mut c = vec![0usize; nb];
        for &x in xs {
            c[((x / width) as usize).min(nb - 1)] += 1;
        }
        c
    };
    Histogram {
        width,
        f: count(all),
        f0: count(&all0),
    }
}

/// The histogram rows of one panel, and the panel with the bars of F, the outline of F₀ and the
/// theory's bulk edge.
fn histogram_panel(p: &PanelData<'_>, title: &str, bins: usize, hist: &mut Table) -> Panel {
    let h = histogram(p.r, &p.all, bins);
    let (cf, cf0, width) = (&h.f, &h.f0, h.width);
    let nb = cf.len();
    let mut bars = Vec::new();
    let mut steps = Vec::new();
    for j in 0..nb {
        let lo = j as f64 * width;
        hist.push(vec![
            p.number.into(),
            p.activation.clone().into(),
            p.alpha.into(),
            lo.into(),
            (lo + width).into(),
            cf[j].into(),
            cf0[j].into(),
        ]);
        if cf[j] > 0 {
            bars.push((lo + width / 2.0, cf[j] as f64));
        }
        steps.push((lo, if cf0[j] > 0 { cf0[j] as f64 } else { f64::NAN }));
    }
    steps.push((nb as f64 * width, f64::NAN));
    let mut panel = Panel::new(title, "singular value of F", "count");
    panel.y_log = true;
    let ymax = cf.iter().chain(cf0).copied().max().unwrap_or(1) as f64;
    panel.y_range = Some((0.6, ymax * 4.0));
    panel
        .series
        .push(Series::new("F after the step (simulation)", Mark::Bars, bars).with_color(0));
    panel
        .series
        .push(Series::new("F₀ before the step (simulation)", Mark::Steps, steps).with_color(1));
    panel
        .vlines
        .push((p.rep.bulk_edge, "bulk edge (theory)".into()));
    panel
}

/// The theory's drawable outlier locations (crosses), matched in order to the separated values:
/// annotations with their degree, the spikes rows and notes on what does not match.
fn spike_rows(p: &PanelData<'_>, panel: &mut Panel, spikes: &mut Table, notes: &mut Vec<String>) {
    let preds = drawn_spikes(&p.rep);
    let separated: Vec<f64> = p.all.iter().copied().take(p.r.spikes_detected).collect();
    let crosses: Vec<(f64, f64)> = preds.iter().map(|q| (q.1, 1.6)).collect();
    if !crosses.is_empty() {
        panel
            .series
            .push(Series::new("predicted outlier (theory)", Mark::Crosses, crosses).with_color(6));
    }
    for (rank, sv) in separated.iter().enumerate() {
        let pred = preds.get(rank);
        if let Some(q) = pred {
            panel
                .annotations
                .push((*sv, 3.0 + 3.0 * (rank % 2) as f64, format!("k={}", q.0)));
        }
        spikes.push(p.spike_row([
            (rank + 1).into(),
            (*sv).into(),
            pred.map_or(f64::NAN, |q| q.0 as f64).into(),
            pred.map(|q| q.1).into(),
            pred.map(|q| q.2).into(),
        ]));
    }
    for q in preds.iter().skip(separated.len()) {
        spikes.push(p.spike_row([
            f64::NAN.into(),
            f64::NAN.into(),
            q.0.into(),
            q.1.into(),
            q.2.into(),
        ]));
        notes.push(format!("panel {}: theory predicts an outlier of degree {} at {:.1} that the simulation does not separate", p.number, q.0, q.1));
    }
    if separated.len() > preds.len() {
        notes.push(format!("panel {}: {} singular values above ‖F₀‖(1 + margin) but only {} predicted outliers; the extra ones are unlabelled", p.number, separated.len(), preds.len()));
    }
    if separated.is_empty() && preds.is_empty() {
        spikes.push(p.spike_row(std::array::from_fn(|_| f64::NAN.into())));
    }
}
