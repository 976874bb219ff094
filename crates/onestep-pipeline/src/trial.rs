//! One trial of the pipeline end to end (docs/model.md §2–§5): data, one gradient step, features
//! before and after, spectra, alignments, ridge fits and errors.
use crate::ValidConfig;
use crate::fit::{Labels, fit_path};
use crate::models::{Inputs, Stepped};
use onestep_data::{SingleIndex, child_seed, unit_vector};
use onestep_linalg::{Backend, LinalgError, Op};
use onestep_metrics::{
    Errors, Overlap, alignment_matrix, beta_overlap, diagonal, spike_margin, spikes_detected,
};
use onestep_net::{Network, step_size};
use onestep_solvers::spectrum::SpectrumMethod;
use onestep_solvers::{GramEigen, SolverError};
use onestep_theory::TheoryError;
use onestep_theory::error::short;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many leading singular values are reported.
pub const TOP: usize = 8;
/// Polynomial degrees whose alignment is measured, and infinite-spike models fitted.
pub const KMAX: usize = 3;

/// Spectrum measurements of one trial.
#[derive(Clone, Debug, Serialize)]
pub struct SpectrumStats {
    /// Leading singular values of F (after the step), descending.
    pub top: Vec<f64>,
    /// Leading singular values of F₀ (before the step).
    pub top_f0: Vec<f64>,
    /// ‖F₀‖_op, excluding the c₀·11ᵀ mean component when c₀ ≠ 0.
    pub bulk_edge: f64,
    /// Singular values of F above detection_edge·(1 + margin), mean component excluded.
    pub spikes_detected: usize,
    /// The edge spikes are counted above: ‖F₀‖_op (`bulk_edge`), or the predicted top of the
    /// bulk after the step where that is computed and larger ([`SpectrumStats::use_bulk_after`]).
    pub detection_edge: f64,
    /// The largest singular value of F below its learned spikes: the (r + 1)-th after the mean
    /// component, r being the number of outliers the spike theory separates at this
    /// configuration (`theory.spike_locations`), or, when the spectrum after the step is
    /// predicted (`simulate --bulk-edge`), the number of its outliers (`theory.outliers_after`,
    /// [`SpectrumStats::use_bulk_after`]); compare with `theory.bulk_edge_after`
    /// (docs/theory.md §10.6). Set from the run's one theory by
    /// [`crate::theory::TheorySummary::finish_trials`] (None from [`run_trial`] alone, without a
    /// count for the full residual, or when F has too few singular values).
    pub bulk_edge_after: Option<f64>,
    /// The relative margin used.
    pub margin: f64,
    /// How the spectrum was computed: in memory the Gram matrices are decomposed fully
    /// (`gram-eigen`: every singular value, and ridge at every λ from one decomposition); streamed
    /// runs take every eigenvalue of FᵀF and F₀ᵀF₀ and the leading eigenvectors of FᵀF by block
    /// Lanczos (`gram-krylov`) or, for small N, from the full decomposition (`gram-eigen`).
    pub method: &'static str,
    /// |⟨u_k, GS((X̃β)∘ᵏ)⟩| for k = 1..=3.
    pub alignment: Vec<f64>,
    /// |⟨u_j, GS((X̃β)∘ᵏ)⟩| for j, k = 1..=3 (row j: the j-th left singular vector after the mean
    /// component; `alignment` is its diagonal).
    pub alignment_matrix: Vec<Vec<f64>>,
    /// All singular values of F (for histograms; not written to JSON).
    #[serde(skip)]
    pub all: Vec<f64>,
    /// All singular values of F₀.
    #[serde(skip)]
    pub all_f0: Vec<f64>,
}

/// Errors of every fitted model at one penalty of the λ path.
#[derive(Clone, Debug, Serialize)]
pub struct PathPoint {
    /// The ridge penalty λ.
    pub lambda: f64,
    /// Errors by model key (`nn`, `rf`, and the selected models of [`crate::models`]).
    pub errors: BTreeMap<String, Errors>,
}

