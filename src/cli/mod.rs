//! The subcommands of the `onestep` binary, one file each, and the argument groups they share.
use clap::Args;
use onestep::linalg::BackendKind;
use std::path::PathBuf;

pub mod backend;
pub mod figure;
pub mod simulate;
pub mod sweep;
pub mod table;
pub mod theory;

/// The largest d and N for which [`keep_freed_blocks`] pays (measured up to d = N = 2048; at 4096
/// it no longer saves time, at 8192 it raises the peak RSS from 3.05 to 4.81 GiB).
pub const KEEP_FREED_BLOCKS_UP_TO: usize = 2048;

/// glibc serves allocations of 32 MiB and more (one 4096-row block of a d = 1024 design) by mmap
/// and unmaps them when freed, so every block of every pass pays the kernel's zeroing of fresh
/// pages again; this keeps freed memory in the heap for the next block instead
/// (docs/performance.md, "Allocation"). `GLIBC_TUNABLES` set by the user wins. Call it before
/// any thread starts.
pub fn keep_freed_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        // SAFETY: plain allocator settings, before any thread starts or allocates in earnest.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        }
    }
}

/// `--activation`'s help, listing every named function of [`onestep::data::Named::ALL`].
fn activation_help() -> String {
    let names: Vec<&str> = onestep::data::Named::ALL.iter().map(|n| n.name()).collect();
    format!("Activation: {}, or hermite:c0,c1,...", names.join(", "))
}

/// clap's parser for counts: an integer ≥ `MIN`. Negative values reach it (the flags allow them)
/// so that `--d -1` gets the flag's rule instead of "unexpected argument '-1'".
pub fn count<const MIN: usize>(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|&v| v >= MIN)
        .ok_or_else(|| format!("allowed: an integer ≥ {MIN}"))
}

/// clap's parser for sizes in GiB: a finite number > 0.
pub fn positive_f64(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| "allowed: a number > 0 (GiB)".into())
}

/// clap's parser for seeds: an integer in [0, 2^64).
pub fn seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| "allowed: an integer in [0, 2^64)".into())
}

/// The functions and the label noise, shared by every command.
#[derive(Args)]
pub struct FnArgs {
    #[arg(long, default_value = "relu-centered", help = activation_help())]
    pub activation: String,
    /// Target link σ*, same syntax as --activation.
    #[arg(long, default_value = "hermite:0,1,0.7071067811865476")]
    pub target: String,
    /// Label-noise standard deviation σ_ε.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub noise: f64,
}

/// Threads, backend and JSON output of a simulating command.
#[derive(Args)]
pub struct Common {
    /// Threads (0 = all cores).
    #[arg(long, value_parser = count::<0>, allow_negative_numbers = true, default_value_t = 0)]
    pub threads: usize,
    /// Linear-algebra backend: faer (default), nalgebra or openblas (build with `--features nalgebra` / `--features openblas`).
    #[arg(long, default_value = BackendKind::DEFAULT.name())]
    pub backend: String,
    /// Write the full result as JSON to this path (atomically).
    #[arg(long)]
    pub json: Option<PathBuf>,
}
