//! `onestep._onestep`: the extension module behind the Python package `onestep` (maturin builds
//! it; `python/onestep/` wraps it). A thin layer: every number comes from `onestep-pipeline`,
//! `onestep-theory` and `onestep-experiments`, every JSON document from the facade's `output`
//! helpers, so a seed gives the same numbers and bytes as the `onestep` binary. The Python
//! defaults live in `python/onestep/`; these functions take every argument by keyword.
//!
//! Errors: bad input (anything the CLI refuses before heavy work) raises `ValueError` with the
//! CLI's one-line message (the CLI prints it after `error: `); a failure while computing raises
//! `RuntimeError`. Heavy work runs with the GIL released.
use onestep::linalg::{BackendKind, Dispatch};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::fmt::Display;

mod figure;
mod simulate;
mod theory;

/// `ValueError(message)`; `{:#}` so an `anyhow` chain reads as the CLI prints it.
fn bad_input(e: impl Display) -> PyErr {
    PyValueError::new_err(format!("{e:#}"))
}

/// `ValueError` from an error value, with its chain of sources as the CLI prints it.
fn refused<E: std::error::Error + Send + Sync + 'static>(e: E) -> PyErr {
    bad_input(anyhow::Error::new(e))
}

/// `RuntimeError(message)` for a failure after the input was accepted.
fn failed(e: impl Display) -> PyErr {
    PyRuntimeError::new_err(format!("{e:#}"))
}

/// A non-negative integer argument as the CLI's unsigned flag, or `ValueError` naming the flag.
fn unsigned(flag: &str, v: i64) -> PyResult<usize> {
    let min = onestep::pipeline::config::count_minimum(flag);
    usize::try_from(v)
        .map_err(|_| bad_input(format!("--{flag}: got {v}; allowed: an integer ≥ {min}")))
}

/// The threads and backend of a run, as `--threads` and `--backend` choose them (threads capped
/// at the cores). `threads` = 0 uses rayon's global pool (all cores), as the CLI does; a positive
/// `threads` a pool of that size built for this call (the CLI builds the global pool once per
/// process, which a Python session that calls several times cannot do), so the work is split the
/// same way and gives the same numbers.
struct Runner {
    pool: Option<rayon::ThreadPool>,
    dispatch: Dispatch,
}

impl Runner {
    fn new(threads: usize, backend: &str) -> PyResult<Runner> {
        // As the CLI: more threads than cores are capped at the cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = threads.min(cores);
        let pool = if threads > 0 {
            let p = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| failed(format!("building the thread pool: {e}")))?;
            Some(p)
        } else {
            None
        };
        let kind: BackendKind = backend.parse().map_err(refused)?;
        let dispatch = Dispatch::new(kind, threads).map_err(refused)?;
        Ok(Runner { pool, dispatch })
    }

    /// Runs `f` on this run's thread pool with the GIL released.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Dispatch) -> T + Send) -> T {
        let d = &self.dispatch;
        py.detach(|| match &self.pool {
            Some(p) => p.install(|| f(d)),
            None => f(d),
        })
    }
}

#[pymodule]
fn _onestep(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The defaults of --activation and --target (one place: the pipeline's default config).
    let defaults = onestep::pipeline::SimConfig::default();
    m.add("DEFAULT_ACTIVATION", defaults.activation)?;
    m.add("DEFAULT_TARGET", defaults.target)?;
    m.add_function(wrap_pyfunction!(simulate::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(theory::theory_errors, m)?)?;
    m.add_function(wrap_pyfunction!(theory::theory_staircase, m)?)?;
    m.add_function(wrap_pyfunction!(theory::theory_spikes, m)?)?;
    m.add_function(wrap_pyfunction!(theory::theory_network, m)?)?;
    m.add_function(wrap_pyfunction!(theory::theory_after_step, m)?)?;
    m.add_function(wrap_pyfunction!(figure::figure, m)?)?;
    m.add_function(wrap_pyfunction!(figure::figure_list, m)?)?;
    m.add_function(wrap_pyfunction!(write_atomic, m)?)?;
    Ok(())
}

/// Writes `text` to `path` atomically (temporary file, then rename), as every CLI output is.
#[pyfunction]
fn write_atomic(py: Python<'_>, path: std::path::PathBuf, text: &str) -> PyResult<()> {
    py.detach(|| onestep::files::write_atomic(&path, text.as_bytes()))
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{e:#}")))
}
