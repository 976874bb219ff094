//! `cargo xtask reproduce`: every figure of figures.md (to be filled in).
use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask reproduce is not implemented yet")
}
