//! The figures of `onestep` (docs/figures.md): one module per figure under [`figures`], each a
//! pure function from [`Options`] (quick or full size, seeds) and a backend to [`FigureData`]
//! (CSV tables that carry the theory values beside the simulated ones, a picture, manifest
//! fields). A figure is a sweep over [`Point`]s, evaluated through a [`PointCache`]
//! ([`points`]). Nothing here does IO: the binary writes the outputs, implements the cache on
//! disk and draws progress.
pub mod columns;
pub mod figures;
pub mod helpers;
pub mod options;
pub mod points;
pub mod registry;
pub mod table;

pub use options::{ConfigFile, FigureInfo, GridError, MAX_SEEDS, Options, OptionsError};
pub use points::{Ctx, NoCache, Point, PointCache, PointKind, PointResult, ProgressEvent};
pub use registry::{FIGURES, info, lookup, run};
pub use table::{Cell, FigureData, Manifest, Table};

use onestep_pipeline::ConfigError;

/// Failure of a figure.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("unknown figure `{0}`; run `onestep figure list` for the ids")]
    Unknown(String),
    #[error("configuration of a point of figure `{figure}`: {source}")]
    Config {
        figure: &'static str,
        source: ConfigError,
    },
    #[error("point {label} of figure `{figure}`: {message}")]
    Point {
        figure: &'static str,
        label: String,
        message: String,
    },
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error("theory for figure `{figure}`: {source}")]
    Theory {
        figure: &'static str,
        source: onestep_theory::TheoryError,
    },
}
