//! The spike part of F for [`super::predict_spikes`]: the low-rank columns L (functions of u and
//! w) and the Gram blocks G = E[llᵀ], H = MᵀM, by the smoothed route (exact Gaussian smoothing of
//! σ per neuron, expanded in He_r(u)) or the truncated Taylor route, both with the step noise γ
//! (parent module docs; docs/model.md §4, §6.1 item 6; docs/theory.md §9.1, §9.5).

use super::Step;
use crate::TheoryError;
use crate::hermite::{BiPoly, factorial};
use crate::spiked::SPIKED_MAX_DEGREE;
use crate::spikes::COEFF_ZERO;

/// What a column of L is, which fixes its column of M.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// u or w, M column c₁W₀q.
    Lin,
    /// E_ξ(u + √γξ)^k with M column `scale·a∘ᵏ` (Taylor route).
    Spike(usize, f64),
    /// The constant, M column c₀1_N.
    Mean,
    /// He_r(u)/√r! with M column √r!·G_r(κ_j) (smoothed route).
    Smooth(usize),
}

/// One column of L: a function of (u, w) as a sum of monomials, and its kind.
pub(super) struct Column {
    pub(super) f: Vec<BiPoly>,
    pub(super) kind: Kind,
}

impl Column {
    fn new(f: Vec<BiPoly>, kind: Kind) -> Self {
        Self { f, kind }
    }
}

/// The low-rank part `LMᵀ` of F (parent module docs, "Spike part").
pub(super) struct MeanModel {
    /// The columns of L, in the order of G and H.
    pub(super) cols: Vec<Column>,
    /// γ = ‖r_j‖²/(c₁²‖β‖²), 0 without step noise.
    pub(super) gamma: f64,
    /// Gram S_{rr'} = Σ_j G_r(κ_j)G_{r'}(κ_j) of the smoothed route; None: Taylor route.
    pub(super) smooth: Option<Vec<Vec<f64>>>,
    /// Whether c₀ ≠ 0 (the mean term c₀11ᵀ).
    pub(super) has_mean: bool,
}

/// Builds the columns of L: u and w when c₁ ≠ 0, then the smoothed He_r(u) columns when σ's
/// scaled coefficients are known, else the Taylor columns and the constant.
pub(super) fn build(st: &Step<'_>) -> Result<MeanModel, TheoryError> {
    let act = &st.inp.act;
    let mut cols: Vec<Column> = Vec::new();
    if st.c1 != 0.0 {
        cols.push(Column::new(vec![BiPoly::monomial(1.0, 1, 0)], Kind::Lin));
        cols.push(Column::new(vec![BiPoly::monomial(1.0, 0, 1)], Kind::Lin));
    }
    let gamma = step_noise_gamma(st);
    // σ's coefficients at scale s: given by the caller, or exact for a polynomial σ.
    let poly = |sc: f64| scaled_polynomial(&act.coeffs, sc, SPIKED_MAX_DEGREE);
    let scaled: Option<&dyn Fn(f64) -> Vec<f64>> = match &st.inp.act_scaled {
        Some(f) => Some(f.0.as_ref()),
        None if act.is_complete() => Some(&poly),
        None => None,
    };
    let has_mean = st.c0.abs() > COEFF_ZERO * act.second_moment.sqrt().max(1.0);
    let mut smooth: Option<Vec<Vec<f64>>> = None;
    if st.eta > 0.0
        && st.c1 != 0.0
        && let Some(t_at) = scaled
    {
        let sm = smoothed_gram(st, gamma, t_at)?;
        let top = (0..=SPIKED_MAX_DEGREE)
            .map(|r| sm[r][r])
            .fold(0.0, f64::max);
        for (r, row) in sm.iter().enumerate() {
            if row[r] > 1e-14 * top {
                cols.push(Column::new(
                    bipoly_u(&hermite_normalised(r)),
                    Kind::Smooth(r),
                ));
            }
        }
        smooth = Some(sm);
    } else {
        if st.eta > 0.0 {
            taylor_columns(st, gamma, &mut cols);
        }
        if has_mean {
            cols.push(Column::new(vec![BiPoly::monomial(1.0, 0, 0)], Kind::Mean));
        }
    }
    Ok(MeanModel {
        cols,
        gamma,
        smooth,
        has_mean,
    })
}

