//! `onestep`: non-linear feature learning after one gradient step, simulation and theory side by side.
//!
//! This facade re-exports the workspace crates and holds the small IO helpers the binary uses
//! (atomic writes, run manifests, summaries over trials). No numerics live here.
pub use onestep_data as data;
pub use onestep_experiments as experiments;
pub use onestep_linalg as linalg;
pub use onestep_metrics as metrics;
pub use onestep_net as net;
pub use onestep_pipeline as pipeline;
pub use onestep_plot as plot;
pub use onestep_solvers as solvers;
pub use onestep_theory as theory;

pub mod figure_files;
pub mod files;
pub mod npy;
pub mod output;
pub mod sweep;

// The BLAS/LAPACK provider of the `openblas` backend: only the facade links one.
#[cfg(feature = "openblas")]
extern crate blas_src;
