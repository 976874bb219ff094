//! `DataError`: what can go wrong when turning user input into activations, targets and designs.

use thiserror::Error;

/// The names [`crate::Func`] accepts, in the order error messages list them.
pub const ALLOWED_FUNCTIONS: &str = "relu, relu-centered (alias relu-centred), tanh, erf, sigmoid, softplus, gelu, linear, \
     or hermite:c0,c1,c2,... (coefficients of He_0, He_1, ...)";

/// Errors from parsing activations and targets and from building data models.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DataError {
    /// The function name is not one we know.
    #[error("unknown function `{name}`; {}allowed: {ALLOWED_FUNCTIONS}", crate::suggest::did_you_mean(name, crate::Named::ALL.iter().map(|n| n.name())))]
    UnknownFunction { name: String },

    /// `hermite:` with nothing after it.
    #[error(
        "`hermite:` needs at least one coefficient; write e.g. `hermite:0,1,0.7071067811865476` for He_1 + He_2/√2"
    )]
    EmptyHermite,

    /// A coefficient in a `hermite:` list is not a number.
    #[error(
        "hermite coefficient #{position} is `{token}`, which is not a number; write `hermite:c0,c1,...` with decimal numbers separated by commas, e.g. `hermite:0,1,0.5`"
    )]
    BadHermiteToken { position: usize, token: String },

    /// A coefficient in a `hermite:` list is NaN or infinite.
    #[error(
        "hermite coefficient #{position} is `{token}`, which is not finite; every coefficient in `hermite:c0,c1,...` must be a finite number"
    )]
    NonFiniteHermite { position: usize, token: String },

    /// Every coefficient of a `hermite:` list is zero.
    #[error(
        "`{spec}` is identically zero; give at least one non-zero coefficient in `hermite:c0,c1,...`"
    )]
    ZeroHermite { spec: String },

    /// The label-noise level is negative or not finite.
    #[error(
        "label noise σ_ε must be a finite number ≥ 0 (got {noise}); pass a non-negative noise level"
    )]
    InvalidNoise { noise: f64 },

    /// The target direction β* is unusable.
    #[error(
        "target direction β* {reason}; pass a non-empty vector of finite numbers with non-zero norm"
    )]
    InvalidDirection { reason: String },
}
