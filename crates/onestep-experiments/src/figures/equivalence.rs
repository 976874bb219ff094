//! Figure `equivalence` (the equivalence theorem, docs/model.md §5): |error(NN) − error(model)|
//! against n on log–log axes, n = 4d, N = d, at α = 0.2 (one spike) and α = 0.3 (two spikes),
//! for each equivalent model fitted on the same data (spiked, conditional Gaussian, Hermite)
//! and for the infinite-spike model with ℓ(α) columns (the limit). Per seed the absolute
//! difference is taken, then mean ± sd over seeds. A guide ∝ n^{−1/2} is drawn for scale, and
//! the gap the finite-n theory predicts between the network and its spiked equivalent,
//! |network theory − spiked-equivalent theory| (docs/theory.md §10), as a curve in n.
use super::SeriesErr;
use super::*;
use onestep_plot::{Mark, Panel, Series};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "equivalence",
    paper: "Thm 4.x",
    description: "|error(NN) − error(equivalent)| against n on log–log axes at α = 0.2 and 0.3",
    config: include_str!("../../../../configs/equivalence.toml"),
};
const ID: &str = INFO.id;
/// Models compared with the network.
pub const MODELS: [&str; 5] = ["spiked", "cget", "hermite", "inf_spike_1", "inf_spike_2"];
/// One section of `configs/equivalence.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    alphas: Vec<f64>,
    n_test: usize,
    levels: Vec<LevelSpec>,
}

/// One `[[SECTION.levels]]` entry: d (n = 4d, N = d) and seeds per point.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelSpec {
    d: usize,
    seeds: usize,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        nonempty("alphas", &self.alphas)?;
        nonempty("levels", &self.levels)?;
        self.levels.iter().try_for_each(|l| seeds_ok("seeds", l.seeds))
    }
}

/// Runs the figure: per α the network against each shown model at growing n, a training and a
/// test panel.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let Grid {
        alphas,
        n_test,
        levels,
    } = opts.grid(&INFO)?;
    let levels: Vec<(usize, Vec<u64>)> = levels
        .into_iter()
        .map(|l| (l.d, opts.seed_list(l.seeds)))
        .collect();
    let mut table = equivalence_table();
    let mut theory_table = Table::new(
        "theory",
        &["alpha", "d", "n", "metric", "network_theory", "spiked_theory", "abs_gap"],
    );
    let mut panels = Vec::new();
    let mut manifest = Manifest::default();
    let mut total = 0;
    let mut all_seeds = std::collections::BTreeSet::new();
    for &alpha in &alphas {
        let (ell, shown) = shown_models(alpha, opts)?;
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
            present.extend(model_keys(&results));
            let level = Level {
                alpha,
                d: *d,
                results: &results,
            };
            level.differences(&shown, &mut table, &mut diffs);
            manifest.configs.insert(format!("alpha={alpha} d={d}"), cfg);
        }
        let missing = missing_models(shown.iter().copied(), &present);
        let n_max = 4.0 * levels.last().map_or(1, |l| l.0) as f64;
        let ds: Vec<usize> = levels.iter().map(|l| l.0).collect();
        let gap = theory_gap(alpha, &ds, n_test, opts, &mut theory_table, &mut manifest.notes)?;
        for (mi, metric) in ["training", "test"].into_iter().enumerate() {
            let mut p = difference_panel(alpha, ell, metric, &shown, &mut diffs[mi], n_max);
            if gap[mi].len() > 1 {
                p.series.push(
                    Series::new(
                        "finite-n theory: |network − spiked equivalent|",
                        Mark::Dashed,
                        gap[mi].clone(),
                    )
                    .with_color(4),
                );
            }
            note_missing(&mut p, &missing);
            panels.push(p);
        }
        note_missing_in_manifest(&mut manifest, &format!("α = {alpha}"), &missing);
    }
    let level_text = levels
        .iter()
        .map(|(d, s)| format!("d={d}×{} seeds", s.len()))
        .collect::<Vec<_>>()
        .join(", ");
    describe(
        &mut manifest,
        [
            ("levels", level_text.into()),
            ("alphas", serde_json::json!(alphas)),
            ("n_test", n_test.into()),
        ],
        all_seeds.into_iter().collect(),
        total,
    );
    let figure = Figure {
        title: "Equivalence: the network's errors against its equivalent models as n grows".into(),
        panels,
        columns: 2,
        caption: Some("Per seed |error(NN) − error(model)| on the same ridge batch and test set, mean ± sd over seeds; n = 4d, N = d, centred ReLU, target B, λ = 0.1, σ_ε = 0.1. The infinite-spike model with ℓ(α) columns is the n → ∞ limit, not a finite-n equivalent. Dotted: a guide ∝ n^(−1/2). Dashed: the gap between the network and its spiked equivalent that the theory predicts at each n (finite-n network theory against finite-α spiked-equivalent theory, docs/theory.md §10); at α = 0.3 it does not close with n (the step noise's mean shift along a∘², docs/theory.md §10.4). A bar running off the bottom: the sd exceeds the mean, which a log axis cannot show. Models are drawn side by side at each n.".into()),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![table, theory_table],
        figure,
        manifest,
    })
}

