//! Helpers shared by the figure modules: default configurations and targets, grids, grouping and
//! summaries of point results, threshold labels, panel notes and ranges.
use crate::points::PointResult;
use onestep_pipeline::SimConfig;
use onestep_plot as plot;

/// Points of one series with their error bars: ((x, y) pairs, sd of y).
pub type SeriesErr = (Vec<(f64, f64)>, Vec<f64>);
/// (mean, sd) of train, test and noiseless test error.
pub type ErrTriple = [(f64, f64); 3];

/// Default configuration of docs/figures.md: centred ReLU, η₀ = 1, labels residual, σ_ε = 0.1,
/// λ = 0.1, target B; sizes as given; no optional models (only `nn` and `rf` are fitted).
pub fn base_config(d: usize, width: usize, n: usize, n_test: usize, alpha: f64) -> SimConfig {
    SimConfig {
        d,
        width,
        n,
        n_test,
        alpha,
        models: vec!["none".into()],
        ..SimConfig::default()
    }
}

/// The model keys the `errors` figure draws besides `nn` and `rf`.
pub const ERROR_MODELS: [&str; 5] = [
    "spiked",
    "cget",
    "inf_spike_1",
    "inf_spike_2",
    "best_linear",
];

/// `cfg` fitting the given optional models.
pub(crate) fn with_models(cfg: SimConfig, models: &[&str]) -> SimConfig {
    SimConfig {
        models: models.iter().map(|m| m.to_string()).collect(),
        ..cfg
    }
}

/// Target A: σ* = He₁.
pub const TARGET_A: &str = "hermite:0,1";
/// Target B: σ* = He₁ + He₂/√2.
pub const TARGET_B: &str = "hermite:0,1,0.7071067811865476";

/// Mean and sample standard deviation (sd 0 for one value, NaN for none); NaN values are skipped.
pub fn mean_sd(xs: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    let m = onestep_metrics::mean_sd(&v);
    (m.mean, m.sd)
}

/// Groups results by consecutive runs of `per` points (one group per grid value).
pub(crate) fn groups(results: &[PointResult], per: usize) -> Vec<&[PointResult]> {
    results.chunks(per.max(1)).collect()
}

/// `label` for a threshold line: "k=2: 1/4".
pub(crate) fn threshold_label(k: usize) -> String {
    let (num, den) = (k - 1, 2 * k);
    let g = gcd(num, den).max(1);
    format!("k={k}: {}/{}", num / g, den / g)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Evenly spaced grid `lo, lo + step, …` with `count` points.
pub(crate) fn grid(lo: f64, step: f64, count: usize) -> Vec<f64> {
    (0..count)
        .map(|i| ((lo + step * i as f64) * 1e9).round() / 1e9)
        .collect()
}

/// A short text naming the seeds.
pub(crate) fn seeds_text(seeds: &[u64]) -> String {
    match seeds {
        [] => "none".into(),
        [s] => format!("{s}"),
        [a, .., z] => format!("{a}..{z} ({} seeds)", seeds.len()),
    }
}

/// Marks the panel with a visible note (appended to an existing one).
pub(crate) fn add_note(panel: &mut plot::Panel, text: &str) {
    panel.note = Some(match panel.note.take() {
        Some(n) if !n.is_empty() => format!("{n}; {text}"),
        _ => text.to_string(),
    });
}

/// Fixes the vertical range of a linear panel to its data (points, error bars, horizontal lines)
/// plus `top` of the span above it, leaving room for the legend in the upper corners.
pub(crate) fn headroom(panel: &mut plot::Panel, top: f64) {
    let mut ys: Vec<f64> = Vec::new();
    for s in &panel.series {
        for (i, p) in s.points.iter().enumerate() {
            if p.0.is_finite() && p.1.is_finite() {
                let e = s
                    .yerr
                    .as_ref()
                    .and_then(|e| e.get(i))
                    .copied()
                    .filter(|e| e.is_finite())
                    .unwrap_or(0.0)
                    .abs();
                ys.extend([p.1 - e, p.1 + e]);
            }
        }
    }
    ys.extend(panel.hlines.iter().map(|h| h.0).filter(|y| y.is_finite()));
    let (lo, hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    if lo.is_finite() && hi > lo {
        let span = hi - lo;
        panel.y_range = Some((lo - 0.04 * span, hi + top * span));
    }
}
