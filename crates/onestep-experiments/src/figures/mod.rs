//! One module per figure; each exports `INFO` (its registry entry) and `run`. The `registry!`
//! list at the end of this file declares them and is the one list of figures (used by
//! [`crate::registry`] for lookup and dispatch).

// What every figure module uses, imported once here (`use super::*` in each module).
use crate::FigureError;
use crate::helpers::*;
use crate::options::{FigureInfo, Options, Section, nonempty, seeds_ok};
use crate::points::*;
use crate::table::*;
use onestep_linalg::Backend;
use onestep_pipeline::{SimConfig, ValidConfig};
use onestep_plot::Figure;
use std::collections::BTreeMap;

/// Declares each figure module and builds the one list of figures and the dispatch by id.
macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every figure, in the order `cargo xtask reproduce` draws them.
        pub const FIGURES: &[FigureInfo] = &[$($module::INFO),*];

        /// Runs the figure whose id is `id`.
        pub(crate) fn dispatch<B: Backend>(
            id: &str,
            b: &B,
            opts: &Options,
            ctx: &mut Ctx<'_>,
        ) -> Result<FigureData, FigureError> {
            $(if id == $module::INFO.id {
                return $module::run(b, opts, ctx);
            })*
            Err(FigureError::Unknown(id.to_string()))
        }
    };
}

registry!(
    spectrum,
    spike_locations,
    alignment,
    overlap,
    errors,
    staircase,
    equivalence,
);
