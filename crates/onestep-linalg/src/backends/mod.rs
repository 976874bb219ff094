//! Backend implementations, one module per library, each behind its cargo feature.
#[cfg(feature = "faer")]
pub mod faer;
#[cfg(feature = "nalgebra")]
pub mod nalgebra;
#[cfg(feature = "openblas")]
pub mod openblas;
