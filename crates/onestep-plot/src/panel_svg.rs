//! Drawing one panel: layout, grid and ticks, the data (bars, reference lines, lines,
//! markers with error bars) clipped to the plot area, frame and labels, threshold labels,
//! annotations, legend and note — written in that order, later on top.

use std::fmt::Write as _;

use crate::axis::{Axis, Rect, bar_width, path_data};
use crate::figure::{CHAR_WIDTH, Mark, PALETTE, PANEL_HEIGHT, PANEL_WIDTH, Panel};
use crate::marks::{color_of, cross, dash_of, marker};
use crate::text::{esc, num};

const MARGIN_LEFT: f64 = 66.0;
const MARGIN_RIGHT: f64 = 14.0;
const MARGIN_TOP: f64 = 30.0;
const MARGIN_BOTTOM: f64 = 50.0;
const THRESHOLD_GREY: &str = "#555555";
/// A white outline behind text drawn over data, so labels stay legible where they cross lines.
const HALO: &str =
    r#"stroke="white" stroke-width="3" stroke-linejoin="round" paint-order="stroke""#;

/// Where a panel sits and how its axes map data to pixels.
struct Layout {
    /// Top-left corner of the panel.
    x0: f64,
    y0: f64,
    /// The plot area, inside the margins.
    plot: Rect,
    /// The plot area grown by 50 px: drawn geometry is clipped or clamped to it, so coordinates
    /// stay bounded while the clip path hides the overhang.
    far: Rect,
    xa: Axis,
    ya: Axis,
}

impl Layout {
    /// A data point in pixels, `None` when either coordinate cannot be shown.
    fn px(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        Some((self.xa.px(x)?, self.ya.px(y)?))
    }
}

/// Grid lines, tick marks and tick labels, collected together and written as separate layers
/// (the grid under the data, marks and labels over it).
struct TickLayers {
    /// Path data of the grid lines.
    grid: String,
    /// Path data of the major and minor tick marks.
    marks: String,
    /// `<text>` elements, one per line.
    labels: String,
}

impl Panel {
    /// Writes the panel with grid position `index` and top-left corner `(x0, y0)`; its own legend
    /// only with `own_legend` (the figure draws a shared one otherwise).
    pub(crate) fn write_svg(
        &self,
        s: &mut String,
        index: usize,
        x0: f64,
        y0: f64,
        own_legend: bool,
    ) {
        let plot = Rect {
            x0: x0 + MARGIN_LEFT,
            y0: y0 + MARGIN_TOP,
            x1: x0 + PANEL_WIDTH - MARGIN_RIGHT,
            y1: y0 + PANEL_HEIGHT - MARGIN_BOTTOM,
        };
        let (xa, mut ya) = self.axes(&plot);
        if let Some(grown) = self.legend_headroom(&plot, &xa, &ya).filter(|_| own_legend) {
            ya = grown;
        }
        let lay = Layout {
            x0,
            y0,
            plot,
            far: plot.grow(50.0),
            xa,
            ya,
        };
        let clip_id = format!("panel{index}-clip");
        self.write_header(s, &lay, &clip_id);
        let ticks = tick_layers(&lay);
        write_grid(s, &ticks);
        self.write_data(s, &lay, &clip_id);
        self.write_frame(s, &lay, &ticks);
        let legend = self
            .legend_place(&lay.plot, &lay.xa, &lay.ya)
            .filter(|_| own_legend);
        self.write_threshold_labels(s, &lay, legend.as_ref().map(|(_, b)| b));
        self.write_annotations(s, &lay);
        if let Some((entries, b)) = &legend {
            self.write_legend(s, entries, b);
        }
        self.write_note(s, &lay);
        let _ = writeln!(s, "</g>");
    }

