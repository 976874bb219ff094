//! The figure registry: the one list of figures ([`FIGURES`], from each module's `INFO`),
//! dispatch by id ([`run`]), and the options every figure takes ([`Options`]).
//!
//! Adding a figure: write its module under `figures/` (with `INFO` and `run`) and add one line
//! to the `registry!` invocation below.
use crate::FigureError;
use crate::figures;
use crate::points::Ctx;
use crate::table::FigureData;
use onestep_linalg::Backend;
use serde::Serialize;

/// One entry of the figure registry.
#[derive(Clone, Copy, Debug)]
pub struct FigureInfo {
    /// Identifier used on the command line and in file names.
    pub id: &'static str,
    /// Which figure of the paper (Moniri et al. 2024) it corresponds to.
    pub paper: &'static str,
    /// What it shows.
    pub description: &'static str,
}

macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        /// Every figure, in the order `cargo xtask reproduce` draws them.
        pub const FIGURES: &[FigureInfo] = &[$(figures::$module::INFO),*];

        fn dispatch<B: Backend>(
            id: &str,
            b: &B,
            opts: &Options,
            ctx: &mut Ctx<'_>,
        ) -> Result<FigureData, FigureError> {
            $(if id == figures::$module::INFO.id {
                return figures::$module::run(b, opts, ctx);
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

/// Looks a figure up by id.
pub fn info(id: &str) -> Option<&'static FigureInfo> {
    FIGURES.iter().find(|f| f.id == id)
}

/// How a figure is run.
///
/// | field | meaning |
/// |---|---|
/// | `quick` | small sizes (seconds per figure) instead of the full ones (minutes) |
/// | `seeds` | seeds per point, overriding the figure's default |
/// | `base_seed` | seed of the first repetition; repetition r uses `base_seed + r` |
/// | `memory_limit` | bytes one trial may use (see [`onestep_pipeline::SimConfig::check`]) |
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    pub quick: bool,
    pub seeds: Option<usize>,
    pub base_seed: u64,
    pub memory_limit: f64,
}

impl Options {
    /// Quick or full options with the figures' default seeds and no memory limit.
    pub fn new(quick: bool) -> Self {
        Self {
            quick,
            seeds: None,
            base_seed: 0,
            memory_limit: f64::INFINITY,
        }
    }

    /// Seeds for a sweep whose default is `full` (full size) or `quick` (quick size).
    pub fn seed_list(&self, full: usize, quick: usize) -> Vec<u64> {
        let k = self
            .seeds
            .unwrap_or(if self.quick { quick } else { full })
            .max(1);
        (0..k as u64)
            .map(|r| self.base_seed.wrapping_add(r))
            .collect()
    }
}

/// Runs figure `id`.
pub fn run<B: Backend>(
    id: &str,
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let mut data = dispatch(id, b, opts, ctx)?;
    let fi = info(id).expect("registered");
    data.manifest.id = fi.id.into();
    data.manifest.paper = fi.paper.into();
    data.manifest.description = fi.description.into();
    data.manifest.quick = opts.quick;
    data.manifest.points_computed = ctx.computed;
    data.manifest.points_cached = ctx.cached;
    data.manifest.compute_seconds = ctx.compute_seconds;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpers::threshold_label;

    #[test]
    fn registry_is_complete() {
        for f in FIGURES {
            assert_eq!(info(f.id).map(|i| i.id), Some(f.id));
        }
        let mut ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FIGURES.len(), "figure ids are unique");
        assert!(info("no-such-figure").is_none());
        assert_eq!(threshold_label(4), "k=4: 3/8");
        assert_eq!(threshold_label(2), "k=2: 1/4");
    }
}
