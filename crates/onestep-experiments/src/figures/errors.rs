//! Figure `errors` (paper Fig. 3 left/middle): training and test error against α for target A
//! (σ* = He₁) and target B (σ* = He₁ + He₂/√2), n = 4d, N = d: the network (markers), the
//! simulated spiked and conditional-Gaussian equivalents (lines), the finite-α spiked-equivalent
//! theory (crosses), RF and the best linear predictor (horizontal lines), the infinite-spike
//! levels ℓ = 1, 2 as steps, thresholds marked. Models are read from the `errors` map of a trial
//! by key ([`ERROR_MODELS`]); a key that no trial produced is written on the panel, never dropped
//! silently.
use super::*;
use super::{ErrTriple, SeriesErr};
use onestep_plot::{Mark, Panel, Series};
use onestep_theory::Setting;
use std::collections::BTreeSet;

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "errors",
    paper: "Fig. 3 left/middle",
    description: "training and test error against α for targets A and B: NN, spiked and conditional-Gaussian equivalents, RF, best linear, infinite-spike levels",
    config: include_str!("../../../../configs/errors.toml"),
};
const ID: &str = INFO.id;

/// One section of `configs/errors.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    d: usize,
    n_test: usize,
    alphas: Vec<f64>,
    seeds: usize,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        nonempty("alphas", &self.alphas)?;
        seeds_ok("seeds", self.seeds)
    }
}

const METRICS: [&str; 3] = ["train", "test", "test_clean"];

/// Runs the figure: per target the α sweep with every model, a training and a test panel.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let Grid {
        d,
        n_test,
        alphas,
        seeds,
    } = opts.grid(&INFO)?;
    let seeds = opts.seed_list(seeds);
    let mut table = errors_table();
    let mut panels = Vec::new();
    let mut manifest = Manifest::default();
    let mut total = 0;
    let amax = alphas.iter().cloned().fold(0.0, f64::max);
    for (tname, spec) in [("A", TARGET_A), ("B", TARGET_B)] {
        let target = Target {
            name: tname,
            spec,
            d,
            n_test,
        };
        let points = trial_points(&alphas, &seeds, |a| target.config(a));
        let results = evaluate(ID, b, opts, ctx, &points)?;
        total += results.len();
        let sum = summarise(&target, &results, &alphas, seeds.len(), opts, &mut table)?;
        for (mi, metric) in ["train", "test"].into_iter().enumerate() {
            panels.push(error_panel(&sum, tname, mi, metric, amax, seeds.len()));
        }
        note_missing_in_manifest(&mut manifest, &format!("target {tname}"), &sum.missing);
        manifest
            .configs
            .insert(format!("target {tname}"), target.config(0.0));
    }
    describe(
        &mut manifest,
        [
            ("sizes", format!("d = N = {d}, n = 4d").into()),
            ("alphas", serde_json::json!(alphas)),
        ],
        seeds.clone(),
        total,
    );
    let figure = Figure {
        title: format!("Ridge errors after one step against α (d = N = {d}, n = 4d)"),
        panels,
        columns: 2,
        caption: Some("Markers: network (mean ± sd). Lines: simulated spiked (solid) and conditional-Gaussian (dashed) equivalents on the same data; crosses: finite-α spiked-equivalent theory; dotted: the finite-n theory of the network at these d, N, n (docs/theory.md §10). Steps: infinite-spike models ℓ = 1 (α < 1/4) and ℓ = 2 (simulated). Horizontal: RF and the fitted best linear predictor. Dashed verticals: thresholds. Target A: σ* = He₁; B: σ* = He₁ + He₂/√2. Test errors include σ_ε² = 0.01.".into()),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![table],
        figure,
        manifest,
    })
}

/// The columns of the errors table: mean and sd of each metric, its theory value and which
/// theory that is, per target, α and model.
fn errors_table() -> Table {
    let mut cols = vec!["target", "d", "n", "alpha", "model", "seeds"];
    let names: Vec<String> = METRICS
        .iter()
        .flat_map(|m| [format!("{m}_mean"), format!("{m}_sd")])
        .chain(METRICS.iter().map(|m| format!("theory_{m}")))
        .collect();
    cols.extend(names.iter().map(String::as_str));
    cols.push("theory_model");
    Table::new("errors", &cols)
}

