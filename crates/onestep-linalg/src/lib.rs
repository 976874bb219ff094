//! Dense linear algebra behind one small trait, so every numerical crate runs on faer, nalgebra or OpenBLAS.
//!
//! Only this crate names a linear-algebra library type. Everything else is generic over [`Backend`]
//! and moves data in and out through the plain row-major [`Dense`] type.
mod backend;
pub mod backends;
pub mod conformance;
mod dense;
mod error;
pub mod krylov;

pub use backend::{Backend, BackendExt, Op, SymEigen, leading_eigenpairs, sym_top_by_lanczos};
pub use dense::Dense;
pub use error::LinalgError;
pub use krylov::{KrylovParams, SvdTop, SymTop};

// The backend registry (`BackendKind`, `Dispatch`, `BackendError`) and every compiled-in backend
// type (`FaerBackend`, …); the macros `on_backend!` and `for_each_backend!` go with it.
pub use backends::*;

// This crate's unit tests link the BLAS provider themselves (the binary does otherwise).
#[cfg(all(test, feature = "openblas"))]
extern crate blas_src;
