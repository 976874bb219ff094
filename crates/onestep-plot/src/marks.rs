//! Glyphs shared by the plot area and the legend: palette index of a series, dash patterns,
//! filled marker shapes and crosses.

use std::fmt::Write as _;

use crate::figure::{Mark, PALETTE, Series};
use crate::text::num;

/// Palette index of `series` at `position` in its panel.
pub(crate) fn color_of(series: &Series, position: usize) -> usize {
    series.color.unwrap_or(position) % PALETTE.len()
}

/// Dash pattern of a line mark (`None`: solid).
pub(crate) fn dash_of(mark: Mark) -> Option<&'static str> {
    match mark {
        Mark::Dashed => Some("7 4"),
        Mark::Dotted => Some("1.5 3"),
        Mark::Steps => Some("5 3"),
        _ => None,
    }
}

/// A filled marker of shape `shape` (cycled with the colour) centred at `(x, y)`.
pub(crate) fn marker(s: &mut String, shape: usize, x: f64, y: f64, color: &str) {
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

/// A polygon with vertices `unit` scaled by `r` around `(x, y)`.
fn polygon(s: &mut String, unit: &[(f64, f64)], r: f64, x: f64, y: f64, style: &str) {
    let pts: Vec<String> = unit
        .iter()
        .map(|(u, v)| format!("{},{}", num(x + u * r), num(y + v * r)))
        .collect();
    let _ = writeln!(s, r#"<polygon points="{}" {style}/>"#, pts.join(" "));
}

/// A cross `×` centred at `(x, y)`.
pub(crate) fn cross(s: &mut String, x: f64, y: f64, color: &str) {
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
