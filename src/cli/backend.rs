//! The thread pool and the backend of a run: the one place the CLI chooses a backend (the names,
//! features and dispatch live in `onestep_linalg::backends`).
use anyhow::{Context, Result};
use onestep::linalg::{BackendKind, Dispatch};

/// Builds the global thread pool (`threads` > 0) and the backend named by `--backend`; run code on
/// it with `onestep::linalg::on_backend!`.
pub fn dispatch(threads: usize, backend: &str) -> Result<Dispatch> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if threads > cores {
        eprintln!("note: --threads {threads} is more than the {cores} cores here; using {cores}");
        cores
    } else {
        threads
    };
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("building the thread pool")?;
    }
    let kind: BackendKind = backend.parse()?;
    let d = Dispatch::new(kind, threads)?;
    #[cfg(feature = "openblas")]
    #[allow(irrefutable_let_patterns)] // when OpenBLAS is the only backend compiled in
    if let Dispatch::OpenBlas(b) = &d
        && b.core_name() == "Prescott"
    {
        eprintln!(
            "warning: OpenBLAS chose its generic Prescott kernels (it does not recognise this CPU); set OPENBLAS_CORETYPE=Haswell (AVX2) or SkylakeX (AVX-512) for its fast ones"
        );
    }
    Ok(d)
}
