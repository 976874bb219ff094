//! `cargo xtask bench`: backends head to head (to be filled in).
use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("cargo xtask bench is not implemented yet")
}
