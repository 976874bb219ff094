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

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "errors",
    paper: "Fig. 3 left/middle",
    description: "training and test error against α for targets A and B: NN, spiked and conditional-Gaussian equivalents, RF, best linear, infinite-spike levels",
};
const ID: &str = INFO.id;

/// d and the α grid.
fn sizes(opts: &Options) -> (usize, Vec<f64>, Vec<u64>) {
    if opts.quick {
        (128, grid(0.0, 0.1, 5), opts.seed_list(2, 2))
    } else {
        (2048, grid(0.0, 0.05, 10), opts.seed_list(2, 2))
    }
}

const METRICS: [&str; 3] = ["train", "test", "test_clean"];

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let (d, alphas, seeds) = sizes(opts);
    let mut cols = vec!["target", "d", "n", "alpha", "model", "seeds"];
    let names: Vec<String> = METRICS
        .iter()
        .flat_map(|m| [format!("{m}_mean"), format!("{m}_sd")])
        .chain(METRICS.iter().map(|m| format!("theory_{m}")))
        .collect();
    cols.extend(names.iter().map(String::as_str));
    cols.push("theory_model");
    let mut table = Table::new("errors", &cols);
    let mut panels = Vec::new();
    let mut manifest = Manifest::default();
    let mut total = 0;
    let amax = alphas.iter().cloned().fold(0.0, f64::max);
    for (tname, spec) in [("A", TARGET_A), ("B", TARGET_B)] {
        let base = |alpha: f64| {
            with_models(
                SimConfig {
                    target: spec.into(),
                    ..base_config(d, d, 4 * d, staircase::n_test(opts), alpha)
                },
                &ERROR_MODELS,
            )
        };
        let points: Vec<Point> = alphas
            .iter()
            .flat_map(|&a| seeds.iter().map(move |&s| (a, s)))
            .map(|(a, s)| Point::trial(base(a), s))
            .collect();
        let results = evaluate(ID, b, opts, ctx, &points)?;
        total += results.len();
        let cfg0 = check(ID, &base(0.0), opts)?;
        let s = onestep_pipeline::theory::setting(&cfg0, cfg0.lambda);
        let th_err = |source| FigureError::Theory { figure: ID, source };
        let limits: Vec<onestep_theory::Errors> = (0..=2)
            .map(|l| onestep_theory::errors(&s, l))
            .collect::<Result<_, _>>()
            .map_err(th_err)?;
        let p_gt1 = cfg0.target_stats.second_moment
            - cfg0
                .target_stats
                .coeffs
                .iter()
                .take(2)
                .map(|c| c * c)
                .sum::<f64>();
        let present: std::collections::BTreeSet<&str> = results
            .iter()
            .flat_map(|r| r.errors.keys().map(String::as_str))
            .collect();
        let missing: Vec<&str> = ["nn", "rf"]
            .iter()
            .chain(ERROR_MODELS.iter())
            .copied()
            .filter(|k| !present.contains(k))
            .collect();

        // Per α: mean ± sd of every key, and the theory values.
        let mut by_key: BTreeMap<&str, Vec<(f64, ErrTriple)>> = BTreeMap::new();
        let mut spiked_theory = Vec::new();
        for (g, &a) in groups(&results, seeds.len()).into_iter().zip(&alphas) {
            let cfg = check(ID, &base(a), opts)?;
            let sp = onestep_theory::spiked_errors(&s, a, cfg.eta0, cfg.n as f64).ok();
            spiked_theory.push((a, sp));
            for key in ["nn", "rf"].iter().chain(ERROR_MODELS.iter()) {
                if !present.contains(key) {
                    continue;
                }
                let stats = METRICS.map(|m| {
                    mean_sd(
                        g.iter()
                            .map(|p| p.errors.get(*key).map_or(f64::NAN, |e| e.get(m))),
                    )
                });
                let (theory, kind): ([f64; 3], &str) = match *key {
                    "nn" | "spiked" | "cget" => (
                        sp.map_or([f64::NAN; 3], |e| [e.train, e.test, e.test_clean]),
                        "finite-α spiked equivalent",
                    ),
                    "rf" => (
                        [limits[0].train, limits[0].test, limits[0].test_clean],
                        "RF limit",
                    ),
                    "inf_spike_1" => (
                        [limits[1].train, limits[1].test, limits[1].test_clean],
                        "infinite-spike limit ℓ=1",
                    ),
                    "inf_spike_2" => (
                        [limits[2].train, limits[2].test, limits[2].test_clean],
                        "infinite-spike limit ℓ=2",
                    ),
                    "best_linear" => (
                        [f64::NAN, p_gt1 + cfg.noise * cfg.noise, p_gt1],
                        "population best linear predictor",
                    ),
                    _ => ([f64::NAN; 3], ""),
                };
                let mut row: Vec<Cell> = vec![
                    tname.into(),
                    d.into(),
                    cfg.n.into(),
                    a.into(),
                    (*key).into(),
                    g.len().into(),
                ];
                for (m, sd) in stats {
                    row.push(m.into());
                    row.push(sd.into());
                }
                row.extend(theory.map(Cell::from));
                row.push(kind.into());
                table.push(row);
                by_key.entry(key).or_default().push((a, stats));
            }
        }

        for (mi, metric) in ["train", "test"].into_iter().enumerate() {
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
                by_key
                    .get(key)
                    .map(|v| v.iter().map(|(a, s)| ((*a, s[mi].0), s[mi].1)).unzip())
                    .unwrap_or_default()
            };
            let level = |key: &str| -> f64 {
                mean_sd(by_key.get(key).into_iter().flatten().map(|(_, s)| s[mi].0)).0
            };
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
            let (sp, _) = col("spiked");
            if !sp.is_empty() {
                p.series.push(
                    Series::new("spiked equivalent (simulation)", Mark::Line, sp).with_color(1),
                );
            }
            let (cg, _) = col("cget");
            if !cg.is_empty() {
                p.series.push(
                    Series::new("cond. Gaussian equivalent (simulation)", Mark::Dashed, cg)
                        .with_color(2),
                );
            }
            let th: Vec<(f64, f64)> = spiked_theory
                .iter()
                .map(|(a, e)| {
                    (
                        *a,
                        e.map_or(f64::NAN, |e| if mi == 0 { e.train } else { e.test }),
                    )
                })
                .collect();
            p.series
                .push(Series::new("spiked equivalent (theory)", Mark::Crosses, th).with_color(6));
            let (nn, nn_sd) = col("nn");
            p.series.push(
                Series::new(
                    format!("network (mean ± sd, {} seeds)", seeds.len()),
                    Mark::Markers,
                    nn,
                )
                .with_yerr(nn_sd)
                .with_color(0),
            );
            for k in [2, 4] {
                p.vlines
                    .push((onestep_theory::threshold(k), threshold_label(k)));
            }
            if !missing.is_empty() {
                add_note(
                    &mut p,
                    &format!("not simulated yet: {}", missing.join(", ")),
                );
            }
            headroom(&mut p, 0.55);
            panels.push(p);
        }
        if !missing.is_empty() {
            manifest.notes.push(format!(
                "target {tname}: models missing from the trials' errors map: {}",
                missing.join(", ")
            ));
        }
        manifest
            .configs
            .insert(format!("target {tname}"), base(0.0));
    }
    manifest
        .settings
        .insert("sizes".into(), format!("d = N = {d}, n = 4d"));
    manifest
        .settings
        .insert("alphas".into(), format!("{alphas:?}"));
    manifest.seeds = seeds.clone();
    manifest.points = total;
    let figure = Figure {
        title: format!("Ridge errors after one step against α (d = N = {d}, n = 4d)"),
        panels,
        columns: 2,
        caption: Some("Markers: network (mean ± sd). Lines: simulated spiked (solid) and conditional-Gaussian (dashed) equivalents on the same data; crosses: finite-α spiked-equivalent theory. Steps: infinite-spike models ℓ = 1 (α < 1/4) and ℓ = 2 (simulated). Horizontal: RF and the fitted best linear predictor. Dashed verticals: thresholds. Target A: σ* = He₁; B: σ* = He₁ + He₂/√2. Test errors include σ_ε² = 0.01.".into()),
    };
    Ok(FigureData {
        id: "errors",
        tables: vec![table],
        figure,
        manifest,
    })
}