/// One target's sweep: its name, specification and sizes.
struct Target {
    name: &'static str,
    spec: &'static str,
    d: usize,
    n_test: usize,
}

impl Target {
    /// The configuration at `alpha`, fitting [`ERROR_MODELS`].
    fn config(&self, alpha: f64) -> SimConfig {
        with_models(
            SimConfig {
                target: self.spec.into(),
                ..base_config(self.d, self.d, 4 * self.d, self.n_test, alpha)
            },
            &ERROR_MODELS,
        )
    }
}

/// The α-independent theory: the setting, the limits with ℓ = 0, 1, 2 columns, and the energy of
/// the target beyond degree 1 (the best linear predictor's noiseless risk).
struct Limits {
    setting: Setting,
    ell: Vec<onestep_theory::Errors>,
    p_gt1: f64,
}

/// [`Limits`] of a configuration.
fn limits(cfg0: &ValidConfig) -> Result<Limits, FigureError> {
    let setting = onestep_pipeline::theory::setting(cfg0, cfg0.lambda);
    let ell: Vec<onestep_theory::Errors> = (0..=2)
        .map(|l| onestep_theory::errors(&setting, l))
        .collect::<Result<_, _>>()
        .map_err(theory_error(ID))?;
    let p_gt1 = cfg0.target_stats.second_moment
        - cfg0
            .target_stats
            .coeffs
            .iter()
            .take(2)
            .map(|c| c * c)
            .sum::<f64>();
    Ok(Limits {
        setting,
        ell,
        p_gt1,
    })
}

/// Train, test and noiseless test error of a theory value.
fn triple(e: &onestep_theory::Errors) -> [f64; 3] {
    [e.train, e.test, e.test_clean]
}

/// The theory value drawn beside model `key`, and what it is: for the network its finite-n
/// theory (docs/theory.md §10), for its equivalents the finite-α spiked theory.
fn theory_for(
    key: &str,
    spiked: Option<onestep_theory::Errors>,
    network: Option<onestep_theory::Errors>,
    lim: &Limits,
    cfg: &ValidConfig,
) -> ([f64; 3], &'static str) {
    match key {
        "nn" => (
            network.map_or([f64::NAN; 3], |e| triple(&e)),
            "finite-n network theory",
        ),
        "spiked" | "cget" => (
            spiked.map_or([f64::NAN; 3], |e| triple(&e)),
            "finite-α spiked equivalent",
        ),
        "rf" => (triple(&lim.ell[0]), "RF limit"),
        "inf_spike_1" => (triple(&lim.ell[1]), "infinite-spike limit ℓ=1"),
        "inf_spike_2" => (triple(&lim.ell[2]), "infinite-spike limit ℓ=2"),
        "best_linear" => (
            [f64::NAN, lim.p_gt1 + cfg.noise * cfg.noise, lim.p_gt1],
            "population best linear predictor",
        ),
        _ => ([f64::NAN; 3], ""),
    }
}

/// One target summarised: mean ± sd of every model key per α, the finite-α spiked theory per α,
/// which keys the trials produced and which are missing.
struct Summary {
    by_key: BTreeMap<&'static str, Vec<(f64, ErrTriple)>>,
    spiked_theory: Vec<(f64, Option<onestep_theory::Errors>)>,
    /// The finite-n theory of the network per α (docs/theory.md §10).
    network_theory: Vec<(f64, Option<onestep_theory::Errors>)>,
    present: BTreeSet<String>,
    missing: Vec<&'static str>,
}

/// Every model key, `nn` and `rf` first.
fn all_keys() -> impl Iterator<Item = &'static str> {
    ["nn", "rf"].into_iter().chain(ERROR_MODELS)
}

