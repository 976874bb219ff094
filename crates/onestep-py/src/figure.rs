//! `figure`: one figure of docs/figures.md written as `onestep figure ID --out DIR` writes it
//! (DIR/ID.csv or DIR/ID-TABLE.csv, DIR/ID.svg, DIR/ID.png, DIR/ID.manifest.json, each
//! atomically), with the same point cache under DIR/.cache/points/ (shared with the CLI: a run of
//! either resumes the other's). The figures are computed by `onestep_experiments::run`.
use crate::{Runner, bad_input, failed, unsigned};
use onestep::experiments::{self as figures, Ctx, FIGURES, FigureData, Options};
use onestep::experiments::{PointCache, PointResult};
use onestep::linalg::{Backend, on_backend};
use onestep::output::{available_memory, provenance, write_atomic};
use pyo3::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Points cached as JSON files in one directory (the CLI's layout and format).
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
#[pyo3(signature = (id, *, out, quick, seeds, seed, threads, backend, fresh))]
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
) -> PyResult<String> {
    if figures::info(id).is_none() {
        let ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        return Err(bad_input(format!(
            "unknown figure `{id}`; allowed: {} (or `list`)",
            ids.join(", ")
        )));
    }
    let seeds = seeds.map(|s| unsigned("seeds", s)).transpose()?;
    let base_seed = u64::try_from(seed).map_err(|_| {
        bad_input(format!(
            "--seed: got {seed}; allowed: an integer in [0, 2^64)"
        ))
    })?;
    let threads = unsigned("threads", threads)?;
    let cache_dir = out.join(".cache").join("points");
    std::fs::create_dir_all(&cache_dir)
        .map_err(|e| failed(format!("creating {}: {e}", cache_dir.display())))?;
    let opts = Options {
        quick,
        seeds,
        base_seed,
        memory_limit: 0.9 * available_memory(),
    };
    if seeds == Some(0) {
        return Err(bad_input("--seeds: got 0; allowed: an integer ≥ 1"));
    }
    let runner = Runner::new(threads, backend)?;
    let cache = DirCache {
        dir: cache_dir,
        fresh,
    };
    let start = Instant::now();
    let (data, name, used) = runner
        .run(py, |d| {
            on_backend!(d.clone(), |b| {
                let mut progress = |_: &figures::ProgressEvent<'_>| {};
                let mut ctx = Ctx::new(&cache, &mut progress);
                figures::run(id, &b, &opts, &mut ctx).map(|f| (f, b.name(), b.threads()))
            })
        })
        .map_err(|e| failed(anyhow::Error::new(e).context(format!("figure {id}"))))?;
    let wall = start.elapsed().as_secs_f64();
    py.detach(|| write_outputs(&out, &data, &opts, name, used, wall))
        .map_err(failed)
}

/// The CLI's outputs of a figure; returns the manifest as JSON.
fn write_outputs(
    out: &Path,
    data: &FigureData,
    opts: &Options,
    backend: &str,
    threads: usize,
    wall: f64,
) -> anyhow::Result<String> {
    use anyhow::Context;
    let id = data.id;
    let mut files = Vec::new();
    for (t, name) in data.tables.iter().zip(data.csv_names()) {
        write_atomic(&out.join(&name), t.to_csv().as_bytes())?;
        files.push(name);
    }
    write_atomic(
        &out.join(format!("{id}.svg")),
        data.figure.to_svg().as_bytes(),
    )?;
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
    let text = serde_json::to_string_pretty(&manifest)?;
    write_atomic(&out.join(format!("{id}.manifest.json")), text.as_bytes())?;
    Ok(text)
}
