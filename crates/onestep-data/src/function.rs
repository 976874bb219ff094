//! Activations and target links σ: evaluation, derivatives, parsing, Hermite coefficients (docs/model.md §2–§3).
//!
//! Spec strings (the CLI's `--activation` / `--target`): `relu`, `relu-centered` (alias
//! `relu-centred`), `tanh`, `erf`, `sigmoid`, `softplus`, `gelu`, `linear`, or
//! `hermite:c0,c1,c2,...` meaning Σ_k c_k He_k(z).

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use crate::error::DataError;
use crate::hermite::{factorial, gauss_rule, he_all, normal_cdf, normal_pdf};

/// 1/√(2π) = E[ReLU(ξ)] = φ(0).
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Activations with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Named {
    /// max(z, 0).
    Relu,
    /// max(z, 0) − 1/√(2π), so that E[σ(ξ)] = 0 (the default activation, docs/model.md §2).
    ReluCentered,
    /// tanh z.
    Tanh,
    /// erf z = (2/√π) ∫₀^z e^{−t²} dt.
    Erf,
    /// 1/(1 + e^{−z}).
    Sigmoid,
    /// ln(1 + e^z).
    Softplus,
    /// z Φ(z) (exact GELU, Φ the standard normal distribution function).
    Gelu,
    /// z.
    Linear,
}

impl Named {
    /// Every named activation, in the order error messages list them.
    pub const ALL: [Named; 8] = [
        Named::Relu,
        Named::ReluCentered,
        Named::Tanh,
        Named::Erf,
        Named::Sigmoid,
        Named::Softplus,
        Named::Gelu,
        Named::Linear,
    ];

    /// The canonical spec name (what [`Func`]'s `Display` prints).
    pub fn name(self) -> &'static str {
        match self {
            Named::Relu => "relu",
            Named::ReluCentered => "relu-centered",
            Named::Tanh => "tanh",
            Named::Erf => "erf",
            Named::Sigmoid => "sigmoid",
            Named::Softplus => "softplus",
            Named::Gelu => "gelu",
            Named::Linear => "linear",
        }
    }
}

/// An activation or target link σ: ℝ → ℝ.
#[derive(Clone, Debug, PartialEq)]
pub enum Func {
    /// A named activation.
    Named(Named),
    /// `Hermite(c)` is σ(z) = Σ_k c\[k\] He_k(z) (probabilists' Hermite polynomials).
    Hermite(Vec<f64>),
}

impl From<Named> for Func {
    fn from(n: Named) -> Self {
        Func::Named(n)
    }
}

impl FromStr for Func {
    type Err = DataError;

    /// Parses a spec string; case and surrounding whitespace are ignored.
    fn from_str(s: &str) -> Result<Self, DataError> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("hermite") {
            // ASCII lowering keeps byte offsets, so slice the original to report tokens verbatim.
            let rest = t["hermite".len()..].trim_start();
            if let Some(list) = rest.strip_prefix(':') {
                return parse_hermite(list, t);
            }
        }
        let named = match lower.as_str() {
            "relu" => Named::Relu,
            "relu-centered" | "relu-centred" | "relu_centered" | "relu_centred" => {
                Named::ReluCentered
            }
            "tanh" => Named::Tanh,
            "erf" => Named::Erf,
            "sigmoid" => Named::Sigmoid,
            "softplus" => Named::Softplus,
            "gelu" => Named::Gelu,
            "linear" => Named::Linear,
            _ => {
                return Err(DataError::UnknownFunction {
                    name: t.to_string(),
                });
            }
        };
        Ok(Func::Named(named))
    }
}

