//! `onestep figure ID --out DIR [--quick] [--threads T] [--seeds K]`: runs one figure of
//! docs/figures.md and writes DIR/ID.csv (or DIR/ID-TABLE.csv for several tables), DIR/ID.svg,
//! DIR/ID.png and DIR/ID.manifest.json, each atomically. Computed points are cached as small JSON
//! files under DIR/.cache/points/ (keyed by a hash of the point's configuration and seed, shared
//! by figures that use the same point), so an interrupted run restarts where it stopped.
//! `onestep figure list` prints the figures.
use super::backend;
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use onestep::experiments::{
    self as figures, Ctx, FIGURES, FigureData, Options, PointCache, PointResult, ProgressEvent,
};
use onestep::linalg::{Backend, BackendKind, on_backend};
use onestep::output::{available_memory, provenance, write_atomic};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct FigureArgs {
    /// Figure id (see `onestep figure list`), or `list`.
    id: String,
    /// Output directory (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Small sizes: seconds per figure.
    #[arg(long)]
    quick: bool,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seeds per point (default: the figure's own).
    #[arg(long)]
    seeds: Option<usize>,
    /// Seed of the first repetition; repetition r uses seed + r.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Linear-algebra backend.
    #[arg(long, default_value = BackendKind::DEFAULT.name())]
    backend: String,
    /// Ignore (and overwrite) cached points.
    #[arg(long)]
    fresh: bool,
    /// With `list`: print only the ids, one per line.
    #[arg(long)]
    ids: bool,
}

/// Points cached as JSON files in one directory.
struct DirCache {
    dir: PathBuf,
    fresh: bool,
}

impl PointCache for DirCache {
    fn load(&self, key: &str) -> Option<PointResult> {
        if self.fresh {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(format!("{key}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn store(&self, key: &str, value: &PointResult) {
        let path = self.dir.join(format!("{key}.json"));
        let res = serde_json::to_vec(value)
            .map_err(anyhow::Error::from)
            .and_then(|b| write_atomic(&path, &b));
        if let Err(e) = res {
            eprintln!("warning: could not cache {}: {e:#}", path.display());
        }
    }
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
    if figures::info(&a.id).is_none() {
        let ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        bail!(
            "unknown figure `{}`; allowed: {} (or `list`)",
            a.id,
            ids.join(", ")
        );
    }
    let Some(out) = a.out.clone() else {
        bail!("--out DIR is required: the directory the figure's files are written to")
    };
    let cache_dir = out.join(".cache").join("points");
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;
    let opts = Options {
        quick: a.quick,
        seeds: a.seeds,
        base_seed: a.seed,
        memory_limit: 0.9 * available_memory(),
    };
    if a.seeds == Some(0) {
        bail!("--seeds: got 0; allowed: an integer ≥ 1");
    }
    let d = backend::dispatch(a.threads, &a.backend)?;
    let start = Instant::now();
    let cache = DirCache {
        dir: cache_dir,
        fresh: a.fresh,
    };
    let (data, name, threads) = on_backend!(d, |b| {
        (run_one(&a.id, &b, &opts, &cache)?, b.name(), b.threads())
    });
    let wall = start.elapsed().as_secs_f64();
    write_outputs(&out, &data, &opts, name, threads, wall)
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

fn write_outputs(
    out: &Path,
    data: &FigureData,
    opts: &Options,
    backend: &str,
    threads: usize,
    wall: f64,
) -> Result<()> {
    let id = data.id;
    let mut files = Vec::new();
    for (t, name) in data.tables.iter().zip(data.csv_names()) {
        write_atomic(&out.join(&name), t.to_csv().as_bytes())?;
        files.push(name);
    }
    let svg = data.figure.to_svg();
    write_atomic(&out.join(format!("{id}.svg")), svg.as_bytes())?;
    files.push(format!("{id}.svg"));
    let png = data
        .figure
        .to_png(2.0)
        .with_context(|| format!("rendering {id}.png"))?;
    write_atomic(&out.join(format!("{id}.png")), &png)?;
    files.push(format!("{id}.png"));
    let manifest = json!({
        "figure": data.manifest,
        "provenance": provenance(backend, threads),
        "options": opts,
        "wall_time_s": wall,
        "files": files,
    });
    write_atomic(
        &out.join(format!("{id}.manifest.json")),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let m = &data.manifest;
    eprintln!(
        "{id}: {} points ({} computed in {:.1} s, {} cached), wall {:.1} s; wrote {} files to {}",
        m.points,
        m.points_computed,
        m.compute_seconds,
        m.points_cached,
        wall,
        files.len() + 1,
        out.display()
    );
    for n in &m.notes {
        eprintln!("  note: {n}");
    }
    Ok(())
}
