//! Plans: a grid expanded into checked cells, each named by the hash of its canonical parameters,
//! written as `DIR/plan.json` with the grid file's content.
//!
//! A cell's id is 16 hex digits: the FNV-1a 64-bit hash, mixed by MurmurHash3's 64-bit finaliser
//! (so that neighbouring cells do not share prefixes), of `onestep-sweep-cell/1` and a newline
//! followed by the compact JSON of its checked configuration ([`ValidConfig`]: every parameter,
//! functions in canonical form, the λ path). It depends on nothing else (not the grid file, the
//! cell's place in it, the machine or the time), so the same parameters get the same id in any
//! plan, and a cell's result file (`cells/ID.json`) depends only on its parameters.
use super::grid::{Grid, Param};
use crate::files::write_atomic;
use anyhow::{Context, Result, bail};
use onestep_pipeline::{ConfigError, SimConfig, ValidConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The file name of a plan inside its sweep directory.
pub const PLAN_FILE: &str = "plan.json";
/// The `format` field of a plan this version reads and writes.
pub const FORMAT: &str = "onestep-sweep-plan/1";
/// What a cell id hashes before the configuration (bumped if a cell's result changes meaning).
const ID_DOMAIN: &str = "onestep-sweep-cell/1\n";

/// The raw parameters of a cell as `onestep simulate` takes them ([`SimConfig`], serialisable
/// both ways).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawConfig {
    pub d: usize,
    pub width: usize,
    pub n: usize,
    pub n_test: usize,
    pub alpha: f64,
    pub eta0: f64,
    pub lambda: f64,
    pub extra_lambdas: Vec<f64>,
    pub models: Vec<String>,
    pub activation: String,
    pub target: String,
    pub noise: f64,
    pub residual: String,
    pub init: String,
    pub trials: usize,
    pub seed: u64,
}

impl From<&SimConfig> for RawConfig {
    fn from(c: &SimConfig) -> Self {
        let SimConfig {
            d,
            width,
            n,
            n_test,
            alpha,
            eta0,
            lambda,
            extra_lambdas,
            models,
            activation,
            target,
            noise,
            residual,
            init,
            trials,
            seed,
        } = c.clone();
        RawConfig {
            d,
            width,
            n,
            n_test,
            alpha,
            eta0,
            lambda,
            extra_lambdas,
            models,
            activation,
            target,
            noise,
            residual,
            init,
            trials,
            seed,
        }
    }
}

impl From<&RawConfig> for SimConfig {
    fn from(c: &RawConfig) -> Self {
        let RawConfig {
            d,
            width,
            n,
            n_test,
            alpha,
            eta0,
            lambda,
            extra_lambdas,
            models,
            activation,
            target,
            noise,
            residual,
            init,
            trials,
            seed,
        } = c.clone();
        SimConfig {
            d,
            width,
            n,
            n_test,
            alpha,
            eta0,
            lambda,
            extra_lambdas,
            models,
            activation,
            target,
            noise,
            residual,
            init,
            trials,
            seed,
        }
    }
}

/// One cell of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanCell {
    /// Place in the plan, from 0 (the shard is `index mod N + 1`).
    pub index: usize,
    /// Hash of the canonical parameters ([`cell_id`]).
    pub id: String,
    /// The values of the varied keys in this cell.
    pub params: BTreeMap<String, Param>,
    /// Every raw parameter (what `run` checks and computes).
    pub raw: RawConfig,
    /// The checked configuration in canonical form (what the id hashes; `config` of the result).
    pub config: serde_json::Value,
}

impl PlanCell {
    /// `alpha = 0.2, seed = 1` in grid key order.
    pub fn describe(&self) -> String {
        let mut p: Vec<(&String, &Param)> = self.params.iter().collect();
        p.sort_by_key(|(k, _)| super::grid::KEYS.iter().position(|x| x == k));
        if p.is_empty() {
            return "the only cell".into();
        }
        p.iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The checked configuration, re-checked from the raw parameters against `memory_limit`
    /// bytes; fails if the parameters no longer give this cell's id (a plan made by a version of
    /// onestep that canonicalises differently).
    pub fn check(&self, memory_limit: f64) -> Result<ValidConfig> {
        let cfg = SimConfig::from(&self.raw).check(memory_limit)?;
        let id = cell_id(&cfg);
        if id != self.id {
            bail!(
                "cell {} ({}): its parameters now give id {id}, not {}; this onestep canonicalises them differently from the one that wrote plan.json: plan again",
                self.index,
                self.describe(),
                self.id
            );
        }
        Ok(cfg)
    }
}

/// A plan: the grid file and its cells in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT`].
    pub format: String,
    /// Version of onestep that wrote the plan.
    pub onestep_version: String,
    /// The grid file as named on the command line.
    pub grid_file: String,
    /// Its content.
    pub grid: String,
    /// The varied keys in cell order (first slowest).
    pub axes: Vec<String>,
    /// The cells in order.
    pub cells: Vec<PlanCell>,
}

/// FNV-1a, 64 bits, then MurmurHash3's `fmix64` (a bijection that spreads every input bit).
fn hash64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The id of a checked configuration: 16 hex digits of `hash64` over the domain line and the
/// configuration's compact JSON.
pub fn cell_id(cfg: &ValidConfig) -> String {
    // How the batches are held changes no number (streamed equals in memory): not a parameter.
    let params = ValidConfig {
        stream_rows: None,
        ..cfg.clone()
    };
    let json = serde_json::to_string(&params).expect("configuration serialises");
    format!("{:016x}", hash64(format!("{ID_DOMAIN}{json}").as_bytes()))
}

