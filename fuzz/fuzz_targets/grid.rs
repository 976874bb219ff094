//! Sweep grid files (TOML): parsing never panics; an accepted grid expands into at most
//! MAX_CELLS cells, or into an error, without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onestep::sweep::grid::{MAX_CELLS, parse};

fuzz_target!(|text: &str| {
    if let Ok(g) = parse("fuzz.toml", text) {
        assert!(g.len() <= MAX_CELLS);
        if let Ok(cells) = g.cells() {
            assert_eq!(cells.len(), g.len());
        }
    }
});