/// Everything measured in one trial.
#[derive(Clone, Debug, Serialize)]
pub struct Trial {
    /// Seed of this trial.
    pub seed: u64,
    /// Step size η = η₀·n^α.
    pub eta: f64,
    /// ⟨β, β*⟩ and ‖β‖² for β = Xᵀy/n.
    pub beta: Overlap,
    /// Spectrum of the feature matrices.
    pub spectrum: SpectrumStats,
    /// Errors of each fitted model at the FIRST λ of the path: `nn`, `rf`, and the selected ones of
    /// `spiked`, `cget`, `hermite`, `inf_spike_1..3`, `best_linear` (see [`crate::models`]).
    pub errors: BTreeMap<String, Errors>,
    /// The same at every λ of the path, in the order given; empty (and not written) for one λ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors_path: Vec<PathPoint>,
    /// Models selected but without simulated errors, by key, with the reason: the model cannot be
    /// fitted at this size, or its errors are not finite. Such a model has no entry in `errors`
    /// (nor in `errors_path`); the rest of the trial stands. Not written when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unavailable: BTreeMap<String, String>,
    /// Wall seconds of each stage, in order (not in the trial's JSON, which depends on the inputs
    /// only; the JSON's `provenance.stage_seconds` keeps them).
    #[serde(skip)]
    pub stage_seconds: Vec<(String, f64)>,
}

/// Failure inside a trial.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Solver(#[from] SolverError),
    #[error(transparent)]
    Theory(#[from] TheoryError),
    /// The features are not finite numbers; the message names the flags responsible.
    #[error("{0}")]
    Overflow(String),
}

/// [`GramEigen::new`] on the features `f`, a non-finite input explained by the flags that make it.
fn decompose<'b, B: Backend>(
    b: &'b B,
    f: &'b B::Mat,
    cfg: &ValidConfig,
    eta: f64,
    after_step: bool,
) -> Result<GramEigen<'b, B>, PipelineError> {
    GramEigen::new(b, f).map_err(|e| match e {
        SolverError::Linalg(LinalgError::NonFinite { .. }) => overflow(cfg, eta, after_step),
        other => other.into(),
    })
}

/// The features (after the step, or before it) are not finite: the flags that make them so.
fn overflow(cfg: &ValidConfig, eta: f64, after_step: bool) -> PipelineError {
    PipelineError::Overflow(if after_step {
        format!(
            "the features after the step overflow (σ(Wx) or its Gram matrix is not finite): the step η = η₀·n^α = {} (--eta0 {}, --alpha {}) with labels of scale --noise {} makes the weights too large for --activation {}; lower --eta0 or --noise",
            short(eta),
            short(cfg.eta0),
            cfg.alpha,
            short(cfg.noise),
            cfg.activation
        )
    } else {
        format!(
            "the features before the step overflow (σ(W₀x) or its Gram matrix is not finite) with --activation {} at n = {}, width = {}; choose an activation with smaller values",
            cfg.activation, cfg.n, cfg.width
        )
    })
}

/// Errors of an equivalent model, or why it has none.
fn checked(name: &str, fitted: Result<Vec<Errors>, SolverError>) -> Result<Vec<Errors>, String> {
    let errs = fitted.map_err(|e| format!("cannot be fitted at this size: {e}"))?;
    match errs
        .iter()
        .find(|e| !(e.train.is_finite() && e.test.is_finite() && e.test_clean.is_finite()))
    {
        None => Ok(errs),
        Some(e) => Err(format!(
            "its errors are not finite numbers (train {}, test {}): the {name} features or labels overflow in floating point",
            e.train, e.test
        )),
    }
}

/// The data of the gradient step: the target model, the step batch's β = Xᵀy/n.
pub struct StepData {
    /// y = σ*(⟨x, β*⟩) + σ_ε ε, β* drawn from the `target` stream.
    pub model: SingleIndex,
    /// β = Xᵀy/n on the step batch.
    pub beta: Vec<f64>,
}

