//! `onestep sweep`: `plan` a TOML grid into cells, `run` shards of them (resumable; for Slurm
//! arrays and GNU parallel), `status`, `merge` into one CSV or JSON-lines table, and
//! `slurm-script` for an sbatch array (docs/cluster.md).
use super::backend;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use onestep::files::{check_writable, memory_limit};
use onestep::linalg::{Backend, on_backend};
use onestep::sweep::plan::PLAN_FILE;
use onestep::sweep::run::{Outcome, Status, cells_dir};
use onestep::sweep::slurm::{self, ScriptOptions, ShardSpec};
use onestep::sweep::{
    Format, RunContext, cell_result, make_plan, merge, parse_grid, read_plan, run_cells, status,
    write_plan,
};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SweepCmd {
    /// Expand a TOML grid ([base], [grid], [zip]) into DIR/plan.json, checking every cell.
    Plan(PlanArgs),
    /// Compute the unfinished cells of one shard into DIR/cells/ (a rerun skips finished cells).
    Run(RunArgs),
    /// Count done, missing and failed cells; with --shards N, which shards to resubmit.
    Status(StatusArgs),
    /// One row per cell in plan order, as CSV or JSON lines (by the extension of -o).
    Merge(MergeArgs),
    /// Print an sbatch array script running one shard per array task.
    SlurmScript(SlurmArgs),
}

#[derive(Args)]
pub struct PlanArgs {
    /// The grid file (TOML).
    grid: PathBuf,
    /// The sweep directory (created; plan.json is replaced, finished cells are kept).
    #[arg(short, long)]
    out: PathBuf,
    /// Memory one cell may use on the compute nodes, in GiB (default: 90% of what this machine
    /// has available).
    #[arg(long)]
    memory_gib: Option<f64>,
}

#[derive(Args)]
pub struct RunArgs {
    /// The sweep directory (with plan.json).
    dir: PathBuf,
    /// K/N: run shard K of N (1-based; cell i belongs to shard i mod N + 1); `slurm`: from
    /// SLURM_ARRAY_TASK_ID, _MIN and _COUNT; `slurm/N`: shard SLURM_ARRAY_TASK_ID of N.
    #[arg(long, default_value = "1/1")]
    shard: String,
    /// Threads per cell (0 = all cores); default SLURM_CPUS_PER_TASK when set, else 0.
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true)]
    threads: Option<usize>,
    /// Linear-algebra backend: faer (default), nalgebra or openblas (build with `--features nalgebra` / `--features openblas`).
    #[arg(long, default_value = "faer")]
    backend: String,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The sweep directory (with plan.json).
    dir: PathBuf,
    /// The number of shards the sweep was run in: list the shards that still have work.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true)]
    shards: Option<usize>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// The sweep directory (with plan.json).
    dir: PathBuf,
    /// The table to write: FILE.csv or FILE.jsonl (atomically).
    #[arg(short, long)]
    out: PathBuf,
    /// Merge the finished cells even if some are missing (their rows are left out).
    #[arg(long)]
    allow_partial: bool,
}

#[derive(Args)]
pub struct SlurmArgs {
    /// The sweep directory (with plan.json).
    dir: PathBuf,
    /// Number of shards N: array tasks 1..=N, one shard each.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true)]
    shards: usize,
    /// At most M array tasks at once (`#SBATCH --array=1-N%M`).
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true)]
    throttle: Option<usize>,
    /// An extra `#SBATCH ...` line (repeatable), e.g. '#SBATCH --cpus-per-task=4'.
    #[arg(long)]
    extra: Vec<String>,
    /// Only these shards (comma list): a resubmission, `--array=K1,K2` with `--shard slurm/N`.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<usize>>,
    /// The backend the tasks use (`onestep sweep run --backend`).
    #[arg(long)]
    backend: Option<String>,
}

