//! Spectral averages over the bulk covariance `Σ = c₁² W₀W₀ᵀ + c_{>1}² I` (docs/model.md §6.1
//! item 1–2), for the Marchenko–Pastur law of ratio ψ or for a caller-given spectrum.
//!
//! With `τ = a μ + b` (`a = c₁²`, `b = c_{>1}²`, μ an eigenvalue of W₀W₀ᵀ) the resolvent
//! fixed point needs `E[τ/(1+τm)]`, `E[τ²/(1+τm)²]`, `E[1/(1+τm)]` and `E[τ/(1+τm)²]`.
//! For the Marchenko–Pastur law (ratio y = ψ = N/d, unit variance; W₀ rows uniform on the
//! sphere have `W₀W₀ᵀ ≈ GGᵀ/d`, an N×N sample covariance of d samples, with an atom of mass
//! `1 − 1/y` at 0 when `y > 1`) they follow in closed form from
//! `S(w) = E[1/(μ+w)]` and `T(w) = E[μ/(μ+w)]`, w > 0, which solve
//! `y w S² + (w + 1 − y) S − 1 = 0` and `y T² − (w + 1 + y) T + 1 = 0`
//! (the MP Stieltjes equation, e.g. Bai & Silverstein 2010, eq. 3.1.x, at z = −w; the atom is
//! included in S and, having μ = 0, absent from T). Roots are taken in the cancellation-free
//! form. Accuracy: `E[μ²/(μ+w)²] = T + wT′` loses about log₁₀(w) digits, i.e. a few digits
//! only for extreme ridge penalties (λ ≳ 10⁶).

use crate::TheoryError;

/// Law of the eigenvalues μ of W₀W₀ᵀ (N×N).
#[derive(Clone, Copy, Debug)]
pub enum Spectrum<'a> {
    /// Marchenko–Pastur of ratio ψ = N/d (the proportional limit, rows uniform on the sphere
    /// or N(0, I/d)).
    MarchenkoPastur,
    /// The realised eigenvalues of W₀W₀ᵀ (all N of them, zeros included).
    Empirical(&'a [f64]),
}

/// The four averages at a given m (see module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Averages {
    /// `E[τ/(1+τm)]`.
    pub h1: f64,
    /// `E[τ²/(1+τm)²]`.
    pub h2: f64,
    /// `E[1/(1+τm)]`.
    pub u: f64,
    /// `E[τ/(1+τm)²]` (so `du/dm = −this`).
    pub hu: f64,
}

/// `S(w)`, `S′(w)` for MP of ratio y.
fn mp_s(y: f64, w: f64) -> (f64, f64) {
    let b = w + 1.0 - y;
    if w < 0.0 {
        // Below the support, w < −(1+√y)² (used for outlier locations, m < 0): of the roots
        // 2/(b ± √disc) (b < 0 here) the physical one, S ≈ 1/w as w → −∞, is 2/(b − √disc).
        let disc = (b * b + 4.0 * y * w).max(0.0).sqrt();
        let s = 2.0 / (b - disc);
        return (s, (y * s * s + s) / disc.max(f64::MIN_POSITIVE));
    }
    let disc = (b * b + 4.0 * y * w).sqrt();
    let s = if b >= 0.0 {
        2.0 / (b + disc)
    } else {
        (disc - b) / (2.0 * y * w)
    };
    let ds = -(y * s * s + s) / disc;
    (s, ds)
}

/// `T(w)`, `T′(w)` for MP of ratio y.
fn mp_t(y: f64, w: f64) -> (f64, f64) {
    let b = w + 1.0 + y;
    let disc = (b * b - 4.0 * y).max(0.0).sqrt();
    let t = 2.0 / (b + disc);
    let dt = -t / disc.max(f64::MIN_POSITIVE);
    (t, dt)
}

