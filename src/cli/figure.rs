//! `onestep figure ID --out DIR [--quick] [--threads T] [--seeds K] [--config FILE]`: runs one
//! figure of docs/figures.md, with the grid of configs/ID.toml or FILE, into DIR (files and
//! point cache: [`onestep::figure_files`]); `--shard K/N` computes one shard of its points and
//! `--slurm-script N` prints the array script for them. `onestep figure list` lists the figures.
use super::backend;
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use onestep::experiments::{
    self as figures, Ctx, FIGURES, FigureData, Options, PointCache, ProgressEvent,
};
use onestep::figure_files::{FigureDir, read_grid};
use onestep::files::memory_limit;
use onestep::linalg::{Backend, BackendKind, on_backend};
use onestep::sweep::slurm::{self, ScriptOptions, ShardSpec};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct FigureArgs {
    /// Figure id (see `onestep figure list`), or `list`.
    id: String,
    /// Output directory (required except with `list`; created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Small sizes: seconds per figure.
    #[arg(long)]
    quick: bool,
    /// Threads (0 = all cores); default SLURM_CPUS_PER_TASK when set, else 0.
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true)]
    threads: Option<usize>,
    /// Seeds per point (default: the figure's own).
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true)]
    seeds: Option<usize>,
    /// Seed of the first repetition; repetition r uses seed + r.
    #[arg(long, value_parser = super::seed, allow_negative_numbers = true, default_value_t = 0)]
    seed: u64,
    /// Linear-algebra backend.
    #[arg(long, default_value = BackendKind::DEFAULT.name())]
    backend: String,
    /// Grid file (sizes, axes, seeds) replacing the figure's built-in configs/ID.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore (and overwrite) cached points.
    #[arg(long)]
    fresh: bool,
    /// With `list`: print only the ids, one per line.
    #[arg(long)]
    ids: bool,
    /// K/N: compute only shard K of N of the figure's points (1-based; point i, in the order the
    /// figure asks for them, belongs to shard i mod N + 1) into DIR's point cache and draw
    /// nothing; `slurm` or `slurm/N`: the shard of this Slurm array task. Shards run side by side
    /// into one DIR; a last run without --shard draws the figure from the cache.
    #[arg(long, value_name = "K/N|slurm")]
    shard: Option<String>,
    /// Print an sbatch array script of N tasks, each running this command with `--shard
    /// slurm`, and exit (logs in DIR/logs/).
    #[arg(long, value_name = "N", value_parser = super::count::<1>, allow_negative_numbers = true)]
    slurm_script: Option<usize>,
}

pub fn run(a: FigureArgs) -> Result<()> {
    if a.id == "list" {
        if a.ids {
            for f in FIGURES {
                println!("{}", f.id);
            }
        } else {
            println!("{:<16} {:<20} what it shows", "id", "paper");
            for f in FIGURES {
                println!("{:<16} {:<20} {}", f.id, f.paper, f.description);
            }
        }
        return Ok(());
    }
    figures::lookup(&a.id).map_err(anyhow::Error::msg)?;
    let Some(out) = a.out.clone() else {
        bail!("--out DIR is required: the directory the figure's files are written to")
    };
    let opts = Options {
        quick: a.quick,
        seeds: a.seeds,
        base_seed: a.seed,
        memory_limit: memory_limit(),
        config: a.config.as_deref().map(read_grid).transpose()?,
    };
    opts.check()?;
    if let Some(n) = a.slurm_script {
        return print_script(&a, &out, n);
    }
    let env = |k: &str| std::env::var(k).ok();
    let shard = a
        .shard
        .as_deref()
        .map(|s| s.parse::<ShardSpec>()?.resolve(&env))
        .transpose()?;
    let d = backend::dispatch(slurm::threads(a.threads, &env)?, &a.backend)?;
    let dir = FigureDir::open(&out, a.fresh, shard.is_some())?;
    if dir.removed_temporaries > 0 {
        eprintln!(
            "removed {} temporary files left by interrupted runs",
            dir.removed_temporaries
        );
    }
    let start = Instant::now();
    let shard = shard.map(|s| (s.k, s.n));
    let ((data, counts), name, threads) = on_backend!(d, |b| {
        (
            run_one(&a.id, &b, &opts, dir.cache(), shard)?,
            b.name(),
            b.threads(),
        )
    });
    let wall = start.elapsed().as_secs_f64();
    if let Some((k, n)) = shard {
        let (computed, cached, left) = counts;
        eprintln!(
            "{} shard {k}/{n}: {computed} points computed, {cached} cached, {left} left to the other shards, wall {wall:.1} s; when every shard has finished, the same command without --shard draws the figure",
            data.id
        );
        return Ok(());
    }
    let written = dir.write(&data, &opts, name, threads, wall)?;
    let m = &data.manifest;
    eprintln!(
        "{}: {} points ({} computed in {:.1} s, {} cached), wall {:.1} s; wrote {} files to {}",
        data.id,
        m.points,
        m.points_computed,
        m.compute_seconds,
        m.points_cached,
        wall,
        written.files.len(),
        out.display()
    );
    for n in &m.notes {
        eprintln!("  note: {n}");
    }
    Ok(())
}