pub fn run(c: SweepCmd) -> Result<()> {
    match c {
        SweepCmd::Plan(a) => plan(a),
        SweepCmd::Run(a) => run_shard(a),
        SweepCmd::Status(a) => show_status(a),
        SweepCmd::Merge(a) => merge_cells(a),
        SweepCmd::SlurmScript(a) => slurm_script(a),
    }
}

fn plan(a: PlanArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.grid)
        .with_context(|| format!("reading the grid file {}", a.grid.display()))?;
    let file = a.grid.display().to_string();
    let grid = parse_grid(&file, &text)?;
    let limit = match a.memory_gib {
        Some(g) if g.is_finite() && g > 0.0 => g * (1u64 << 30) as f64,
        Some(g) => bail!("--memory-gib: got {g}; allowed: a number of GiB > 0"),
        None => memory_limit(),
    };
    let p = make_plan(&grid, limit)?;
    write_plan(&a.out, &p)?;
    let done = p
        .cells
        .iter()
        .filter(|c| onestep::sweep::run::result_path(&a.out, &c.id).is_file())
        .count();
    let shape: Vec<String> = grid
        .axes
        .iter()
        .map(|ax| format!("{} ({})", ax.keys.join("+"), ax.len()))
        .collect();
    println!(
        "{} cells{} -> {}{}",
        p.cells.len(),
        if shape.is_empty() {
            String::new()
        } else {
            format!(" = {}", shape.join(" × "))
        },
        a.out.join(PLAN_FILE).display(),
        if done > 0 {
            format!(
                "; {done} already finished in {}",
                cells_dir(&a.out).display()
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The git revision of the checkout the binary was built in (else of the working directory).
fn git_revision() -> Option<String> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    exe_dir
        .into_iter()
        .chain(std::env::current_dir().ok())
        .find_map(|dir| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["rev-parse", "--short", "HEAD"])
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
}

fn run_shard(a: RunArgs) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let spec: ShardSpec = a.shard.parse()?;
    let shard = spec.resolve(&env)?;
    let threads = slurm::threads(a.threads, &env)?;
    let p = read_plan(&a.dir)?;
    let d = backend::dispatch(threads, &a.backend)?;
    let git = git_revision();
    let mine = p.cells.iter().filter(|c| shard.contains(c.index)).count();
    let bar = ProgressBar::new(mine as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} cells of shard {prefix}  {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(shard.to_string());
    // Without a terminal (Slurm logs, parallel) one line per computed or failed cell.
    let lines = bar.is_hidden();
    let total = p.cells.len();
    let report = on_backend!(d, |b| {
        let ctx = RunContext {
            shard,
            backend: b.name().to_string(),
            threads: b.threads(),
            git_revision: git.clone(),
            memory_limit: memory_limit(),
        };
        run_cells(
            &a.dir,
            &p,
            &ctx,
            &mut |cfg| cell_result(&b, cfg),
            &mut |cell, outcome| {
                let what = match outcome {
                    Outcome::Skipped => None,
                    Outcome::Computed(s) => Some(format!("{s:.2} s")),
                    Outcome::Failed(e) => Some(format!("FAILED: {e}")),
                };
                if let Some(w) = what {
                    let line = format!(
                        "cell {}/{total} {} ({}): {w}",
                        cell.index + 1,
                        cell.id,
                        cell.describe()
                    );
                    if lines {
                        eprintln!("{line}");
                    } else {
                        bar.set_message(line);
                    }
                }
                bar.inc(1);
            },
        )?
    });
    bar.finish_and_clear();
    eprintln!(
        "shard {shard}: {} cells: {} computed, {} already finished, {} failed{}",
        report.cells,
        report.computed,
        report.skipped,
        report.failed.len(),
        if report.removed_temporaries > 0 {
            format!(
                "; removed {} stale temporary files",
                report.removed_temporaries
            )
        } else {
            String::new()
        }
    );
    if !report.failed.is_empty() {
        let first: Vec<String> = report
            .failed
            .iter()
            .take(5)
            .map(|(i, id, e)| format!("cell {} {id}: {e}", i + 1))
            .collect();
        bail!(
            "{} cells of shard {shard} failed (errors in {}/ID.error.json; a rerun retries them): {}",
            report.failed.len(),
            cells_dir(&a.dir).display(),
            first.join("; ")
        );
    }
    Ok(())
}

fn show_status(a: StatusArgs) -> Result<()> {
    if a.shards == Some(0) {
        bail!("--shards: got 0; allowed: an integer ≥ 1");
    }
    let p = read_plan(&a.dir)?;
    let s: Status = status(&a.dir, &p, a.shards);
    println!(
        "{}: {} cells: {} done, {} missing, {} failed",
        a.dir.display(),
        s.total,
        s.done,
        s.missing,
        s.failed.len()
    );
    for (i, id, e) in &s.failed {
        let first = e.lines().next().unwrap_or("");
        println!(
            "failed: cell {} {id} ({}): {first}",
            i + 1,
            p.cells[*i].describe()
        );
    }
    match a.shards {
        Some(n) if s.shards_to_resubmit.is_empty() => {
            println!("shards to resubmit (of {n}): none");
        }
        Some(n) => {
            let list: Vec<String> = s.shards_to_resubmit.iter().map(usize::to_string).collect();
            println!("shards to resubmit (of {n}): {}", list.join(","));
            println!(
                "  onestep sweep slurm-script {} --shards {n} --only {} > resubmit.sbatch && sbatch resubmit.sbatch",
                a.dir.display(),
                list.join(",")
            );
            println!(
                "  or: parallel onestep sweep run {} --shard {{}}/{n} ::: {}",
                a.dir.display(),
                list.join(" ")
            );
        }
        None if s.done < s.total => {
            println!("(give --shards N to list which of N shards to resubmit)");
        }
        None => {}
    }
    Ok(())
}

fn merge_cells(a: MergeArgs) -> Result<()> {
    let format = Format::from_path(&a.out)?;
    check_writable("-o", &a.out)?;
    let p = read_plan(&a.dir)?;
    let m = merge(&a.dir, &p, format, a.allow_partial)?;
    onestep::files::write_atomic(&a.out, m.text.as_bytes())?;
    if !m.missing.is_empty() {
        eprintln!(
            "warning: --allow-partial: {} of {} cells are not finished and have no row",
            m.missing.len(),
            p.cells.len()
        );
    }
    if m.settings.len() > 1 {
        let list: Vec<String> = m
            .settings
            .iter()
            .map(|(s, n)| format!("{n} cells with {s}"))
            .collect();
        eprintln!(
            "warning: the cells ran with different backends or thread counts ({}); their numbers agree to rounding, but this file is not byte-identical to a merge of cells run with one setting",
            list.join(", ")
        );
    }
    eprintln!("wrote {} ({} rows)", a.out.display(), m.rows);
    Ok(())
}

fn slurm_script(a: SlurmArgs) -> Result<()> {
    let p = read_plan(&a.dir)?;
    let dir = a
        .dir
        .canonicalize()
        .with_context(|| format!("resolving {}", a.dir.display()))?;
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .context("finding this binary's path")?;
    let mut command = vec!["sweep".into(), "run".into(), dir.display().to_string()];
    if let Some(b) = &a.backend {
        command.extend(["--backend".into(), b.clone()]);
    }
    let s = slurm::script(&ScriptOptions {
        exe: &exe,
        dir: &dir,
        command: &command,
        what: &format!(
            "sweep: {} cells of {} in {} shards (shard K holds cells i with i mod {} = K − 1).",
            p.cells.len(),
            dir.display(),
            a.shards,
            a.shards
        ),
        shards: a.shards,
        throttle: a.throttle,
        only: a.only.as_deref(),
        extra: &a.extra,
    })?;
    // sbatch opens the task logs there before the task starts.
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    if a.shards > p.cells.len() {
        eprintln!(
            "warning: {} shards for {} cells: shards above {} have nothing to do",
            a.shards,
            p.cells.len(),
            p.cells.len()
        );
    }
    print!("{s}");
    Ok(())
}