fn parse_hermite(list: &str, spec: &str) -> Result<Func, DataError> {
    if list.trim().is_empty() {
        return Err(DataError::EmptyHermite);
    }
    let mut coeffs = Vec::new();
    for (i, tok) in list.split(',').enumerate() {
        let tok = tok.trim();
        let position = i + 1;
        let v: f64 = tok.parse().map_err(|_| DataError::BadHermiteToken {
            position,
            token: tok.to_string(),
        })?;
        if !v.is_finite() {
            return Err(DataError::NonFiniteHermite {
                position,
                token: tok.to_string(),
            });
        }
        coeffs.push(v);
    }
    if coeffs.iter().all(|&c| c == 0.0) {
        return Err(DataError::ZeroHermite {
            spec: spec.to_string(),
        });
    }
    Ok(Func::Hermite(coeffs))
}

impl fmt::Display for Func {
    /// The canonical spec string; `s.parse::<Func>()` gives back an equal value (floats are printed
    /// in Rust's shortest round-trip form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Func::Named(n) => f.write_str(n.name()),
            Func::Hermite(c) => {
                f.write_str("hermite:")?;
                for (i, v) in c.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v:?}")?;
                }
                Ok(())
            }
        }
    }
}

#[inline]
fn relu(z: f64) -> f64 {
    if z > 0.0 { z } else { 0.0 }
}

#[inline]
fn step(z: f64) -> f64 {
    if z > 0.0 { 1.0 } else { 0.0 }
}

/// Logistic function, written so that neither branch overflows.
#[inline]
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + e^z) = max(z, 0) + ln(1 + e^{−|z|}), stable for all z.
#[inline]
fn softplus(z: f64) -> f64 {
    relu(z) + (-z.abs()).exp().ln_1p()
}

#[inline]
fn erf_deriv(z: f64) -> f64 {
    // d/dz erf z = (2/√π) e^{−z²}
    std::f64::consts::FRAC_2_SQRT_PI * (-z * z).exp()
}

/// Σ_k c_k He_k(z), by the forward recurrence.
#[inline]
fn hermite_sum(c: &[f64], z: f64) -> f64 {
    let (mut prev, mut cur) = (0.0, 1.0);
    let mut acc = 0.0;
    for (k, &ck) in c.iter().enumerate() {
        acc += ck * cur;
        let next = z * cur - k as f64 * prev;
        prev = cur;
        cur = next;
    }
    acc
}

/// d/dz Σ_k c_k He_k(z) = Σ_{k≥1} k c_k He_{k−1}(z).
#[inline]
fn hermite_sum_deriv(c: &[f64], z: f64) -> f64 {
    let (mut prev, mut cur) = (0.0, 1.0); // He_{k-1}, starting at He_0
    let mut acc = 0.0;
    for (k, &ck) in c.iter().enumerate().skip(1) {
        acc += k as f64 * ck * cur;
        let j = k - 1;
        let next = z * cur - j as f64 * prev;
        prev = cur;
        cur = next;
    }
    acc
}

impl Func {
    /// σ(z).
    pub fn eval(&self, z: f64) -> f64 {
        match self {
            Func::Named(n) => match n {
                Named::Relu => relu(z),
                Named::ReluCentered => relu(z) - INV_SQRT_2PI,
                Named::Tanh => z.tanh(),
                Named::Erf => libm::erf(z),
                Named::Sigmoid => sigmoid(z),
                Named::Softplus => softplus(z),
                Named::Gelu => z * normal_cdf(z),
                Named::Linear => z,
            },
            Func::Hermite(c) => hermite_sum(c, z),
        }
    }

    /// σ′(z). ReLU variants use the convention σ′(z) = 1{z > 0} (so σ′(0) = 0).
    pub fn deriv(&self, z: f64) -> f64 {
        match self {
            Func::Named(n) => match n {
                Named::Relu | Named::ReluCentered => step(z),
                Named::Tanh => {
                    let t = z.tanh();
                    1.0 - t * t
                }
                Named::Erf => erf_deriv(z),
                Named::Sigmoid => {
                    let s = sigmoid(z);
                    s * (1.0 - s)
                }
                Named::Softplus => sigmoid(z),
                // d/dz zΦ(z) = Φ(z) + zφ(z)
                Named::Gelu => normal_cdf(z) + z * normal_pdf(z),
                Named::Linear => 1.0,
            },
            Func::Hermite(c) => hermite_sum_deriv(c, z),
        }
    }

