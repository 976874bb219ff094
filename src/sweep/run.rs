//! Running a plan's cells: shards, the files of a cell, resuming, failures, and the status of a
//! sweep directory.
//!
//! Shards are 1-based and round-robin: with N shards, cell `i` (0-based plan order) belongs to
//! shard `i mod N + 1`, so every shard gets a similar mix of the grid's slow and fast cells.
//!
//! A cell's files, in `DIR/cells/`:
//!
//! | file | content |
//! |---|---|
//! | `ID.json` | the result, the JSON `onestep simulate --json` writes without `provenance` and `wall_time_s`: `config`, `seeds`, `summary` (with `theory`), `trials`; it depends only on the cell's parameters (and, to rounding, on the backend and thread count) |
//! | `ID.manifest.json` | how it was computed: version, git revision, backend, threads, host, pid, shard, Slurm job, start time, wall time, peak RSS |
//! | `ID.error.json` | a failure: the error, the cell's parameters and configuration, host, time |
//!
//! Every file is written atomically; the manifest before the result, so a cell is finished
//! exactly when `ID.json` exists, and a rerun skips it. A failed cell is retried by the next run;
//! its error file goes when it succeeds.
use super::plan::{Plan, PlanCell};
use crate::files::{host, peak_rss_bytes, remove_stale_temporaries, reset_peak_rss, write_atomic};
use crate::output::simulation_json;
use anyhow::{Context, Result, bail};
use onestep_linalg::Backend;
use onestep_pipeline::{ValidConfig, run_trial, theory_summary};
use serde_json::{Value, json};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Shard `k` of `n` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl Shard {
    /// The whole plan as one shard.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Checks 1 ≤ k ≤ n.
    pub fn new(k: usize, n: usize) -> Result<Shard> {
        if n == 0 || k == 0 || k > n {
            bail!("--shard: got {k}/{n}; allowed: K/N with 1 ≤ K ≤ N (shards are numbered from 1)");
        }
        Ok(Shard { k, n })
    }

    /// Whether the cell at `index` (0-based) is in this shard: `index mod n + 1 == k`.
    pub fn contains(&self, index: usize) -> bool {
        index % self.n + 1 == self.k
    }

    /// The shard (of `n`) holding the cell at `index`.
    pub fn of(index: usize, n: usize) -> usize {
        index % n + 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Shard> {
        let bad = || {
            anyhow::anyhow!("--shard: got {s:?}; allowed: K/N with 1 ≤ K ≤ N (e.g. 2/8), or slurm")
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n)
    }
}

/// The cell directory of a sweep directory.
pub fn cells_dir(dir: &Path) -> PathBuf {
    dir.join("cells")
}

/// `DIR/cells/ID.json`.
pub fn result_path(dir: &Path, id: &str) -> PathBuf {
    cells_dir(dir).join(format!("{id}.json"))
}

/// `DIR/cells/ID.manifest.json`.
pub fn manifest_path(dir: &Path, id: &str) -> PathBuf {
    cells_dir(dir).join(format!("{id}.manifest.json"))
}

/// `DIR/cells/ID.error.json`.
pub fn error_path(dir: &Path, id: &str) -> PathBuf {
    cells_dir(dir).join(format!("{id}.error.json"))
}

/// Where a cell stands.
#[derive(Clone, Debug, PartialEq)]
pub enum CellState {
    /// `ID.json` exists.
    Done,
    /// No result, and the last attempt failed with this error.
    Failed(String),
    /// Not computed yet.
    Missing,
}

/// The state of the cell `id` in `dir`.
pub fn cell_state(dir: &Path, id: &str) -> CellState {
    if result_path(dir, id).is_file() {
        return CellState::Done;
    }
    match std::fs::read_to_string(error_path(dir, id)) {
        Ok(s) => CellState::Failed(
            serde_json::from_str::<Value>(&s)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| "unreadable error file".into()),
        ),
        Err(_) => CellState::Missing,
    }
}

/// The result of one cell: what `onestep simulate --json` writes, without `provenance` and
/// `wall_time_s` (they are in the manifest).
pub fn cell_result<B: Backend>(b: &B, cfg: &ValidConfig) -> Result<Value> {
    let theory = theory_summary(cfg)?;
    let mut trials = cfg
        .trial_seeds()
        .enumerate()
        .map(|(t, seed)| {
            run_trial(b, cfg, seed, &mut |_| {}).with_context(|| format!("trial {t} (seed {seed})"))
        })
        .collect::<Result<Vec<_>>>()?;
    theory.finish_trials(cfg, &mut trials);
    let mut doc = simulation_json(Value::Null, cfg, &theory, &trials, 0.0)?;
    if let Some(o) = doc.as_object_mut() {
        o.remove("provenance");
        o.remove("wall_time_s");
    }
    Ok(doc)
}

/// How this run computes, recorded in every manifest.
#[derive(Clone, Debug)]
pub struct RunContext {
    pub shard: Shard,
    pub backend: String,
    pub threads: usize,
    pub git_revision: Option<String>,
    /// The bytes one cell may use.
    pub memory_limit: f64,
}

/// What happened to one cell of the shard.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already finished by an earlier run.
    Skipped,
    /// Computed now, in this many seconds.
    Computed(f64),
    /// Failed with this error.
    Failed(String),
}

/// Counts of one run of a shard.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub cells: usize,
    pub computed: usize,
    pub skipped: usize,
    /// (index, id, error) of every failed cell.
    pub failed: Vec<(usize, String, String)>,
    /// Stale temporaries removed at the start.
    pub removed_temporaries: usize,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn pretty(v: &Value) -> Result<Vec<u8>> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s.into_bytes())
}

