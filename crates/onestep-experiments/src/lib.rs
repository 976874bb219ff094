//! The `onestep` pipeline and figures: one trial end to end ([`simulate`]), one module per figure,
//! each a pure function from config to table; plotting in [`plot`]. No file IO here.
pub mod config;
pub mod figures;
pub mod models;
pub mod plot;
pub mod simulate;

pub use config::{ConfigError, SimConfig, ValidConfig};
pub use simulate::{Trial, run_trial, theory_summary};
