//! `figure`: one figure of docs/figures.md written as `onestep figure ID --out DIR` writes it, by
//! the same code (`onestep::figure_files`: the same files, point cache and lock, so a run of
//! either resumes the other's). The figures are computed by `onestep_experiments::run`.
use crate::{Runner, bad_input, failed, unsigned};
use onestep::experiments::{self as figures, Ctx, FIGURES, Options};
use onestep::figure_files::{FigureDir, read_grid};
use onestep::files::memory_limit;
use onestep::linalg::{Backend, on_backend};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// The figures: `(id, paper, description)` in `onestep figure list` order.
#[pyfunction]
pub fn figure_list() -> Vec<(&'static str, &'static str, &'static str)> {
    FIGURES
        .iter()
        .map(|f| (f.id, f.paper, f.description))
        .collect()
}

/// Runs figure `id` and writes its files to `out` (created if missing); returns the manifest as
/// JSON (the content of `out/ID.manifest.json`).
#[pyfunction]
#[pyo3(signature = (id, *, out, quick, seeds, seed, threads, backend, fresh, config))]
#[allow(clippy::too_many_arguments)]
pub fn figure(
    py: Python<'_>,
    id: &str,
    out: PathBuf,
    quick: bool,
    seeds: Option<i64>,
    seed: i64,
    threads: i64,
    backend: &str,
    fresh: bool,
    config: Option<PathBuf>,
) -> PyResult<String> {
    figures::lookup(id).map_err(bad_input)?;
    let seeds = seeds.map(|s| unsigned("seeds", s)).transpose()?;
    let base_seed = u64::try_from(seed).map_err(|_| {
        bad_input(format!(
            "--seed: got {seed}; allowed: an integer in [0, 2^64)"
        ))
    })?;
    let threads = unsigned("threads", threads)?;
    let opts = Options {
        quick,
        seeds,
        base_seed,
        memory_limit: memory_limit(),
        config: config
            .as_deref()
            .map(read_grid)
            .transpose()
            .map_err(|e| bad_input(format!("{e:#}")))?,
    };
    opts.check().map_err(|e| bad_input(e.to_string()))?;
    let runner = Runner::new(threads, backend)?;
    let dir = FigureDir::open(&out, fresh, false).map_err(failed)?;
    let start = Instant::now();
    let (data, name, used) = runner
        .run(py, |d| {
            on_backend!(d.clone(), |b| {
                let mut progress = |_: &figures::ProgressEvent<'_>| {};
                let mut ctx = Ctx::new(dir.cache(), &mut progress);
                figures::run(id, &b, &opts, &mut ctx).map(|f| (f, b.name(), b.threads()))
            })
        })
        .map_err(|e| match e {
            // A grid file that is not this figure's is the caller's input, like a bad argument.
            figures::FigureError::Grid(g) => bad_input(g),
            e => failed(anyhow::Error::new(e).context(format!("figure {id}"))),
        })?;
    let wall = start.elapsed().as_secs_f64();
    py.detach(|| dir.write(&data, &opts, name, used, wall))
        .map(|w| w.manifest)
        .map_err(failed)
}
