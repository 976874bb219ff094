//! Tick positions and labels: 1-2-5 steps on linear axes, decades on log axes, labels with
//! Unicode minus signs and superscript exponents.

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

/// [`nice_ticks`] and the step between them (1.0 when there are none).
pub(crate) fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
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
pub(crate) fn linear_label(v: f64, step: f64, scale: f64) -> String {
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
pub(crate) fn log_label(v: f64) -> String {
    let e = (v.log10() + 1e-9).floor() as i32;
    if (-3..=4).contains(&e) {
        let decimals = (-e).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        scientific(v, 10f64.powi(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
