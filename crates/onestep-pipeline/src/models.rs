//! The equivalent models and baselines of docs/model.md §5, fitted beside the network: which ones
//! exist (`--models`), the λ path (`--lambda`), and how each model's feature matrix is built.
//!
//! Every model is ridge on its own feature matrix from the SAME ridge batch (X̃, ỹ), evaluated on
//! the SAME test set, with the same W₀, a and β = Xᵀy/n as the network (docs/model.md §5):
//!
//! | key | features on the ridge batch | test map x ↦ |
//! |---|---|---|
//! | `nn` | F = σ(X̃Wᵀ), W = W₀ + ηG | σ(Wx) |
//! | `rf` | F₀ = σ(X̃W₀ᵀ) | σ(W₀x) |
//! | `spiked` | F₀ + Σ_k c₁^k c_k η^k (X̃β)∘ᵏ(a∘ᵏ)ᵀ | σ(W₀x) + Σ_k c₁^k c_k η^k ⟨x,β⟩^k a∘ᵏ |
//! | `cget` | c₀11ᵀ + c₁X̃W₀ᵀ + c_{>1}Z + the same spikes | the same with fresh Z rows |
//! | `hermite` | σ_ℓ(X̃Wᵀ) + √(Eσ² − Σ_{k≤ℓ} k!c_k²)·Z | the same with fresh Z rows |
//! | `inf_spike_ℓ` | F₀ plus UNPENALISED columns (X̃β)∘ᵏ, k ≤ ℓ | σ(W₀x)ᵀâ + Σ_k γ̂_k⟨x,β⟩^k |
//! | `best_linear` | [1, X̃] by least squares (see below) | γ̂₀ + xᵀâ |
//!
//! Conventions and choices:
//! - Spike degrees of `spiked` and `cget` ([`equivalent_degrees`]): EVERY k = 1..=8 with c_k ≠ 0,
//!   separated or not, exactly as the theory's finite-α spiked equivalent
//!   (`onestep_theory::spiked_errors`, whose prediction is printed beside it). A spike below its
//!   threshold has operator norm o(√n) and vanishes from the limit, but at finite n it is not
//!   negligible (degree 2 at α = 0.2 is still ~¼ of the bulk at d = 64), and at α = 0 the degree-1
//!   term has norm Θ(√n), the size of the bulk, so restricting to the separated degrees
//!   (`onestep_theory::spike_degrees`, empty at α = 0) would make the "equivalent" equal to RF
//!   while the network is not (docs/model.md §7: NN 1.657 against RF 1.717 at α = 0).
//! - Hermite model ([`hermite_degree`]), truncated at degree D = the largest SEPARATED spike degree
//!   (`spike_degrees(α)`), at least 2. Not 1: the degree-2 part of σ makes a spike of relative
//!   size ∝ n^{2α−1/2}, which below α = 1/4 fades only slowly (like n^{−0.1} at α = 0.2); truncating
//!   at degree 1 left the Hermite model 0.075 away from the network's test error at d = 128,
//!   α = 0.2, not shrinking from d = 32, against 0.017 (shrinking from 0.026) at degree 2. σ_ℓ = Σ_{k≤ℓ} c_k He_k is applied to the updated
//!   pre-activations as they are (their variance is 1 + O(η²/N), not renormalised), and the
//!   discarded energy Σ_{k>ℓ} k!c_k² comes back as independent N(0,1) noise so that every feature
//!   keeps the second moment of σ. Z comes from the stream `child_seed(seed, "hermite")`: first the
//!   ridge-batch matrix, then the test matrix.
//! - Conditional Gaussian equivalent: Z from the stream `child_seed(seed, "cget")`, ridge batch
//!   first, test set second (gaussian_matrix draws one word per matrix, so the two are independent).
//! - `best_linear`: the FITTED affine least-squares predictor of ỹ from x̃ on the ridge batch
//!   (intercept unpenalised, ridge λ = [`BEST_LINEAR_RIDGE`] on the d slopes, i.e. OLS for n > d + 1
//!   and the minimum-norm interpolant otherwise); independent of the λ path. Its finite-sample
//!   excess over the population optimum is about (test)·d/(n − d). The POPULATION best linear
//!   predictor c*₀ + c*₁⟨x,β*⟩, whose noiseless risk is ‖P_{>1}σ*‖² = Eσ*² − c*₀² − c*₁², is the
//!   theory value `theory.errors.best_linear`.
use crate::fit::{Labels, fit_features, fit_path, powers, predict};
use onestep_data::{Func, child_seed, gaussian_matrix};
use onestep_linalg::{Backend, Op};
use onestep_metrics::{Errors, mse};
use onestep_net::Network;
use onestep_solvers::{GramEigen, SolverError, ridge_unpenalised};
use onestep_theory::FnStats;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Ridge penalty of the `best_linear` least-squares fit (numerical safeguard only).
pub const BEST_LINEAR_RIDGE: f64 = 1e-8;
/// Highest spike degree of the `spiked` and `cget` models (the theory's `SPIKED_MAX_DEGREE`).
pub const MAX_SPIKE_DEGREE: usize = onestep_theory::spiked::SPIKED_MAX_DEGREE;

