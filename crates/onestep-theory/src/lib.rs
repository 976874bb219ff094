//! Theory for `onestep`: spike thresholds, β-overlap and spike-strength predictions, and
//! deterministic equivalents of the ridge errors (random-features baseline, infinite-spike
//! staircase, finite-α spiked equivalent), all in scalar maths (docs/model.md §4–§6.1).
//!
//! Functions are described by their Hermite coefficients ([`FnStats`]); the caller computes
//! them (exactly for kinked activations, see docs/model.md §3). This crate depends on no
//! linear-algebra library: the only matrices are tiny k×k systems solved by hand
//! ([`small`]). The derivations, their sources and how they are validated are in
//! `docs/theory.md`.

pub mod equivalents;
pub mod error;
pub mod hermite;
pub mod locations;
pub mod mp;
pub mod network;
pub mod small;
pub mod spiked;
pub mod spikes;

pub use equivalents::{
    Errors, Setting, check, errors, errors_for_degrees, errors_with_spectrum, staircase,
};
pub use error::TheoryError;
pub use hermite::FnStats;
pub use locations::{
    ScaledCoeffs, SpikeInputs, SpikePrediction, SpikeReport, gs_power, predict_spikes,
};
pub use mp::Spectrum;
pub use network::{
    GaussSmoothing, NetworkInputs, NetworkOutlier, NetworkReport, NetworkSpikes, network_bulk_edge,
    network_errors, network_outliers, network_report,
};
pub use spiked::spiked_errors;
pub use spikes::{Overlap, overlap, spike_count, spike_degrees, spike_strength, threshold};
