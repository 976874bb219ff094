//! Figures of onestep: one module per figure, each a pure function from config to table; plotting in `plot`.

pub mod plot;
