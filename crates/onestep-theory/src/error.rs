//! The error type of the theory crate: invalid inputs and numerical failures, each with a
//! message that says what is allowed or what to try.

/// A number as `{}` prints it when that is short, in exponent form otherwise (1e-300 rather
/// than 300 digits).
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e6).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Everything that can go wrong when evaluating a theory prediction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TheoryError {
    /// A scalar parameter is outside its allowed range.
    #[error("invalid parameter {name} = {}: {allowed}", short(*value))]
    InvalidParameter {
        /// Parameter name as it appears in [`crate::Setting`] (or the function signature).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What is allowed and what to do instead.
        allowed: &'static str,
    },
    /// A Hermite description ([`crate::FnStats`]) is inconsistent.
    #[error("invalid Hermite description of the {which}: {reason}")]
    InvalidFnStats {
        /// `"activation"` or `"target"`.
        which: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A prediction needs more Hermite coefficients than were given.
    #[error(
        "the {which} needs Hermite coefficients up to degree {needed}, but only degrees 0..={available} were given; pass more coefficients (or a smaller ℓ / max degree)"
    )]
    TooFewCoefficients {
        /// `"activation"` or `"target"`.
        which: &'static str,
        /// Highest degree needed.
        needed: usize,
        /// Highest degree available.
        available: usize,
    },
    /// An empirical spectrum was empty or had negative / non-finite eigenvalues.
    #[error("invalid empirical spectrum: {reason}")]
    InvalidSpectrum {
        /// What is wrong.
        reason: String,
    },
    /// The scalar fixed point for the resolvent trace m did not converge.
    #[error(
        "fixed point for the resolvent trace m did not converge after {iterations} iterations (λ = {}, last m = {}, last relative change {change:.0e}); check that the spectrum and λ are finite and not extreme", short(*lambda), short(*last)
    )]
    NoConvergence {
        /// Iterations spent.
        iterations: usize,
        /// Ridge penalty used.
        lambda: f64,
        /// Last iterate.
        last: f64,
        /// Last relative change.
        change: f64,
    },
    /// A small dense system that should be positive definite was singular.
    #[error(
        "singular {what} system (relative pivot {pivot:.1e}); {}", if what.contains("network") {
            "the step's spike outweighs the bulk by more than float64 resolves at these inputs"
        } else {
            "the unpenalised / spike columns are linearly dependent in the limit"
        }
    )]
    Singular {
        /// Which system.
        what: &'static str,
        /// Smallest pivot met.
        pivot: f64,
    },
}
