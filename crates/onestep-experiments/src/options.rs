//! What describes a figure ([`FigureInfo`]) and how one is run ([`Options`]); no dependencies
//! inside the crate, so every other module can use them.
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
