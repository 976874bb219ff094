//! Ridge regression and spectra of feature matrices, generic over a [`onestep_linalg::Backend`].
//!
//! Ridge convention (docs/model.md §5): â = argmin_a (1/n)‖y − Fa‖² + λ‖a‖²
//! = (FᵀF + nλI)⁻¹Fᵀy = Fᵀ(FFᵀ + nλI)⁻¹y, so λ is NOT pre-multiplied by n by the caller.
//! [`GramEigen`] decomposes the smaller Gram matrix once and serves the singular values, the
//! leading left singular vectors and ridge fits at any number of penalties.
pub mod ridge;
pub mod spectrum;

pub use ridge::{Form, GramEigen, Ridge, ridge, ridge_unpenalised};
pub use spectrum::{SpectrumMethod, TopK, top_singular, top_singular_with};

use onestep_linalg::LinalgError;
use thiserror::Error;

/// Why a solver could not produce a result.
#[derive(Debug, Error)]
pub enum SolverError {
    /// λ must be positive and finite.
    #[error("ridge penalty must be > 0 and finite (got {0}); pass --lambda with a positive value")]
    BadLambda(f64),
    /// A factorisation failed.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    /// The unpenalised columns are linearly dependent after the ridge projection.
    #[error("the {0} unpenalised columns are linearly dependent; use fewer polynomial degrees")]
    DependentColumns(usize),
}
