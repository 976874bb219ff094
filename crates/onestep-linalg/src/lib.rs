//! Dense linear algebra behind one small trait, so every numerical crate runs on faer, nalgebra or OpenBLAS.
//!
//! Only this crate names a linear-algebra library type. Everything else is generic over [`Backend`]
//! and moves data in and out through the plain row-major [`Dense`] type.
mod backend;
mod dense;
mod error;
pub mod backends;
pub mod conformance;

pub use backend::{Backend, BackendExt, Op, SymEigen};
pub use dense::Dense;
pub use error::LinalgError;

#[cfg(feature = "faer")]
pub use backends::faer::FaerBackend;
