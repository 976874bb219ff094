//! One trial of the pipeline end to end (science.md §2–§5): data, one gradient step, features
//! before and after, spectra, alignments, ridge fits and errors; and the theory's predictions for
//! the same configuration.
use crate::ValidConfig;
use onestep_data::{SingleIndex, child_seed, unit_vector};
use onestep_linalg::{Backend, Op};
use onestep_metrics::{Errors, Overlap, alignments, beta_overlap, mse, spike_margin, spikes_detected};
use onestep_net::{Network, step_size};
use onestep_solvers::{GramEigen, SolverError};
use onestep_theory::TheoryError;
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
    /// Singular values of F above bulk_edge·(1 + margin), mean component excluded.
    pub spikes_detected: usize,
    /// The relative margin used.
    pub margin: f64,
    /// |⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1..=3.
    pub alignment: Vec<f64>,
    /// All singular values of F (for histograms; not written to JSON).
    #[serde(skip)]
    pub all: Vec<f64>,
    /// All singular values of F₀.
    #[serde(skip)]
    pub all_f0: Vec<f64>,
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
    /// Errors of each fitted model: `nn`, `rf`, `inf_spike_1..3`.
    pub errors: BTreeMap<String, Errors>,
}

/// Failure inside a trial.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Solver(#[from] SolverError),
    #[error(transparent)]
    Theory(#[from] TheoryError),
}

fn errors_of(train_pred: &[f64], y: &[f64], test_pred: &[f64], y_test: &[f64], y_test_clean: &[f64], penalty: f64) -> Errors {
    let train = mse(train_pred, y);
    Errors { train, train_penalised: train + penalty, test: mse(test_pred, y_test), test_clean: mse(test_pred, y_test_clean) }
}

fn powers(t: &[f64], k: usize) -> Vec<f64> {
    t.iter().map(|x| x.powi(k as i32)).collect()
}