/// An optional model fitted beside `nn` and `rf` (which are always fitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    /// Spiked equivalent F₀ + Σ_k spikes.
    Spiked,
    /// Conditional Gaussian equivalent c₀11ᵀ + c₁X̃W₀ᵀ + c_{>1}Z + spikes.
    Cget,
    /// Degree-ℓ Hermite truncation of σ on the updated pre-activations, plus noise.
    Hermite,
    /// F₀ plus unpenalised columns (X̃β)∘ᵏ, k ≤ ℓ (ℓ = 1, 2, 3).
    InfSpike(usize),
    /// Affine least squares on the raw inputs.
    BestLinear,
}

/// What the models need of a checked configuration (built by `ValidConfig::model_setting`, so
/// this module does not depend on the configuration's module).
pub struct Setting<'a> {
    pub n: usize,
    pub n_test: usize,
    pub alpha: f64,
    pub eta0: f64,
    pub noise: f64,
    pub lambdas: &'a [f64],
    pub residual: onestep_net::Residual,
    pub act_stats: &'a FnStats,
    pub target_stats: &'a FnStats,
}

/// Every optional model, in the order they are fitted and printed.
pub const ALL: [Model; 7] = [
    Model::Spiked,
    Model::Cget,
    Model::Hermite,
    Model::InfSpike(1),
    Model::InfSpike(2),
    Model::InfSpike(3),
    Model::BestLinear,
];

impl Model {
    /// Row label in the printed summary.
    pub fn label(self) -> String {
        match self {
            Model::Spiked => "spiked equivalent".into(),
            Model::Cget => "cond. Gaussian equiv.".into(),
            Model::Hermite => "Hermite model".into(),
            Model::InfSpike(l) => format!("infinite spike ℓ={l}"),
            Model::BestLinear => "best linear (fitted)".into(),
        }
    }

    /// Key in the `errors` map.
    pub fn name(self) -> String {
        match self {
            Model::Spiked => "spiked".into(),
            Model::Cget => "cget".into(),
            Model::Hermite => "hermite".into(),
            Model::InfSpike(l) => format!("inf_spike_{l}"),
            Model::BestLinear => "best_linear".into(),
        }
    }
}

/// Spike degrees of the `spiked` and `cget` models: every k in 1..=[`MAX_SPIKE_DEGREE`] with
/// |c_k| > 1e-12, separated at this α or not (see the module docs for why).
pub fn equivalent_degrees(act: &FnStats) -> Vec<usize> {
    (1..=MAX_SPIKE_DEGREE.min(act.max_degree()))
        .filter(|&k| act.coeffs[k].abs() > onestep_theory::spikes::COEFF_ZERO)
        .collect()
}

