//! Figure `equivalence` (the equivalence theorem, docs/model.md §5): |error(NN) − error(model)|
//! against n on log–log axes, n = 4d, N = d, at α = 0.2 (one spike) and α = 0.3 (two spikes),
//! for each equivalent model fitted on the same data (spiked, conditional Gaussian, Hermite-ℓ)
//! and for the infinite-spike model with ℓ(α) columns (the limit). Per seed the absolute
//! difference is taken, then mean ± sd over seeds. A guide ∝ n^{−1/2} is drawn for scale.
use super::SeriesErr;
use super::*;
use onestep_plot::{Mark, Panel, Series};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "equivalence",
    paper: "Thm 4.x",
    description: "|error(NN) − error(equivalent)| against n on log–log axes at α = 0.2 and 0.3",
};
const ID: &str = INFO.id;
/// Models compared with the network.
pub const MODELS: [&str; 5] = ["spiked", "cget", "hermite", "inf_spike_1", "inf_spike_2"];
const ALPHAS: [f64; 2] = [0.2, 0.3];

fn levels(opts: &Options) -> Vec<(usize, Vec<u64>)> {
    if opts.quick {
        vec![
            (64, opts.seed_list(2, 2)),
            (128, opts.seed_list(2, 2)),
            (256, opts.seed_list(2, 2)),
        ]
    } else {
        vec![
            (128, opts.seed_list(4, 2)),
            (256, opts.seed_list(4, 2)),
            (512, opts.seed_list(3, 2)),
            (1024, opts.seed_list(3, 2)),
            (2048, opts.seed_list(2, 2)),
        ]
    }
}

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let levels = levels(opts);
    let n_test = if opts.quick { 1024 } else { 4096 };
    let mut table = Table::new(
        "equivalence",
        &[
            "alpha",
            "d",
            "n",
            "model",
            "metric",
            "seeds",
            "abs_diff_mean",
            "abs_diff_sd",
            "nn_mean",
            "model_mean",
        ],
    );
    let mut panels = Vec::new();
    let mut manifest = Manifest::default();
    let mut total = 0;
    let mut all_seeds = std::collections::BTreeSet::new();
    for alpha in ALPHAS {
        let ell = onestep_theory::spike_count(
            alpha,
            &check(ID, &base_config(8, 8, 8, 1, alpha), opts)?.act_stats,
            2,
        );
        let shown: Vec<&str> = MODELS
            .iter()
            .copied()
            .filter(|m| !m.starts_with("inf_spike_") || *m == format!("inf_spike_{ell}"))
            .collect();
        // diffs[metric][model] = (n, mean, sd) per level
        let mut diffs: Vec<BTreeMap<&str, SeriesErr>> = vec![BTreeMap::new(), BTreeMap::new()];
        let mut present = std::collections::BTreeSet::new();
        for (d, seeds) in &levels {
            all_seeds.extend(seeds.iter().copied());
            let cfg = with_models(base_config(*d, *d, 4 * d, n_test, alpha), &MODELS);
            let points: Vec<Point> = seeds
                .iter()
                .map(|&s| Point::trial(cfg.clone(), s))
                .collect();
            let results = evaluate(ID, b, opts, ctx, &points)?;
            total += results.len();
            let n = 4 * d;
            for r in &results {
                present.extend(r.errors.keys().cloned());
            }
            for (mi, metric) in ["train", "test"].into_iter().enumerate() {
                for &m in &shown {
                    let per_seed: Vec<f64> = results
                        .iter()
                        .filter_map(|r| {
                            Some(
                                (r.errors.get("nn")?.get(metric) - r.errors.get(m)?.get(metric))
                                    .abs(),
                            )
                        })
                        .collect();
                    if per_seed.is_empty() {
                        continue;
                    }
                    let (mean, sd) = mean_sd(per_seed.iter().copied());
                    let (nn_mean, _) = mean_sd(
                        results
                            .iter()
                            .filter_map(|r| r.errors.get("nn").map(|e| e.get(metric))),
                    );
                    let (m_mean, _) = mean_sd(
                        results
                            .iter()
                            .filter_map(|r| r.errors.get(m).map(|e| e.get(metric))),
                    );
                    table.push(vec![
                        alpha.into(),
                        (*d).into(),
                        n.into(),
                        m.into(),
                        metric.into(),
                        per_seed.len().into(),
                        mean.into(),
                        sd.into(),
                        nn_mean.into(),
                        m_mean.into(),
                    ]);
                    let e = diffs[mi].entry(m).or_default();
                    e.0.push((n as f64, mean));
                    e.1.push(sd);
                }
            }
            manifest.configs.insert(format!("alpha={alpha} d={d}"), cfg);
        }
        let missing: Vec<&str> = shown
            .iter()
            .copied()
            .filter(|m| !present.contains(*m))
            .collect();
        for (mi, metric) in ["training", "test"].into_iter().enumerate() {
            let mut p = Panel::new(
                format!("{metric} error, α = {alpha} (ℓ = {ell})"),
                "n  (n = 4d, N = d)",
                format!("|{metric} error(NN) − {metric} error(model)|"),
            );
            p.x_log = true;
            p.y_log = true;
            for (ci, &m) in shown.iter().enumerate() {
                if let Some((pts, sd)) = diffs[mi].remove(m) {
                    let label = if m.starts_with("inf_spike_") {
                        format!("infinite spike ℓ = {ell} (limit)")
                    } else {
                        format!("{m} equivalent")
                    };
                    p.series.push(
                        Series::new(label, Mark::Markers, pts)
                            .with_yerr(sd)
                            .with_color(ci),
                    );
                }
            }
            // Guide ∝ n^{-1/2} through the first spiked point.
            if let Some(&(n0, y0)) = p
                .series
                .first()
                .and_then(|s| s.points.iter().find(|p| p.1 > 0.0))
            {
                let nmax = 4.0 * levels.last().map_or(1, |l| l.0) as f64;
                p.series.push(
                    Series::new(
                        "∝ n^(−1/2) (guide)",
                        Mark::Dotted,
                        vec![(n0, y0), (nmax, y0 * (n0 / nmax).sqrt())],
                    )
                    .with_color(6),
                );
            }
            if !missing.is_empty() {
                add_note(
                    &mut p,
                    &format!("not simulated yet: {}", missing.join(", ")),
                );
            }
            panels.push(p);
        }
        if !missing.is_empty() {
            manifest.notes.push(format!(
                "α = {alpha}: models missing from the trials' errors map: {}",
                missing.join(", ")
            ));
        }
    }
    manifest.settings.insert(
        "levels".into(),
        levels
            .iter()
            .map(|(d, s)| format!("d={d}×{} seeds", s.len()))
            .collect::<Vec<_>>()
            .join(", "),
    );
    manifest
        .settings
        .insert("alphas".into(), format!("{ALPHAS:?}"));
    manifest
        .settings
        .insert("n_test".into(), n_test.to_string());
    manifest.seeds = all_seeds.into_iter().collect();
    manifest.points = total;
    let figure = Figure {
        title: "Equivalence: the network's errors against its equivalent models as n grows".into(),
        panels,
        columns: 2,
        caption: Some("Per seed |error(NN) − error(model)| on the same ridge batch and test set, mean ± sd over seeds; n = 4d, N = d, centred ReLU, target B, λ = 0.1, σ_ε = 0.1. The infinite-spike model with ℓ(α) columns is the n → ∞ limit, not a finite-n equivalent. Dotted: a guide ∝ n^(−1/2).".into()),
    };
    Ok(FigureData {
        id: "equivalence",
        tables: vec![table],
        figure,
        manifest,
    })
}
