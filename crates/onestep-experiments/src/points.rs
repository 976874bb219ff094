//! Sweeps of points: what one point computes ([`Point`], [`PointResult`]), the cache consulted
//! before computing it ([`PointCache`]), progress reports, and [`evaluate`], which runs a sweep.
//!
//! Points are looked up in a caller-supplied [`PointCache`] before they are computed, so an
//! interrupted run that is restarted loses nothing already computed; the cache key is a hash of
//! the point's full configuration, so figures that share a point (e.g. `spike-locations` and
//! `alignment`) share the work. Nothing here does IO: the binary implements the cache on disk.
use crate::FigureError;
use crate::options::Options;
use onestep_linalg::Backend;
use onestep_metrics::Errors;
use onestep_pipeline::{SimConfig, ValidConfig, run_trial};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever the meaning of a cached [`PointResult`] changes, so stale caches are ignored.
pub const CACHE_VERSION: u32 = 1;

/// What one point of a sweep measured: a summary of a [`onestep_pipeline::Trial`] (or only the β overlap).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PointResult {
    pub seed: u64,
    /// η = η₀ n^α (0 for β-only points).
    #[serde(default)]
    pub eta: f64,
    /// ⟨β, β*⟩.
    pub beta_inner: f64,
    /// ‖β‖².
    pub beta_norm2: f64,
    /// Leading singular values of F.
    #[serde(default)]
    pub top: Vec<f64>,
    /// Leading singular values of F₀.
    #[serde(default)]
    pub top_f0: Vec<f64>,
    /// ‖F₀‖_op (mean component excluded).
    #[serde(default)]
    pub bulk_edge: f64,
    #[serde(default)]
    pub spikes_detected: usize,
    /// |⟨u_k, GS(t∘ᵏ)⟩|, k = 1..=3.
    #[serde(default)]
    pub alignment: Vec<f64>,
    /// Errors of every fitted model, by the keys of [`onestep_pipeline::Trial::errors`].
    #[serde(default)]
    pub errors: BTreeMap<String, Errors>,
    /// All singular values of F (only when the point asked for them).
    #[serde(default)]
    pub all: Option<Vec<f64>>,
    /// All singular values of F₀ (only when the point asked for them).
    #[serde(default)]
    pub all_f0: Option<Vec<f64>>,
    /// Seconds the computation took (0 when only β was computed).
    #[serde(default)]
    pub seconds: f64,
}

/// What a point computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PointKind {
    /// A whole trial ([`run_trial`]).
    Trial,
    /// A whole trial, keeping all singular values.
    TrialWithSpectrum,
    /// Only β = Xᵀy/n from the step batch (same random streams as a trial, so the same β).
    BetaOnly,
}

/// One point of a sweep: a configuration (its `trials` and `seed` fields are ignored) and a seed.
#[derive(Clone, Debug)]
pub struct Point {
    pub cfg: SimConfig,
    pub seed: u64,
    pub kind: PointKind,
}

impl Point {
    /// A trial point.
    pub fn trial(cfg: SimConfig, seed: u64) -> Self {
        Self {
            cfg,
            seed,
            kind: PointKind::Trial,
        }
    }

    /// The cache key: FNV-1a of the canonical configuration, seed, kind and [`CACHE_VERSION`].
    pub fn key(&self) -> String {
        let c = SimConfig {
            trials: 1,
            seed: 0,
            ..self.cfg.clone()
        };
        let canon = format!(
            "v{CACHE_VERSION}|{:?}|{:?}|seed={}",
            self.kind, c, self.seed
        );
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in canon.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        let kind = match self.kind {
            PointKind::Trial => "t",
            PointKind::TrialWithSpectrum => "s",
            PointKind::BetaOnly => "b",
        };
        format!(
            "{kind}-d{}-a{:.3}-s{}-{h:016x}",
            self.cfg.d, self.cfg.alpha, self.seed
        )
    }
}

/// Where computed points are kept between runs. Implementations must be safe to call from one
/// thread at a time; failures to store are the implementation's to report (a point that could
/// not be stored is simply computed again next time).
pub trait PointCache {
    /// A previously stored result for `key`, if any.
    fn load(&self, key: &str) -> Option<PointResult>;
    /// Stores a result under `key`.
    fn store(&self, key: &str, value: &PointResult);
}

/// A cache that keeps nothing.
pub struct NoCache;

impl PointCache for NoCache {
    fn load(&self, _key: &str) -> Option<PointResult> {
        None
    }
    fn store(&self, _key: &str, _value: &PointResult) {}
}

/// Progress of a sweep, reported after each point.
#[derive(Clone, Debug)]
pub struct ProgressEvent<'a> {
    /// Points finished so far (cached ones included).
    pub done: usize,
    /// Points in this sweep.
    pub total: usize,
    /// A short description of the point just finished (or about to start when `done` < total
    /// and `started` is true).
    pub label: &'a str,
    /// True when the point came from the cache.
    pub cached: bool,
    /// True for the event sent before a point is computed.
    pub started: bool,
}

/// Everything a figure needs from its caller besides the backend.
pub struct Ctx<'a> {
    pub cache: &'a dyn PointCache,
    pub progress: &'a mut dyn FnMut(&ProgressEvent<'_>),
    /// Points computed (not cached) so far, and their total compute time.
    pub computed: usize,
    pub cached: usize,
    pub compute_seconds: f64,
    /// Compute only shard `k` of `n` (1-based): the points `i` (0-based, in the order the figure
    /// asks for them) with `i mod n = k − 1`; the others are taken from the cache when there, and
    /// otherwise left to their shard ([`Ctx::left`]), so the figure's own result is then not
    /// drawable. `None`: every point.
    pub shard: Option<(usize, usize)>,
    /// Points seen so far (the index of the next one).
    pub seen: usize,
    /// Points left to other shards.
    pub left: usize,
}