/// The theory's gap |network − spiked equivalent| per metric (train, test) at n = 4d for d from
/// the smallest to the largest level in steps of √2; rows into `table`. A size where either
/// theory fails is left out and named in `notes`.
fn theory_gap(
    alpha: f64,
    ds: &[usize],
    n_test: usize,
    opts: &Options,
    table: &mut Table,
    notes: &mut Vec<String>,
) -> Result<[Vec<(f64, f64)>; 2], FigureError> {
    let (lo, hi) = match (ds.iter().min(), ds.iter().max()) {
        (Some(&lo), Some(&hi)) => (lo as f64, hi as f64),
        _ => return Ok([Vec::new(), Vec::new()]),
    };
    let steps = (2.0 * (hi / lo).log2()).round() as i32;
    let mut gap = [Vec::new(), Vec::new()];
    for k in 0..=steps {
        let d = (lo * 2f64.powf(f64::from(k) / 2.0)).round() as usize;
        let cfg = check(ID, &base_config(d, d, 4 * d, n_test, alpha), opts)?;
        let setting = onestep_pipeline::theory::setting(&cfg, cfg.lambda);
        let nt = onestep_pipeline::theory::network_theory(&cfg).map_err(|e| e.to_string());
        let sp = onestep_theory::spiked_errors(&setting, alpha, cfg.eta0, cfg.n as f64)
            .map_err(|e| e.to_string());
        let (nt, sp) = match (nt, sp) {
            (Ok(nt), Ok(sp)) => (nt.errors, sp),
            (Err(why), _) | (_, Err(why)) => {
                notes.push(format!("α = {alpha}, d = {d}: no theory gap ({why})"));
                continue;
            }
        };
        for (mi, (metric, a, b)) in [("train", nt.train, sp.train), ("test", nt.test, sp.test)]
            .into_iter()
            .enumerate()
        {
            table.push(vec![
                alpha.into(),
                d.into(),
                cfg.n.into(),
                metric.into(),
                a.into(),
                b.into(),
                (a - b).abs().into(),
            ]);
            gap[mi].push((cfg.n as f64, (a - b).abs()));
        }
    }
    Ok(gap)
}

/// The columns of the equivalence table (one row per α, d, model and metric).
fn equivalence_table() -> Table {
    Table::new(
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
    )
}

/// ℓ(α) and the models drawn at α: every equivalent, and of the infinite-spike models only the
/// one with ℓ(α) columns.
fn shown_models(alpha: f64, opts: &Options) -> Result<(usize, Vec<&'static str>), FigureError> {
    let ell = onestep_theory::spike_count(
        alpha,
        &check(ID, &base_config(8, 8, 8, 1, alpha), opts)?.act_stats,
        2,
    );
    let shown = MODELS
        .iter()
        .copied()
        .filter(|m| !m.starts_with("inf_spike_") || *m == format!("inf_spike_{ell}"))
        .collect();
    Ok((ell, shown))
}