/// The target model of trial `seed`: β* from the `target` stream.
fn target_model(cfg: &ValidConfig, seed: u64) -> SingleIndex {
    SingleIndex {
        beta_star: unit_vector(
            &mut ChaCha8Rng::seed_from_u64(child_seed(seed, "target")),
            cfg.d,
        ),
        link: cfg.target.clone(),
        noise: cfg.noise,
    }
}

/// β* (stream `target`) and β = Xᵀy/n on the step batch (stream `step`), the first stage of
/// [`run_trial`]; the network is not needed for it. Returns the step batch on the backend too.
fn step_data<B: Backend>(b: &B, cfg: &ValidConfig, seed: u64) -> (StepData, B::Mat, Vec<f64>) {
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let model = target_model(cfg, seed);
    let step = model.sample(&mut rng("step"), cfg.n);
    let x = b.from_dense(&step.x);
    drop(step.x);
    let beta: Vec<f64> = b
        .matvec(&x, Op::T, &step.y)
        .into_iter()
        .map(|v| v / cfg.n as f64)
        .collect();
    (StepData { model, beta }, x, step.y)
}

/// The data trial `seed` draws, exactly as [`run_trial`] draws it (the same streams): for
/// writing it out (`simulate --dump-data`) so that another implementation can run on it.
pub struct TrialData {
    /// β*, the target direction.
    pub beta_star: Vec<f64>,
    /// The step batch (X, y).
    pub step: onestep_data::Sample,
    /// W₀ (N × d) and a (N).
    pub w0: onestep_linalg::Dense,
    pub a: Vec<f64>,
    /// The ridge batch (X̃, ỹ).
    pub ridge: onestep_data::Sample,
    /// The test set.
    pub test: onestep_data::Sample,
}

/// [`TrialData`] of trial `seed`.
pub fn trial_data<B: Backend>(b: &B, cfg: &ValidConfig, seed: u64) -> TrialData {
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let model = target_model(cfg, seed);
    let net0 = Network::init(b, &mut rng("init"), cfg.d, cfg.width, cfg.init);
    TrialData {
        step: model.sample(&mut rng("step"), cfg.n),
        w0: b.to_dense(&net0.w),
        a: net0.a,
        ridge: model.sample(&mut rng("ridge"), cfg.n),
        test: model.sample(&mut rng("test"), cfg.n_test),
        beta_star: model.beta_star,
    }
}

/// Only ⟨β, β*⟩ and ‖β‖² of trial `seed`: the same streams as [`run_trial`], so the same β.
pub fn beta_only<B: Backend>(b: &B, cfg: &ValidConfig, seed: u64) -> Overlap {
    let (s, _, _) = step_data(b, cfg, seed);
    beta_overlap(&s.beta, &s.model.beta_star)
}

/// W₀, a from the `init` stream, then W = W₀ + ηG on the step batch.
fn gradient_step<B: Backend>(
    b: &B,
    cfg: &ValidConfig,
    seed: u64,
    x: B::Mat,
    y: &[f64],
) -> Stepped<B> {
    let mut init = ChaCha8Rng::seed_from_u64(child_seed(seed, "init"));
    let net0 = Network::init(b, &mut init, cfg.d, cfg.width, cfg.init);
    let g = net0.gradient(b, &x, y, &cfg.activation, cfg.residual);
    drop(x);
    let eta = step_size(cfg.eta0, cfg.alpha, cfg.n);
    let net = net0.stepped(b, &g, eta);
    Stepped { net0, net, eta }
}

impl SpectrumStats {
    /// Uses the predicted spectrum after the step (`simulate --bulk-edge`): `bulk_edge_after` for
    /// `outliers` predicted outliers of F counted from the top, the mean component (c₀ ≠ 0)
    /// included, as `theory.outliers_after` lists them; and `spikes_detected` counted above the
    /// predicted top of the bulk after the step, `edge`, when it lies above ‖F₀‖ (the widened
    /// bulk is not a spike), `detection_edge` recording it.
    pub fn use_bulk_after(&mut self, cfg: &ValidConfig, outliers: usize, edge: f64) {
        // `outliers` counts the mean component; `all` holds it.
        self.bulk_edge_after = self.all.get(outliers).copied();
        if edge.is_finite() && edge > self.detection_edge {
            self.detection_edge = edge;
            self.spikes_detected =
                spikes_detected(&self.all, edge, self.margin, mean_component(cfg));
        }
    }
}

