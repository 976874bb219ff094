//! The figures of `shared/spec/figures.md`: one module per figure, each a function from
//! [`Options`] (quick or full size, seeds) and a backend to [`FigureData`] (CSV tables that carry
//! the theory values beside the simulated ones, a [`plot::Figure`], manifest fields).
//!
//! A figure is a sweep over points (one configuration and one seed each). Points are looked up
//! in a caller-supplied [`PointCache`] before they are computed, so an interrupted run that is
//! restarted loses nothing already computed; the cache key is a hash of the point's full
//! configuration, so figures that share a point (e.g. `spike-locations` and `alignment`) share
//! the work. Nothing here does IO: the binary implements the cache on disk and draws progress.
/// Points of one series with their error bars: ((x, y) pairs, sd of y).
pub type SeriesErr = (Vec<(f64, f64)>, Vec<f64>);
/// (mean, sd) of train, test and noiseless test error.
pub type ErrTriple = [(f64, f64); 3];

use crate::plot::{self, Figure};
use crate::simulate::run_trial;
use crate::{ConfigError, SimConfig, ValidConfig};
use onestep_data::{SingleIndex, child_seed, unit_vector};
use onestep_linalg::{Backend, Op};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub mod alignment;
pub mod equivalence;
pub mod errors;
pub mod overlap;
pub mod spectrum;
pub mod spike_locations;
pub mod staircase;

/// Bumped whenever the meaning of a cached [`PointResult`] changes, so stale caches are ignored.
pub const CACHE_VERSION: u32 = 1;

/// One entry of the figure registry.
#[derive(Clone, Copy, Debug)]
pub struct FigureInfo {
    /// Identifier used on the command line and in file names.
    pub id: &'static str,
    /// Which figure of the paper (Moniri et al. 2024) it corresponds to.
    pub paper: &'static str,
    /// What it shows.
    pub description: &'static str,
}

/// Every figure, in the order `cargo xtask reproduce` draws them.
pub const FIGURES: &[FigureInfo] = &[
    FigureInfo {
        id: "spectrum",
        paper: "Fig. 1/2",
        description: "histograms of the singular values of F at α = 0, 0.2, 0.3 (centred ReLU) and α = 0.36 (σ = He₁ + ½He₂ + ⅙He₃), bulk of F₀ overlaid, spikes annotated with their degree",
    },
    FigureInfo {
        id: "spike-locations",
        paper: "Fig. 2",
        description: "top six singular values of F against α (mean ± sd), predicted outlier locations, bulk edge, thresholds (k−1)/(2k)",
    },
    FigureInfo {
        id: "alignment",
        paper: "Fig. 2",
        description: "|⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1, 2, 3 against α, simulation and theory",
    },
    FigureInfo {
        id: "overlap",
        paper: "Prop. 3.1",
        description: "⟨β,β*⟩, cos∠(β,β*) and ‖β‖² against n/d, simulation and theory",
    },
    FigureInfo {
        id: "errors",
        paper: "Fig. 3 left/middle",
        description: "training and test error against α for targets A and B: NN, spiked and conditional-Gaussian equivalents, RF, best linear, infinite-spike levels",
    },
    FigureInfo {
        id: "staircase",
        paper: "Fig. 3 right",
        description: "limiting training and test error against α (staircase) for target B and a richer pair, simulation at growing d on top",
    },
    FigureInfo {
        id: "equivalence",
        paper: "Thm 4.x",
        description: "|error(NN) − error(equivalent)| against n on log–log axes at α = 0.2 and 0.3",
    },
];

/// Looks a figure up by id.
pub fn info(id: &str) -> Option<&'static FigureInfo> {
    FIGURES.iter().find(|f| f.id == id)
}

/// How a figure is run.
///
/// | field | meaning |
/// |---|---|
/// | `quick` | small sizes (seconds per figure) instead of the full ones (minutes) |
/// | `seeds` | seeds per point, overriding the figure's default |
/// | `base_seed` | seed of the first repetition; repetition r uses `base_seed + r` |
/// | `memory_limit` | bytes one trial may use (see [`SimConfig::check`]) |
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    pub quick: bool,
    pub seeds: Option<usize>,
    pub base_seed: u64,
    pub memory_limit: f64,
}

impl Options {
    /// Quick or full options with the figures' default seeds and no memory limit.
    pub fn new(quick: bool) -> Self {
        Self {
            quick,
            seeds: None,
            base_seed: 0,
            memory_limit: f64::INFINITY,
        }
    }

