//! `cargo xtask`: orchestration only (reproduce figures, benchmark backends); shells out to `cargo run --release`.
use anyhow::{Result, bail};

mod bench;
mod report;
mod reproduce;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("help") | Some("--help") | None => {
            println!(
                "cargo xtask reproduce [--quick] [--out DIR] [--configs CDIR] [--shards N] [--threads T] [--seeds K] [--seed S] [--backend B] [IDS...]\n    draw the figures (CSV, SVG, PNG, manifest) into DIR (default out/figures, or out/figures-quick with --quick), each with the grid file CDIR/ID.toml (default configs/); --shards N: each figure's points in N processes side by side"
            );
            println!(
                "cargo xtask bench [--quick] [--vs-numpy] [--scaling [--scaling-max D]] [--threads T] [--features nalgebra,openblas]\n    benchmark the backends side by side, B1 against NumPy, the scaling table (out/bench/bench.md, .json)"
            );
            Ok(())
        }
        Some(other) => bail!("unknown xtask `{other}`; try `cargo xtask help`"),
    }
}
