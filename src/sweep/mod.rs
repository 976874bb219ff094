//! Parameter sweeps (`onestep sweep`): a TOML grid of simulate parameters expanded into a plan of
//! cells, cells run in shards that resume where they stopped, and one merged table.
//!
//! A sweep directory holds:
//!
//! | path | content |
//! |---|---|
//! | `plan.json` | the grid file's content and every cell: index, id, varied parameters, raw and checked configuration ([`plan`]) |
//! | `cells/ID.json`, `cells/ID.manifest.json`, `cells/ID.error.json` | a cell's result, how it was computed, or why it failed ([`run`]) |
//! | `logs/` | Slurm task logs (made by `onestep sweep slurm-script`) |
//!
//! [`grid`] parses grid files, [`plan`] expands and checks them, [`run`] runs shards of cells,
//! [`mod@merge`] writes the merged CSV or JSON lines, [`slurm`] reads Slurm array variables and
//! writes sbatch scripts; the atomic writes and the clean-up of stale temporaries are in [`crate::files`].
//! The commands and a cluster walk-through are in docs/cluster.md.
pub mod grid;
pub mod merge;
pub mod plan;
pub mod run;
pub mod slurm;

pub use grid::{Grid, parse as parse_grid};
pub use merge::{Format, merge};
pub use plan::{Plan, make_plan, read_plan, write_plan};
pub use run::{RunContext, Shard, cell_result, run_cells, status};
