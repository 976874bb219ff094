//! Hermite descriptions of functions ([`FnStats`]) and exact Gaussian moments of polynomials
//! of two jointly Gaussian projections (docs/model.md §3, §6 "Mehler's formula gives the needed
//! Hermite cross-moments").
//!
//! Conventions: probabilists' Hermite polynomials, `E[He_j(ξ) He_k(ξ)] = k! δ_jk`,
//! `c_k = E[f(ξ) He_k(ξ)] / k!`, so `f = Σ_k c_k He_k` in L²(N(0,1)).
//!
//! All inner products here are computed exactly (no quadrature): a monomial `z^p` expands as
//! `z^p = Σ_i p! / (i! ((p−i)/2)! 2^{(p−i)/2}) He_i(z)`, hence
//! `E[He_i(z) z^p] = p! / (((p−i)/2)! 2^{(p−i)/2})` for `p ≥ i`, `p − i` even (0 otherwise).

use crate::TheoryError;

/// Hermite description of a function f of one standard Gaussian variable.
///
/// | field | meaning |
/// |---|---|
/// | `coeffs` | `c_0..=c_K`, `c_k = E[f(ξ) He_k(ξ)] / k!`; callers pass `K ≥ 8` |
/// | `second_moment` | `E[f(ξ)²] = Σ_k k! c_k²` (including the part beyond degree K) |
/// | `deriv_second_moment` | `E[f′(ξ)²] = Σ_k k·k! c_k²`; `None`: that sum over the given coefficients (exact for a polynomial) |
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FnStats {
    /// Hermite coefficients `c_0..=c_K`.
    pub coeffs: Vec<f64>,
    /// `E[f(ξ)²]`.
    pub second_moment: f64,
    /// `E[f′(ξ)²]` when known beyond the given coefficients.
    #[serde(default)]
    pub deriv_second_moment: Option<f64>,
}

impl FnStats {
    /// Coefficient `c_k`, `None` when `k > K`.
    pub fn coeff(&self, k: usize) -> Option<f64> {
        self.coeffs.get(k).copied()
    }

    /// Whether the given coefficients exhaust the second moment (Σ_{k≤K} k! c_k² = E f² to
    /// 1e-12 relative): then f is exactly that polynomial and c_k = 0 for k > K.
    pub fn is_complete(&self) -> bool {
        let parseval: f64 = self
            .coeffs
            .iter()
            .enumerate()
            .map(|(k, c)| factorial(k) * c * c)
            .sum();
        (self.second_moment - parseval).abs() <= 1e-12 * self.second_moment.max(1e-300)
    }

    /// `E[f′(ξ)²]`: the given value, or `Σ_{k≤K} k·k! c_k²` (f′ = Σ_k k c_k He_{k−1}).
    pub fn deriv_second_moment(&self) -> f64 {
        self.deriv_second_moment.unwrap_or_else(|| {
            self.coeffs
                .iter()
                .enumerate()
                .map(|(k, c)| k as f64 * factorial(k) * c * c)
                .sum()
        })
    }

    /// Highest degree K given.
    pub fn max_degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Non-linear energy `c_{>1}² = E f² − c_0² − c_1²` (docs/model.md §3), clamped at 0.
    pub fn nonlinear_energy(&self) -> f64 {
        let c0 = self.coeff(0).unwrap_or(0.0);
        let c1 = self.coeff(1).unwrap_or(0.0);
        (self.second_moment - c0 * c0 - c1 * c1).max(0.0)
    }

    /// Centred ReLU `max(z,0) − 1/√(2π)` with exact coefficients up to degree `kmax`
    /// (docs/model.md §3: `E[ReLU·He_k] = (−1)^{(k−2)/2} (k−3)!!/√(2π)` for even k ≥ 2).
    pub fn relu_centred(kmax: usize) -> Self {
        let mut s = Self::relu(kmax);
        s.second_moment -= s.coeffs[0] * s.coeffs[0];
        s.coeffs[0] = 0.0;
        s
    }