/// Expands and checks every cell of `grid`; `memory_limit` is the bytes one cell may use (the
/// compute nodes' memory). An invalid cell is an error naming the file, the line of the offending
/// key, the cell and its parameters.
pub fn make_plan(grid: &Grid, memory_limit: f64) -> Result<Plan> {
    let specs = grid.cells()?;
    let total = specs.len();
    let mut cells = Vec::with_capacity(total);
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (index, spec) in specs.into_iter().enumerate() {
        let cfg = spec.config.check(memory_limit).map_err(|e| {
            let at = match &e {
                ConfigError::Invalid { flag, .. } | ConfigError::Unparsable { flag, .. } => {
                    let key = flag.replace('-', "_");
                    grid.location(&key)
                        .map(|l| format!("{}:{}: key `{key}`", grid.file, l.line))
                }
                ConfigError::TooLarge { .. } | ConfigError::Theory(_) => None,
            }
            .unwrap_or_else(|| grid.file.clone());
            anyhow::anyhow!(
                "{at}: cell {} of {total} ({}): {e}",
                index + 1,
                spec.describe()
            )
        })?;
        let id = cell_id(&cfg);
        if let Some(first) = ids.insert(id.clone(), index) {
            bail!(
                "{}: cells {} and {} of {total} have the same parameters ({} and {}); every cell must differ",
                grid.file,
                first + 1,
                index + 1,
                describe_spec(&cells, first),
                spec.describe()
            );
        }
        cells.push(PlanCell {
            index,
            id,
            params: spec
                .params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            raw: RawConfig::from(&spec.config),
            config: serde_json::to_value(&cfg)?,
        });
    }
    Ok(Plan {
        format: FORMAT.into(),
        onestep_version: env!("CARGO_PKG_VERSION").into(),
        grid_file: grid.file.clone(),
        grid: grid.text.clone(),
        axes: grid.varied().iter().map(|k| k.to_string()).collect(),
        cells,
    })
}

fn describe_spec(cells: &[PlanCell], i: usize) -> String {
    cells.get(i).map_or_else(String::new, PlanCell::describe)
}

/// Writes `DIR/plan.json` atomically (creating DIR); the bytes depend only on the grid file's
/// name and content and the onestep version.
pub fn write_plan(dir: &Path, plan: &Plan) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(plan)?;
    text.push('\n');
    write_atomic(&dir.join(PLAN_FILE), text.as_bytes())
}

/// Reads `DIR/plan.json`.
pub fn read_plan(dir: &Path) -> Result<Plan> {
    let path = dir.join(PLAN_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {}; make it with `onestep sweep plan GRID.toml -o {}`",
            path.display(),
            dir.display()
        )
    })?;
    let plan: Plan =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if plan.format != FORMAT {
        bail!(
            "{}: format {:?}; this onestep reads {FORMAT:?}",
            path.display(),
            plan.format
        );
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::parse;

    const GRID: &str = "[base]\nd = 16\nwidth = 16\nn = 64\nn_test = 64\nmodels = \"none\"\n[grid]\nalpha = [0.0, 0.2]\nseed = [0, 1, 2]\n";

    #[test]
    fn ids_are_stable_and_depend_on_the_parameters_only() {
        let p = make_plan(&parse("a.toml", GRID).unwrap(), f64::INFINITY).unwrap();
        assert_eq!(p.cells.len(), 6);
        // The same parameters spelled differently, in another file, in another order.
        let other = "[grid]\nseed = [2, 1, 0]\n[base]\nn_test = 64\nmodels = \"nn, rf\"\nd = 16\nwidth = 16\nn = 64\nalpha = 0.2\n";
        let q = make_plan(&parse("b.toml", other).unwrap(), f64::INFINITY).unwrap();
        let mut a: Vec<&str> = p.cells[3..].iter().map(|c| c.id.as_str()).collect();
        let mut b: Vec<&str> = q.cells.iter().map(|c| c.id.as_str()).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert!(p.cells.iter().all(|c| c.id.len() == 16));
        assert_eq!(p.cells[0].params["alpha"], Param::Float(0.0));
        // Pinned: a change here renames the cells of every existing sweep.
        assert_eq!(p.cells[0].id, "6135e058cbef93da");
        let again = make_plan(&parse("a.toml", GRID).unwrap(), f64::INFINITY).unwrap();
        assert_eq!(p, again);
        for c in &p.cells {
            assert_eq!(c.check(f64::INFINITY).unwrap().seed, c.raw.seed);
        }
    }

    #[test]
    fn invalid_cells_name_the_line_the_key_and_the_cell() {
        let g = parse(
            "g.toml",
            "[base]\nd = 16\n[grid]\nalpha = [0.1, 0.7]\nseed = [0, 1]\n",
        )
        .unwrap();
        let e = make_plan(&g, f64::INFINITY).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "g.toml:4: key `alpha`: cell 3 of 4 (alpha = 0.7, seed = 0): --alpha: got 0.7"
            ),
            "{e}"
        );
        let g = parse("g.toml", "[base]\nn = 1\nactivation = \"nope\"\n").unwrap();
        let e = make_plan(&g, f64::INFINITY).unwrap_err().to_string();
        assert!(
            e.starts_with("g.toml:2: key `n`: cell 1 of 1 (the only cell): --n"),
            "{e}"
        );
        let g = parse("g.toml", "[grid]\nmodels = [\"none\", \"nn\"]\n").unwrap();
        let e = make_plan(&g, f64::INFINITY).unwrap_err().to_string();
        assert!(
            e.contains("cells 1 and 2 of 2 have the same parameters"),
            "{e}"
        );
        let g = parse("g.toml", "[base]\nd = 100000\nn = 100000\n").unwrap();
        let e = make_plan(&g, 1e9).unwrap_err().to_string();
        assert!(e.starts_with("g.toml: cell 1 of 1"), "{e}");
    }
}