    /// Seeds for a sweep whose default is `full` (full size) or `quick` (quick size).
    pub fn seed_list(&self, full: usize, quick: usize) -> Vec<u64> {
        let k = self
            .seeds
            .unwrap_or(if self.quick { quick } else { full })
            .max(1);
        (0..k as u64)
            .map(|r| self.base_seed.wrapping_add(r))
            .collect()
    }
}

/// Train/test errors of one fitted model in one trial (a copy of `onestep_metrics::Errors`
/// that can be read back from a cache).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct ErrorValues {
    pub train: f64,
    pub train_penalised: f64,
    pub test: f64,
    pub test_clean: f64,
}

impl ErrorValues {
    /// The value of `metric` (`train`, `train_penalised`, `test`, `test_clean`).
    pub fn get(&self, metric: &str) -> f64 {
        match metric {
            "train" => self.train,
            "train_penalised" => self.train_penalised,
            "test" => self.test,
            "test_clean" => self.test_clean,
            _ => f64::NAN,
        }
    }
}

/// What one point of a sweep measured: a summary of a [`crate::Trial`] (or only the β overlap).
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
    /// |⟨u_k, GS(t^{∘k})⟩|, k = 1..=3.
    #[serde(default)]
    pub alignment: Vec<f64>,
    /// Errors of every fitted model, by the keys of [`crate::Trial::errors`].
    #[serde(default)]
    pub errors: BTreeMap<String, ErrorValues>,
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
        }
    }
}

/// Failure of a figure.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("unknown figure `{0}`; run `onestep figure list` for the ids")]
    Unknown(String),
    #[error("configuration of a point of figure `{figure}`: {source}")]
    Config {
        figure: &'static str,
        source: ConfigError,
    },
    #[error("point {label} of figure `{figure}`: {message}")]
    Point {
        figure: &'static str,
        label: String,
        message: String,
    },
    #[error("theory for figure `{figure}`: {source}")]
    Theory {
        figure: &'static str,
        source: onestep_theory::TheoryError,
    },
}

/// A cell of a [`Table`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Num(f64),
    Text(String),
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Num(v as f64)
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Num(v as f64)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Num(if v { 1.0 } else { 0.0 })
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        Cell::Num(v.unwrap_or(f64::NAN))
    }
}

/// A rectangular table written as CSV; numbers that are not available are NaN (written `NaN`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Short name; the file is `ID.csv` for a figure with one table, `ID-NAME.csv` otherwise.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with the given columns.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        Self {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; panics if its length differs from the number of columns.
    #[track_caller]
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "table {}: row of {} cells for {} columns",
            self.name,
            row.len(),
            self.columns.len()
        );
        self.rows.push(row);
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The numbers of a column (NaN for text cells); empty if there is no such column.
    pub fn column(&self, name: &str) -> Vec<f64> {
        let Some(i) = self.col(name) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .map(|r| if let Cell::Num(v) = r[i] { v } else { f64::NAN })
            .collect()
    }

    /// The text of a column (numbers formatted); empty if there is no such column.
    pub fn text_column(&self, name: &str) -> Vec<String> {
        let Some(i) = self.col(name) else {
            return Vec::new();
        };
        self.rows.iter().map(|r| cell_text(&r[i])).collect()
    }

    /// The table as CSV (header line, then one line per row).
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        let quote = |t: &str| {
            if t.contains([',', '"', '\n']) {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t.to_string()
            }
        };
        let _ = writeln!(
            s,
            "{}",
            self.columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(",")
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{}",
                r.iter()
                    .map(|c| quote(&cell_text(c)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        s
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Num(v) if v.is_nan() => "NaN".into(),
        Cell::Num(v) => format!("{v}"),
        Cell::Text(t) => t.clone(),
    }
}

/// Manifest fields a figure contributes (the binary adds provenance, wall time and files).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Manifest {
    pub id: String,
    pub paper: String,
    pub description: String,
    pub quick: bool,
    /// Human-readable settings: sizes, grids, functions.
    pub settings: BTreeMap<String, String>,
    /// The configuration of every sweep (with its α or n grid in `settings`).
    pub configs: BTreeMap<String, SimConfig>,
    /// Seeds used at each point.
    pub seeds: Vec<u64>,
    /// Points in the sweep, how many were computed now and how many came from the cache.
    pub points: usize,
    pub points_computed: usize,
    pub points_cached: usize,
    /// Seconds spent computing points now (cached ones excluded).
    pub compute_seconds: f64,
    /// Caveats: missing theory or models, disagreements, what was left out and why.
    pub notes: Vec<String>,
}

