//! What describes a figure ([`FigureInfo`]), how one is run ([`Options`]) and its grid file
//! ([`ConfigFile`], read by [`Options::grid`]); no dependencies inside the crate, so every other
//! module can use them.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One entry of the figure registry.
#[derive(Clone, Copy, Debug)]
pub struct FigureInfo {
    /// Identifier used on the command line and in file names.
    pub id: &'static str,
    /// Which figure of the paper (Moniri et al. 2024) it corresponds to.
    pub paper: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// Its built-in grid file, `configs/ID.toml` (sizes, axes, seeds; [`Options::grid`]).
    pub config: &'static str,
}

/// How a figure is run.
///
/// | field | meaning |
/// |---|---|
/// | `quick` | small sizes (seconds per figure) instead of the full ones (minutes) |
/// | `seeds` | seeds per point, overriding the figure's default |
/// | `base_seed` | seed of the first repetition; repetition r uses `base_seed + r` |
/// | `memory_limit` | bytes one trial may use (see [`onestep_pipeline::SimConfig::check`]) |
/// | `config` | a grid file replacing the figure's built-in `configs/ID.toml` |
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    pub quick: bool,
    pub seeds: Option<usize>,
    pub base_seed: u64,
    pub memory_limit: f64,
    pub config: Option<ConfigFile>,
}

/// A grid file given by the user: its path (for messages and the manifest) and its text.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigFile {
    pub path: String,
    #[serde(skip)]
    pub text: String,
}

/// Which grid file a figure read: its path (or `configs/ID.toml (built in)`), the section used
/// (`full` or `quick`), the report's tolerances and the file's text; recorded in the manifest.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GridUsed {
    pub file: String,
    pub section: String,
    pub tolerances: Tolerances,
    pub text: String,
}

/// A grid file that is not valid TOML or not this figure's: one line with the file, the line
/// and what to change.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GridError(pub String);

/// One section (`[full]` or `[quick]`) of a figure's grid file; `check` refuses values that
/// deserialize but cannot be run (empty axes, zero seeds).
pub trait Section: DeserializeOwned {
    /// `Err(key and what is allowed)` for a value that cannot be run.
    fn check(&self) -> Result<(), String>;
}

/// A grid file: both sections, each checked, the report's tolerances, unknown sections refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile<T> {
    full: T,
    quick: T,
    #[serde(default)]
    tolerances: Tolerances,
}

/// The `[tolerances]` table: for a column pair the reproduction report compares, keyed
/// `"CSV:simulation column"`, the largest median relative gap |simulation − theory| / |theory|
/// it accepts at each size.
pub type Tolerances = std::collections::BTreeMap<String, Tolerance>;

/// One entry of [`Tolerances`].
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    pub quick: f64,
    pub full: f64,
}

/// Only the tolerances of a grid file (the sections are read by [`Options::grid`]).
#[derive(Deserialize)]
struct TolerancesOnly {
    #[serde(default)]
    tolerances: Tolerances,
}

/// `Err` naming `key` when `v` is empty.
pub fn nonempty<T>(key: &str, v: &[T]) -> Result<(), String> {
    if v.is_empty() {
        Err(format!("`{key}` is empty; give at least one value"))
    } else {
        Ok(())
    }
}

/// `Err` naming `key` unless `seeds` is in 1..=[`MAX_SEEDS`].
pub fn seeds_ok(key: &str, seeds: usize) -> Result<(), String> {
    if (1..=MAX_SEEDS).contains(&seeds) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` = {seeds}; allowed: an integer in 1..={MAX_SEEDS}"
        ))
    }
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

    /// Quick or full options with the figures' built-in grids and seeds and no memory limit.
    pub fn new(quick: bool) -> Self {
        Self {
            quick,
            seeds: None,
            base_seed: 0,
            memory_limit: f64::INFINITY,
            config: None,
        }
    }

    /// The section of `info`'s grid file that this run uses (`[quick]` with `quick`, `[full]`
    /// otherwise), from [`Options::config`] or the built-in file. Both sections are checked, so a
    /// mistake in the one not used is found too.
    pub fn grid<T: Section>(&self, info: &FigureInfo) -> Result<T, GridError> {
        let (path, text) = self.grid_source(info);
        let (path, text) = (path.as_str(), text.as_str());
        let file: GridFile<T> = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(String::new(), |s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let shown = text.lines().nth(line - 1).unwrap_or("").trim();
                format!(":{line} (`{shown}`)")
            });
            GridError(format!(
                "{path}{at}: {}; the keys of figure `{}` are in configs/{}.toml and docs/figures.md",
                e.message().trim_end(),
                info.id,
                info.id
            ))
        })?;
        for (key, t) in &file.tolerances {
            if !key.contains(".csv:") || [t.quick, t.full].iter().any(|v| v.is_nan() || *v <= 0.0) {
                return Err(GridError(format!(
                    "{path}: [tolerances]: `{key}` = {{ quick = {}, full = {} }}; keys are \"CSV:simulation column\" and tolerances are > 0",
                    t.quick, t.full
                )));
            }
        }
        for (name, section) in [("full", &file.full), ("quick", &file.quick)] {
            section
                .check()
                .map_err(|m| GridError(format!("{path}: [{name}]: {m}")))?;
        }
        Ok(if self.quick { file.quick } else { file.full })
    }

    /// The path (or `configs/ID.toml (built in)`) and text of the grid file `info` reads in
    /// this run: `--config`'s, or the built-in one.
    fn grid_source(&self, info: &FigureInfo) -> (String, String) {
        match &self.config {
            Some(c) => (c.path.clone(), c.text.clone()),
            None => (
                format!("configs/{}.toml (built in)", info.id),
                info.config.to_string(),
            ),
        }
    }

    /// The grid file `info` reads in this run, for the manifest.
    pub fn grid_used(&self, info: &FigureInfo) -> GridUsed {
        let (file, text) = self.grid_source(info);
        // `grid` has checked the file before a figure gets this far.
        let tolerances = toml::from_str::<TolerancesOnly>(&text)
            .map(|t| t.tolerances)
            .unwrap_or_default();
        GridUsed {
            file,
            section: if self.quick { "quick" } else { "full" }.into(),
            tolerances,
            text,
        }
    }

    /// Seeds for a sweep whose grid file asks for `default` per point (`--seeds` overrides).
    pub fn seed_list(&self, default: usize) -> Vec<u64> {
        let k = self.seeds.unwrap_or(default).max(1);
        // `check` keeps base_seed + r in range; saturate rather than wrap if it was not called.
        (0..k as u64)
            .map(|r| self.base_seed.saturating_add(r))
            .collect()
    }
}
