//! The legend: entries from the named series, the corner that hides the least, and drawing it.

use std::fmt::Write as _;

use crate::axis::{Axis, Rect};
use crate::figure::{CHAR_WIDTH, Mark, PALETTE, Panel};
use crate::marks::{color_of, cross, dash_of, marker};
use crate::text::{esc, num};

/// One legend entry: what is drawn and how.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    pub(crate) name: String,
    pub(crate) mark: Mark,
    /// Palette index.
    pub(crate) color: usize,
    /// Drawn with an error bar.
    pub(crate) err: bool,
}

/// The legend of a figure whose panels (two or more) all have the same entries: drawn once,
/// under the grid, instead of over each panel's data.
pub(crate) fn shared_legend(panels: &[Panel]) -> Option<Vec<LegendEntry>> {
    let first = panels.first()?.legend_entries();
    (panels.len() >= 2 && !first.is_empty() && panels.iter().all(|p| p.legend_entries() == first))
        .then_some(first)
}

const STRIP_FONT: f64 = 11.0;
/// Height of one row of the shared legend.
pub(crate) const STRIP_ROW: f64 = 18.0;

/// The shared legend's entries in rows across `width`: each with its x offset.
pub(crate) fn strip_rows(entries: &[LegendEntry], width: f64) -> Vec<Vec<(f64, &LegendEntry)>> {
    let mut rows: Vec<Vec<(f64, &LegendEntry)>> = vec![Vec::new()];
    let mut x = 20.0;
    for e in entries {
        let w = 8.0 + 26.0 + 6.0 + e.name.chars().count() as f64 * STRIP_FONT * CHAR_WIDTH + 18.0;
        if x + w > width - 10.0 && x > 20.0 {
            rows.push(Vec::new());
            x = 20.0;
        }
        if let Some(row) = rows.last_mut() {
            row.push((x, e));
        }
        x += w;
    }
    rows
}

/// One legend entry starting at `x` on the centre line `cy`: its swatch, then its name.
fn write_entry(s: &mut String, e: &LegendEntry, x: f64, cy: f64, font: f64) {
    let (sx0, sx1) = (x + 8.0, x + 34.0);
    swatch(s, e, sx0, sx1, cy);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="{font}">{}</text>"#,
        num(sx1 + 6.0),
        num(cy + 4.0),
        esc(&e.name)
    );
}

/// Draws the shared legend with its first row's centre line at `y0 + STRIP_ROW / 2`.
pub(crate) fn write_strip(s: &mut String, entries: &[LegendEntry], width: f64, y0: f64) {
    for (r, row) in strip_rows(entries, width).iter().enumerate() {
        let cy = y0 + STRIP_ROW * (r as f64 + 0.5);
        for &(x, e) in row {
            write_entry(s, e, x, cy, STRIP_FONT);
        }
    }
}

impl Panel {
    /// Named series, deduplicated by name, mark and colour, in drawing order.
    pub(crate) fn legend_entries(&self) -> Vec<LegendEntry> {
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

    /// Where the legend goes: its entries and box, in the corner of the plot area that hides the
    /// least data and the fewest threshold labels; `None` without named series.
    pub(crate) fn legend_place(
        &self,
        plot: &Rect,
        xa: &Axis,
        ya: &Axis,
    ) -> Option<(Vec<LegendEntry>, Rect)> {
        self.legend_corner(plot, xa, ya).map(|(e, r, _)| (e, r))
    }

    /// The y axis grown at the top so the legend fits above the data, when every corner of the
    /// plot area would hide some (and the panel does not fix its y range); `None` otherwise.
    pub(crate) fn legend_headroom(&self, plot: &Rect, xa: &Axis, ya: &Axis) -> Option<Axis> {
        let (_, bx, hidden) = self.legend_corner(plot, xa, ya)?;
        if hidden == 0 || self.y_range.is_some() {
            return None;
        }
        // The data keeps the plot height less the legend's (and a gap); the axis grows to match.
        let h = (plot.y1 - plot.y0).abs();
        let keep = h - (bx.y1 - bx.y0) - 16.0;
        if keep < 0.5 * h {
            return None;
        }
        let grown = Axis {
            hi: ya.lo + (ya.hi - ya.lo) * h / keep,
            ..*ya
        };
        let (_, _, now) = self.legend_corner(plot, xa, &grown)?;
        (now < hidden).then_some(grown)
    }

    /// The best corner for the legend: entries, box, and how many obstacle samples it hides.
    fn legend_corner(
        &self,
        plot: &Rect,
        xa: &Axis,
        ya: &Axis,
    ) -> Option<(Vec<LegendEntry>, Rect, usize)> {
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

        let samples = self.legend_obstacles(plot, xa, ya);
        let corners = [
            (plot.x1 - inset - w, plot.y0 + inset),
            (plot.x0 + inset, plot.y0 + inset),
            (plot.x1 - inset - w, plot.y1 - inset - h),
            (plot.x0 + inset, plot.y1 - inset - h),
        ];
        let hidden = |&(cx, cy): &(f64, f64)| {
            let r = Rect {
                x0: cx,
                y0: cy,
                x1: cx + w,
                y1: cy + h,
            };
            samples.iter().filter(|p| r.contains(**p)).count()
        };
        let (lx, ly) = corners
            .iter()
            .copied()
            .min_by_key(hidden)
            .unwrap_or(corners[0]);
        Some((
            entries,
            Rect {
                x0: lx,
                y0: ly,
                x1: lx + w,
                y1: ly + h,
            },
            hidden(&(lx, ly)),
        ))
    }

    /// Points the legend should not cover, in pixels: the drawn data (sampled along lines and
    /// bars) and threshold labels.
    fn legend_obstacles(&self, plot: &Rect, xa: &Axis, ya: &Axis) -> Vec<(f64, f64)> {
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
        samples
    }

    /// Draws the legend box `bx` with one row per entry.
    pub(crate) fn write_legend(&self, s: &mut String, entries: &[LegendEntry], bx: &Rect) {
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
            write_entry(s, e, lx, ly + 4.0 + row * (k as f64 + 0.5), font);
        }
    }
}

/// The sample of entry `e` between `sx0` and `sx1` on the row centred at `cy`.
fn swatch(s: &mut String, e: &LegendEntry, sx0: f64, sx1: f64, cy: f64) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;

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
}