/// What a figure produces.
#[derive(Clone, Debug)]
pub struct FigureData {
    pub id: &'static str,
    pub tables: Vec<Table>,
    pub figure: Figure,
    pub manifest: Manifest,
}

impl FigureData {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// File name of each table: `ID.csv` when there is one table, `ID-NAME.csv` otherwise.
    pub fn csv_names(&self) -> Vec<String> {
        if self.tables.len() == 1 {
            vec![format!("{}.csv", self.id)]
        } else {
            self.tables
                .iter()
                .map(|t| format!("{}-{}.csv", self.id, t.name))
                .collect()
        }
    }
}

/// Runs figure `id`.
pub fn run<B: Backend>(
    id: &str,
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let mut data = match id {
        "spectrum" => spectrum::run(b, opts, ctx)?,
        "spike-locations" => spike_locations::run(b, opts, ctx)?,
        "alignment" => alignment::run(b, opts, ctx)?,
        "overlap" => overlap::run(b, opts, ctx)?,
        "errors" => errors::run(b, opts, ctx)?,
        "staircase" => staircase::run(b, opts, ctx)?,
        "equivalence" => equivalence::run(b, opts, ctx)?,
        other => return Err(FigureError::Unknown(other.to_string())),
    };
    let fi = info(id).expect("registered");
    data.manifest.id = fi.id.into();
    data.manifest.paper = fi.paper.into();
    data.manifest.description = fi.description.into();
    data.manifest.quick = opts.quick;
    data.manifest.points_computed = ctx.computed;
    data.manifest.points_cached = ctx.cached;
    data.manifest.compute_seconds = ctx.compute_seconds;
    Ok(data)
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Default configuration of figures.md: centred ReLU, η₀ = 1, labels residual, σ_ε = 0.1,
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

/// Checks a configuration.
pub(crate) fn check(
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
        (ctx.progress)(&ProgressEvent {
            done: i,
            total,
            label: &label,
            cached: false,
            started: true,
        });
        let cfg = check(figure, &p.cfg, opts)?;
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
        // The same streams as run_trial: β* from "target", the step batch from "step".
        let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(p.seed, name));
        let model = SingleIndex {
            beta_star: unit_vector(&mut rng("target"), cfg.d),
            link: cfg.target.clone(),
            noise: cfg.noise,
        };
        let step = model.sample(&mut rng("step"), cfg.n);
        let x = b.from_dense(&step.x);
        let beta: Vec<f64> = b
            .matvec(&x, Op::T, &step.y)
            .into_iter()
            .map(|v| v / cfg.n as f64)
            .collect();
        let ov = onestep_metrics::beta_overlap(&beta, &model.beta_star);
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
        errors: t
            .errors
            .iter()
            .map(|(k, e)| {
                (
                    k.clone(),
                    ErrorValues {
                        train: e.train,
                        train_penalised: e.train_penalised,
                        test: e.test,
                        test_clean: e.test_clean,
                    },
                )
            })
            .collect(),
        all: keep.then(|| t.spectrum.all.clone()),
        all_f0: keep.then(|| t.spectrum.all_f0.clone()),
        seconds: 0.0,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_config_and_seed_and_are_stable() {
        let c = base_config(64, 64, 256, 128, 0.2);
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

    #[test]
    fn csv_quotes_and_nan() {
        let mut t = Table::new("t", &["a", "b"]);
        t.push(vec![1.5.into(), "x,y".into()]);
        t.push(vec![f64::NAN.into(), "z".into()]);
        assert_eq!(t.to_csv(), "a,b\n1.5,\"x,y\"\nNaN,z\n");
        assert_eq!(t.column("a")[0], 1.5);
        assert!(t.column("a")[1].is_nan());
    }

    #[test]
    fn registry_is_complete() {
        for id in [
            "spectrum",
            "spike-locations",
            "alignment",
            "errors",
            "staircase",
            "equivalence",
            "overlap",
        ] {
            assert!(info(id).is_some(), "{id}");
        }
        assert_eq!(threshold_label(4), "k=4: 3/8");
        assert_eq!(threshold_label(2), "k=2: 1/4");
    }
}