    /// Plain ReLU `max(z, 0)` with exact coefficients up to degree `kmax`; `E f² = E f′² = 1/2`.
    pub fn relu(kmax: usize) -> Self {
        let inv = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let mut coeffs = vec![0.0; kmax.max(1) + 1];
        coeffs[0] = inv;
        coeffs[1] = 0.5;
        for (k, c) in coeffs.iter_mut().enumerate().skip(2) {
            if k % 2 == 0 {
                let sign = if ((k - 2) / 2) % 2 == 0 { 1.0 } else { -1.0 };
                let df = if k >= 3 { double_factorial(k - 3) } else { 1.0 };
                *c = sign * df * inv / factorial(k);
            }
        }
        Self {
            coeffs,
            second_moment: 0.5,
            deriv_second_moment: Some(0.5),
        }
    }

    /// A finite Hermite expansion `Σ_k c_k He_k`, second moment `Σ k! c_k²` (exact).
    pub fn polynomial(coeffs: &[f64]) -> Self {
        let second_moment = coeffs
            .iter()
            .enumerate()
            .map(|(k, c)| factorial(k) * c * c)
            .sum();
        Self {
            coeffs: coeffs.to_vec(),
            second_moment,
            deriv_second_moment: None,
        }
    }

    /// Validates finiteness and Parseval (`Σ_{k≤K} k! c_k² ≤ E f²` up to rounding).
    pub fn validate(&self, which: &'static str) -> Result<(), TheoryError> {
        let bad = |reason: String| TheoryError::InvalidFnStats { which, reason };
        if self.coeffs.is_empty() {
            return Err(bad("no Hermite coefficients given (need c_0..=c_K)".into()));
        }
        if let Some((k, c)) = self.coeffs.iter().enumerate().find(|(_, c)| !c.is_finite()) {
            return Err(bad(format!("coefficient c_{k} = {c} is not finite")));
        }
        if !(self.second_moment.is_finite() && self.second_moment >= 0.0) {
            return Err(bad(format!(
                "second moment E f² = {} must be finite and ≥ 0",
                self.second_moment
            )));
        }
        if let Some(m) = self.deriv_second_moment
            && !(m.is_finite() && m >= 0.0)
        {
            return Err(bad(format!("E f′² = {m} must be finite and ≥ 0")));
        }
        let parseval: f64 = self
            .coeffs
            .iter()
            .enumerate()
            .map(|(k, c)| factorial(k) * c * c)
            .sum();
        if parseval > self.second_moment * (1.0 + 1e-8) + 1e-12 {
            return Err(bad(format!(
                "Σ k! c_k² = {parseval} exceeds the second moment E f² = {} (Parseval); the coefficients or the second moment are wrong",
                self.second_moment
            )));
        }
        Ok(())
    }
}

/// `k!` as f64.
pub fn factorial(k: usize) -> f64 {
    (1..=k).map(|i| i as f64).product()
}

/// `k!!` as f64 with `0!! = 1`; `(−1)!!` is handled by [`gauss_moment`].
pub fn double_factorial(k: usize) -> f64 {
    let mut r = 1.0;
    let mut i = k;
    while i > 1 {
        r *= i as f64;
        i -= 2;
    }
    r
}

/// `E[ξ^p]` for ξ ~ N(0,1): `(p−1)!!` for even p, 0 for odd p.
pub fn gauss_moment(p: usize) -> f64 {
    if p % 2 == 1 {
        0.0
    } else if p == 0 {
        1.0
    } else {
        double_factorial(p - 1)
    }
}

/// `E[He_i(ξ) ξ^p] = p! / (((p−i)/2)! 2^{(p−i)/2})` for `p ≥ i`, `p − i` even; else 0.
pub fn he_monomial(i: usize, p: usize) -> f64 {
    if p < i || (p - i) % 2 == 1 {
        return 0.0;
    }
    let h = (p - i) / 2;
    factorial(p) / (factorial(h) * 2f64.powi(h as i32))
}

/// A polynomial in two independent standard Gaussians `(z, w)`: `coef[a][b]` multiplies
/// `z^a w^b`. Here `z = ⟨x, β*⟩` and `w` is the standardised part of `⟨x, β⟩` orthogonal to it.
#[derive(Clone, Debug, PartialEq)]
pub struct BiPoly {
    coef: Vec<Vec<f64>>,
}

impl BiPoly {
    /// The zero polynomial.
    pub fn zero() -> Self {
        Self {
            coef: vec![vec![0.0]],
        }
    }

    /// The monomial `z^a w^b` times `c`.
    pub fn monomial(c: f64, a: usize, b: usize) -> Self {
        let mut p = Self::zero();
        p.add_term(c, a, b);
        p
    }