/// Truncation degree D of the Hermite model: the largest separated spike degree at α, at least 2
/// (a degree, not a count: for tanh, whose c₂ = 0, D = 3 when ℓ(α) = 2 spikes of degrees 1 and 3).
pub fn hermite_degree(alpha: f64, act: &FnStats) -> usize {
    onestep_theory::spike_degrees(alpha, act, crate::stats::HERMITE_KMAX)
        .last()
        .copied()
        .unwrap_or(1)
        .max(2)
}

/// Standard deviation of the noise that replaces the Hermite components of degree > ℓ:
/// √(Eσ² − Σ_{k≤ℓ} k!c_k²), clamped at 0.
pub fn hermite_noise_sd(act: &FnStats, ell: usize) -> f64 {
    let kept: f64 = act
        .coeffs
        .iter()
        .take(ell + 1)
        .enumerate()
        .map(|(k, c)| onestep_theory::hermite::factorial(k) * c * c)
        .sum();
    (act.second_moment - kept).max(0.0).sqrt()
}

/// The low-rank part Σ_k s_k·l_k m_kᵀ of the spiked equivalent on inputs with projections
/// t = Xβ: returns the columns s_k·t∘ᵏ (length n) and a∘ᵏ (length N), with
/// s_k = c₁^k c_k η^k (docs/model.md §4–§5).
pub fn spike_columns(
    act: &FnStats,
    degrees: &[usize],
    eta: f64,
    t: &[f64],
    a: &[f64],
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let c1 = act.coeffs.get(1).copied().unwrap_or(0.0);
    let left = degrees
        .iter()
        .map(|&k| {
            let s = (c1 * eta).powi(k as i32) * act.coeffs[k];
            t.iter().map(|x| s * x.powi(k as i32)).collect()
        })
        .collect();
    let right = degrees
        .iter()
        .map(|&k| a.iter().map(|x| x.powi(k as i32)).collect())
        .collect();
    (left, right)
}

/// f ← f + L·Mᵀ for columns L (length rows) and M (length cols); nothing when empty.
pub fn add_low_rank<B: Backend>(b: &B, f: &mut B::Mat, left: &[Vec<f64>], right: &[Vec<f64>]) {
    if left.is_empty() {
        return;
    }
    let lm = b.matmul(&b.from_cols(left), Op::N, &b.from_cols(right), Op::T, 1.0);
    b.axpy(f, 1.0, &lm);
}

/// Adds `sd`·Z, Z an i.i.d. N(0,1) matrix of f's shape drawn with [`gaussian_matrix`] from `rng`.
fn add_noise<B: Backend, R: Rng + ?Sized>(b: &B, f: &mut B::Mat, sd: f64, rng: &mut R) {
    let (r, c) = b.shape(f);
    let z = b.from_dense(&gaussian_matrix(rng, r, c));
    if sd != 0.0 {
        b.axpy(f, sd, &z);
    }
}

/// Conditional Gaussian equivalent of σ(XW₀ᵀ) plus spikes: c₀11ᵀ + c₁XW₀ᵀ + c_{>1}Z + L·Mᵀ.
/// Draws one matrix Z from `rng` (always, so the stream does not depend on c_{>1}).
pub fn cget_features<B: Backend, R: Rng + ?Sized>(
    b: &B,
    x: &B::Mat,
    net0: &Network<B>,
    act: &FnStats,
    spikes: (&[Vec<f64>], &[Vec<f64>]),
    rng: &mut R,
) -> B::Mat {
    let c0 = act.coeffs.first().copied().unwrap_or(0.0);
    let c1 = act.coeffs.get(1).copied().unwrap_or(0.0);
    let mut f = b.matmul(x, Op::N, &net0.w, Op::T, c1);
    if c0 != 0.0 {
        b.map_inplace(&mut f, &|s: &mut [f64]| s.iter_mut().for_each(|v| *v += c0));
    }
    add_noise(b, &mut f, act.nonlinear_energy().sqrt(), rng);
    add_low_rank(b, &mut f, spikes.0, spikes.1);
    f
}