/// The trials of one α and d.
struct Level<'a> {
    alpha: f64,
    d: usize,
    results: &'a [PointResult],
}

impl Level<'_> {
    /// Mean of `key`'s error `metric` over the trials that fitted it.
    fn mean(&self, key: &str, metric: &str) -> f64 {
        mean_sd(
            self.results
                .iter()
                .filter_map(|r| r.errors.get(key).map(|e| e.get(metric))),
        )
        .0
    }

    /// Per metric and shown model: the per-seed |error(NN) − error(model)| (mean ± sd) into the
    /// table and into `diffs[metric][model]` against n.
    fn differences<'m>(
        &self,
        shown: &[&'m str],
        table: &mut Table,
        diffs: &mut [BTreeMap<&'m str, SeriesErr>],
    ) {
        let n = 4 * self.d;
        for (mi, metric) in ["train", "test"].into_iter().enumerate() {
            for &m in shown {
                let per_seed: Vec<f64> = self
                    .results
                    .iter()
                    .filter_map(|r| {
                        Some((r.errors.get("nn")?.get(metric) - r.errors.get(m)?.get(metric)).abs())
                    })
                    .collect();
                if per_seed.is_empty() {
                    continue;
                }
                let (mean, sd) = mean_sd(per_seed.iter().copied());
                table.push(vec![
                    self.alpha.into(),
                    self.d.into(),
                    n.into(),
                    m.into(),
                    metric.into(),
                    per_seed.len().into(),
                    mean.into(),
                    sd.into(),
                    self.mean("nn", metric).into(),
                    self.mean(m, metric).into(),
                ]);
                push_mean_sd(diffs[mi].entry(m).or_default(), n as f64, (mean, sd));
            }
        }
    }
}

/// The log–log panel of one metric at α: each shown model's differences against n (taken out
/// of `diffs`), and a guide ∝ n^{−1/2} through the first positive point up to `n_max`.
fn difference_panel(
    alpha: f64,
    ell: usize,
    metric: &str,
    shown: &[&str],
    diffs: &mut BTreeMap<&str, SeriesErr>,
    n_max: f64,
) -> Panel {
    let mut p = Panel::new(
        format!("{metric} error, α = {alpha} (ℓ = {ell})"),
        "n  (n = 4d, N = d)",
        format!("|{metric} error(NN) − {metric} error(model)|"),
    );
    p.x_log = true;
    p.y_log = true;
    for (ci, &m) in shown.iter().enumerate() {
        if let Some(series) = diffs.remove(m) {
            // The same label in every panel (ℓ is in the title), so the figure shares one legend.
            let label = if m.starts_with("inf_spike_") {
                "infinite spike, ℓ(α) columns (limit)".to_string()
            } else {
                format!("{m} equivalent")
            };
            let mut s = markers_with_err(label, series, ci);
            // Models side by side at each n (4% apart on the log axis), not on top of each other.
            let shift = 1.04f64.powf(ci as f64 - (shown.len() as f64 - 1.0) / 2.0);
            s.points.iter_mut().for_each(|p| p.0 *= shift);
            p.series.push(s);
        }
    }
    // Guide ∝ n^{-1/2} through the first spiked point.
    if let Some(&(n0, y0)) = p
        .series
        .first()
        .and_then(|s| s.points.iter().find(|p| p.1 > 0.0))
    {
        p.series.push(
            Series::new(
                "∝ n^(−1/2) (guide)",
                Mark::Dotted,
                vec![(n0, y0), (n_max, y0 * (n0 / n_max).sqrt())],
            )
            .with_color(6),
        );
    }
    p
}
