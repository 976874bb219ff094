//! The `onestep` command line: `simulate`, `theory errors|staircase|spikes`, `figure`. Parses the
//! arguments, applies the one-line error policy and dispatches to `cli/` (one file per subcommand).
use anyhow::{Result, bail};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(
    name = "onestep",
    version,
    args_override_self = true,
    about = "Non-linear feature learning after one gradient step: simulation and theory side by side"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate the network: one gradient step, ridge on the updated features, spectra and errors.
    Simulate(cli::simulate::SimArgs),
    /// Theory only (no simulation).
    #[command(subcommand)]
    Theory(cli::theory::TheoryCmd),
    /// Draw a figure of docs/figures.md (CSV + SVG + PNG + manifest); `onestep figure list` for the ids.
    Figure(cli::figure::FigureArgs),
    /// Parameter sweeps: plan a TOML grid, run shards (Slurm, GNU parallel), status, merge.
    #[command(subcommand)]
    Sweep(cli::sweep::SweepCmd),
}

fn main() {
    // A closed stdout (`onestep … | head -1`) ends the process quietly, as for any Unix tool,
    // instead of panicking in `println!`; every output file is written before stdout is.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A panic is a bug or an allocation the memory guard did not foresee: one line, exit 70.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "error: internal error ({msg}{}); if the sizes are large, memory may have run out: reduce --n, --n-test, --d or --width; otherwise please report it",
            at.unwrap_or_default()
        );
        std::process::exit(70);
    }));
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::ValueValidation => {
            // A value our parsers refused: "--flag: got VALUE; allowed: …", as every other check.
            let ctx = |k| match e.get(k) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            let arg = ctx(ContextKind::InvalidArg);
            let flag = arg.split_whitespace().next().unwrap_or("a flag");
            let why = std::error::Error::source(&e)
                .map_or_else(|| "see --help".into(), |s| s.to_string());
            bail!("{flag}: got {}; {why}", ctx(ContextKind::InvalidValue));
        }
        Err(e) if e.use_stderr() => {
            // One line: clap's first line plus where to look, not a multi-line usage dump.
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            // clap's "tip: a similar argument exists" is on a later line; keep it on this one.
            let tip = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand]
                .into_iter()
                .find_map(|k| match e.get(k) {
                    Some(ContextValue::String(s)) => Some(s.clone()),
                    Some(ContextValue::Strings(v)) => v.first().cloned(),
                    _ => None,
                })
                .map_or(String::new(), |s| format!("; did you mean '{s}'?"));
            bail!("{first}{tip} (see --help)");
        }
        Err(e) => {
            e.print()?;
            return Ok(());
        }
    };
    // `simulate` knows its sizes once its flags are checked and decides there.
    if !matches!(cli.cmd, Cmd::Simulate(_)) {
        cli::keep_freed_blocks();
    }
    match cli.cmd {
        Cmd::Simulate(a) => cli::simulate::run(a),
        Cmd::Theory(c) => cli::theory::run(c),
        Cmd::Figure(a) => cli::figure::run(a),
        Cmd::Sweep(c) => cli::sweep::run(c),
    }
}
