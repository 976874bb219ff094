//! Axes in pixel space: data-to-pixel mapping, fitting ranges to the data, labelled ticks,
//! rectangles, and clipping polylines to the plot area.

use std::fmt::Write as _;

use crate::figure::{Mark, Panel, Series};
use crate::text::num;
use crate::ticks::{linear_label, linear_ticks, log_label, log_ticks};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    /// Range in axis space (log10 of data for log axes).
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) log: bool,
    /// Pixel positions of `lo` and `hi`.
    pub(crate) p0: f64,
    pub(crate) p1: f64,
}

impl Axis {
    /// Data value to axis space, `None` when it cannot be shown.
    pub(crate) fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return None;
        }
        Some(if self.log { v.log10() } else { v })
    }

    pub(crate) fn px(&self, v: f64) -> Option<f64> {
        self.t(v)
            .map(|t| self.p0 + (t - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0))
    }

    pub(crate) fn contains(&self, v: f64) -> bool {
        self.t(v).is_some_and(|t| {
            let tol = (self.hi - self.lo) * 1e-9;
            t >= self.lo - tol && t <= self.hi + tol
        })
    }

    /// Data value at the low end.
    pub(crate) fn lo_value(&self) -> f64 {
        if self.log {
            10f64.powf(self.lo)
        } else {
            self.lo
        }
    }

    pub(crate) fn hi_value(&self) -> f64 {
        if self.log {
            10f64.powf(self.hi)
        } else {
            self.hi
        }
    }

    /// Major ticks with labels, and minor ticks, of an self.
    pub(crate) fn ticks(&self, target: usize) -> (Vec<(f64, String)>, Vec<f64>) {
        let (lo, hi) = (self.lo_value(), self.hi_value());
        if self.log {
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

#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub(crate) x0: f64,
    pub(crate) y0: f64,
    pub(crate) x1: f64,
    pub(crate) y1: f64,
}

impl Rect {
    pub(crate) fn grow(&self, d: f64) -> Rect {
        Rect {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }

    pub(crate) fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside `r`.
pub(crate) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    r: &Rect,
) -> Option<((f64, f64), (f64, f64))> {
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
pub(crate) fn path_data(points: &[Option<(f64, f64)>], r: &Rect) -> String {
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

/// Bar width of a histogram: the smallest spacing between distinct finite centres.
pub(crate) fn bar_width(series: &Series, x: &Axis) -> f64 {
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
    /// The panel's axes over `plot`: explicit ranges where valid, else the data (error bars,
    /// bar edges, reference lines, annotations) with a small margin; bars keep zero in view.
    pub(crate) fn axes(&self, plot: &Rect) -> (Axis, Axis) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Figure;
    use crate::test_support::assert_well_formed;

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