/// 1 when the c₀·11ᵀ mean component (c₀ ≠ 0) is the top singular direction of F₀ and F alike
/// (and so is left out of the bulk edge, the spike count and the alignments), else 0.
pub fn mean_component(cfg: &ValidConfig) -> usize {
    usize::from(cfg.act_stats.coeffs[0].abs() > 1e-12)
}

/// Spectrum statistics from all singular values of F and F₀ and the alignments.
fn spectrum_stats(
    cfg: &ValidConfig,
    all: Vec<f64>,
    all_f0: Vec<f64>,
    alignment_matrix: Vec<Vec<f64>>,
    method: SpectrumMethod,
) -> SpectrumStats {
    let exclude = mean_component(cfg);
    let bulk_edge = all_f0.get(exclude).copied().unwrap_or(0.0);
    let margin = spike_margin(cfg.n);
    SpectrumStats {
        bulk_edge_after: None,
        top: all.iter().take(TOP).copied().collect(),
        top_f0: all_f0.iter().take(TOP).copied().collect(),
        bulk_edge,
        detection_edge: bulk_edge,
        spikes_detected: spikes_detected(&all, bulk_edge, margin, exclude),
        margin,
        method: method.name(),
        alignment: diagonal(&alignment_matrix),
        alignment_matrix,
        all,
        all_f0,
    }
}

/// Errors by model at the first λ, and the whole path when there are several λ.
fn by_lambda(
    lambdas: &[f64],
    per_model: &[(String, Vec<Errors>)],
) -> (BTreeMap<String, Errors>, Vec<PathPoint>) {
    let at = |i: usize| {
        per_model
            .iter()
            .map(|(k, e)| (k.clone(), e[i]))
            .collect::<BTreeMap<_, _>>()
    };
    let path = if lambdas.len() > 1 {
        lambdas
            .iter()
            .enumerate()
            .map(|(i, &lambda)| PathPoint {
                lambda,
                errors: at(i),
            })
            .collect()
    } else {
        Vec::new()
    };
    (at(0), path)
}