    /// Replaces every z in `zs` by σ(z); the match is done once, outside the loop.
    pub fn eval_slice(&self, zs: &mut [f64]) {
        fn map(zs: &mut [f64], f: impl Fn(f64) -> f64) {
            zs.iter_mut().for_each(|z| *z = f(*z));
        }
        match self {
            Func::Named(n) => match n {
                Named::Relu => map(zs, relu),
                Named::ReluCentered => map(zs, |z| relu(z) - INV_SQRT_2PI),
                Named::Tanh => map(zs, f64::tanh),
                Named::Erf => map(zs, libm::erf),
                Named::Sigmoid => map(zs, sigmoid),
                Named::Softplus => map(zs, softplus),
                Named::Gelu => map(zs, |z| z * normal_cdf(z)),
                Named::Linear => {}
            },
            Func::Hermite(c) => map(zs, |z| hermite_sum(c, z)),
        }
    }

    /// Replaces every z in `zs` by σ′(z) (same conventions as [`Func::deriv`]).
    pub fn deriv_slice(&self, zs: &mut [f64]) {
        fn map(zs: &mut [f64], f: impl Fn(f64) -> f64) {
            zs.iter_mut().for_each(|z| *z = f(*z));
        }
        match self {
            Func::Named(n) => match n {
                Named::Relu | Named::ReluCentered => map(zs, step),
                Named::Tanh => map(zs, |z| {
                    let t = z.tanh();
                    1.0 - t * t
                }),
                Named::Erf => map(zs, erf_deriv),
                Named::Sigmoid => map(zs, |z| {
                    let s = sigmoid(z);
                    s * (1.0 - s)
                }),
                Named::Softplus => map(zs, sigmoid),
                Named::Gelu => map(zs, |z| normal_cdf(z) + z * normal_pdf(z)),
                Named::Linear => zs.fill(1.0),
            },
            Func::Hermite(c) => map(zs, |z| hermite_sum_deriv(c, z)),
        }
    }

