//! Plotting: a declarative [`Figure`] (panels of series, thresholds, notes) turned into a
//! hand-written SVG string, and rasterised to PNG bytes with `resvg`.
//!
//! Pure: nothing here writes files; the caller decides where the bytes go. The only thing
//! read from disk is the system font set, once per process, when a PNG is rendered (text in
//! the SVG names DejaVu Sans first; if no font is found the PNG still renders, without text).
//!
//! Conventions, chosen so figures read in print and in greyscale:
//! - colours come from the Okabe–Ito palette ([`PALETTE`]), which colour-blind readers can tell apart;
//! - every [`Mark`] is distinguishable without colour: theory is drawn as lines or crosses,
//!   simulation as filled markers with error bars, and the marker shape follows the colour index;
//! - ticks are 1-2-5 steps on linear axes and decades on log axes;
//! - non-finite values (and non-positive values on log axes) are skipped and break lines;
//! - a panel with nothing to show says "no data" rather than rendering a silent empty frame.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// Okabe–Ito palette, in the order automatic colours are handed out (yellow last: it is pale on white).
pub const PALETTE: [&str; 8] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
    "#F0E442", // yellow
];

/// Width of one panel in SVG user units (pixels at scale 1).
pub const PANEL_WIDTH: f64 = 480.0;
/// Height of one panel in SVG user units (pixels at scale 1).
pub const PANEL_HEIGHT: f64 = 360.0;

const FONT_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Arial, Helvetica, sans-serif";
/// Rough advance width of a DejaVu Sans character, as a fraction of the font size; used to size boxes.
const CHAR_WIDTH: f64 = 0.6;
const MARGIN_LEFT: f64 = 66.0;
const MARGIN_RIGHT: f64 = 14.0;
const MARGIN_TOP: f64 = 30.0;
const MARGIN_BOTTOM: f64 = 50.0;
const THRESHOLD_GREY: &str = "#555555";
/// A white outline behind text drawn over data, so labels stay legible where they cross lines.
const HALO: &str =
    r#"stroke="white" stroke-width="3" stroke-linejoin="round" paint-order="stroke""#;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    /// Solid line (theory curves).
    #[default]
    Line,
    /// Dashed line.
    Dashed,
    /// Dotted line.
    Dotted,
    /// Filled markers, with error bars when the series has `yerr` (simulation). The shape follows the colour index.
    Markers,
    /// Crosses `×` (theory predictions at discrete points).
    Crosses,
    /// Dashed step function: `y_i` holds on `[x_i, x_{i+1})`; give a last point to end the final step.
    Steps,
    /// Histogram: points are `(bin_center, height)`; the bar width is the smallest spacing between centres.
    Bars,
}

/// One data series of a panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Legend entry. Series with an empty name are drawn but not listed; entries with the same
    /// name, mark and colour are listed once (e.g. six singular values all labelled "simulation").
    pub name: String,
    /// How the points are drawn.
    pub mark: Mark,
    /// `(x, y)` in data coordinates; non-finite points are skipped (and break lines).
    pub points: Vec<(f64, f64)>,
    /// Symmetric error bars (e.g. one standard deviation), one per point; drawn for `Markers` and `Crosses`.
    pub yerr: Option<Vec<f64>>,
    /// Palette index into [`PALETTE`] (taken modulo its length); `None` picks the series' position in the panel.
    pub color: Option<usize>,
}

impl Series {
    /// A series with automatic colour and no error bars.
    pub fn new(name: impl Into<String>, mark: Mark, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            mark,
            points,
            yerr: None,
            color: None,
        }
    }

    /// Sets symmetric error bars, one per point.
    #[must_use]
    pub fn with_yerr(mut self, yerr: Vec<f64>) -> Self {
        self.yerr = Some(yerr);
        self
    }

    /// Sets the palette index (same index = same colour and marker shape, e.g. to pair simulation with theory).
    #[must_use]
    pub fn with_color(mut self, color: usize) -> Self {
        self.color = Some(color);
        self
    }
}

/// One set of axes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Panel {
    /// Drawn above the axes.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Logarithmic horizontal axis (non-positive x values are skipped).
    pub x_log: bool,
    /// Logarithmic vertical axis (non-positive y values are skipped).
    pub y_log: bool,
    /// The data, drawn in order (later on top).
    pub series: Vec<Series>,
    /// Vertical threshold lines `(x, label)`, dashed grey with the label along the line.
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines `(y, label)`, dash-dotted grey with the label at the right end.
    pub hlines: Vec<(f64, String)>,
    /// Text at data coordinates `(x, y, text)`, written just right of the point (e.g. "k=2" by a spike).
    pub annotations: Vec<(f64, f64, String)>,
    /// A boxed message drawn in the middle of the panel, e.g. "theory not available yet".
    pub note: Option<String>,
    /// Fixed horizontal range (data coordinates); `None` fits the data with a small margin.
    pub x_range: Option<(f64, f64)>,
    /// Fixed vertical range (data coordinates); `None` fits the data with a small margin.
    pub y_range: Option<(f64, f64)>,
}

impl Panel {
    /// An empty panel with the given title and axis labels, linear axes.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }
}

/// A grid of panels with a title and an optional caption.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    /// Drawn centred above the grid; empty for none.
    pub title: String,
    /// Panels, filled into the grid row by row.
    pub panels: Vec<Panel>,
    /// Panels per row; 0 means all panels in one row, up to three.
    pub columns: usize,
    /// Text under the grid, wrapped to the figure width.
    pub caption: Option<String>,
}

/// Failure to rasterise a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The scale factor must be finite and positive.
    #[error("PNG scale must be a finite positive number (got {scale}); pass e.g. 1.0 or 2.0")]
    InvalidScale {
        /// The rejected scale.
        scale: f32,
    },
    /// The requested image is empty or too large to allocate.
    #[error("cannot allocate a {width}×{height} pixel image; use a smaller scale or fewer panels")]
    ImageSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The generated SVG did not parse (a bug in this module).
    #[error("generated SVG could not be parsed: {message}")]
    Svg {
        /// The parser's message.
        message: String,
    },
    /// PNG encoding failed.
    #[error("PNG encoding failed: {message}")]
    Encode {
        /// The encoder's message.
        message: String,
    },
}

impl Figure {
    /// Number of grid columns and rows actually used.
    pub fn grid(&self) -> (usize, usize) {
        let n = self.panels.len();
        let cols = if self.columns == 0 {
            n.clamp(1, 3)
        } else {
            self.columns
        };
        (cols, n.div_ceil(cols))
    }

    fn title_height(&self) -> f64 {
        if self.title.trim().is_empty() {
            8.0
        } else {
            36.0
        }
    }

    fn caption_lines(&self, width: f64) -> Vec<String> {
        let max_chars = (((width - 40.0) / (12.0 * CHAR_WIDTH)) as usize).max(20);
        self.caption
            .as_deref()
            .map(|c| wrap(c, max_chars))
            .unwrap_or_default()
    }

    /// Size `(width, height)` of the SVG in user units.
    pub fn size(&self) -> (f64, f64) {
        let (cols, rows) = self.grid();
        let width = cols as f64 * PANEL_WIDTH;
        let caption = self.caption_lines(width).len() as f64 * 16.0;
        let caption = if caption > 0.0 { caption + 10.0 } else { 0.0 };
        let height = self.title_height() + rows as f64 * PANEL_HEIGHT + caption;
        (width, height.max(40.0))
    }

