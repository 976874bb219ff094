//! Plotting: a declarative [`Figure`] (panels of series, thresholds, notes) turned into a
//! hand-written SVG string, and, with the `png` feature (on by default), rasterised to PNG
//! bytes with `resvg`.
//!
//! Pure: nothing here writes files; the caller decides where the bytes go. The only thing
//! read from disk is the system font set, once per process, when a PNG is rendered.
//!
//! # Fonts
//!
//! The SVG names DejaVu Sans first (then Bitstream Vera Sans, Arial, Helvetica, sans-serif) and
//! leaves font lookup to the viewer. PNGs need at least one font installed: DejaVu Sans is
//! preferred (box sizes assume its widths; on Debian it is `fonts-dejavu-core`, also looked up
//! in `/usr/share/fonts/truetype/dejavu`), and any TrueType or OpenType face stands in
//! otherwise. With no font at all, `Figure::to_png` fails with `PlotError::NoFonts` instead of
//! rendering a figure without text.
//!
//! # Conventions
//!
//! Chosen so figures read in print and in greyscale:
//! - colours come from the Okabe–Ito palette ([`PALETTE`]), which colour-blind readers can tell apart;
//! - every [`Mark`] is distinguishable without colour: theory is drawn as lines or crosses,
//!   simulation as filled markers with error bars, and the marker shape follows the colour index;
//! - ticks are 1-2-5 steps on linear axes and decades on log axes;
//! - non-finite values (and non-positive values on log axes) are skipped and break lines;
//! - a panel with nothing to show says "no data" rather than rendering a silent empty frame.

mod axis;
mod figure;
mod legend;
mod marks;
mod panel_svg;
#[cfg(feature = "png")]
mod png;
mod text;
mod ticks;

#[cfg(test)]
mod test_support;

pub use figure::{Figure, Mark, PALETTE, PANEL_HEIGHT, PANEL_WIDTH, Panel, Series};
#[cfg(feature = "png")]
pub use png::PlotError;
pub use text::esc;
pub use ticks::{log_ticks, nice_ticks};