/// Per α: mean ± sd of every present key and its theory value, into `table` and the summary.
fn summarise(
    target: &Target,
    results: &[PointResult],
    alphas: &[f64],
    per: usize,
    opts: &Options,
    table: &mut Table,
) -> Result<Summary, FigureError> {
    let lim = limits(&check(ID, &target.config(0.0), opts)?)?;
    let present = model_keys(results);
    let mut sum = Summary {
        by_key: BTreeMap::new(),
        spiked_theory: Vec::new(),
        network_theory: Vec::new(),
        missing: missing_models(all_keys(), &present),
        present,
    };
    for (g, &a) in groups(results, per).into_iter().zip(alphas) {
        let cfg = check(ID, &target.config(a), opts)?;
        let sp = onestep_theory::spiked_errors(&lim.setting, a, cfg.eta0, cfg.n as f64).ok();
        sum.spiked_theory.push((a, sp));
        let nt = onestep_pipeline::theory::network_theory(&cfg)
            .ok()
            .map(|r| r.errors);
        sum.network_theory.push((a, nt));
        for key in all_keys().filter(|k| sum.present.contains(*k)) {
            let stats = METRICS.map(|m| error_mean_sd(g, key, m));
            let (theory, kind) = theory_for(key, sp, nt, &lim, &cfg);
            let mut row: Vec<Cell> = vec![
                target.name.into(),
                target.d.into(),
                cfg.n.into(),
                a.into(),
                key.into(),
                g.len().into(),
            ];
            for (m, sd) in stats {
                row.push(m.into());
                row.push(sd.into());
            }
            row.extend(theory.map(Cell::from));
            row.push(kind.into());
            table.push(row);
            sum.by_key.entry(key).or_default().push((a, stats));
        }
    }
    Ok(sum)
}

/// The panel of metric `metric` (index `mi` in [`METRICS`]) for target `tname`.
fn error_panel(
    sum: &Summary,
    tname: &str,
    mi: usize,
    metric: &str,
    amax: f64,
    seeds: usize,
) -> Panel {
    let label = if metric == "train" {
        "training error"
    } else {
        "test error (with label noise)"
    };
    let mut p = Panel::new(
        format!("{label}, target {tname}"),
        "α = log η / log n",
        label,
    );
    let col = |key: &str| -> SeriesErr {
        sum.by_key
            .get(key)
            .map(|v| v.iter().map(|(a, s)| ((*a, s[mi].0), s[mi].1)).unzip())
            .unwrap_or_default()
    };
    let level = |key: &str| -> f64 {
        mean_sd(
            sum.by_key
                .get(key)
                .into_iter()
                .flatten()
                .map(|(_, s)| s[mi].0),
        )
        .0
    };
    add_levels(&mut p, &sum.present, level, amax);
    let (sp, _) = col("spiked");
    if !sp.is_empty() {
        p.series
            .push(Series::new("spiked equivalent (simulation)", Mark::Line, sp).with_color(1));
    }
    let (cg, _) = col("cget");
    if !cg.is_empty() {
        p.series.push(
            Series::new("cond. Gaussian equivalent (simulation)", Mark::Dashed, cg).with_color(2),
        );
    }
    let curve = |pts: &[(f64, Option<onestep_theory::Errors>)]| -> Vec<(f64, f64)> {
        pts.iter()
            .map(|(a, e)| {
                (
                    *a,
                    e.map_or(f64::NAN, |e| if mi == 0 { e.train } else { e.test }),
                )
            })
            .collect()
    };
    p.series.push(
        Series::new("spiked equivalent (theory)", Mark::Crosses, curve(&sum.spiked_theory))
            .with_color(6),
    );
    p.series.push(
        Series::new("network (finite-n theory)", Mark::Dotted, curve(&sum.network_theory))
            .with_color(0),
    );
    p.series.push(markers_with_err(
        format!("network (mean ± sd, {seeds} seeds)"),
        col("nn"),
        0,
    ));
    for k in [2, 4] {
        p.vlines
            .push((onestep_theory::threshold(k), threshold_label(k)));
    }
    note_missing(&mut p, &sum.missing);
    p
}

/// The α-independent levels (mean over α of the simulated errors): RF and best linear as
/// horizontal lines, the infinite-spike models ℓ = 1, 2 as steps.
fn add_levels(p: &mut Panel, present: &BTreeSet<String>, level: impl Fn(&str) -> f64, amax: f64) {
    if present.contains("rf") {
        p.hlines.push((level("rf"), "RF".into()));
    }
    if present.contains("best_linear") {
        p.hlines.push((level("best_linear"), "best linear".into()));
    }
    if present.contains("inf_spike_1") && present.contains("inf_spike_2") {
        let (l1, l2) = (level("inf_spike_1"), level("inf_spike_2"));
        p.series.push(
            Series::new(
                "infinite spike ℓ = 1, 2 (simulation)",
                Mark::Steps,
                vec![(0.0, l1), (0.25, l2), (amax, l2)],
            )
            .with_color(3),
        );
    }
}
