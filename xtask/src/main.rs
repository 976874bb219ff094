//! `cargo xtask`: orchestration only (reproduce figures, benchmark backends); shells out to `cargo run --release`.
use anyhow::{Result, bail};

mod bench;
mod reproduce;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("help") | Some("--help") | None => {
            println!(
                "cargo xtask reproduce [--quick] [--out DIR] [IDS...]   draw every figure (CSV, SVG, PNG, manifest)"
            );
            println!(
                "cargo xtask bench [--vs-numpy] [--quick]               benchmark the backends side by side"
            );
            Ok(())
        }
        Some(other) => bail!("unknown xtask `{other}`; try `cargo xtask help`"),
    }
}
