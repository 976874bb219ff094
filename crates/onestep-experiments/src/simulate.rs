//! One trial of the pipeline end to end (science.md §2–§5): data, one gradient step, features
//! before and after, spectra, alignments, ridge fits and errors; and the theory's predictions for
//! the same configuration.
use crate::ValidConfig;
use crate::models::{
    BEST_LINEAR_RIDGE, Model, add_low_rank, cget_features, equivalent_degrees, hermite_degree,
    hermite_features, hermite_noise_sd, spike_columns,
};
use onestep_data::{SingleIndex, child_seed, unit_vector};
use onestep_linalg::{Backend, Op};
use onestep_metrics::{
    Errors, Overlap, alignments, beta_overlap, mse, spike_margin, spikes_detected,
};
use onestep_net::{Network, step_size};
use onestep_solvers::{GramEigen, SolverError, ridge_unpenalised};
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
    /// How the spectrum was computed: the pipeline needs every singular value (and ridge at every
    /// λ), so it always decomposes the Gram matrices fully (`gram-eigen`).
    pub method: &'static str,
    /// |⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1..=3.
    pub alignment: Vec<f64>,
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
}

/// Failure inside a trial.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Solver(#[from] SolverError),
    #[error(transparent)]
    Theory(#[from] TheoryError),
}

/// Labels of the ridge batch and the test set.
struct Labels<'a> {
    y: &'a [f64],
    y_test: &'a [f64],
    y_test_clean: &'a [f64],
}

/// The predictor F·coef + Σ_j γ_j p_j.
fn predict<B: Backend>(
    b: &B,
    f: &B::Mat,
    coef: &[f64],
    cols: &[Vec<f64>],
    gamma: &[f64],
) -> Vec<f64> {
    let mut p = b.matvec(f, Op::N, coef);
    for (c, g) in cols.iter().zip(gamma) {
        p.iter_mut().zip(c).for_each(|(p, c)| *p += g * c);
    }
    p
}

/// Ridge on `f` (decomposed once in `eig`; `ft` on the test set) with unpenalised columns
/// `cols = (p, p_test)`, at every λ of `lambdas`: one eigendecomposition, one cheap fit per λ.
fn fit_path<B: Backend>(
    b: &B,
    eig: &GramEigen<'_, B>,
    (f, ft): (&B::Mat, &B::Mat),
    (p, p_test): (&[Vec<f64>], &[Vec<f64>]),
    lab: &Labels<'_>,
    lambdas: &[f64],
) -> Result<Vec<Errors>, SolverError> {
    lambdas
        .iter()
        .map(|&lambda| {
            let fit = eig.fit(p, lab.y, lambda)?;
            let train = mse(&predict(b, f, &fit.coef, p, &fit.unpenalised), lab.y);
            let test = predict(b, ft, &fit.coef, p_test, &fit.unpenalised);
            let penalty = lambda * fit.coef.iter().map(|v| v * v).sum::<f64>();
            Ok(Errors {
                train,
                train_penalised: train + penalty,
                test: mse(&test, lab.y_test),
                test_clean: mse(&test, lab.y_test_clean),
            })
        })
        .collect()
}

/// Decomposes `f` once and fits the whole path.
fn fit_features<B: Backend>(
    b: &B,
    f: &B::Mat,
    ft: &B::Mat,
    lab: &Labels<'_>,
    lambdas: &[f64],
) -> Result<Vec<Errors>, SolverError> {
    fit_path(b, &GramEigen::new(b, f)?, (f, ft), (&[], &[]), lab, lambdas)
}

