//! One module per figure; each exports `INFO` (its registry entry) and `run`. The registry is
//! [`crate::registry`].
pub mod alignment;
pub mod equivalence;
pub mod errors;
pub mod overlap;
pub mod spectrum;
pub mod spike_locations;
pub mod staircase;

// What every figure module uses, imported once here (`use super::*` in each module).
use crate::FigureError;
use crate::helpers::*;
use crate::points::*;
use crate::registry::{FigureInfo, Options};
use crate::table::*;
use onestep_linalg::Backend;
use onestep_pipeline::{SimConfig, ValidConfig};
use onestep_plot::Figure;
use std::collections::BTreeMap;