/// Hermite-model features: σ_D(XWᵀ) + noise_sd·Z with σ_D = Σ_{k≤D} c_k He_k and W the UPDATED
/// first layer. Draws one matrix Z from `rng`.
pub fn hermite_features<B: Backend, R: Rng + ?Sized>(
    b: &B,
    x: &B::Mat,
    net: &Network<B>,
    act: &FnStats,
    ell: usize,
    rng: &mut R,
) -> B::Mat {
    let poly = Func::Hermite(act.coeffs.iter().take(ell + 1).copied().collect());
    let mut f = net.preactivations(b, x);
    b.map_inplace(&mut f, &|s: &mut [f64]| poly.eval_slice(s));
    add_noise(b, &mut f, hermite_noise_sd(act, ell), rng);
    f
}

/// The ridge batch X̃ and test inputs on the backend, with their projections on β.
/// The network before and after the step.
pub(crate) struct Stepped<B: Backend> {
    pub net0: Network<B>,
    pub net: Network<B>,
    pub eta: f64,
}

pub(crate) struct Inputs<'a, B: Backend> {
    pub xr: &'a B::Mat,
    pub xt: &'a B::Mat,
    pub t: &'a [f64],
    pub tt: &'a [f64],
}

impl Model {
    /// The theory's errors for this model at `s` (docs/theory.md): `None` when the theory has no
    /// prediction for it (`cget` and `hermite` are checked against `spiked`'s), `Some(Err)` with
    /// the reason when it has one but not for this configuration.
    pub fn theory(
        self,
        cfg: &Setting<'_>,
        s: &onestep_theory::Setting,
    ) -> Option<Result<onestep_theory::Errors, String>> {
        match self {
            Model::InfSpike(l) => Some(onestep_theory::errors(s, l).map_err(|e| e.to_string())),
            Model::Spiked if cfg.residual == onestep_net::Residual::Labels => Some(
                onestep_theory::spiked_errors(s, cfg.alpha, cfg.eta0, cfg.n as f64)
                    .map_err(|e| e.to_string()),
            ),
            Model::Spiked => Some(Err(
                "the finite-α theory is derived for the labels residual only".into(),
            )),
            Model::BestLinear => {
                // The POPULATION best affine predictor c*₀ + c*₁⟨x,β*⟩: noiseless risk ‖P_{>1}σ*‖².
                let c = &cfg.target_stats.coeffs;
                let clean = (cfg.target_stats.second_moment
                    - c.first().map_or(0.0, |v| v * v)
                    - c.get(1).map_or(0.0, |v| v * v))
                .max(0.0);
                let noisy = clean + cfg.noise * cfg.noise;
                Some(Ok(onestep_theory::Errors {
                    train: noisy,
                    test: noisy,
                    test_clean: clean,
                }))
            }
            Model::Cget | Model::Hermite => None,
        }
    }
}

impl Model {
    /// Whether the model is ridge on F₀ plus unpenalised columns, fitted with RF's decomposition.
    pub fn uses_rf_decomposition(self) -> bool {
        matches!(self, Model::InfSpike(_))
    }

