//! Helpers shared by the figure modules: default configurations and targets, grids, sweeps of
//! trial points, grouping and summaries of point results, series with error bars, threshold
//! labels and lines, drawn spike predictions, missing-model notes, panel notes and ranges,
//! and manifest settings.
use crate::FigureError;
use crate::points::{Point, PointResult};
use crate::table::Manifest;
use onestep_pipeline::SimConfig;
use onestep_plot as plot;
use onestep_theory::{FnStats, SpikeReport, TheoryError};
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

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

/// Trial points ordered α-major: every seed at the first α, then the next α, …; `cfg(α)` is the
/// configuration at α.
pub(crate) fn trial_points(
    alphas: &[f64],
    seeds: &[u64],
    cfg: impl Fn(f64) -> SimConfig,
) -> Vec<Point> {
    alphas
        .iter()
        .flat_map(|&a| seeds.iter().map(move |&s| (a, s)))
        .map(|(a, s)| Point::trial(cfg(a), s))
        .collect()
}

/// Appends the point `(x, mean)` and its error bar `sd` to a series.
pub(crate) fn push_mean_sd(series: &mut SeriesErr, x: f64, (mean, sd): (f64, f64)) {
    series.0.push((x, mean));
    series.1.push(sd);
}

/// Mean and sd over the points of `g` of model `key`'s error `metric` (NaN where a point lacks
/// the model).
pub(crate) fn error_mean_sd(g: &[PointResult], key: &str, metric: &str) -> (f64, f64) {
    mean_sd(
        g.iter()
            .map(|p| p.errors.get(key).map_or(f64::NAN, |e| e.get(metric))),
    )
}

/// Markers with error bars in palette colour `color`.
pub(crate) fn markers_with_err(
    name: impl Into<String>,
    (points, sd): SeriesErr,
    color: usize,
) -> plot::Series {
    plot::Series::new(name, plot::Mark::Markers, points)
        .with_yerr(sd)
        .with_color(color)
}

/// Where a simulated series parts from its theory by more than the seed spread allows: at the x
/// of the largest |simulation − theory| among the points where both exist and the gap exceeds
/// both `min_gap` and three seed sds, `(x, simulation, theory)`; `None` if nowhere.
pub(crate) fn largest_gap(
    sim: &plot::Series,
    theory: &[(f64, f64)],
    min_gap: f64,
) -> Option<(f64, f64, f64)> {
    let sd = |i: usize| {
        sim.yerr
            .as_ref()
            .and_then(|e| e.get(i).copied())
            .filter(|e| e.is_finite())
            .unwrap_or(0.0)
    };
    sim.points
        .iter()
        .enumerate()
        .filter_map(|(i, &(x, y))| {
            let t = theory.iter().find(|p| (p.0 - x).abs() < 1e-9)?.1;
            let gap = (y - t).abs();
            (y.is_finite() && t.is_finite() && gap > min_gap && gap > 3.0 * sd(i))
                .then_some((gap, (x, y, t)))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p)
}

/// Appends `gap` (where theory and simulation part, a sentence) to the figure's caption and to
/// the manifest's notes, so the picture and the data both say it.
pub(crate) fn state_gap(caption: &mut String, notes: &mut Vec<String>, gap: String) {
    caption.push(' ');
    caption.push_str(&gap);
    notes.push(gap);
}

/// Whether the Hermite coefficient c_k is present and non-zero (|c_k| > 1e-12).
pub(crate) fn has_coeff(act: &FnStats, k: usize) -> bool {
    act.coeff(k).is_some_and(|c| c.abs() > 1e-12)
}

/// The labelled threshold lines (k−1)/(2k) of the degrees k in `degrees` with c_k ≠ 0 that lie
/// at or below `max_alpha` (to 1e-9).
pub(crate) fn threshold_lines(
    act: &FnStats,
    degrees: RangeInclusive<usize>,
    max_alpha: f64,
) -> Vec<(f64, String)> {
    degrees
        .filter_map(|k| {
            let t = onestep_theory::threshold(k);
            (has_coeff(act, k) && t <= max_alpha + 1e-9).then(|| (t, threshold_label(k)))
        })
        .collect()
}

/// The predictions of a spike report that are drawn (trusted locations), as (degree, location,
/// strength), largest location first.
pub(crate) fn drawn_spikes(rep: &SpikeReport) -> Vec<(usize, f64, f64)> {
    let mut drawn: Vec<(usize, f64, f64)> = rep
        .spikes
        .iter()
        .filter(|sp| sp.trusted_location().is_some())
        .map(|sp| (sp.degree, sp.location.unwrap_or(f64::NAN), sp.strength))
        .collect();
    drawn.sort_by(|a, b| b.1.total_cmp(&a.1));
    drawn
}

/// Labels a theory failure with its figure (for `map_err`).
pub(crate) fn theory_error(figure: &'static str) -> impl Fn(TheoryError) -> FigureError {
    move |source| FigureError::Theory { figure, source }
}

/// Every model key in the errors maps of `results`.
pub(crate) fn model_keys(results: &[PointResult]) -> BTreeSet<String> {
    results
        .iter()
        .flat_map(|r| r.errors.keys().cloned())
        .collect()
}

/// The keys of `wanted` that are not `present`, in order.
pub(crate) fn missing_models<'a>(
    wanted: impl IntoIterator<Item = &'a str>,
    present: &BTreeSet<String>,
) -> Vec<&'a str> {
    wanted
        .into_iter()
        .filter(|k| !present.contains(*k))
        .collect()
}

/// Writes "not simulated yet: …" on the panel when some models are missing.
pub(crate) fn note_missing(panel: &mut plot::Panel, missing: &[&str]) {
    if !missing.is_empty() {
        add_note(panel, &format!("not simulated yet: {}", missing.join(", ")));
    }
}

/// Adds the manifest note "`what`: models missing from the trials' errors map: …" when some
/// models are missing.
pub(crate) fn note_missing_in_manifest(m: &mut Manifest, what: &str, missing: &[&str]) {
    if !missing.is_empty() {
        m.notes.push(format!(
            "{what}: models missing from the trials' errors map: {}",
            missing.join(", ")
        ));
    }
}

/// Records human-readable settings (key, value) in order, then the seeds and the number of points.
pub(crate) fn describe<'a>(
    m: &mut Manifest,
    settings: impl IntoIterator<Item = (&'a str, serde_json::Value)>,
    seeds: Vec<u64>,
    points: usize,
) {
    for (key, value) in settings {
        m.settings.insert(key.to_string(), value);
    }
    m.seeds = seeds;
    m.points = points;
}