    /// Points where σ is not smooth: `[0.0]` for the ReLU variants, empty otherwise.
    pub fn kinks(&self) -> &'static [f64] {
        match self {
            Func::Named(Named::Relu | Named::ReluCentered) => &[0.0],
            _ => &[],
        }
    }

    /// c_0, …, c_kmax with c_k = E[σ(ξ) He_k(ξ)]/k! (docs/model.md §3), so σ = Σ_k c_k He_k.
    ///
    /// Exact formulas where they exist:
    /// - ReLU: c_0 = 1/√(2π), c_1 = 1/2, and E[ReLU He_k] = (−1)^{(k−2)/2} (k−3)!!/√(2π) for even
    ///   k ≥ 2, 0 for odd k ≥ 3; computed by the ratio c_{k+2} = −(k−1) c_k / ((k+1)(k+2)) so that
    ///   large k does not overflow. Centred ReLU: the same with c_0 = 0.
    /// - erf: c_{2m+1} = (2/√(3π)) (−1/3)^m / (m! (2m+1)), even coefficients 0. (From
    ///   E[σ He_{k+1}] = E[σ′ He_k] and E[e^{−ξ²} e^{tξ−t²/2}] = e^{−t²/3}/√3.)
    /// - linear: c_1 = 1; Hermite(c): c itself, truncated or zero-padded.
    ///
    /// tanh, sigmoid, softplus and GELU use [`Func::scaled_hermite_coeffs`] at s = 1 (composite
    /// Gauss–Legendre), accurate to ~1e-12 absolute for kmax ≤ 20; for much larger k the
    /// coefficients fall below the cancellation error of any quadrature.
    pub fn hermite_coeffs(&self, kmax: usize) -> Vec<f64> {
        let n = kmax + 1;
        match self {
            Func::Hermite(c) => {
                let mut out = vec![0.0; n];
                let m = c.len().min(n);
                out[..m].copy_from_slice(&c[..m]);
                out
            }
            Func::Named(Named::Linear) => {
                let mut out = vec![0.0; n];
                if n > 1 {
                    out[1] = 1.0;
                }
                out
            }
            Func::Named(named @ (Named::Relu | Named::ReluCentered)) => {
                let mut out = vec![0.0; n];
                out[0] = if *named == Named::Relu {
                    INV_SQRT_2PI
                } else {
                    0.0
                };
                if n > 1 {
                    out[1] = 0.5;
                }
                if n > 2 {
                    out[2] = 0.5 * INV_SQRT_2PI;
                }
                let mut k = 2;
                while k + 2 < n {
                    let kf = k as f64;
                    out[k + 2] = -(kf - 1.0) * out[k] / ((kf + 1.0) * (kf + 2.0));
                    k += 2;
                }
                out
            }
            Func::Named(Named::Erf) => {
                let mut out = vec![0.0; n];
                let mut a = 2.0 / (3.0 * PI).sqrt(); // (2/√(3π)) (−1/3)^m / m!
                let mut m = 0usize;
                while 2 * m + 1 < n {
                    out[2 * m + 1] = a / (2 * m + 1) as f64;
                    m += 1;
                    a *= -1.0 / (3.0 * m as f64);
                }
                out
            }
            Func::Named(_) => self.scaled_hermite_coeffs(1.0, kmax),
        }
    }

    /// Hermite coefficients of z ↦ σ(s·z): `E[σ(sξ)He_k(ξ)]/k!` for k ≤ kmax and scale s > 0,
    /// by [`crate::hermite::gauss_rule`] with panel boundaries at the kinks of σ(s·) and at
    /// ±2^j/s (j = −1, …, 3), so that features of width 1/s (a tanh at large s) are resolved.
    /// At s = 1 this agrees with [`Func::hermite_coeffs`] to quadrature accuracy (~1e-13).
    pub fn scaled_hermite_coeffs(&self, s: f64, kmax: usize) -> Vec<f64> {
        let mut breaks: Vec<f64> = self.kinks().iter().map(|k| k / s).collect();
        for j in -1..=3 {
            let b = 2f64.powi(j) / s;
            breaks.extend([b, -b]);
        }
        let (nodes, weights) = gauss_rule(&breaks);
        let n = kmax + 1;
        let mut acc = vec![0.0; n];
        let mut hk = vec![0.0; n];
        for (&z, &w) in nodes.iter().zip(&weights) {
            let ws = w * self.eval(s * z);
            he_all(z, &mut hk);
            acc.iter_mut().zip(&hk).for_each(|(a, h)| *a += ws * h);
        }
        let mut fact = 1.0;
        for (k, a) in acc.iter_mut().enumerate() {
            if k > 0 {
                fact *= k as f64;
            }
            *a /= fact;
        }
        acc
    }

    /// E[σ(ξ)²] for ξ ~ N(0, 1).
    ///
    /// Exact: ReLU 1/2; centred ReLU 1/2 − 1/(2π); linear 1; erf (2/π) arcsin(2/3)
    /// (from E[erf(aξ) erf(bξ)] = (2/π) arcsin(2ab/√((1+2a²)(1+2b²)))); Hermite Σ_k k! c_k².
    /// Others by [`crate::hermite::gauss_expect`].
    pub fn second_moment(&self) -> f64 {
        match self {
            Func::Named(Named::Relu) => 0.5,
            Func::Named(Named::ReluCentered) => 0.5 - 0.5 / PI,
            Func::Named(Named::Linear) => 1.0,
            Func::Named(Named::Erf) => 2.0 / PI * (2.0f64 / 3.0).asin(),
            Func::Hermite(c) => c
                .iter()
                .enumerate()
                .map(|(k, &ck)| factorial(k) * ck * ck)
                .sum(),
            Func::Named(_) => crate::hermite::gauss_expect(
                |z| {
                    let s = self.eval(z);
                    s * s
                },
                self.kinks(),
            ),
        }
    }
}
