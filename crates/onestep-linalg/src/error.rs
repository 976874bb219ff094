//! Numerical failures of backend operations (shape mismatches are programmer errors and panic instead).
use thiserror::Error;

/// A numerical operation that could not complete.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LinalgError {
    /// Cholesky found a non-positive pivot: the matrix is not (numerically) positive definite.
    #[error(
        "{what}: matrix of size {size} is not positive definite; increase the ridge penalty (--lambda) or check the inputs for NaN"
    )]
    NotPositiveDefinite { what: &'static str, size: usize },
    /// An iterative eigensolver did not converge.
    #[error(
        "{what}: eigensolver did not converge on a matrix of size {size}; check the inputs for NaN or infinite values"
    )]
    NoConvergence { what: &'static str, size: usize },
    /// The input holds NaN or infinite values.
    #[error("{what}: input contains NaN or infinite values")]
    NonFinite { what: &'static str },
}