/// Step noise (parent module docs): neuron j's pre-activation moves by ηa_j(c₁‖β‖u + ⟨r_j, x̃⟩)
/// with ‖r_j‖² ≈ (d/n)(E σ′² − c₁²)(E σ*² + σ_ε²); returns γ = ‖r_j‖²/(c₁²‖β‖²), or 0 when
/// `step_noise` is off or c₁ = 0.
fn step_noise_gamma(st: &Step<'_>) -> f64 {
    let (inp, c1) = (st.inp, st.c1);
    if inp.step_noise && c1 != 0.0 {
        let r2 = (st.d / st.n)
            * (inp.act.deriv_second_moment() - c1 * c1).max(0.0)
            * (inp.target.second_moment + inp.noise * inp.noise);
        r2 / (c1 * c1 * st.bnorm2)
    } else {
        0.0
    }
}

/// Gram matrix S_{rr'} = Σ_j G_r(κ_j)G_{r'}(κ_j), r, r' ≤ 8, of the smoothed route, over the
/// realised a or by Gauss–Hermite over a ~ N(0, 1/N); `t_at(s)` gives T_r(s).
fn smoothed_gram(
    st: &Step<'_>,
    gamma: f64,
    t_at: &dyn Fn(f64) -> Vec<f64>,
) -> Result<Vec<Vec<f64>>, TheoryError> {
    let nw = st.nw;
    let kscale = st.eta * st.c1 * st.bnorm;
    let nodes: Vec<(f64, f64)> = match &st.inp.a {
        Some(a) => a.iter().map(|&x| (kscale * x, 1.0)).collect(),
        None => {
            let (x, w) = crate::network::gauss_hermite(A_NODES);
            x.iter()
                .zip(&w)
                .map(|(&x, &w)| (kscale * x / nw.sqrt(), nw * w))
                .collect()
        }
    };
    let rmax = SPIKED_MAX_DEGREE;
    let mut sm = vec![vec![0.0; rmax + 1]; rmax + 1];
    for (kappa, w) in nodes {
        let sc = (1.0 + (1.0 + gamma) * kappa * kappa).sqrt();
        let rho = kappa / sc;
        let t = t_at(sc);
        if sc.is_finite() && (t.len() <= rmax || t.iter().any(|v| !v.is_finite())) {
            return Err(TheoryError::InvalidParameter {
                name: "act_scaled",
                value: sc,
                allowed: "σ's coefficients at scale s must be finite, for degrees 0..=8",
            });
        }
        if !sc.is_finite() || t.iter().any(|v| !v.is_finite()) {
            return Err(TheoryError::InvalidParameter {
                name: "eta (the step η = η₀·n^α)",
                value: st.eta,
                allowed: "a step small enough that σ's Hermite coefficients at each neuron's scale s = √(1 + (1+γ)κ²), κ = η·c₁·‖β‖·a_j, are finite (degrees 0..=8); lower --eta0 or --alpha",
            });
        }
        let g: Vec<f64> = (0..=rmax).map(|r| rho.powi(r as i32) * t[r]).collect();
        for r in 0..=rmax {
            for q in 0..=rmax {
                sm[r][q] += w * g[r] * g[q];
            }
        }
    }
    Ok(sm)
}

/// Columns of the Taylor route: E_ξ(u + √γ ξ)^k = Σ_i C(k, 2i)(2i−1)!! γ^i u^{k−2i} for each
/// spike degree k, with M column `c₁^k c_k (η‖β‖)^k a∘ᵏ`.
fn taylor_columns(st: &Step<'_>, gamma: f64, cols: &mut Vec<Column>) {
    let act = &st.inp.act;
    for &k in &st.spike_ks {
        let scale = st.c1.powi(k as i32) * act.coeffs[k] * (st.eta * st.bnorm).powi(k as i32);
        if scale != 0.0 && scale.is_finite() {
            let f = (0..=k / 2)
                .map(|i| {
                    let c = binomial(k, 2 * i) * double_factorial_odd(i) * gamma.powi(i as i32);
                    BiPoly::monomial(c, k - 2 * i, 0)
                })
                .collect::<Vec<_>>();
            cols.push(Column::new(f, Kind::Spike(k, scale)));
        }
    }
}