/// The figure, and its points computed, cached and left to other shards.
fn run_one<B: Backend>(
    id: &str,
    b: &B,
    opts: &Options,
    cache: &dyn PointCache,
    shard: Option<(usize, usize)>,
) -> Result<(FigureData, (usize, usize, usize))> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} {elapsed_precise} [{bar:30}] {pos}/{len} points  {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(id.to_string());
    // Sweeps report their own totals; accumulate across the sweeps of one figure.
    let mut offset = 0u64;
    let mut progress = |e: &ProgressEvent<'_>| {
        let (done, total) = (e.done as u64, e.total as u64);
        bar.set_length(offset + total);
        bar.set_position(offset + done);
        bar.set_message(format!(
            "{}{}",
            e.label,
            if e.cached { " (cached)" } else { "" }
        ));
        if done == total && !e.started {
            offset += total;
        }
    };
    let out = {
        let mut ctx = Ctx::new(cache, &mut progress);
        ctx.shard = shard;
        let data = figures::run(id, b, opts, &mut ctx).with_context(|| format!("figure {id}"))?;
        (data, (ctx.computed, ctx.cached, ctx.left))
    };
    bar.finish_and_clear();
    Ok(out)
}

/// `--slurm-script N`: the array script whose tasks run this figure's shards.
fn print_script(a: &FigureArgs, out: &std::path::Path, shards: usize) -> Result<()> {
    std::fs::create_dir_all(out.join("logs"))
        .with_context(|| format!("creating {}", out.join("logs").display()))?;
    let out = out
        .canonicalize()
        .with_context(|| format!("resolving {}", out.display()))?;
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .context("finding this binary's path")?;
    let mut command = vec![
        "figure".to_string(),
        a.id.clone(),
        "--out".into(),
        out.display().to_string(),
        "--backend".into(),
        a.backend.clone(),
        "--seed".into(),
        a.seed.to_string(),
    ];
    if a.quick {
        command.push("--quick".into());
    }
    if let Some(k) = a.seeds {
        command.extend(["--seeds".into(), k.to_string()]);
    }
    if let Some(c) = &a.config {
        let c = c
            .canonicalize()
            .with_context(|| format!("--config: resolving {}", c.display()))?;
        command.extend(["--config".into(), c.display().to_string()]);
    }
    if let Some(t) = a.threads {
        command.extend(["--threads".into(), t.to_string()]);
    }
    // The same command without --shard draws the figure from the shards' points.
    let draw = format!("{} {}", exe.display(), command.join(" "));
    print!(
        "{}",
        slurm::script(&ScriptOptions {
            exe: &exe,
            dir: &out,
            command: &command,
            what: &format!(
                "figure {}: its points in {shards} shards (shard K computes the points i with i mod {shards} = K − 1, in the order the figure asks for them); after the array, draw with `{draw}` (or chain it: sbatch --dependency=afterok:JOBID).",
                a.id
            ),
            shards,
            throttle: None,
            only: None,
            extra: &[],
        })?
    );
    Ok(())
}