/// Runs one trial with seed `seed`; `stage` is called with a short name before each stage.
///
/// Streams: `target` (β*), `init` (W₀, a), `step` (X, y), `ridge` (X̃, ỹ), `test`; each is a
/// ChaCha8 generator seeded by `child_seed(seed, name)`, so results do not depend on the order of
/// stages or on the thread count.
pub fn run_trial<B: Backend>(b: &B, cfg: &ValidConfig, seed: u64, stage: &mut dyn FnMut(&'static str)) -> Result<Trial, PipelineError> {
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let (n, lambda) = (cfg.n, cfg.lambda);
    stage("data");
    let model = SingleIndex { beta_star: unit_vector(&mut rng("target"), cfg.d), link: cfg.target.clone(), noise: cfg.noise };
    let net0 = Network::init(b, &mut rng("init"), cfg.d, cfg.width, cfg.init);
    let step = model.sample(&mut rng("step"), n);
    let x = b.from_dense(&step.x);
    drop(step.x);

    stage("gradient step");
    let beta: Vec<f64> = b.matvec(&x, Op::T, &step.y).into_iter().map(|v| v / n as f64).collect();
    let g = net0.gradient(b, &x, &step.y, &cfg.activation, cfg.residual);
    drop(x);
    let eta = step_size(cfg.eta0, cfg.alpha, n);
    let net = net0.stepped(b, &g, eta);
    drop(g);

    stage("features");
    let ridge = model.sample(&mut rng("ridge"), n);
    let xr = b.from_dense(&ridge.x);
    drop(ridge.x);
    let f = net.features(b, &xr, &cfg.activation);
    let f0 = net0.features(b, &xr, &cfg.activation);
    let t = b.matvec(&xr, Op::N, &beta);
    drop(xr);

    stage("spectra");
    let ef = GramEigen::new(b, &f)?;
    let ef0 = GramEigen::new(b, &f0)?;
    let all = ef.singular_values();
    let all_f0 = ef0.singular_values();
    // The c₀·11ᵀ mean component (c₀ ≠ 0) is the top singular direction of F₀ and F alike.
    let exclude = usize::from(cfg.act_stats.coeffs[0].abs() > 1e-12);
    let bulk_edge = all_f0.get(exclude).copied().unwrap_or(0.0);
    let margin = spike_margin(n);
    let left = ef.left_vectors(KMAX + exclude);
    let spectrum = SpectrumStats {
        top: all.iter().take(TOP).copied().collect(),
        top_f0: all_f0.iter().take(TOP).copied().collect(),
        bulk_edge,
        spikes_detected: spikes_detected(&all, bulk_edge, margin, exclude),
        margin,
        alignment: alignments(&left[exclude.min(left.len())..], &t, KMAX),
        all,
        all_f0,
    };

    stage("ridge");
    let y = &ridge.y;
    let fit_nn = ef.fit(&[], y, lambda)?;
    let fit_rf = ef0.fit(&[], y, lambda)?;
    let poly: Vec<Vec<f64>> = (1..=KMAX).map(|k| powers(&t, k)).collect();
    let fits_inf: Vec<_> = (1..=KMAX).map(|l| ef0.fit(&poly[..l], y, lambda)).collect::<Result<_, _>>()?;

    stage("test");
    let test = model.sample(&mut rng("test"), cfg.n_test);
    let xt = b.from_dense(&test.x);
    drop(test.x);
    let ft = net.features(b, &xt, &cfg.activation);
    let f0t = net0.features(b, &xt, &cfg.activation);
    let tt = b.matvec(&xt, Op::N, &beta);
    drop(xt);

    let pen = |c: &[f64]| lambda * c.iter().map(|v| v * v).sum::<f64>();
    let mut errors = BTreeMap::new();
    errors.insert("nn".to_string(), errors_of(&b.matvec(&f, Op::N, &fit_nn.coef), y, &b.matvec(&ft, Op::N, &fit_nn.coef), &test.y, &test.y_clean, pen(&fit_nn.coef)));
    let rf_train = b.matvec(&f0, Op::N, &fit_rf.coef);
    errors.insert("rf".to_string(), errors_of(&rf_train, y, &b.matvec(&f0t, Op::N, &fit_rf.coef), &test.y, &test.y_clean, pen(&fit_rf.coef)));
    for (l, fit) in fits_inf.iter().enumerate() {
        let predict = |feat: &B::Mat, t: &[f64]| -> Vec<f64> {
            let mut p = b.matvec(feat, Op::N, &fit.coef);
            for (k, g) in fit.unpenalised.iter().enumerate() {
                p.iter_mut().zip(t).for_each(|(p, t)| *p += g * t.powi(k as i32 + 1));
            }
            p
        };
        errors.insert(format!("inf_spike_{}", l + 1), errors_of(&predict(&f0, &t), y, &predict(&f0t, &tt), &test.y, &test.y_clean, pen(&fit.coef)));
    }
    Ok(Trial { seed, eta, beta: beta_overlap(&beta, &model.beta_star), spectrum, errors })
}

/// The theory's predictions for a configuration (science.md §4, §6).
#[derive(Clone, Debug, Serialize)]
pub struct TheorySummary {
    /// ℓ(α): number of separated spikes, zero Hermite coefficients honoured.
    pub spike_count: usize,
    /// Their degrees.
    pub spike_degrees: Vec<usize>,
    /// Thresholds (k−1)/(2k) for k = 1..=4.
    pub thresholds: Vec<f64>,
    /// Predicted ⟨β, β*⟩, ‖β‖², cos∠ (labels residual).
    pub beta: onestep_theory::Overlap,
    /// Proportional-limit errors: `rf`, `inf_spike_1..3`, and `spiked` (finite-α spiked equivalent).
    pub errors: BTreeMap<String, onestep_theory::Errors>,
    /// Models whose theory could not be computed for this configuration, with the reason.
    pub unavailable: BTreeMap<String, String>,
}

/// Theory for `cfg` (labels residual; values for `full` are reported but not derived for it).
pub fn theory_summary(cfg: &ValidConfig) -> Result<TheorySummary, TheoryError> {
    let s = onestep_theory::Setting {
        phi: cfg.n as f64 / cfg.d as f64,
        psi: cfg.width as f64 / cfg.d as f64,
        lambda: cfg.lambda,
        noise: cfg.noise,
        act: cfg.act_stats.clone(),
        target: cfg.target_stats.clone(),
    };
    let degrees = onestep_theory::spike_degrees(cfg.alpha, &cfg.act_stats, crate::config::HERMITE_KMAX);
    let (mut errors, mut unavailable) = (BTreeMap::new(), BTreeMap::new());
    let mut record = |name: String, r: Result<onestep_theory::Errors, TheoryError>| match r {
        Ok(e) => {
            errors.insert(name, e);
        }
        Err(e) => {
            unavailable.insert(name, e.to_string());
        }
    };
    record("rf".into(), onestep_theory::errors(&s, 0));
    for l in 1..=KMAX {
        record(format!("inf_spike_{l}"), onestep_theory::errors(&s, l));
    }
    if cfg.residual == onestep_net::Residual::Labels {
        record("spiked".into(), onestep_theory::spiked_errors(&s, cfg.alpha, cfg.eta0, cfg.n as f64));
    } else {
        unavailable.insert("spiked".into(), "the finite-α theory is derived for the labels residual only".into());
    }
    Ok(TheorySummary {
        spike_count: degrees.len(),
        spike_degrees: degrees,
        thresholds: (1..=4).map(onestep_theory::threshold).collect(),
        beta: onestep_theory::overlap(&cfg.target_stats, cfg.noise, cfg.n as f64 / cfg.d as f64)?,
        errors,
        unavailable,
    })
}