    /// Errors of this model at every λ of the path. `rf_eig` is RF's decomposition of F₀, needed
    /// by (and only by) the models with [`Model::uses_rf_decomposition`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fit<B: Backend>(
        self,
        b: &B,
        cfg: &Setting<'_>,
        seed: u64,
        s: &Stepped<B>,
        inp: &Inputs<'_, B>,
        (f0, f0t): (&B::Mat, &B::Mat),
        rf_eig: Option<&GramEigen<'_, B>>,
        lab: &Labels<'_>,
    ) -> Result<Vec<Errors>, SolverError> {
        let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
        let lambdas = &cfg.lambdas;
        let degrees = equivalent_degrees(cfg.act_stats);
        let spikes = || spike_columns(cfg.act_stats, &degrees, s.eta, inp.t, &s.net0.a);
        let spikes_t = || spike_columns(cfg.act_stats, &degrees, s.eta, inp.tt, &s.net0.a);
        match self {
            Model::Spiked => {
                let (sp, spt) = (spikes(), spikes_t());
                let (mut fs, mut fst) = (f0.clone(), f0t.clone());
                add_low_rank(b, &mut fs, &sp.0, &sp.1);
                add_low_rank(b, &mut fst, &spt.0, &spt.1);
                fit_features(b, &fs, &fst, lab, lambdas)
            }
            Model::Cget => {
                let (sp, spt) = (spikes(), spikes_t());
                let mut r = rng("cget");
                let act = cfg.act_stats;
                let fc = cget_features(b, inp.xr, &s.net0, act, (&sp.0, &sp.1), &mut r);
                let fct = cget_features(b, inp.xt, &s.net0, act, (&spt.0, &spt.1), &mut r);
                fit_features(b, &fc, &fct, lab, lambdas)
            }
            Model::Hermite => {
                let ell = hermite_degree(cfg.alpha, cfg.act_stats);
                let mut r = rng("hermite");
                let fh = hermite_features(b, inp.xr, &s.net, cfg.act_stats, ell, &mut r);
                let fht = hermite_features(b, inp.xt, &s.net, cfg.act_stats, ell, &mut r);
                fit_features(b, &fh, &fht, lab, lambdas)
            }
            Model::BestLinear => {
                // Affine least squares: slopes on X̃ (ridge BEST_LINEAR_RIDGE), unpenalised intercept.
                let ones = |k: usize| vec![vec![1.0; k]];
                let fit = ridge_unpenalised(b, inp.xr, &ones(cfg.n), lab.y, BEST_LINEAR_RIDGE)?;
                let train = mse(
                    &predict(b, inp.xr, &fit.coef, &ones(cfg.n), &fit.unpenalised),
                    lab.y,
                );
                let pt = predict(b, inp.xt, &fit.coef, &ones(cfg.n_test), &fit.unpenalised);
                let penalty = BEST_LINEAR_RIDGE * fit.coef.iter().map(|v| v * v).sum::<f64>();
                let e = Errors {
                    train,
                    train_penalised: train + penalty,
                    test: mse(&pt, lab.y_test),
                    test_clean: mse(&pt, lab.y_test_clean),
                };
                Ok(vec![e; lambdas.len()])
            }
            Model::InfSpike(l) => {
                let eig = rf_eig.expect("inf_spike models are fitted with RF's decomposition");
                let poly: Vec<Vec<f64>> = (1..=l).map(|k| powers(inp.t, k)).collect();
                let poly_t: Vec<Vec<f64>> = (1..=l).map(|k| powers(inp.tt, k)).collect();
                fit_path(b, eig, (f0, f0t), (&poly, &poly_t), lab, lambdas)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_and_noise() {
        let relu = FnStats::relu_centred(16);
        assert_eq!(equivalent_degrees(&relu), vec![1, 2, 4, 6, 8]);
        assert_eq!(hermite_degree(0.0, &relu), 2);
        assert_eq!(hermite_degree(0.2, &relu), 2);
        assert_eq!(hermite_degree(0.3, &relu), 2);
        assert_eq!(hermite_degree(0.39, &relu), 4);
        // c_{>2}² = 1/2 − 1/(2π) − 1/4 − 2·(1/(2√(2π)))² = 1/4 − 1/(2π) − 1/(4π)
        let want = (0.25 - 0.75 / std::f64::consts::PI).sqrt();
        assert!((hermite_noise_sd(&relu, 2) - want).abs() < 1e-12);
        assert!((hermite_noise_sd(&relu, 1).powi(2) - relu.nonlinear_energy()).abs() < 1e-12);
    }
}
