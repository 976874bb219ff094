//! The `onestep` pipeline: a configuration checked once ([`config`]), the Hermite statistics the
//! theory needs ([`stats`]), the equivalent models ([`models`]), one trial end to end ([`trial`]),
//! and the one bridge from a checked configuration to the theory's inputs ([`theory`]).
//! No file IO, no plotting, no figures.
pub mod config;
mod fit;
pub mod models;
pub mod stats;
pub mod theory;
pub mod trial;

pub use config::{ConfigError, Memory, SimConfig, ValidConfig};
pub use models::Model;
pub use theory::theory_summary;
pub use trial::{Trial, TrialData, run_trial, trial_data};
