//! Inputs for `onestep`: Gaussian designs, single-index targets, activations and their Hermite coefficients.
//!
//! Conventions follow `docs/model.md` §2–§3: inputs x ~ N(0, I_d), target y = σ*(⟨x, β*⟩) + σ_ε ε,
//! probabilists' Hermite polynomials He_k with E[He_j(ξ) He_k(ξ)] = k! δ_jk, and coefficients
//! c_k = E[σ(ξ) He_k(ξ)] / k! so that σ = Σ_k c_k He_k.
//!
//! Randomness: every random function takes `&mut impl Rng` and draws a fixed number of words from it;
//! the bulk numbers come from per-block ChaCha8 streams, so one seed gives the same bits for any
//! rayon thread count.

pub mod design;
pub mod error;
pub mod function;
pub mod hermite;
pub mod suggest;

pub use design::{
    Sample, SampleStream, SingleIndex, child_seed, gaussian_entries, gaussian_matrix,
    gaussian_rows, gaussian_vector, sphere_rows, unit_vector,
};
pub use error::DataError;
pub use function::{Func, Named};
pub use hermite::{double_factorial, factorial, gauss_expect, gauss_hermite, he, he_all};
pub use onestep_linalg::Dense;