impl<'a> Ctx<'a> {
    /// A context with the given cache and progress callback.
    pub fn new(cache: &'a dyn PointCache, progress: &'a mut dyn FnMut(&ProgressEvent<'_>)) -> Self {
        Self {
            cache,
            progress,
            computed: 0,
            cached: 0,
            compute_seconds: 0.0,
            shard: None,
            seen: 0,
            left: 0,
        }
    }
}

/// Checks a configuration.
pub fn check(
    figure: &'static str,
    cfg: &SimConfig,
    opts: &Options,
) -> Result<ValidConfig, FigureError> {
    cfg.check(opts.memory_limit)
        .map_err(|source| FigureError::Config { figure, source })
}

/// Evaluates the points in order, through the cache, reporting progress.
pub fn evaluate<B: Backend>(
    figure: &'static str,
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
    points: &[Point],
) -> Result<Vec<PointResult>, FigureError> {
    let total = points.len();
    let mut out = Vec::with_capacity(total);
    for (i, p) in points.iter().enumerate() {
        let label = format!(
            "{figure}: d={} n={} α={:.3} seed {}",
            p.cfg.d, p.cfg.n, p.cfg.alpha, p.seed
        );
        let key = p.key();
        let index = ctx.seen;
        ctx.seen += 1;
        if let Some(r) = ctx.cache.load(&key).filter(|r| r.seed == p.seed) {
            ctx.cached += 1;
            (ctx.progress)(&ProgressEvent {
                done: i + 1,
                total,
                label: &label,
                cached: true,
                started: false,
            });
            out.push(r);
            continue;
        }
        let cfg = check(figure, &p.cfg, opts)?;
        if let Some((k, n)) = ctx.shard
            && index % n != k - 1
        {
            // Another shard's point: a placeholder, so the figure goes on to ask for the rest.
            ctx.left += 1;
            out.push(PointResult {
                seed: p.seed,
                ..PointResult::default()
            });
            continue;
        }
        (ctx.progress)(&ProgressEvent {
            done: i,
            total,
            label: &label,
            cached: false,
            started: true,
        });
        let start = std::time::Instant::now();
        let mut r = compute_point(b, &cfg, p).map_err(|message| FigureError::Point {
            figure,
            label: label.clone(),
            message,
        })?;
        r.seconds = start.elapsed().as_secs_f64();
        ctx.computed += 1;
        ctx.compute_seconds += r.seconds;
        ctx.cache.store(&key, &r);
        (ctx.progress)(&ProgressEvent {
            done: i + 1,
            total,
            label: &label,
            cached: false,
            started: false,
        });
        out.push(r);
    }
    Ok(out)
}

fn compute_point<B: Backend>(b: &B, cfg: &ValidConfig, p: &Point) -> Result<PointResult, String> {
    if p.kind == PointKind::BetaOnly {
        let ov = onestep_pipeline::trial::beta_only(b, cfg, p.seed);
        return Ok(PointResult {
            seed: p.seed,
            beta_inner: ov.overlap,
            beta_norm2: ov.norm2,
            ..PointResult::default()
        });
    }
    let t = run_trial(b, cfg, p.seed, &mut |_| {}).map_err(|e| e.to_string())?;
    let keep = p.kind == PointKind::TrialWithSpectrum;
    Ok(PointResult {
        seed: t.seed,
        eta: t.eta,
        beta_inner: t.beta.overlap,
        beta_norm2: t.beta.norm2,
        top: t.spectrum.top.clone(),
        top_f0: t.spectrum.top_f0.clone(),
        bulk_edge: t.spectrum.bulk_edge,
        spikes_detected: t.spectrum.spikes_detected,
        alignment: t.spectrum.alignment.clone(),
        errors: t.errors.clone(),
        all: keep.then(|| t.spectrum.all.clone()),
        all_f0: keep.then(|| t.spectrum.all_f0.clone()),
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The on-disk cache stores points as JSON: every f64 must come back bit for bit, or a
    /// resumed figure differs from an uninterrupted one in the last digit.
    #[test]
    fn point_results_round_trip_through_json_exactly() {
        let awkward = [
            0.35146254878658517,
            0.1 + 0.2,
            1.0 / 3.0,
            2.2250738585072014e-308,
            1e300,
        ];
        let r = PointResult {
            seed: 7,
            eta: awkward[0],
            beta_inner: awkward[1],
            beta_norm2: awkward[2],
            top: awkward.to_vec(),
            alignment: awkward.iter().map(|v| v * 0.7).collect(),
            ..PointResult::default()
        };
        let back: PointResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.top), bits(&r.top));
        assert_eq!(bits(&back.alignment), bits(&r.alignment));
        assert_eq!(back.eta.to_bits(), r.eta.to_bits());
    }

    #[test]
    fn keys_differ_by_config_and_seed_and_are_stable() {
        let c = SimConfig {
            d: 64,
            width: 64,
            n: 256,
            n_test: 128,
            alpha: 0.2,
            ..SimConfig::default()
        };
        let k = Point::trial(c.clone(), 0).key();
        assert_eq!(k, Point::trial(c.clone(), 0).key());
        assert_ne!(k, Point::trial(c.clone(), 1).key());
        assert_ne!(
            k,
            Point::trial(
                SimConfig {
                    alpha: 0.21,
                    ..c.clone()
                },
                0
            )
            .key()
        );
        // trials and master seed are not part of a point
        assert_eq!(
            k,
            Point::trial(
                SimConfig {
                    trials: 5,
                    seed: 9,
                    ..c
                },
                0
            )
            .key()
        );
    }
}
