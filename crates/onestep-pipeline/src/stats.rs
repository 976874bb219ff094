//! The one bridge from a function ([`Func`]) to the theory's inputs: Hermite coefficients and
//! second moments ([`FnStats`]) and coefficients at larger input scales ([`ScaledCoeffs`]).
use onestep_data::{Func, gauss_expect};
use onestep_theory::{FnStats, GaussSmoothing, ScaledCoeffs};

/// Highest Hermite degree used for theory inputs.
pub const HERMITE_KMAX: usize = 16;

/// σ's Hermite coefficients at input scale s, for the theory's smoothed spike functions.
pub fn scaled_coeffs(f: &Func) -> ScaledCoeffs {
    let f = f.clone();
    ScaledCoeffs(std::sync::Arc::new(move |s| {
        f.scaled_hermite_coeffs(s, onestep_theory::spiked::SPIKED_MAX_DEGREE)
    }))
}

/// Hermite statistics of a function for the theory crate (E f′² by quadrature split at the kinks).
pub fn fn_stats(f: &Func) -> FnStats {
    FnStats {
        coeffs: f.hermite_coeffs(HERMITE_KMAX),
        second_moment: f.second_moment(),
        deriv_second_moment: Some(gauss_expect(|z| f.deriv(z).powi(2), f.kinks())),
    }
}

/// σ's Gaussian smoothings (t, s) ↦ (E σ(t+sg), E σ(t+sg)g, E σ(t+sg)²) for the finite-n network
/// theory, by quadrature split at σ's kinks.
pub fn gauss_smoothing(f: &Func) -> GaussSmoothing {
    let g = f.clone();
    GaussSmoothing::from_fn(std::sync::Arc::new(move |z| g.eval(z)), f.kinks().to_vec())
}