fn powers(t: &[f64], k: usize) -> Vec<f64> {
    t.iter().map(|x| x.powi(k as i32)).collect()
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
pub fn run_trial<B: Backend>(
    b: &B,
    cfg: &ValidConfig,
    seed: u64,
    stage: &mut dyn FnMut(&'static str),
) -> Result<Trial, PipelineError> {
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let n = cfg.n;
    let lambdas = &cfg.lambdas;
    stage("data");
    let model = SingleIndex {
        beta_star: unit_vector(&mut rng("target"), cfg.d),
        link: cfg.target.clone(),
        noise: cfg.noise,
    };
    let net0 = Network::init(b, &mut rng("init"), cfg.d, cfg.width, cfg.init);
    let step = model.sample(&mut rng("step"), n);
    let x = b.from_dense(&step.x);
    drop(step.x);

    stage("gradient step");
    let beta: Vec<f64> = b
        .matvec(&x, Op::T, &step.y)
        .into_iter()
        .map(|v| v / n as f64)
        .collect();
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
        method: onestep_solvers::spectrum::SpectrumMethod::GramEigen.name(),
        alignment: alignments(&left[exclude.min(left.len())..], &t, KMAX),
        all,
        all_f0,
    };

    stage("test");
    let test = model.sample(&mut rng("test"), cfg.n_test);
    let xt = b.from_dense(&test.x);
    drop(test.x);
    let tt = b.matvec(&xt, Op::N, &beta);
    let lab = Labels {
        y: &ridge.y,
        y_test: &test.y,
        y_test_clean: &test.y_clean,
    };

    stage("ridge");
    let mut per_model: Vec<(String, Vec<Errors>)> = Vec::new();
    {
        let ft = net.features(b, &xt, &cfg.activation);
        per_model.push((
            "nn".into(),
            fit_path(b, &ef, (&f, &ft), (&[], &[]), &lab, lambdas)?,
        ));
    }
    drop(ef);
    drop(f);
    let f0t = net0.features(b, &xt, &cfg.activation);
    per_model.push((
        "rf".into(),
        fit_path(b, &ef0, (&f0, &f0t), (&[], &[]), &lab, lambdas)?,
    ));
    let poly: Vec<Vec<f64>> = (1..=KMAX).map(|k| powers(&t, k)).collect();
    let poly_t: Vec<Vec<f64>> = (1..=KMAX).map(|k| powers(&tt, k)).collect();
    for m in &cfg.models {
        if let Model::InfSpike(l) = *m {
            per_model.push((
                m.name(),
                fit_path(
                    b,
                    &ef0,
                    (&f0, &f0t),
                    (&poly[..l], &poly_t[..l]),
                    &lab,
                    lambdas,
                )?,
            ));
        }
    }
    drop(ef0);
    let degrees = equivalent_degrees(&cfg.act_stats);
    let spikes = spike_columns(&cfg.act_stats, &degrees, eta, &t, &net0.a);
    let spikes_t = spike_columns(&cfg.act_stats, &degrees, eta, &tt, &net0.a);
    for m in &cfg.models {
        let errs = match *m {
            Model::Spiked => {
                let (mut fs, mut fst) = (f0.clone(), f0t.clone());
                add_low_rank(b, &mut fs, &spikes.0, &spikes.1);
                add_low_rank(b, &mut fst, &spikes_t.0, &spikes_t.1);
                fit_features(b, &fs, &fst, &lab, lambdas)?
            }
            Model::Cget => {
                let mut r = rng("cget");
                let fc = cget_features(
                    b,
                    &xr,
                    &net0,
                    &cfg.act_stats,
                    (&spikes.0, &spikes.1),
                    &mut r,
                );
                let fct = cget_features(
                    b,
                    &xt,
                    &net0,
                    &cfg.act_stats,
                    (&spikes_t.0, &spikes_t.1),
                    &mut r,
                );
                fit_features(b, &fc, &fct, &lab, lambdas)?
            }
            Model::Hermite => {
                let ell = hermite_degree(cfg.alpha, &cfg.act_stats);
                let mut r = rng("hermite");
                let fh = hermite_features(b, &xr, &net, &cfg.act_stats, ell, &mut r);
                let fht = hermite_features(b, &xt, &net, &cfg.act_stats, ell, &mut r);
                fit_features(b, &fh, &fht, &lab, lambdas)?
            }
            Model::BestLinear => {
                // Affine least squares: slopes on X̃ (ridge BEST_LINEAR_RIDGE), unpenalised intercept.
                let ones = |k: usize| vec![vec![1.0; k]];
                let fit = ridge_unpenalised(b, &xr, &ones(n), lab.y, BEST_LINEAR_RIDGE)?;
                let train = mse(
                    &predict(b, &xr, &fit.coef, &ones(n), &fit.unpenalised),
                    lab.y,
                );
                let pt = predict(b, &xt, &fit.coef, &ones(cfg.n_test), &fit.unpenalised);
                let penalty = BEST_LINEAR_RIDGE * fit.coef.iter().map(|v| v * v).sum::<f64>();
                let e = Errors {
                    train,
                    train_penalised: train + penalty,
                    test: mse(&pt, lab.y_test),
                    test_clean: mse(&pt, lab.y_test_clean),
                };
                vec![e; lambdas.len()]
            }
            Model::InfSpike(_) => continue,
        };
        per_model.push((m.name(), errs));
    }

    let at = |i: usize| {
        per_model
            .iter()
            .map(|(k, e)| (k.clone(), e[i]))
            .collect::<BTreeMap<_, _>>()
    };
    let errors_path = if lambdas.len() > 1 {
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
    Ok(Trial {
        seed,
        eta,
        beta: beta_overlap(&beta, &model.beta_star),
        spectrum,
        errors: at(0),
        errors_path,
    })
}

/// How the equivalent models of this configuration are built (see [`crate::models`]).
#[derive(Clone, Debug, Serialize)]
pub struct EquivalentsInfo {
    /// Spike degrees k of the `spiked` and `cget` models (every k ≤ 8 with c_k ≠ 0).
    pub spike_degrees: Vec<usize>,
    /// Truncation degree ℓ of the `hermite` model (largest separated spike degree, at least 2).
    pub hermite_degree: usize,
    /// Standard deviation of the noise replacing σ's Hermite components of degree > ℓ.
    pub hermite_noise_sd: f64,
    /// c_{>1}: scale of the Gaussian part of the `cget` model.
    pub cget_noise_sd: f64,
    /// Ridge penalty of the fitted `best_linear` least squares (a numerical safeguard; ≈ OLS).
    pub best_linear_ridge: f64,
}

/// Theory errors at one λ of the path.
#[derive(Clone, Debug, Serialize)]
pub struct TheoryPathPoint {
    /// The ridge penalty λ.
    pub lambda: f64,
    /// Errors by model, as in [`TheorySummary::errors`].
    pub errors: BTreeMap<String, onestep_theory::Errors>,
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
    /// Proportional-limit errors at the first λ: `rf`, `inf_spike_1..3`, `spiked` (finite-α spiked
    /// equivalent), and `best_linear`: the POPULATION best affine predictor c*₀ + c*₁⟨x,β*⟩, whose
    /// noiseless risk is ‖P_{>1}σ*‖² = Eσ*² − c*₀² − c*₁² (its expected training error equals its
    /// test error; the simulated `errors.best_linear` is the fitted least-squares version).
    pub errors: BTreeMap<String, onestep_theory::Errors>,
    /// The same at every λ of the path; empty (and not written) for one λ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors_path: Vec<TheoryPathPoint>,
    /// Models whose theory could not be computed for this configuration, with the reason.
    pub unavailable: BTreeMap<String, String>,
    /// How the simulated equivalent models are built.
    pub equivalents: EquivalentsInfo,
    /// Predicted bulk edge ‖F₀‖_op (Marchenko–Pastur bulk, science.md §4); None if unavailable.
    pub bulk_edge: Option<f64>,
    /// Predicted outlier singular values of F, descending (compare with `spectrum.top`); degree ≥ 4
    /// predictions above 2θ_k are left out (`SpikePrediction::trusted_location`).
    pub spike_locations: Vec<f64>,
    /// Predicted |⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1, 2, 3 (null: no separated degree-k spike).
    pub alignment: Vec<Option<f64>>,
    /// The full spike prediction (strengths, locations, alignments per degree).
    pub spikes: Option<onestep_theory::SpikeReport>,
}

/// Spike predictions for `cfg` on the Marchenko–Pastur bulk (labels residual).
pub fn spike_report(cfg: &ValidConfig) -> Result<onestep_theory::SpikeReport, TheoryError> {
    onestep_theory::predict_spikes(
        &spike_inputs(cfg),
        onestep_theory::Spectrum::MarchenkoPastur,
    )
}

/// Inputs of the spike theory for `cfg`: limiting ‖β‖², Gaussian second layer, step noise, and
/// σ's coefficients at larger scales for the smoothed spike functions.
pub fn spike_inputs(cfg: &ValidConfig) -> onestep_theory::SpikeInputs {
    let mut inp = onestep_theory::SpikeInputs::new(
        cfg.n,
        cfg.d,
        cfg.width,
        cfg.alpha,
        cfg.eta0,
        cfg.noise,
        cfg.act_stats.clone(),
        cfg.target_stats.clone(),
    );
    inp.act_scaled = Some(crate::config::scaled_coeffs(&cfg.activation));
    inp
}

/// Theory errors at penalty `lambda`, and the models whose theory is unavailable.
fn theory_errors_at(
    cfg: &ValidConfig,
    lambda: f64,
) -> (
    BTreeMap<String, onestep_theory::Errors>,
    BTreeMap<String, String>,
) {
    let s = onestep_theory::Setting {
        phi: cfg.n as f64 / cfg.d as f64,
        psi: cfg.width as f64 / cfg.d as f64,
        lambda,
        noise: cfg.noise,
        act: cfg.act_stats.clone(),
        target: cfg.target_stats.clone(),
    };
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
        record(
            "spiked".into(),
            onestep_theory::spiked_errors(&s, cfg.alpha, cfg.eta0, cfg.n as f64),
        );
    } else {
        unavailable.insert(
            "spiked".into(),
            "the finite-α theory is derived for the labels residual only".into(),
        );
    }
    let c = &cfg.target_stats.coeffs;
    let clean = (cfg.target_stats.second_moment
        - c.first().map_or(0.0, |v| v * v)
        - c.get(1).map_or(0.0, |v| v * v))
    .max(0.0);
    let noisy = clean + cfg.noise * cfg.noise;
    errors.insert(
        "best_linear".into(),
        onestep_theory::Errors {
            train: noisy,
            test: noisy,
            test_clean: clean,
        },
    );
    (errors, unavailable)
}

/// Theory for `cfg` (labels residual; values for `full` are reported but not derived for it).
pub fn theory_summary(cfg: &ValidConfig) -> Result<TheorySummary, TheoryError> {
    let degrees =
        onestep_theory::spike_degrees(cfg.alpha, &cfg.act_stats, crate::config::HERMITE_KMAX);
    let (errors, unavailable) = theory_errors_at(cfg, cfg.lambda);
    let errors_path = if cfg.lambdas.len() > 1 {
        cfg.lambdas
            .iter()
            .map(|&lambda| TheoryPathPoint {
                lambda,
                errors: theory_errors_at(cfg, lambda).0,
            })
            .collect()
    } else {
        Vec::new()
    };
    let hermite = hermite_degree(cfg.alpha, &cfg.act_stats);
    let mut unavailable = unavailable;
    let spikes = if cfg.residual == onestep_net::Residual::Labels {
        spike_report(cfg)
            .map_err(|e| unavailable.insert("spikes".into(), e.to_string()))
            .ok()
    } else {
        unavailable.insert(
            "spikes".into(),
            "spike locations are derived for the labels residual only".into(),
        );
        None
    };
    let mut spike_locations: Vec<f64> = spikes
        .iter()
        .flat_map(|r| r.spikes.iter().filter_map(|p| p.trusted_location()))
        .collect();
    spike_locations.sort_by(|a, b| b.total_cmp(a));
    let alignment = (1..=KMAX)
        .map(|k| {
            spikes
                .as_ref()
                .and_then(|r| r.spikes.iter().find(|p| p.degree == k))
                .and_then(|p| p.alignment)
        })
        .collect();
    Ok(TheorySummary {
        bulk_edge: spikes.as_ref().map(|r| r.bulk_edge),
        spike_locations,
        alignment,
        spikes,
        spike_count: degrees.len(),
        spike_degrees: degrees,
        thresholds: (1..=4).map(onestep_theory::threshold).collect(),
        beta: onestep_theory::overlap(&cfg.target_stats, cfg.noise, cfg.n as f64 / cfg.d as f64)?,
        errors,
        errors_path,
        unavailable,
        equivalents: EquivalentsInfo {
            spike_degrees: equivalent_degrees(&cfg.act_stats),
            hermite_degree: hermite,
            hermite_noise_sd: hermite_noise_sd(&cfg.act_stats, hermite),
            cget_noise_sd: cfg.act_stats.nonlinear_energy().sqrt(),
            best_linear_ridge: BEST_LINEAR_RIDGE,
        },
    })
}