    /// The figure as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let (width, height) = self.size();
        let (cols, _) = self.grid();
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}">"#,
            w = num(width),
            h = num(height),
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="white"/>"#,
            num(width),
            num(height)
        );
        if !self.title.trim().is_empty() {
            // Shrink a long title to fit the figure width (bold DejaVu is about 0.68 em per character).
            let chars = self.title.chars().count().max(1) as f64;
            let size = ((width - 20.0) / (chars * 0.68)).clamp(10.0, 17.0);
            let _ = writeln!(
                s,
                r#"<text x="{}" y="24" font-size="{}" font-weight="bold" text-anchor="middle">{}</text>"#,
                num(width / 2.0),
                num(size),
                esc(&self.title)
            );
        }
        let top = self.title_height();
        for (i, panel) in self.panels.iter().enumerate() {
            let x0 = (i % cols) as f64 * PANEL_WIDTH;
            let y0 = top + (i / cols) as f64 * PANEL_HEIGHT;
            panel.write_svg(&mut s, i, x0, y0);
        }
        let lines = self.caption_lines(width);
        let rows = self.grid().1 as f64;
        let mut y = top + rows * PANEL_HEIGHT + 16.0;
        for line in lines {
            let _ = writeln!(
                s,
                r##"<text x="20" y="{}" font-size="12" fill="#222222">{}</text>"##,
                num(y),
                esc(&line)
            );
            y += 16.0;
        }
        s.push_str("</svg>\n");
        s
    }

    /// The figure rasterised to PNG; `scale` multiplies the SVG size (2.0 gives print resolution).
    pub fn to_png(&self, scale: f32) -> Result<Vec<u8>, PlotError> {
        svg_to_png(&self.to_svg(), scale, system_fonts())
    }
}

/// System fonts, loaded once per process; DejaVu Sans is the preferred sans-serif face.
fn system_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            let has = |db: &usvg::fontdb::Database, name: &str| {
                db.faces()
                    .any(|f| f.families.iter().any(|(fam, _)| fam == name))
            };
            if !has(&db, "DejaVu Sans") {
                db.load_fonts_dir("/usr/share/fonts/truetype/dejavu");
            }
            if has(&db, "DejaVu Sans") {
                db.set_sans_serif_family("DejaVu Sans");
            } else {
                let first = db
                    .faces()
                    .find_map(|f| f.families.first().map(|(fam, _)| fam.clone()));
                if let Some(family) = first {
                    db.set_sans_serif_family(family);
                }
            }
            Arc::new(db)
        })
        .clone()
}

/// Rasterises an SVG document with the given fonts (an empty database renders without text).
fn svg_to_png(
    svg: &str,
    scale: f32,
    fonts: Arc<usvg::fontdb::Database>,
) -> Result<Vec<u8>, PlotError> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(PlotError::InvalidScale { scale });
    }
    let options = usvg::Options {
        fontdb: fonts,
        font_family: "DejaVu Sans".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PlotError::Svg {
        message: e.to_string(),
    })?;
    let size = tree.size();
    let w = (f64::from(size.width()) * f64::from(scale)).ceil();
    let h = (f64::from(size.height()) * f64::from(scale)).ceil();
    let clamp = |v: f64| {
        if v.is_finite() && v >= 0.0 && v <= f64::from(u32::MAX) {
            v as u32
        } else {
            0
        }
    };
    let (width, height) = (clamp(w), clamp(h));
    let mut pixmap = (width <= 32_768 && height <= 32_768)
        .then(|| tiny_skia::Pixmap::new(width, height))
        .flatten()
        .ok_or(PlotError::ImageSize { width, height })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| PlotError::Encode {
        message: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Ticks

/// The 1-2-5 step giving about `target` intervals over `span` (> 0).
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Tick values on a linear axis over `[lo, hi]`: multiples of a 1-2-5 step, about `target`
/// intervals, all inside the range (to rounding), the first within one step of `lo` and the last
/// within one step of `hi`. Empty if the range is not finite and increasing.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    linear_ticks(lo, hi, target).0
}

fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return (Vec::new(), 1.0);
    }
    let step = nice_step(hi - lo, target);
    if !(step.is_finite() && step > 0.0) {
        return (Vec::new(), 1.0);
    }
    let eps = 1e-9;
    let i0 = (lo / step - eps).ceil();
    let i1 = (hi / step + eps).floor();
    if !(i0.is_finite() && i1.is_finite()) || i1 - i0 > 1000.0 {
        return (Vec::new(), step);
    }
    let mut ticks = Vec::new();
    let mut i = i0;
    while i <= i1 {
        // Multiply integer by step (not repeated addition) so values stay as exact as possible.
        let v = i * step;
        ticks.push(if v == 0.0 { 0.0 } else { v });
        i += 1.0;
    }
    (ticks, step)
}

/// Major and minor ticks of a log axis over `[lo, hi]` (both > 0): decades (every k-th decade
/// when there are many), 1×, 2× and 5× each decade when the range spans less than two decades, and linear
/// 1-2-5 ticks when the range is narrower than that. Minor ticks are 2..9 × each decade.
pub fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > lo) {
        return (Vec::new(), Vec::new());
    }
    let (l0, l1) = (lo.log10(), hi.log10());
    let eps = 1e-9;
    let e0 = (l0 - eps).ceil() as i32;
    let e1 = (l1 + eps).floor() as i32;
    let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let decades = e1 - e0 + 1;
    let mut minor = Vec::new();
    if l1 - l0 <= 8.0 {
        for e in (l0.floor() as i32)..=(l1.ceil() as i32) {
            for m in 2..=9 {
                let v = f64::from(m) * 10f64.powi(e);
                if inside(v) {
                    minor.push(v);
                }
            }
        }
    }
    if decades >= 2 && l1 - l0 >= 2.0 {
        let stride = ((e1 - e0) as f64 / 7.0).ceil().max(1.0) as i32;
        let major: Vec<f64> = (e0..=e1)
            .filter(|e| e.rem_euclid(stride) == 0)
            .map(|e| 10f64.powi(e))
            .collect();
        if stride > 1 {
            minor = (e0..=e1)
                .filter(|e| e.rem_euclid(stride) != 0)
                .map(|e| 10f64.powi(e))
                .collect();
        }
        return (major, minor);
    }
    let mut major = Vec::new();
    for e in (l0.floor() as i32)..=(l1.ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(e);
            if inside(v) {
                major.push(v);
            }
        }
    }
    if major.len() >= 3 {
        minor.retain(|v| !major.iter().any(|m| ((m - v) / m).abs() < 1e-9));
        return (major, minor);
    }
    (nice_ticks(lo, hi, 4), Vec::new())
}

const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