/// Runs one trial with seed `seed`; `stage` is called with a short name before each stage.
///
/// Streams: `target` (β*), `init` (W₀, a), `step` (X, y), `ridge` (X̃, ỹ), `test`, `cget` and
/// `hermite` (the noise matrices of those models, ridge batch first); each is a ChaCha8 generator
/// seeded by `child_seed(seed, name)`, so results do not depend on the order of stages, on which
/// models are selected, or on the thread count.
///
/// Every model (nn, rf and `cfg.models`) is fitted at every λ of `cfg.lambdas` from ONE
/// eigendecomposition of its Gram matrix. The equivalent models are built, fitted and dropped one
/// at a time to bound the memory.
///
/// With `cfg.stream_rows` set, the batches are drawn and used that many rows at a time and never
/// held whole (the same data and outputs; see the `stream` module, docs/performance.md).
pub fn run_trial<B: Backend>(
    b: &B,
    cfg: &ValidConfig,
    seed: u64,
    stage: &mut dyn FnMut(&'static str),
) -> Result<Trial, PipelineError> {
    let timer = std::cell::RefCell::new(StageTimer::default());
    let lap = |s: &str| timer.borrow_mut().next(s);
    let mut stage = |s: &'static str| {
        lap(s);
        stage(s)
    };
    if let Some(rows) = cfg.stream_rows {
        let mut trial = stream::run(b, cfg, seed, rows, &timer, &mut stage)?;
        lap("");
        trial.stage_seconds = timer.into_inner().done;
        return Ok(trial);
    }
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let lambdas = &cfg.lambdas;
    stage("data");
    let (sd, x, y) = step_data(b, cfg, seed);

    stage("gradient step");
    let s = gradient_step(b, cfg, seed, x, &y);

    stage("features");
    let ridge = sd.model.sample(&mut rng("ridge"), cfg.n);
    let xr = b.from_dense(&ridge.x);
    drop(ridge.x);
    let f = s.net.features(b, &xr, &cfg.activation);
    let f0 = s.net0.features(b, &xr, &cfg.activation);
    let t = b.matvec(&xr, Op::N, &sd.beta);

    stage("spectra");
    let ef = decompose(b, &f, cfg, s.eta, true)?;
    let ef0 = decompose(b, &f0, cfg, s.eta, false)?;
    let exclude = mean_component(cfg);
    let left = ef.left_vectors(KMAX + exclude);
    let alignment = alignment_matrix(&left[exclude.min(left.len())..], &t, KMAX);
    let spectrum = spectrum_stats(
        cfg,
        ef.singular_values(),
        ef0.singular_values(),
        alignment,
        SpectrumMethod::GramEigen,
    );

    stage("test");
    let test = sd.model.sample(&mut rng("test"), cfg.n_test);
    let xt = b.from_dense(&test.x);
    drop(test.x);
    let tt = b.matvec(&xt, Op::N, &sd.beta);
    let lab = Labels {
        y: &ridge.y,
        y_test: &test.y,
        y_test_clean: &test.y_clean,
    };

    stage("ridge");
    let mut per_model: Vec<(String, Vec<Errors>)> = Vec::new();
    {
        let ft = s.net.features(b, &xt, &cfg.activation);
        lap("ridge nn");
        let nn = fit_path(b, &ef, (&f, &ft), (&[], &[]), &lab, lambdas)?;
        per_model.push(("nn".into(), nn));
    }
    drop(ef);
    drop(f);
    lap("ridge rf");
    let f0t = s.net0.features(b, &xt, &cfg.activation);
    let rf = fit_path(b, &ef0, (&f0, &f0t), (&[], &[]), &lab, lambdas)?;
    per_model.push(("rf".into(), rf));
    let inp = Inputs {
        xr: &xr,
        xt: &xt,
        t: &t,
        tt: &tt,
    };
    let f0s = (&f0, &f0t);
    let ms = cfg.model_setting();
    let mut unavailable = BTreeMap::new();
    let mut keep = |m: crate::models::Model, fitted| match checked(&m.name(), fitted) {
        Ok(errs) => per_model.push((m.name(), errs)),
        Err(why) => {
            unavailable.insert(m.name(), why);
        }
    };
    // Models on RF's decomposition first, then the others one at a time, to bound the memory.
    for &m in cfg.models.iter().filter(|m| m.uses_rf_decomposition()) {
        lap(&format!("ridge {}", m.name()));
        keep(m, m.fit(b, &ms, seed, &s, &inp, f0s, Some(&ef0), &lab));
    }
    drop(ef0);
    for &m in cfg.models.iter().filter(|m| !m.uses_rf_decomposition()) {
        lap(&format!("ridge {}", m.name()));
        keep(m, m.fit(b, &ms, seed, &s, &inp, f0s, None, &lab));
    }

    let (errors, errors_path) = by_lambda(lambdas, &per_model);
    lap("");
    Ok(Trial {
        seed,
        eta: s.eta,
        beta: beta_overlap(&sd.beta, &sd.model.beta_star),
        spectrum,
        errors,
        errors_path,
        unavailable,
        stage_seconds: timer.into_inner().done,
    })
}

mod stream;
pub use stream::{STREAM_ROWS, concurrently};

/// Wall time of each stage of [`run_trial`]: `next` closes the running stage and opens another.
#[derive(Default)]
struct StageTimer {
    running: Option<(String, std::time::Instant)>,
    done: Vec<(String, f64)>,
}

impl StageTimer {
    fn next(&mut self, name: &str) {
        let now = std::time::Instant::now();
        if let Some((s, t)) = self.running.take() {
            self.done.push((s, (now - t).as_secs_f64()));
        }
        self.running = (!name.is_empty()).then(|| (name.to_string(), now));
    }
}