    fn add_term(&mut self, c: f64, a: usize, b: usize) {
        if self.coef.len() <= a {
            let w = self.coef[0].len();
            self.coef.resize(a + 1, vec![0.0; w]);
        }
        if self.coef[0].len() <= b {
            for row in &mut self.coef {
                row.resize(b + 1, 0.0);
            }
        }
        self.coef[a][b] += c;
    }

    /// `(r z + s w)^k`, expanded binomially.
    pub fn linear_power(r: f64, s: f64, k: usize) -> Self {
        let mut p = Self::zero();
        let mut binom = 1.0;
        for j in 0..=k {
            // term C(k,j) (r z)^{k−j} (s w)^j
            p.add_term(binom * r.powi((k - j) as i32) * s.powi(j as i32), k - j, j);
            binom = binom * (k - j) as f64 / (j + 1) as f64;
        }
        p
    }

    /// Terms `(c, a, b)` with non-zero coefficient.
    fn terms(&self) -> impl Iterator<Item = (f64, usize, usize)> + '_ {
        self.coef.iter().enumerate().flat_map(|(a, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, c)| **c != 0.0)
                .map(move |(b, c)| (*c, a, b))
        })
    }

    /// `E[p(z,w) q(z,w)]`, exact.
    pub fn inner(&self, other: &Self) -> f64 {
        let mut s = 0.0;
        for (c1, a1, b1) in self.terms() {
            for (c2, a2, b2) in other.terms() {
                s += c1 * c2 * gauss_moment(a1 + a2) * gauss_moment(b1 + b2);
            }
        }
        s
    }

    /// `E[f(z) p(z, w)]` for `f` with Hermite coefficients `stats` (w integrated out first).
    pub fn inner_fn(&self, stats: &FnStats, which: &'static str) -> Result<f64, TheoryError> {
        let mut s = 0.0;
        for (c, a, b) in self.terms() {
            let wm = gauss_moment(b);
            if wm == 0.0 {
                continue;
            }
            // E[f(z) z^a] = Σ_{i ≤ a, i ≡ a mod 2} c_i E[He_i z^a]
            let mut e = 0.0;
            let mut i = a % 2;
            while i <= a {
                let ci = match stats.coeff(i) {
                    Some(c) => c,
                    None if stats.is_complete() => 0.0,
                    None => {
                        return Err(TheoryError::TooFewCoefficients {
                            which,
                            needed: a,
                            available: stats.max_degree(),
                        });
                    }
                };
                e += ci * he_monomial(i, a);
                i += 2;
            }
            s += c * wm * e;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_fixture_values() {
        let r = FnStats::relu_centred(8);
        let s = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!((r.coeffs[2] - s / 2.0).abs() < 1e-15);
        assert!((r.coeffs[4] + s / 24.0).abs() < 1e-15);
        assert!((r.coeffs[6] - s / 240.0).abs() < 1e-15);
        assert!((r.second_moment - (0.5 - 1.0 / (2.0 * std::f64::consts::PI))).abs() < 1e-15);
        r.validate("activation").unwrap();
    }

    #[test]
    fn he_monomial_matches_expansion() {
        // z^4 = He_4 + 6 He_2 + 3 He_0  ⇒  E[He_4 z^4] = 24, E[He_2 z^4] = 12, E[z^4] = 3.
        assert_eq!(he_monomial(4, 4), 24.0);
        assert_eq!(he_monomial(2, 4), 12.0);
        assert_eq!(he_monomial(0, 4), 3.0);
        assert_eq!(he_monomial(1, 4), 0.0);
    }

    #[test]
    fn bipoly_moments() {
        // (0.6 z + 0.8 w)^2 has unit variance: E[(..)^2 (..)^2] = 3.
        let p = BiPoly::linear_power(0.6, 0.8, 2);
        assert!((p.inner(&p) - 3.0).abs() < 1e-14);
        // E[He_2(z) (0.6 z + 0.8 w)^2] = 0.36 · E[He_2 z²] = 0.72 (Mehler: 2! ρ²).
        let f = FnStats::polynomial(&[0.0, 0.0, 1.0]);
        assert!((p.inner_fn(&f, "target").unwrap() - 0.72).abs() < 1e-14);
    }
}
