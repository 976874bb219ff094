//! `onestep figure ID --out DIR [--quick] [--threads T] [--seeds K] [--config FILE]`: runs one
//! figure of docs/figures.md, with the grid of configs/ID.toml or FILE, into DIR (files and point cache: [`onestep::figure_files`]).
//! `onestep figure list` prints the figures.
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
    /// Threads (0 = all cores).
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true, default_value_t = 0)]
    threads: usize,
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
    let d = backend::dispatch(a.threads, &a.backend)?;
    let dir = FigureDir::open(&out, a.fresh)?;
    if dir.removed_temporaries > 0 {
        eprintln!(
            "removed {} temporary files left by interrupted runs",
            dir.removed_temporaries
        );
    }
    let start = Instant::now();
    let (data, name, threads) = on_backend!(d, |b| {
        (
            run_one(&a.id, &b, &opts, dir.cache())?,
            b.name(),
            b.threads(),
        )
    });
    let wall = start.elapsed().as_secs_f64();
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

fn run_one<B: Backend>(
    id: &str,
    b: &B,
    opts: &Options,
    cache: &dyn PointCache,
) -> Result<FigureData> {
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
    let data = {
        let mut ctx = Ctx::new(cache, &mut progress);
        figures::run(id, b, opts, &mut ctx).with_context(|| format!("figure {id}"))?
    };
    bar.finish_and_clear();
    Ok(data)
}