fn superscript(e: i32) -> String {
    let mut s = String::new();
    if e < 0 {
        s.push('⁻');
    }
    for c in e.unsigned_abs().to_string().chars() {
        s.push(SUPERSCRIPT[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

/// `v` as `m×10ᵉ` with the fewest mantissa digits that still resolve `step`.
fn scientific(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let e = v.abs().log10().floor() as i32;
    let m = v / 10f64.powi(e);
    let digits = (e - step.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let mut ms = format!("{m:.digits$}");
    if ms.contains('.') {
        ms = ms.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if ms == "1" {
        format!("10{}", superscript(e))
    } else if ms == "-1" {
        format!("−10{}", superscript(e))
    } else {
        format!("{}×10{}", ms.replace('-', "−"), superscript(e))
    }
}

/// Label for a linear-axis tick with spacing `step`; `scale` is the largest magnitude on the axis.
fn linear_label(v: f64, step: f64, scale: f64) -> String {
    if v == 0.0 || v.abs() < step * 1e-6 {
        return "0".into();
    }
    if scale >= 1e5 || step < 1e-3 {
        return scientific(v, step);
    }
    let decimals = (-(step.log10() + 1e-9).floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".to_string()
    } else {
        s
    };
    s.replace('-', "−")
}

/// Label for a log-axis major tick (1, 2 or 5 times a power of ten).
fn log_label(v: f64) -> String {
    let e = (v.log10() + 1e-9).floor() as i32;
    if (-3..=4).contains(&e) {
        let decimals = (-e).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        scientific(v, 10f64.powi(e))
    }
}

// ---------------------------------------------------------------------------------------------
// Axes

#[derive(Debug, Clone, Copy)]
struct Axis {
    /// Range in axis space (log10 of data for log axes).
    lo: f64,
    hi: f64,
    log: bool,
    /// Pixel positions of `lo` and `hi`.
    p0: f64,
    p1: f64,
}

impl Axis {
    /// Data value to axis space, `None` when it cannot be shown.
    fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return None;
        }
        Some(if self.log { v.log10() } else { v })
    }

    fn px(&self, v: f64) -> Option<f64> {
        self.t(v)
            .map(|t| self.p0 + (t - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0))
    }

    fn contains(&self, v: f64) -> bool {
        self.t(v).is_some_and(|t| {
            let tol = (self.hi - self.lo) * 1e-9;
            t >= self.lo - tol && t <= self.hi + tol
        })
    }

    /// Data value at the low end.
    fn lo_value(&self) -> f64 {
        if self.log {
            10f64.powf(self.lo)
        } else {
            self.lo
        }
    }

    fn hi_value(&self) -> f64 {
        if self.log {
            10f64.powf(self.hi)
        } else {
            self.hi
        }
    }
}

/// Collects values in axis space, ignoring what the axis cannot show and absurd magnitudes.
#[derive(Debug)]
struct Extent {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Extent {
    fn new(log: bool) -> Self {
        Self {
            log,
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    fn add(&mut self, v: f64) {
        if !v.is_finite() || v.abs() > 1e250 || (self.log && v <= 0.0) {
            return;
        }
        let t = if self.log { v.log10() } else { v };
        self.lo = self.lo.min(t);
        self.hi = self.hi.max(t);
    }

    fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// The final axis-space range: explicit if valid, else the data with a margin.
    fn finish(&self, explicit: Option<(f64, f64)>, sticky_zero: bool) -> (f64, f64) {
        if let Some((a, b)) = explicit {
            let ok = a.is_finite() && b.is_finite() && (!self.log || (a > 0.0 && b > 0.0));
            if ok {
                let (a, b) = if self.log {
                    (a.log10(), b.log10())
                } else {
                    (a, b)
                };
                let (a, b) = (a.min(b), a.max(b));
                if b - a > 1e-12 * a.abs().max(b.abs()).max(1e-300) {
                    return (a, b);
                }
            }
        }
        if self.is_empty() {
            // Nothing to fit: [0, 1] on a linear axis, [1, 10] (one decade) on a log axis.
            return (0.0, 1.0);
        }
        let (mut lo, mut hi) = (self.lo, self.hi);
        let mag = lo.abs().max(hi.abs());
        if hi - lo <= 1e-9 * mag || hi - lo == 0.0 {
            let d = if self.log {
                0.5
            } else if mag == 0.0 {
                1.0
            } else {
                0.1 * mag
            };
            return (lo - d, hi + d);
        }
        let pad = 0.04 * (hi - lo);
        if !(sticky_zero && lo == 0.0) {
            lo -= pad;
        }
        hi += pad;
        (lo, hi)
    }
}

// ---------------------------------------------------------------------------------------------
// Panel rendering

#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn grow(&self, d: f64) -> Rect {
        Rect {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }

    fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside `r`.
fn clip_segment(a: (f64, f64), b: (f64, f64), r: &Rect) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// SVG path data for a polyline with gaps (`None` breaks it), clipped to `r`.
fn path_data(points: &[Option<(f64, f64)>], r: &Rect) -> String {
    let mut d = String::new();
    let mut pen: Option<(f64, f64)> = None;
    for w in points.windows(2) {
        let (Some(a), Some(b)) = (w[0], w[1]) else {
            pen = None;
            continue;
        };
        let Some((a, b)) = clip_segment(a, b, r) else {
            pen = None;
            continue;
        };
        let joined = pen.is_some_and(|p| (p.0 - a.0).abs() < 1e-6 && (p.1 - a.1).abs() < 1e-6);
        if !joined {
            let _ = write!(d, "M{} {}", num(a.0), num(a.1));
        }
        let _ = write!(d, "L{} {}", num(b.0), num(b.1));
        pen = Some(b);
    }
    d
}

fn color_of(series: &Series, position: usize) -> usize {
    series.color.unwrap_or(position) % PALETTE.len()
}

fn dash_of(mark: Mark) -> Option<&'static str> {
    match mark {
        Mark::Dashed => Some("7 4"),
        Mark::Dotted => Some("1.5 3"),
        Mark::Steps => Some("5 3"),
        _ => None,
    }
}

/// A filled marker of shape `shape` (cycled with the colour) centred at `(x, y)`.
fn marker(s: &mut String, shape: usize, x: f64, y: f64, color: &str) {
    let r = 4.0;
    let style = format!(r#"fill="{color}" stroke="white" stroke-width="0.8""#);
    match shape % 5 {
        0 => {
            let _ = writeln!(
                s,
                r#"<circle cx="{}" cy="{}" r="{}" {style}/>"#,
                num(x),
                num(y),
                num(r)
            );
        }
        1 => {
            let a = r * 0.88;
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{}" {style}/>"#,
                num(x - a),
                num(y - a),
                num(2.0 * a),
                num(2.0 * a)
            );
        }
        2 => polygon(s, &[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)], r, x, y, &style),
        3 => polygon(
            s,
            &[(0.0, -1.3), (1.0, 0.0), (0.0, 1.3), (-1.0, 0.0)],
            r,
            x,
            y,
            &style,
        ),
        _ => polygon(s, &[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)], r, x, y, &style),
    }
}

fn polygon(s: &mut String, unit: &[(f64, f64)], r: f64, x: f64, y: f64, style: &str) {
    let pts: Vec<String> = unit
        .iter()
        .map(|(u, v)| format!("{},{}", num(x + u * r), num(y + v * r)))
        .collect();
    let _ = writeln!(s, r#"<polygon points="{}" {style}/>"#, pts.join(" "));
}

fn cross(s: &mut String, x: f64, y: f64, color: &str) {
    let a = 4.0;
    let _ = writeln!(
        s,
        r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke="{color}" stroke-width="1.8" fill="none"/>"#,
        num(x - a),
        num(y - a),
        num(x + a),
        num(y + a),
        num(x - a),
        num(y + a),
        num(x + a),
        num(y - a)
    );
}

/// One legend entry: what is drawn and how.
#[derive(Debug, Clone, PartialEq)]
struct LegendEntry {
    name: String,
    mark: Mark,
    color: usize,
    err: bool,
}

/// Bar width of a histogram: the smallest spacing between distinct finite centres.
fn bar_width(series: &Series, x: &Axis) -> f64 {
    let mut xs: Vec<f64> = series
        .points
        .iter()
        .map(|p| p.0)
        .filter(|v| v.is_finite())
        .collect();
    xs.sort_by(f64::total_cmp);
    let w = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    if w.is_finite() {
        w
    } else {
        match xs.first() {
            Some(&c) if c != 0.0 => 0.1 * c.abs(),
            _ => 0.05 * (x.hi_value() - x.lo_value()).abs().max(1e-12),
        }
    }
}

impl Panel {
    fn has_data(&self) -> bool {
        self.series.iter().any(|s| {
            s.points.iter().any(|&(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!self.x_log || x > 0.0)
                    && (!self.y_log || y > 0.0)
            })
        })
    }

    fn axes(&self, plot: &Rect) -> (Axis, Axis) {
        let mut ex = Extent::new(self.x_log);
        let mut ey = Extent::new(self.y_log);
        let mut sticky_zero = false;
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                if !(x.is_finite() && y.is_finite()) {
                    continue;
                }
                if (self.x_log && x <= 0.0) || (self.y_log && y <= 0.0) {
                    continue;
                }
                ex.add(x);
                ey.add(y);
                if let Some(e) = s
                    .yerr
                    .as_ref()
                    .and_then(|e| e.get(i))
                    .filter(|e| e.is_finite())
                {
                    ey.add(y + e.abs());
                    ey.add(y - e.abs());
                }
            }
            if s.mark == Mark::Bars && s.points.iter().any(|p| p.0.is_finite() && p.1.is_finite()) {
                // Provisional axis for the width fallback only.
                let provisional = Axis {
                    lo: ex.lo,
                    hi: ex.hi,
                    log: false,
                    p0: 0.0,
                    p1: 1.0,
                };
                let w = bar_width(s, &provisional);
                for &(x, _) in &s.points {
                    if x.is_finite() {
                        ex.add(x - w / 2.0);
                        ex.add(x + w / 2.0);
                    }
                }
                if !self.y_log {
                    ey.add(0.0);
                    sticky_zero = true;
                }
            }
        }
        for (x, _) in &self.vlines {
            ex.add(*x);
        }
        for (y, _) in &self.hlines {
            ey.add(*y);
        }
        for (x, y, _) in &self.annotations {
            if x.is_finite() && y.is_finite() {
                ex.add(*x);
                ey.add(*y);
            }
        }
        let (xlo, xhi) = ex.finish(self.x_range, false);
        let (ylo, yhi) = ey.finish(self.y_range, sticky_zero && ey.lo == 0.0);
        (
            Axis {
                lo: xlo,
                hi: xhi,
                log: self.x_log,
                p0: plot.x0,
                p1: plot.x1,
            },
            Axis {
                lo: ylo,
                hi: yhi,
                log: self.y_log,
                p0: plot.y1,
                p1: plot.y0,
            },
        )
    }

    /// Major ticks with labels, and minor ticks, of an axis.
    fn ticks(axis: &Axis, target: usize) -> (Vec<(f64, String)>, Vec<f64>) {
        let (lo, hi) = (axis.lo_value(), axis.hi_value());
        if axis.log {
            let (major, minor) = log_ticks(lo, hi);
            let decade_like = major.iter().all(|v| {
                let m = v / 10f64.powf((v.log10() + 1e-9).floor());
                [1.0, 2.0, 5.0].iter().any(|n| (m - n).abs() < 1e-6)
            });
            let labelled = if decade_like {
                major.iter().map(|&v| (v, log_label(v))).collect()
            } else {
                let step = if major.len() >= 2 {
                    major[1] - major[0]
                } else {
                    hi - lo
                };
                let scale = lo.abs().max(hi.abs());
                major
                    .iter()
                    .map(|&v| (v, linear_label(v, step, scale)))
                    .collect()
            };
            (labelled, minor)
        } else {
            let (major, step) = linear_ticks(lo, hi, target);
            let scale = lo.abs().max(hi.abs());
            (
                major
                    .iter()
                    .map(|&v| (v, linear_label(v, step, scale)))
                    .collect(),
                Vec::new(),
            )
        }
    }

    fn legend_entries(&self) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            if s.name.trim().is_empty() {
                continue;
            }
            let e = LegendEntry {
                name: s.name.clone(),
                mark: s.mark,
                color: color_of(s, i),
                err: s.yerr.is_some() && matches!(s.mark, Mark::Markers | Mark::Crosses),
            };
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    fn write_svg(&self, s: &mut String, index: usize, x0: f64, y0: f64) {
        let plot = Rect {
            x0: x0 + MARGIN_LEFT,
            y0: y0 + MARGIN_TOP,
            x1: x0 + PANEL_WIDTH - MARGIN_RIGHT,
            y1: y0 + PANEL_HEIGHT - MARGIN_BOTTOM,
        };
        let (xa, ya) = self.axes(&plot);
        let clip_id = format!("panel{index}-clip");
        let far = plot.grow(50.0);
        let px = |x: f64, y: f64| -> Option<(f64, f64)> { Some((xa.px(x)?, ya.px(y)?)) };

        let _ = writeln!(s, r#"<g class="panel">"#);
        let _ = writeln!(
            s,
            r#"<defs><clipPath id="{clip_id}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath></defs>"#,
            num(plot.x0),
            num(plot.y0),
            num(plot.x1 - plot.x0),
            num(plot.y1 - plot.y0)
        );
        if !self.title.trim().is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" font-size="14" font-weight="bold" text-anchor="middle">{}</text>"#,
                num((plot.x0 + plot.x1) / 2.0),
                num(y0 + 20.0),
                esc(&self.title)
            );
        }

        // Grid and ticks.
        let (xt, xminor) = Self::ticks(&xa, 6);
        let (yt, yminor) = Self::ticks(&ya, 5);
        let mut grid = String::new();
        let mut tick_marks = String::new();
        let mut labels = String::new();
        for (v, label) in &xt {
            let Some(p) = xa.px(*v).filter(|_| xa.contains(*v)) else {
                continue;
            };
            let _ = write!(grid, "M{} {}V{}", num(p), num(plot.y0), num(plot.y1));
            let _ = write!(tick_marks, "M{} {}v5", num(p), num(plot.y1));
            let _ = writeln!(
                labels,
                r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>"#,
                num(p),
                num(plot.y1 + 19.0),
                esc(label)
            );
        }
        for v in &xminor {
            let Some(p) = xa.px(*v).filter(|_| xa.contains(*v)) else {
                continue;
            };
            let _ = write!(tick_marks, "M{} {}v3", num(p), num(plot.y1));
        }
        for (v, label) in &yt {
            let Some(p) = ya.px(*v).filter(|_| ya.contains(*v)) else {
                continue;
            };
            let _ = write!(grid, "M{} {}H{}", num(plot.x0), num(p), num(plot.x1));
            let _ = write!(tick_marks, "M{} {}h-5", num(plot.x0), num(p));
            let _ = writeln!(
                labels,
                r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
                num(plot.x0 - 8.0),
                num(p + 4.0),
                esc(label)
            );
        }
        for v in &yminor {
            let Some(p) = ya.px(*v).filter(|_| ya.contains(*v)) else {
                continue;
            };
            let _ = write!(tick_marks, "M{} {}h-3", num(plot.x0), num(p));
        }
        if !grid.is_empty() {
            let _ = writeln!(
                s,
                r##"<path d="{grid}" stroke="#e3e3e3" stroke-width="1" fill="none"/>"##
            );
        }

        // Data, clipped to the plot area.
        let _ = writeln!(s, r#"<g clip-path="url(#{clip_id})">"#);
        // Bars first, so lines and markers sit on top of histograms.
        for (i, series) in self.series.iter().enumerate() {
            if series.mark != Mark::Bars {
                continue;
            }
            let color = PALETTE[color_of(series, i)];
            let w = bar_width(series, &xa);
            let base = if ya.log {
                plot.y1
            } else {
                ya.px(0.0).unwrap_or(plot.y1)
            }
            .clamp(far.y0, far.y1);
            for &(x, y) in &series.points {
                let (Some(l), Some(r), Some(top)) =
                    (xa.px(x - w / 2.0), xa.px(x + w / 2.0), ya.px(y))
                else {
                    continue;
                };
                let (l, r) = (l.clamp(far.x0, far.x1), r.clamp(far.x0, far.x1));
                let top = top.clamp(far.y0, far.y1);
                if r - l <= 0.0 {
                    continue;
                }
                let _ = writeln!(
                    s,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{color}" fill-opacity="0.45" stroke="{color}" stroke-width="0.6"/>"#,
                    num(l),
                    num(top.min(base)),
                    num(r - l),
                    num((base - top).abs())
                );
            }
        }
        // Reference lines under the data.
        for (x, _) in &self.vlines {
            if let Some(p) = xa.px(*x).filter(|_| xa.contains(*x)) {
                let _ = writeln!(
                    s,
                    r#"<path d="M{} {}V{}" stroke="{THRESHOLD_GREY}" stroke-width="1.2" stroke-dasharray="5 4" fill="none"/>"#,
                    num(p),
                    num(plot.y0),
                    num(plot.y1)
                );
            }
        }
        for (y, _) in &self.hlines {
            if let Some(p) = ya.px(*y).filter(|_| ya.contains(*y)) {
                let _ = writeln!(
                    s,
                    r#"<path d="M{} {}H{}" stroke="{THRESHOLD_GREY}" stroke-width="1.2" stroke-dasharray="9 3 2 3" fill="none"/>"#,
                    num(plot.x0),
                    num(p),
                    num(plot.x1)
                );
            }
        }
        // Lines and steps.
        for (i, series) in self.series.iter().enumerate() {
            let color = PALETTE[color_of(series, i)];
            let pts: Vec<Option<(f64, f64)>> = match series.mark {
                Mark::Line | Mark::Dashed | Mark::Dotted => {
                    series.points.iter().map(|&(x, y)| px(x, y)).collect()
                }
                Mark::Steps => {
                    let mut v = Vec::new();
                    for (k, &(x, y)) in series.points.iter().enumerate() {
                        let here = px(x, y);
                        v.push(here);
                        if let (Some(h), Some(&(nx, ny))) = (here, series.points.get(k + 1)) {
                            // Corner at the next x, current height (if the next point is drawable).
                            v.push(px(nx, ny).map(|n| (n.0, h.1)));
                        }
                    }
                    v
                }
                _ => continue,
            };
            let d = path_data(&pts, &far);
            if d.is_empty() {
                continue;
            }
            let dash = dash_of(series.mark)
                .map(|d| format!(r#" stroke-dasharray="{d}""#))
                .unwrap_or_default();
            let width = if series.mark == Mark::Dotted {
                2.2
            } else {
                1.9
            };
            let _ = writeln!(
                s,
                r#"<path d="{d}" stroke="{color}" stroke-width="{width}"{dash} stroke-linejoin="round" stroke-linecap="{}" fill="none"/>"#,
                if series.mark == Mark::Dotted {
                    "round"
                } else {
                    "butt"
                }
            );
        }
        // Error bars, markers, crosses.
        for (i, series) in self.series.iter().enumerate() {
            if !matches!(series.mark, Mark::Markers | Mark::Crosses) {
                continue;
            }
            let ci = color_of(series, i);
            let color = PALETTE[ci];
            if let Some(err) = &series.yerr {
                let mut d = String::new();
                for (&(x, y), &e) in series.points.iter().zip(err) {
                    let (Some(p), true) = (px(x, y), e.is_finite()) else {
                        continue;
                    };
                    if !far.contains(p) {
                        continue;
                    }
                    let e = e.abs();
                    let top = ya.px(y + e).unwrap_or(far.y0).clamp(far.y0, far.y1);
                    let bottom = ya.px(y - e).unwrap_or(far.y1).clamp(far.y0, far.y1);
                    let _ = write!(
                        d,
                        "M{} {}V{}M{} {}h6M{} {}h6",
                        num(p.0),
                        num(top),
                        num(bottom),
                        num(p.0 - 3.0),
                        num(top),
                        num(p.0 - 3.0),
                        num(bottom)
                    );
                }
                if !d.is_empty() {
                    let _ = writeln!(
                        s,
                        r#"<path d="{d}" stroke="{color}" stroke-width="1.2" fill="none"/>"#
                    );
                }
            }
            for &(x, y) in &series.points {
                let Some(p) = px(x, y).filter(|p| far.contains(*p)) else {
                    continue;
                };
                if series.mark == Mark::Markers {
                    marker(s, ci, p.0, p.1, color);
                } else {
                    cross(s, p.0, p.1, color);
                }
            }
        }
        let _ = writeln!(s, "</g>");

        // Frame, ticks, tick labels, axis labels.
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="black" stroke-width="1"/>"#,
            num(plot.x0),
            num(plot.y0),
            num(plot.x1 - plot.x0),
            num(plot.y1 - plot.y0)
        );
        if !tick_marks.is_empty() {
            let _ = writeln!(
                s,
                r#"<path d="{tick_marks}" stroke="black" stroke-width="1" fill="none"/>"#
            );
        }
        s.push_str(&labels);
        if !self.x_label.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" font-size="13" text-anchor="middle">{}</text>"#,
                num((plot.x0 + plot.x1) / 2.0),
                num(plot.y1 + 40.0),
                esc(&self.x_label)
            );
        }
        if !self.y_label.is_empty() {
            let (lx, ly) = (x0 + 16.0, (plot.y0 + plot.y1) / 2.0);
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" font-size="13" text-anchor="middle" transform="rotate(-90 {} {})">{}</text>"#,
                num(lx),
                num(ly),
                num(lx),
                num(ly),
                esc(&self.y_label)
            );
        }

        // Labels of reference lines (below the legend where it would hide them), annotations.
        let legend = self.legend_place(&plot, &xa, &ya);
        for (x, label) in &self.vlines {
            if label.is_empty() {
                continue;
            }
            if let Some(p) = xa.px(*x).filter(|_| xa.contains(*x)) {
                let len = label.chars().count() as f64 * 11.0 * CHAR_WIDTH;
                let mut ly = plot.y0 + 4.0;
                if let Some((_, b)) = &legend
                    && p - 14.0 < b.x1
                    && p > b.x0
                    && ly < b.y1
                    && b.y1 + 4.0 + len < plot.y1
                {
                    ly = b.y1 + 4.0;
                }
                let lx = p - 3.0;
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" font-size="11" fill="{THRESHOLD_GREY}" {HALO} text-anchor="end" transform="rotate(-90 {} {})">{}</text>"#,
                    num(lx),
                    num(ly),
                    num(lx),
                    num(ly),
                    esc(label)
                );
            }
        }
        for (y, label) in &self.hlines {
            if label.is_empty() {
                continue;
            }
            if let Some(p) = ya.px(*y).filter(|_| ya.contains(*y)) {
                let ty = if p - 16.0 < plot.y0 {
                    p + 13.0
                } else {
                    p - 4.0
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" font-size="11" fill="{THRESHOLD_GREY}" {HALO} text-anchor="end">{}</text>"#,
                    num(plot.x1 - 4.0),
                    num(ty),
                    esc(label)
                );
            }
        }
        for (x, y, text) in &self.annotations {
            let Some(p) = px(*x, *y).filter(|p| plot.contains(*p)) else {
                continue;
            };
            let width = text.chars().count() as f64 * 12.0 * CHAR_WIDTH;
            let (tx, anchor) = if p.0 + 6.0 + width > plot.x1 {
                (p.0 - 6.0, "end")
            } else {
                (p.0 + 6.0, "start")
            };
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" font-size="12" fill="#111111" {HALO} text-anchor="{anchor}">{}</text>"##,
                num(tx),
                num(p.1 + 4.0),
                esc(text)
            );
        }

        if let Some((entries, b)) = &legend {
            self.write_legend(s, entries, b);
        }

        // Note, or a visible "no data" for an empty panel.
        let message = match &self.note {
            Some(n) if !n.trim().is_empty() => Some((n.as_str(), "#7a0000", "13")),
            _ if !self.has_data() => Some(("no data", "#777777", "13")),
            _ => None,
        };
        if let Some((text, color, size)) = message {
            let w = text.chars().count() as f64 * 13.0 * CHAR_WIDTH + 20.0;
            let (cx, cy) = ((plot.x0 + plot.x1) / 2.0, (plot.y0 + plot.y1) / 2.0);
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="26" rx="3" fill="white" fill-opacity="0.9" stroke="{color}" stroke-width="1.2" stroke-dasharray="4 2"/>"#,
                num(cx - w / 2.0),
                num(cy - 14.0),
                num(w)
            );
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" font-size="{size}" font-style="italic" fill="{color}" text-anchor="middle">{}</text>"#,
                num(cx),
                num(cy + 4.0),
                esc(text)
            );
        }
        let _ = writeln!(s, "</g>");
    }

    /// Legend in the corner of the plot area that hides the fewest data points.
    /// Where the legend goes: its entries and box, in the corner that hides the least data and
    /// the fewest threshold labels; None without named series.
    fn legend_place(&self, plot: &Rect, xa: &Axis, ya: &Axis) -> Option<(Vec<LegendEntry>, Rect)> {
        let entries = self.legend_entries();
        if entries.is_empty() {
            return None;
        }
        let font = 11.0;
        let row = 16.0;
        let longest = entries
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0) as f64;
        let w = 10.0 + 26.0 + 6.0 + longest * font * CHAR_WIDTH + 8.0;
        let h = entries.len() as f64 * row + 8.0;
        let inset = 6.0;

        // Sample the drawn data in pixel space.
        let mut samples: Vec<(f64, f64)> = Vec::new();
        for series in &self.series {
            let pts: Vec<Option<(f64, f64)>> = series
                .points
                .iter()
                .map(|&(x, y)| Some((xa.px(x)?, ya.px(y)?)))
                .collect();
            let joined = matches!(
                series.mark,
                Mark::Line | Mark::Dashed | Mark::Dotted | Mark::Steps
            );
            for (k, p) in pts.iter().enumerate() {
                let Some(p) = p else { continue };
                samples.push(*p);
                if let (true, Some(Some(q))) = (joined, pts.get(k + 1)) {
                    for j in 1..8 {
                        let t = f64::from(j) / 8.0;
                        samples.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
                    }
                }
                if series.mark == Mark::Bars {
                    let base = if ya.log {
                        plot.y1
                    } else {
                        ya.px(0.0).unwrap_or(plot.y1)
                    };
                    for j in 1..6 {
                        let t = f64::from(j) / 6.0;
                        samples.push((p.0, p.1 + t * (base - p.1)));
                    }
                }
            }
        }
        // Threshold labels run down from the top along their line: keep the legend off them
        // (weighted like several data points each, since hiding a label loses its meaning).
        for (x, label) in &self.vlines {
            if label.is_empty() {
                continue;
            }
            if let Some(p) = xa.px(*x).filter(|_| xa.contains(*x)) {
                let len = label.chars().count() as f64 * 11.0 * CHAR_WIDTH;
                for j in 0..=10 {
                    let pt = (p - 8.0, plot.y0 + 4.0 + len * f64::from(j) / 10.0);
                    samples.extend([pt; 4]);
                }
            }
        }
        let corners = [
            (plot.x1 - inset - w, plot.y0 + inset),
            (plot.x0 + inset, plot.y0 + inset),
            (plot.x1 - inset - w, plot.y1 - inset - h),
            (plot.x0 + inset, plot.y1 - inset - h),
        ];
        let (lx, ly) = corners
            .iter()
            .copied()
            .min_by_key(|&(cx, cy)| {
                let r = Rect {
                    x0: cx,
                    y0: cy,
                    x1: cx + w,
                    y1: cy + h,
                };
                samples.iter().filter(|p| r.contains(**p)).count()
            })
            .unwrap_or(corners[0]);
        Some((
            entries,
            Rect {
                x0: lx,
                y0: ly,
                x1: lx + w,
                y1: ly + h,
            },
        ))
    }

    fn write_legend(&self, s: &mut String, entries: &[LegendEntry], bx: &Rect) {
        let (lx, ly, w, h) = (bx.x0, bx.y0, bx.x1 - bx.x0, bx.y1 - bx.y0);
        let (font, row) = (11.0, 16.0);
        let _ = writeln!(
            s,
            r##"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="white" fill-opacity="0.88" stroke="#999999" stroke-width="0.8"/>"##,
            num(lx),
            num(ly),
            num(w),
            num(h)
        );
        for (k, e) in entries.iter().enumerate() {
            let cy = ly + 4.0 + row * (k as f64 + 0.5);
            let (sx0, sx1) = (lx + 8.0, lx + 34.0);
            let mid = (sx0 + sx1) / 2.0;
            let color = PALETTE[e.color];
            match e.mark {
                Mark::Line | Mark::Dashed | Mark::Dotted => {
                    let dash = dash_of(e.mark)
                        .map(|d| format!(r#" stroke-dasharray="{d}""#))
                        .unwrap_or_default();
                    let width = if e.mark == Mark::Dotted { 2.2 } else { 1.9 };
                    let cap = if e.mark == Mark::Dotted {
                        "round"
                    } else {
                        "butt"
                    };
                    let _ = writeln!(
                        s,
                        r#"<path d="M{} {}H{}" stroke="{color}" stroke-width="{width}"{dash} stroke-linecap="{cap}" fill="none"/>"#,
                        num(sx0),
                        num(cy),
                        num(sx1)
                    );
                }
                Mark::Steps => {
                    let _ = writeln!(
                        s,
                        r#"<path d="M{} {}H{}V{}H{}" stroke="{color}" stroke-width="1.9" stroke-dasharray="5 3" fill="none"/>"#,
                        num(sx0),
                        num(cy - 4.0),
                        num(mid),
                        num(cy + 4.0),
                        num(sx1)
                    );
                }
                Mark::Bars => {
                    let _ = writeln!(
                        s,
                        r#"<rect x="{}" y="{}" width="16" height="10" fill="{color}" fill-opacity="0.45" stroke="{color}" stroke-width="0.6"/>"#,
                        num(mid - 8.0),
                        num(cy - 5.0)
                    );
                }
                Mark::Markers | Mark::Crosses => {
                    if e.err {
                        let _ = writeln!(
                            s,
                            r#"<path d="M{} {}V{}M{} {}h6M{} {}h6" stroke="{color}" stroke-width="1.2" fill="none"/>"#,
                            num(mid),
                            num(cy - 7.0),
                            num(cy + 7.0),
                            num(mid - 3.0),
                            num(cy - 7.0),
                            num(mid - 3.0),
                            num(cy + 7.0)
                        );
                    }
                    if e.mark == Mark::Markers {
                        marker(s, e.color, mid, cy, color);
                    } else {
                        cross(s, mid, cy, color);
                    }
                }
            }
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" font-size="{font}">{}</text>"#,
                num(sx1 + 6.0),
                num(cy + 4.0),
                esc(&e.name)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/// A coordinate for SVG: two decimals, never NaN or infinite (those become 0; callers skip them first).
fn num(v: f64) -> String {
    if !v.is_finite() {
        debug_assert!(false, "non-finite coordinate reached the SVG writer");
        return "0".into();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Escapes text for XML character data and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Greedy word wrap to at most `max_chars` per line (longer words stay whole); honours newlines.
fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max_chars {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the SVG is well-formed enough: one root, every element closed, no NaN/inf.
    fn assert_well_formed(svg: &str) {
        assert!(
            svg.starts_with("<svg"),
            "does not start with <svg: {}",
            &svg[..40.min(svg.len())]
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "SVG contains {bad}");
        }
        // Balanced tags: a stack of open element names.
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("unterminated tag") + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.trim()),
                    "mismatched </{name}>"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("");
                stack.push(name.to_string());
            }
            assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        // Text content must not contain raw '&' that is not an entity.
        for (i, _) in svg.match_indices('&') {
            let tail = &svg[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| tail.starts_with(e)),
                "unescaped & at {i}"
            );
        }
    }

    fn demo_figure() -> Figure {
        let alphas: Vec<f64> = (0..=18).map(|i| f64::from(i) * 0.025).collect();
        let theory: Vec<(f64, f64)> = alphas
            .iter()
            .map(|&a| {
                (
                    a,
                    0.9 - 0.3 * f64::from(u8::from(a > 0.25))
                        - 0.15 * f64::from(u8::from(a > 1.0 / 3.0)),
                )
            })
            .collect();
        let sim: Vec<(f64, f64)> = theory
            .iter()
            .enumerate()
            .map(|(i, &(a, e))| (a, e + 0.02 * ((i as f64) * 1.7).sin()))
            .collect();
        let err = vec![0.025; sim.len()];
        let lines: Vec<(f64, f64)> = alphas
            .iter()
            .map(|&a| (a, 0.5 + 0.4 * (-8.0 * a).exp()))
            .collect();
        let errors = Panel {
            title: "Test error, target B".into(),
            x_label: "α = log η / log n".into(),
            y_label: "test error".into(),
            series: vec![
                Series::new("NN (mean ± sd)", Mark::Markers, sim)
                    .with_yerr(err)
                    .with_color(0),
                Series::new("spiked equivalent", Mark::Line, theory.clone()).with_color(0),
                Series::new("conditional Gaussian eq.", Mark::Dashed, lines).with_color(1),
                Series::new(
                    "ℓ = 1, 2 levels",
                    Mark::Steps,
                    vec![(0.0, 0.8), (0.25, 0.55), (1.0 / 3.0, 0.45), (0.45, 0.45)],
                )
                .with_color(2),
                Series::new(
                    "theory points",
                    Mark::Crosses,
                    theory.iter().step_by(3).copied().collect(),
                )
                .with_color(3),
            ],
            vlines: vec![
                (0.25, "α = 1/4".into()),
                (1.0 / 3.0, "α = 1/3".into()),
                (0.375, "α = 3/8".into()),
            ],
            hlines: vec![(0.95, "RF".into()), (0.42, "best linear".into())],
            ..Panel::default()
        };
        let centers: Vec<f64> = (0..40).map(|i| 0.05 + f64::from(i) * 0.1).collect();
        let hist: Vec<(f64, f64)> = centers
            .iter()
            .map(|&c| (c, (1.0 - ((c - 2.0) / 2.0).powi(2)).max(0.0).sqrt() * 0.6))
            .collect();
        let spectrum = Panel {
            title: "Singular values of F, α = 0.3".into(),
            x_label: "singular value".into(),
            y_label: "density".into(),
            series: vec![
                Series::new("F (simulation)", Mark::Bars, hist.clone()),
                Series::new("bulk of F₀", Mark::Line, hist).with_color(6),
                Series::new("spikes", Mark::Crosses, vec![(5.0, 0.05), (7.2, 0.05)]).with_color(1),
            ],
            annotations: vec![(5.0, 0.08, "k=2".into()), (7.2, 0.08, "k=1".into())],
            ..Panel::default()
        };
        let ns: [f64; 6] = [256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0];
        let equivalence = Panel {
            title: "|error(NN) − error(eq.)|".into(),
            x_label: "n".into(),
            y_label: "absolute difference".into(),
            x_log: true,
            y_log: true,
            series: vec![
                Series::new(
                    "α = 0.2",
                    Mark::Markers,
                    ns.iter().map(|&n| (n, 3.0 / n.sqrt())).collect(),
                )
                .with_yerr(ns.iter().map(|&n| 0.5 / n.sqrt()).collect()),
                Series::new(
                    "α = 0.3",
                    Mark::Markers,
                    ns.iter().map(|&n| (n, 1.0 / n.sqrt())).collect(),
                ),
                Series::new(
                    "∝ n^(−1/2)",
                    Mark::Dotted,
                    ns.iter().map(|&n| (n, 2.0 / n.sqrt())).collect(),
                )
                .with_color(6),
            ],
            ..Panel::default()
        };
        let missing = Panel {
            title: "Overlap ⟨β, β*⟩".into(),
            x_label: "n / d".into(),
            y_label: "overlap".into(),
            series: vec![Series::new(
                "simulation",
                Mark::Markers,
                vec![(0.5, 0.2), (1.0, 0.4), (2.0, 0.6), (4.0, 0.75)],
            )],
            note: Some("theory not available yet".into()),
            ..Panel::default()
        };
        Figure {
            title: "onestep demo: errors, spectrum, equivalence, overlap".into(),
            panels: vec![errors, spectrum, equivalence, missing],
            columns: 2,
            caption: Some(
                "Demo of every mark: markers with error bars (simulation), lines and crosses (theory), dashed steps, \
                 histogram bars, log–log axes, thresholds, annotations and a note for missing theory."
                    .into(),
            ),
        }
    }

    #[test]
    fn svg_is_well_formed_and_lists_every_series() {
        let fig = demo_figure();
        let svg = fig.to_svg();
        assert_well_formed(&svg);
        for panel in &fig.panels {
            for s in &panel.series {
                assert!(svg.contains(&esc(&s.name)), "legend lacks {}", s.name);
            }
            for (_, l) in &panel.vlines {
                assert!(svg.contains(&esc(l)), "threshold label {l} missing");
            }
        }
        assert!(svg.contains("theory not available yet"));
        assert!(
            svg.contains("stroke-dasharray=\"5 4\""),
            "thresholds are dashed"
        );
        assert!(svg.contains("k=2"));
    }

    #[test]
    fn text_is_escaped() {
        let fig = Figure {
            title: "a < b & c > \"d\" 'e'".into(),
            panels: vec![Panel {
                series: vec![Series::new(
                    "<script>&",
                    Mark::Line,
                    vec![(0.0, 1.0), (1.0, 2.0)],
                )],
                ..Panel::new("x<y", "a&b", "c>d")
            }],
            columns: 1,
            caption: Some("R&D <3".into()),
        };
        let svg = fig.to_svg();
        assert_well_formed(&svg);
        assert!(svg.contains("a &lt; b &amp; c &gt; &quot;d&quot; &apos;e&apos;"));
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn nice_ticks_are_1_2_5_multiples_covering_the_range() {
        let cases = [
            (0.0, 1.0),
            (0.0, 0.45),
            (-3.7, 12.2),
            (0.013, 0.0171),
            (1e6, 3.3e6),
            (-1e-7, 1e-7),
            (97.0, 103.0),
            (-5.0, -4.0),
        ];
        for (lo, hi) in cases {
            for target in [3, 5, 6, 8] {
                let ticks = nice_ticks(lo, hi, target);
                assert!(
                    ticks.len() >= 2,
                    "too few ticks for [{lo}, {hi}]: {ticks:?}"
                );
                assert!(
                    ticks.len() <= 2 * target + 2,
                    "too many ticks for [{lo}, {hi}]: {ticks:?}"
                );
                let step = ticks[1] - ticks[0];
                let mag = 10f64.powf(step.log10().floor());
                let m = step / mag;
                assert!(
                    [1.0, 2.0, 5.0, 10.0].iter().any(|n| (m - n).abs() < 1e-6),
                    "step {step} is not 1-2-5 for [{lo}, {hi}]"
                );
                for w in ticks.windows(2) {
                    assert!(
                        ((w[1] - w[0]) - step).abs() < 1e-9 * step.max(1.0),
                        "uneven ticks {ticks:?}"
                    );
                }
                for &t in &ticks {
                    assert!(
                        (t / step - (t / step).round()).abs() < 1e-6,
                        "{t} not a multiple of {step}"
                    );
                    let tol = 1e-9 * (hi - lo);
                    assert!(t >= lo - tol && t <= hi + tol, "{t} outside [{lo}, {hi}]");
                }
                assert!(ticks[0] - lo < step + 1e-12 && hi - ticks[ticks.len() - 1] < step + 1e-12);
            }
        }
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::INFINITY, 5).is_empty());
    }

    #[test]
    fn tick_labels_read_cleanly() {
        let (ticks, step) = linear_ticks(0.0, 1.0, 5);
        let labels: Vec<String> = ticks.iter().map(|&v| linear_label(v, step, 1.0)).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(linear_label(2000.0, 500.0, 2000.0), "2000");
        assert_eq!(linear_label(-0.5, 0.5, 1.0), "−0.5");
        assert_eq!(linear_label(2.5e6, 5e5, 3e6), "2.5×10⁶");
        assert_eq!(log_label(1e-5), "10⁻⁵");
        assert_eq!(log_label(0.01), "0.01");
        assert_eq!(log_label(1000.0), "1000");
        assert_eq!(log_label(2e6), "2×10⁶");
    }

    #[test]
    fn log_ticks_are_decades() {
        let (major, minor) = log_ticks(3.0, 20_000.0);
        assert_eq!(major, vec![10.0, 100.0, 1000.0, 10_000.0]);
        assert!(minor.contains(&3.0) && minor.contains(&20_000.0) && !minor.contains(&10.0));
        // Many decades: every k-th decade labelled, covering the range.
        let (major, _) = log_ticks(1e-12, 1e12);
        assert!(major.len() >= 3 && major.len() <= 9, "{major:?}");
        assert!(
            major
                .iter()
                .all(|v| (v.log10() - v.log10().round()).abs() < 1e-9)
        );
        assert!(major[0] <= 1e-6 && major[major.len() - 1] >= 1e6);
        // Less than two decades: 1-2-5 within.
        let (major, _) = log_ticks(0.15, 4.0);
        assert_eq!(major, vec![0.2, 0.5, 1.0, 2.0]);
        // Narrow: linear fallback, still inside and increasing.
        let (major, _) = log_ticks(3.0, 4.0);
        assert!(major.len() >= 2 && major.windows(2).all(|w| w[1] > w[0]));
        assert!(major.iter().all(|&v| (3.0..=4.0).contains(&v)));
        assert!(log_ticks(0.0, 10.0).0.is_empty());
        assert!(log_ticks(-1.0, 10.0).0.is_empty());
    }

    #[test]
    fn log_axes_ignore_non_positive_values() {
        let panel = Panel {
            x_log: true,
            y_log: true,
            series: vec![
                Series::new(
                    "s",
                    Mark::Line,
                    vec![
                        (-1.0, 5.0),
                        (0.0, 1.0),
                        (1.0, 0.0),
                        (10.0, 100.0),
                        (100.0, -3.0),
                        (1000.0, 10.0),
                    ],
                )
                .with_yerr(vec![1.0; 6]),
            ],
            ..Panel::default()
        };
        let plot = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 100.0,
            y1: 100.0,
        };
        let (xa, ya) = panel.axes(&plot);
        assert!(xa.lo_value() > 1.0 && xa.lo_value() < 10.0 && xa.hi_value() > 1000.0);
        assert!(ya.lo_value() > 1.0 && ya.hi_value() > 100.0);
        let svg = Figure {
            panels: vec![panel],
            ..Figure::default()
        }
        .to_svg();
        assert_well_formed(&svg);
        // Error bars on log axes whose lower end is non-positive still render.
        let panel = Panel {
            y_log: true,
            series: vec![
                Series::new("m", Mark::Markers, vec![(1.0, 1.0), (2.0, 2.0)])
                    .with_yerr(vec![5.0, 5.0]),
            ],
            ..Panel::default()
        };
        assert_well_formed(
            &Figure {
                panels: vec![panel],
                ..Figure::default()
            }
            .to_svg(),
        );
    }

    #[test]
    fn nan_empty_and_degenerate_inputs_do_not_panic() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let panels = vec![
            Panel::default(),
            Panel {
                series: vec![Series::new("nothing", Mark::Markers, vec![])],
                ..Panel::default()
            },
            Panel {
                series: vec![
                    Series::new(
                        "all nan",
                        Mark::Line,
                        vec![(nan, nan), (inf, 1.0), (1.0, -inf)],
                    ),
                    Series::new("one point", Mark::Bars, vec![(2.0, 3.0)]),
                    Series::new(
                        "gaps",
                        Mark::Steps,
                        vec![(0.0, 1.0), (nan, 2.0), (2.0, 2.0), (3.0, 1.0)],
                    ),
                    Series::new("err mismatch", Mark::Markers, vec![(0.0, 1.0), (1.0, 2.0)])
                        .with_yerr(vec![nan]),
                    Series::new(
                        "huge",
                        Mark::Crosses,
                        vec![(1e300, -1e300), (1e-300, 1e-300)],
                    ),
                ],
                vlines: vec![(nan, "nan line".into()), (inf, "".into())],
                hlines: vec![(nan, "h".into())],
                annotations: vec![(nan, 0.0, "lost".into())],
                x_range: Some((nan, 1.0)),
                y_range: Some((1.0, 1.0)),
                ..Panel::default()
            },
            Panel {
                series: vec![Series::new(
                    "constant",
                    Mark::Line,
                    vec![(1.0, 5.0), (1.0, 5.0)],
                )],
                x_log: true,
                y_log: true,
                x_range: Some((-1.0, 10.0)),
                ..Panel::default()
            },
            Panel {
                series: vec![
                    Series::new("zoomed", Mark::Line, vec![(0.0, 0.0), (1e6, 1e6)])
                        .with_color(usize::MAX),
                ],
                x_range: Some((0.4, 0.6)),
                y_range: Some((0.6, 0.4)),
                ..Panel::default()
            },
        ];
        for columns in [0, 1, 2, 7] {
            let fig = Figure {
                title: String::new(),
                panels: panels.clone(),
                columns,
                caption: None,
            };
            let svg = fig.to_svg();
            assert_well_formed(&svg);
        }
        let svg = Figure {
            panels: panels.clone(),
            columns: 3,
            ..Figure::default()
        }
        .to_svg();
        assert!(svg.contains("no data"), "an empty panel says so");
        assert_well_formed(&Figure::default().to_svg());
        let png = Figure::default().to_png(1.0).expect("empty figure renders");
        assert!(png.starts_with(b"\x89PNG"));
        let png = Figure {
            panels,
            columns: 3,
            ..Figure::default()
        }
        .to_png(0.5)
        .expect("renders");
        assert!(png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn png_renders_with_magic_bytes_and_size() {
        let fig = demo_figure();
        let png = fig.to_png(1.0).expect("renders");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR width and height (big endian) match the SVG size.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        let (sw, sh) = fig.size();
        assert_eq!((w, h), (sw.ceil() as u32, sh.ceil() as u32));
        assert!(
            png.len() > 10_000,
            "suspiciously small PNG: {} bytes",
            png.len()
        );
        let big = fig.to_png(2.0).expect("renders at 2×");
        let w2 = u32::from_be_bytes(big[16..20].try_into().unwrap());
        assert_eq!(w2, 2 * w);
        if let Ok(path) = std::env::var("ONESTEP_PLOT_DEMO") {
            // Tests do IO only when asked, to look at the picture: ONESTEP_PLOT_DEMO=/tmp/plot-demo.png
            std::fs::write(path, &png).expect("write demo PNG");
        }
    }

    #[test]
    fn png_without_fonts_still_renders() {
        let svg = demo_figure().to_svg();
        let png = svg_to_png(&svg, 0.5, Arc::new(usvg::fontdb::Database::new()))
            .expect("renders without text");
        assert!(png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn bad_scale_is_an_error_not_a_panic() {
        let fig = demo_figure();
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                fig.to_png(scale),
                Err(PlotError::InvalidScale { .. })
            ));
        }
        assert!(matches!(fig.to_png(1e6), Err(PlotError::ImageSize { .. })));
    }

    #[test]
    fn legend_dedupes_and_skips_unnamed() {
        let panel = Panel {
            series: (0..6)
                .map(|k| {
                    Series::new("simulation", Mark::Markers, vec![(0.0, f64::from(k))])
                        .with_color(0)
                })
                .chain([Series::new("", Mark::Line, vec![(0.0, 0.0), (1.0, 1.0)])])
                .collect(),
            ..Panel::default()
        };
        assert_eq!(panel.legend_entries().len(), 1);
    }

    #[test]
    fn clipping_keeps_coordinates_bounded() {
        let r = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        assert_eq!(
            clip_segment((-10.0, 5.0), (20.0, 5.0), &r),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip_segment((-10.0, -5.0), (-1.0, 20.0), &r), None);
        let d = path_data(
            &[
                Some((5.0, 5.0)),
                Some((1e12, 5.0)),
                None,
                Some((1.0, 1.0)),
                Some((2.0, 2.0)),
            ],
            &r,
        );
        assert_eq!(d, "M5 5L10 5M1 1L2 2");
    }
}
