//! The declarative model — [`Figure`], [`Panel`], [`Series`], [`Mark`] — with the palette and
//! panel sizes, and the figure-level SVG writer (title, grid of panels, caption).

use std::fmt::Write as _;

use crate::text::{esc, num, wrap};

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

pub(crate) const FONT_FAMILY: &str =
    "DejaVu Sans, Bitstream Vera Sans, Arial, Helvetica, sans-serif";
/// Rough advance width of a DejaVu Sans character, as a fraction of the font size; used to size boxes.
pub(crate) const CHAR_WIDTH: f64 = 0.6;

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

    /// Height of the shared legend under the grid (0 without one).
    fn strip_height(&self) -> f64 {
        let width = self.grid().0 as f64 * PANEL_WIDTH;
        crate::legend::shared_legend(&self.panels).map_or(0.0, |e| {
            crate::legend::strip_rows(&e, width).len() as f64 * crate::legend::STRIP_ROW + 6.0
        })
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
        let height =
            self.title_height() + rows as f64 * PANEL_HEIGHT + self.strip_height() + caption;
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
        let shared = crate::legend::shared_legend(&self.panels);
        for (i, panel) in self.panels.iter().enumerate() {
            let x0 = (i % cols) as f64 * PANEL_WIDTH;
            let y0 = top + (i / cols) as f64 * PANEL_HEIGHT;
            panel.write_svg(&mut s, i, x0, y0, shared.is_none());
        }
        let rows = self.grid().1 as f64;
        if let Some(entries) = &shared {
            crate::legend::write_strip(&mut s, entries, width, top + rows * PANEL_HEIGHT);
        }
        let lines = self.caption_lines(width);
        let mut y = top + rows * PANEL_HEIGHT + self.strip_height() + 16.0;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_well_formed, degenerate_panels, demo_figure};

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
    fn nan_empty_and_degenerate_inputs_do_not_panic() {
        let panels = degenerate_panels();
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
            panels,
            columns: 3,
            ..Figure::default()
        }
        .to_svg();
        assert!(svg.contains("no data"), "an empty panel says so");
        assert_well_formed(&Figure::default().to_svg());
    }
}