fn slurm_job() -> Value {
    let var = |k: &str| std::env::var(k).ok();
    match var("SLURM_JOB_ID") {
        Some(job) => json!({
            "job_id": job,
            "array_job_id": var("SLURM_ARRAY_JOB_ID"),
            "array_task_id": var("SLURM_ARRAY_TASK_ID"),
            "node": var("SLURMD_NODENAME"),
        }),
        None => Value::Null,
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Runs the cells of `ctx.shard` that are not finished, in plan order, one at a time:
/// `compute` gives a cell's result ([`cell_result`] on a backend), `on_cell` hears of every cell
/// of the shard. A failing (or panicking) cell writes its error file and the others go on. Stale
/// temporaries in `DIR` and `DIR/cells` are removed first.
pub fn run_cells(
    dir: &Path,
    plan: &Plan,
    ctx: &RunContext,
    compute: &mut dyn FnMut(&ValidConfig) -> Result<Value>,
    on_cell: &mut dyn FnMut(&PlanCell, &Outcome),
) -> Result<RunReport> {
    let cells = cells_dir(dir);
    std::fs::create_dir_all(&cells).with_context(|| format!("creating {}", cells.display()))?;
    let mut report = RunReport {
        removed_temporaries: remove_stale_temporaries(dir)?.len()
            + remove_stale_temporaries(&cells)?.len(),
        ..RunReport::default()
    };
    let host = host();
    let slurm = slurm_job();
    for cell in plan.cells.iter().filter(|c| ctx.shard.contains(c.index)) {
        report.cells += 1;
        if result_path(dir, &cell.id).is_file() {
            report.skipped += 1;
            on_cell(cell, &Outcome::Skipped);
            continue;
        }
        let started = unix_now();
        let scope = if reset_peak_rss() { "cell" } else { "process" };
        let clock = Instant::now();
        let result = cell.check(ctx.memory_limit).and_then(|cfg| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compute(&cfg)))
                .unwrap_or_else(|p| bail!("panicked: {}", panic_message(p.as_ref())))
        });
        let wall = clock.elapsed().as_secs_f64();
        let outcome = match result {
            Ok(value) => {
                let manifest = json!({
                    "id": cell.id,
                    "index": cell.index,
                    "onestep_version": env!("CARGO_PKG_VERSION"),
                    "git_revision": ctx.git_revision,
                    "backend": ctx.backend,
                    "threads": ctx.threads,
                    "host": host,
                    "pid": std::process::id(),
                    "shard": ctx.shard.to_string(),
                    "slurm": slurm,
                    "started_unix_s": started,
                    "wall_time_s": wall,
                    "peak_rss_bytes": peak_rss_bytes(),
                    "peak_rss_scope": scope,
                });
                write_atomic(&manifest_path(dir, &cell.id), &pretty(&manifest)?)?;
                write_atomic(&result_path(dir, &cell.id), &pretty(&value)?)?;
                match std::fs::remove_file(error_path(dir, &cell.id)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e).context("removing an old error file");
                    }
                    _ => {}
                }
                report.computed += 1;
                Outcome::Computed(wall)
            }
            Err(e) => {
                let error = format!("{e:#}");
                let record = json!({
                    "id": cell.id,
                    "index": cell.index,
                    "error": error,
                    "params": cell.params,
                    "raw": cell.raw,
                    "config": cell.config,
                    "onestep_version": env!("CARGO_PKG_VERSION"),
                    "git_revision": ctx.git_revision,
                    "backend": ctx.backend,
                    "threads": ctx.threads,
                    "host": host,
                    "shard": ctx.shard.to_string(),
                    "slurm": slurm,
                    "started_unix_s": started,
                    "wall_time_s": wall,
                });
                write_atomic(&error_path(dir, &cell.id), &pretty(&record)?)?;
                report
                    .failed
                    .push((cell.index, cell.id.clone(), error.clone()));
                Outcome::Failed(error)
            }
        };
        on_cell(cell, &outcome);
    }
    Ok(report)
}

/// Where a sweep directory stands.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub total: usize,
    pub done: usize,
    pub missing: usize,
    /// (index, id, error) of the failed cells.
    pub failed: Vec<(usize, String, String)>,
    /// With N shards: the shards holding a cell that is not done.
    pub shards_to_resubmit: Vec<usize>,
}

/// Counts the cells of `plan` in `dir`; with `shards`, which shards still have work.
pub fn status(dir: &Path, plan: &Plan, shards: Option<usize>) -> Status {
    let mut s = Status {
        total: plan.cells.len(),
        ..Status::default()
    };
    for c in &plan.cells {
        let state = cell_state(dir, &c.id);
        match &state {
            CellState::Done => s.done += 1,
            CellState::Missing => s.missing += 1,
            CellState::Failed(e) => s.failed.push((c.index, c.id.clone(), e.clone())),
        }
        if let Some(n) = shards
            && state != CellState::Done
        {
            let k = Shard::of(c.index, n);
            if !s.shards_to_resubmit.contains(&k) {
                s.shards_to_resubmit.push(k);
            }
        }
    }
    s.shards_to_resubmit.sort_unstable();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_round_robin_and_one_based() {
        let s: Shard = "2/3".parse().unwrap();
        let mine: Vec<usize> = (0..8).filter(|&i| s.contains(i)).collect();
        assert_eq!(mine, vec![1, 4, 7]);
        assert_eq!(Shard::of(7, 3), 2);
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/2", "1-2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Every cell in exactly one shard.
        for n in 1..6 {
            for i in 0..20 {
                let owners = (1..=n)
                    .filter(|&k| Shard::new(k, n).unwrap().contains(i))
                    .count();
                assert_eq!(owners, 1);
            }
        }
    }
}