impl MeanModel {
    /// G = E[llᵀ] and H = MᵀM (r × r, row-major) over the columns; cross terms between
    /// independent vectors are dropped (docs/theory.md §9.1).
    pub(super) fn gram_and_h(&self, st: &Step<'_>) -> (Vec<f64>, Vec<f64>) {
        let ls = &self.cols;
        let (c0, c1) = (st.c0, st.c1);
        let r = ls.len();
        let mut gm = vec![0.0; r * r];
        let mut h = vec![0.0; r * r];
        for i in 0..r {
            for j in 0..r {
                gm[i * r + j] = inner_sum(&ls[i].f, &ls[j].f);
                h[i * r + j] = match (ls[i].kind, ls[j].kind) {
                    (Kind::Lin, Kind::Lin) if i == j => c1 * c1 * st.psi,
                    (Kind::Spike(k, s), Kind::Spike(k2, s2)) => s * s2 * st.psum(k + k2),
                    (Kind::Spike(k, s), Kind::Mean) | (Kind::Mean, Kind::Spike(k, s)) => {
                        c0 * s * st.psum(k)
                    }
                    (Kind::Mean, Kind::Mean) => c0 * c0 * st.nw,
                    (Kind::Smooth(a), Kind::Smooth(b)) => {
                        let sm = self.smooth.as_ref().expect("smoothed route");
                        (factorial(a) * factorial(b)).sqrt() * sm[a][b]
                    }
                    _ => 0.0,
                };
            }
        }
        (gm, h)
    }
}

/// Gauss–Hermite nodes over the second layer a ~ N(0, 1/N) in the smoothed route.
const A_NODES: usize = 64;

/// `[E σ(sξ)He_r(ξ)/r!]_{r ≤ rmax}` for σ = Σ_k c_k He_k (exact: He_k(sx) = Σ_i k!/(i!(k−2i)!2^i)
/// s^{k−2i}(s²−1)^i He_{k−2i}(x)).
fn scaled_polynomial(c: &[f64], s: f64, rmax: usize) -> Vec<f64> {
    (0..=rmax)
        .map(|r| {
            (0..)
                .map(|i| r + 2 * i)
                .take_while(|&k| k < c.len())
                .enumerate()
                .map(|(i, k)| {
                    c[k] * factorial(k) / (factorial(i) * factorial(r) * 2f64.powi(i as i32))
                        * s.powi(r as i32)
                        * (s * s - 1.0).powi(i as i32)
                })
                .sum()
        })
        .collect()
}

/// Monomial coefficients (powers 0..=r of u) of He_r(u)/√r!.
fn hermite_normalised(r: usize) -> Vec<f64> {
    let mut out = vec![0.0; r + 1];
    let norm = factorial(r).sqrt();
    for m in 0..=r / 2 {
        let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
        out[r - 2 * m] = sign * factorial(r)
            / (factorial(m) * factorial(r - 2 * m) * 2f64.powi(m as i32))
            / norm;
    }
    out
}

/// C(n, k) as f64.
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// (2i − 1)!! = E ξ^{2i} (1 for i = 0).
fn double_factorial_odd(i: usize) -> f64 {
    (1..=i).fold(1.0, |acc, j| acc * (2 * j - 1) as f64)
}

/// The polynomial Σ_p c_p u^p as a sum of monomials in (u, w).
pub(super) fn bipoly_u(coeffs: &[f64]) -> Vec<BiPoly> {
    coeffs
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != 0.0)
        .map(|(p, c)| BiPoly::monomial(*c, p, 0))
        .collect()
}

/// ⟨x, y⟩ in L²(N(0, I₂)) of two functions given as sums of monomials.
pub(super) fn inner_sum(x: &[BiPoly], y: &[BiPoly]) -> f64 {
    x.iter()
        .flat_map(|p| y.iter().map(move |q| p.inner(q)))
        .sum()
}
