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

/// Most seeds per point (`--seeds`); figures' own defaults are far below it.
pub const MAX_SEEDS: usize = 1000;

/// A value of [`Options`] that is not allowed, named by its command-line flag.
#[derive(Debug, thiserror::Error)]
#[error("--{flag}: got {value}; allowed: {allowed}")]
pub struct OptionsError {
    pub flag: &'static str,
    pub value: String,
    pub allowed: String,
}

impl Options {
    /// Checks `seeds` (1..=[`MAX_SEEDS`]) and `base_seed` (every repetition's seed
    /// `base_seed + r` must fit in a u64: seeds never wrap).
    pub fn check(&self) -> Result<(), OptionsError> {
        if let Some(k) = self.seeds
            && !(1..=MAX_SEEDS).contains(&k)
        {
            return Err(OptionsError {
                flag: "seeds",
                value: k.to_string(),
                allowed: format!("an integer in 1..={MAX_SEEDS} (seeds per point)"),
            });
        }
        if self.base_seed > u64::MAX - MAX_SEEDS as u64 {
            return Err(OptionsError {
                flag: "seed",
                value: self.base_seed.to_string(),
                allowed: format!(
                    "an integer ≤ 2^64 − 1 − {MAX_SEEDS} (repetition r uses seed + r, which must not wrap)"
                ),
            });
        }
        Ok(())
    }

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
        // `check` keeps base_seed + r in range; saturate rather than wrap if it was not called.
        (0..k as u64)
            .map(|r| self.base_seed.saturating_add(r))
            .collect()
    }
}