impl Spectrum<'_> {
    /// Checks an empirical spectrum (non-empty, finite, ≥ 0 up to rounding).
    pub fn validate(&self) -> Result<(), TheoryError> {
        if let Spectrum::Empirical(ev) = self {
            if ev.is_empty() {
                return Err(TheoryError::InvalidSpectrum {
                    reason: "no eigenvalues given".into(),
                });
            }
            if let Some(x) = ev.iter().find(|x| !x.is_finite() || **x < -1e-8) {
                return Err(TheoryError::InvalidSpectrum {
                    reason: format!(
                        "eigenvalue {x} of W₀W₀ᵀ is not finite or negative (W₀W₀ᵀ is positive semi-definite)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The averages of module docs over `τ = a μ + b` at `m > 0`, or at `m ∈ (−1/τ_max, 0)` (above
    /// the bulk, for outlier locations), with `y = ψ` for MP.
    pub fn averages(&self, a: f64, b: f64, y: f64, m: f64) -> Averages {
        match self {
            Spectrum::Empirical(ev) => {
                let mut r = Averages {
                    h1: 0.0,
                    h2: 0.0,
                    u: 0.0,
                    hu: 0.0,
                };
                for &mu in ev.iter() {
                    let tau = a * mu.max(0.0) + b;
                    let inv = 1.0 / (1.0 + tau * m);
                    r.h1 += tau * inv;
                    r.h2 += tau * tau * inv * inv;
                    r.u += inv;
                    r.hu += tau * inv * inv;
                }
                let k = ev.len() as f64;
                Averages {
                    h1: r.h1 / k,
                    h2: r.h2 / k,
                    u: r.u / k,
                    hu: r.hu / k,
                }
            }
            Spectrum::MarchenkoPastur => {
                if a <= 0.0 || (a * m).abs() < 1e-300 {
                    let inv = 1.0 / (1.0 + b * m);
                    return Averages {
                        h1: b * inv,
                        h2: b * b * inv * inv,
                        u: inv,
                        hu: b * inv * inv,
                    };
                }
                // τ/(1+τm) = (μ + c)/(m(μ + w)), c = b/a, w = (1 + bm)/(am).
                let c = b / a;
                let w = (1.0 + b * m) / (a * m);
                let (s, ds) = mp_s(y, w);
                // T = E[μ/(μ+w)] = 1 − wS (atom included); mp_t avoids the cancellation for w > 0.
                let (t, dt) = if w > 0.0 {
                    mp_t(y, w)
                } else {
                    (1.0 - w * s, -s - w * ds)
                };
                let h1 = (t + c * s) / m;
                let h2 = ((t + w * dt) - 2.0 * c * dt - c * c * ds) / (m * m);
                let u = s / (a * m);
                let hu = (-dt - c * ds) / (a * m * m);
                Averages { h1, h2, u, hu }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Averages of g over MP(y) by quadrature in θ (μ = 1 + y + 2√y cos θ), plus the atom.
    fn mp_quad(y: f64, g: impl Fn(f64) -> f64) -> f64 {
        // density p(μ) = √((μ₊−μ)(μ−μ₋)) / (2π y μ) on [μ₋, μ₊]; dμ = −2√y sin θ dθ,
        // √(...) = 2√y sin θ ⇒ p dμ = 2 y sin²θ / (π y μ) dθ = 2 sin²θ/(π μ) dθ.
        let n = 200_000;
        let mut s = 0.0;
        for i in 0..n {
            let th = std::f64::consts::PI * (i as f64 + 0.5) / n as f64;
            let mu = 1.0 + y + 2.0 * y.sqrt() * th.cos();
            s += 2.0 * th.sin().powi(2) / (std::f64::consts::PI * mu) * g(mu);
        }
        s *= std::f64::consts::PI / n as f64;
        if y > 1.0 {
            s += (1.0 - 1.0 / y) * g(0.0);
        }
        s
    }

    #[test]
    fn closed_form_matches_quadrature() {
        for &y in &[0.3, 0.9, 2.5] {
            for &(a, b) in &[(0.25, 0.09), (1.0, 0.0), (0.4, 1.3)] {
                for &m in &[0.05, 1.0, 7.0] {
                    let r = Spectrum::MarchenkoPastur.averages(a, b, y, m);
                    let tau = |mu: f64| a * mu + b;
                    let q = [
                        mp_quad(y, |mu| tau(mu) / (1.0 + tau(mu) * m)),
                        mp_quad(y, |mu| (tau(mu) / (1.0 + tau(mu) * m)).powi(2)),
                        mp_quad(y, |mu| 1.0 / (1.0 + tau(mu) * m)),
                        mp_quad(y, |mu| tau(mu) / (1.0 + tau(mu) * m).powi(2)),
                    ];
                    let got = [r.h1, r.h2, r.u, r.hu];
                    for (g, q) in got.iter().zip(q) {
                        assert!(
                            (g - q).abs() < 1e-7 * q.abs().max(1e-3),
                            "y={y} a={a} b={b} m={m}: closed {g} vs quadrature {q}"
                        );
                    }
                }
            }
        }
    }
}