    /// Opens the panel group: the clip path of the plot area and the title.
    fn write_header(&self, s: &mut String, lay: &Layout, clip_id: &str) {
        let plot = &lay.plot;
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
                num(lay.y0 + 20.0),
                esc(&self.title)
            );
        }
    }

    /// Everything clipped to the plot area, in drawing order: bars first, so lines and markers
    /// sit on top of histograms, then reference lines, lines and steps, markers with error bars.
    fn write_data(&self, s: &mut String, lay: &Layout, clip_id: &str) {
        let _ = writeln!(s, r#"<g clip-path="url(#{clip_id})">"#);
        self.write_bars(s, lay);
        self.write_reference_lines(s, lay);
        self.write_lines(s, lay);
        self.write_points(s, lay);
        let _ = writeln!(s, "</g>");
    }

    /// Histogram bars, from zero (or the bottom of a log axis) to each height.
    fn write_bars(&self, s: &mut String, lay: &Layout) {
        let (xa, ya, plot, far) = (&lay.xa, &lay.ya, &lay.plot, &lay.far);
        for (i, series) in self.series.iter().enumerate() {
            if series.mark != Mark::Bars {
                continue;
            }
            let color = PALETTE[color_of(series, i)];
            let w = bar_width(series, xa);
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
    }

    /// Threshold lines, under the data: dashed vertical, dash-dotted horizontal.
    fn write_reference_lines(&self, s: &mut String, lay: &Layout) {
        let (xa, ya, plot) = (&lay.xa, &lay.ya, &lay.plot);
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
    }

    /// Solid, dashed and dotted lines and step functions, broken at undrawable points.
    fn write_lines(&self, s: &mut String, lay: &Layout) {
        let px = |x: f64, y: f64| lay.px(x, y);
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
            let d = path_data(&pts, &lay.far);
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
    }

    /// Error bars, then filled markers or crosses, for the point marks.
    fn write_points(&self, s: &mut String, lay: &Layout) {
        let (ya, far) = (&lay.ya, &lay.far);
        let px = |x: f64, y: f64| lay.px(x, y);
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
    }

    /// The frame over the data, tick marks, tick labels and axis labels.
    fn write_frame(&self, s: &mut String, lay: &Layout, ticks: &TickLayers) {
        let plot = &lay.plot;
        let (tick_marks, labels) = (&ticks.marks, &ticks.labels);
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
        s.push_str(labels);
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
            let (lx, ly) = (lay.x0 + 16.0, (plot.y0 + plot.y1) / 2.0);
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
    }

    /// Labels of the threshold lines: vertical ones along the line from the top (moved below the
    /// legend box `legend` where it would hide them), horizontal ones at the right end.
    fn write_threshold_labels(&self, s: &mut String, lay: &Layout, legend: Option<&Rect>) {
        let (xa, ya, plot) = (&lay.xa, &lay.ya, &lay.plot);
        for (x, label) in &self.vlines {
            if label.is_empty() {
                continue;
            }
            if let Some(p) = xa.px(*x).filter(|_| xa.contains(*x)) {
                let len = label.chars().count() as f64 * 11.0 * CHAR_WIDTH;
                let mut ly = plot.y0 + 4.0;
                if let Some(b) = legend
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
    }

    /// Annotations just right of their point (left where they would run off the plot).
    fn write_annotations(&self, s: &mut String, lay: &Layout) {
        let plot = &lay.plot;
        for (x, y, text) in &self.annotations {
            let Some(p) = lay.px(*x, *y).filter(|p| plot.contains(*p)) else {
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
    }

    /// The note, or a visible "no data" for a panel with nothing to draw, boxed in the middle.
    fn write_note(&self, s: &mut String, lay: &Layout) {
        let plot = &lay.plot;
        let message = match &self.note {
            Some(n) if !n.trim().is_empty() => Some((n.as_str(), "#7a0000", "13")),
            _ if !self.has_data() => Some(("no data", "#777777", "13")),
            _ => None,
        };
        if let Some((text, color, size)) = message {
            // Wrapped to the plot width, centred in the plot area.
            let max_chars = (((plot.x1 - plot.x0 - 30.0) / (13.0 * CHAR_WIDTH)) as usize).max(12);
            let lines = crate::text::wrap(text, max_chars);
            let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            let w = longest as f64 * 13.0 * CHAR_WIDTH + 20.0;
            let h = 10.0 + 17.0 * lines.len() as f64;
            let (cx, cy) = ((plot.x0 + plot.x1) / 2.0, (plot.y0 + plot.y1) / 2.0);
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="white" fill-opacity="0.9" stroke="{color}" stroke-width="1.2" stroke-dasharray="4 2"/>"#,
                num(cx - w / 2.0),
                num(cy - h / 2.0),
                num(w),
                num(h)
            );
            for (i, line) in lines.iter().enumerate() {
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" font-size="{size}" font-style="italic" fill="{color}" text-anchor="middle">{}</text>"#,
                    num(cx),
                    num(cy - h / 2.0 + 18.0 + 17.0 * i as f64),
                    esc(line)
                );
            }
        }
    }

    /// Whether any point can be drawn on the panel's axes.
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
}

/// Grid lines, tick marks and tick labels of both axes.
fn tick_layers(lay: &Layout) -> TickLayers {
    let (xa, ya, plot) = (&lay.xa, &lay.ya, &lay.plot);
    let (xt, xminor) = xa.ticks(6);
    let (yt, yminor) = ya.ticks(5);
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
    TickLayers {
        grid,
        marks: tick_marks,
        labels,
    }
}

/// The light grid behind the data.
fn write_grid(s: &mut String, ticks: &TickLayers) {
    let grid = &ticks.grid;
    if !grid.is_empty() {
        let _ = writeln!(
            s,
            r##"<path d="{grid}" stroke="#e3e3e3" stroke-width="1" fill="none"/>"##
        );
    }
}
