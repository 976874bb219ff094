//! The directions of the step noise (docs/theory.md §10.6). Neuron j's gradient contains
//! a_j h₁ M_y w⁰_j with h₁ = E σ′(g)g and M_y = XᵀDiag(y)X/n on the step batch; M_y − E M_y = Z is
//! one matrix applied to every neuron's weights, and its extreme eigenvalues are the step samples
//! with the extreme labels (each adds y_i x_ix_iᵀ/n), along whose directions every neuron moves
//! by its whole σ′ − c₁. The law of the most extreme eigenvalue at each end comes from the
//! extreme labels' order statistics and their samples' Gram matrix, drawn, with the generalised
//! Marchenko–Pastur equation of M_y ([`extreme_eigenvalues`]); each of its nodes becomes an input
//! direction whose weight components have a variance profile τ²_m over the neuron classes m
//! ([`profiles`]), and gives F an outlier where I + ψD T P T is singular (T = diag τ), P and D from
//! the bulk's fixed point at z.
use super::quadrature::hermite_sum;
use super::{Bulk, Grid, NetworkInputs, Prepared};
use crate::hermite::FnStats;

/// Extreme labels kept as order statistics of their own at each end.
const LABEL_SINGLES: usize = 16;
/// Classes the middle labels are pooled into.
const LABEL_GROUPS: usize = 48;
/// Half-width and step of the grid in the target's argument u* that the label law is read from.
const U_RANGE: f64 = 9.0;
const U_STEP: f64 = 0.01;

/// The law of Z's most extreme eigenvalue at each end, for a step batch of n labels
/// y = σ*(u*) + σ_ε ξ in dimension d: [`LAW_NODES`] equally weighted values of the largest
/// eigenvalue of Z = M_y − E M_y (off β*), and as many of the smallest, None where that end has
/// no eigenvalue outside Z's bulk; both empty when σ* is not exactly its Hermite polynomial (the
/// label law's tails are then unknown) or the labels vanish.
///
/// At one end the [`LABEL_SINGLES`] most extreme samples are drawn [`LAW_DRAWS`] times (a fixed
/// seed): their labels as order statistics of n draws (Rényi's exponential spacings) and their
/// Gram matrix XₛᵀXₛ/(d − 1) as a Wishart matrix (Bartlett's decomposition), so that the norms
/// ‖x_i‖² and the overlaps x_iᵀx_j are those of d − 1 Gaussian coordinates. Their rank-K term
/// Σ y_i x_ix_iᵀ/n has the eigenvalues of (d/n)·μ for μ the eigenvalues of YG; the extreme μ
/// acts as one label against the rest, the middle classes and the other end's singles, in the
/// generalised Marchenko–Pastur equation of M_y (docs/theory.md §10.6). The nodes are the means
/// of [`LAW_NODES`] equal bins of the sorted draws.
pub(super) fn extreme_eigenvalues(target: &FnStats, noise: f64, n: usize, d: usize) -> [Law; 2] {
    if !target.is_complete() || n < 4 * LABEL_SINGLES || d < 2 * LABEL_SINGLES {
        return [Vec::new(), Vec::new()];
    }
    let law = LabelLaw::new(target, noise);
    if law.spread() == 0.0 {
        return [Vec::new(), Vec::new()];
    }
    let nf = n as f64;
    let blom = |rank: f64| (rank - 0.375) / (nf + 0.25);
    // The middle labels pooled into classes valued at their middle rank's Blom quantile.
    let mut classes: Vec<(f64, f64)> = Vec::new(); // (value, weight)
    let mid = n - 2 * LABEL_SINGLES;
    for g in 0..LABEL_GROUPS {
        let (a, b) = (g * mid / LABEL_GROUPS, (g + 1) * mid / LABEL_GROUPS);
        let centre = LABEL_SINGLES as f64 + 0.5 * (a + b) as f64 + 0.5;
        classes.push((law.quantile(blom(centre)), (b - a) as f64 / nf));
    }
    // Each end's singles at their Blom quantiles (the other end's rest), and the label quantile
    // there as a table in t = −ln(tail probability) for the draws.
    let singles = |top: bool| -> Vec<(f64, f64)> {
        (1..=LABEL_SINGLES)
            .map(|k| {
                let rank = if top { n + 1 - k } else { k };
                (law.quantile(blom(rank as f64)), 1.0 / nf)
            })
            .collect()
    };
    let c = d as f64 / nf;
    let mean = law.mean();
    let mut rng = SplitMix(0x5eed_0fe7_7eea);
    let mut ends = [Vec::new(), Vec::new()];
    for (side, top) in [true, false].into_iter().enumerate() {
        let mut rest = classes.clone();
        rest.extend(singles(!top));
        let tail = TailQuantile::new(&law, top, nf);
        let mut draws: Vec<Option<f64>> = (0..LAW_DRAWS)
            .map(|_| {
                let mu = extreme_of_draw(&mut rng, &tail, d, top);
                separated(mu, c, &rest).map(|lam| lam - mean)
            })
            .collect();
        // Most extreme last; no separated eigenvalue counts as the least extreme.
        let key = |z: &Option<f64>| z.map_or(f64::NEG_INFINITY, |z| if top { z } else { -z });
        draws.sort_by(|a, b| key(a).total_cmp(&key(b)));
        // Each node is the mean of its bin of draws (the top bin carries the heavy tail of the
        // largest label), or the bin's middle draw when some of its draws have no separated
        // eigenvalue.
        ends[side] = draws
            .chunks(LAW_DRAWS / LAW_NODES)
            .map(|bin| {
                let values: Option<Vec<f64>> = bin.iter().copied().collect();
                values.map_or(bin[bin.len() / 2], |v| {
                    Some(v.iter().sum::<f64>() / v.len() as f64)
                })
            })
            .collect();
    }
    ends
}

/// Equally weighted values of a law (None: no separated eigenvalue).
pub(super) type Law = Vec<Option<f64>>;

/// Quantile nodes kept of each end's law, and the draws they are read from.
const LAW_NODES: usize = 8;
const LAW_DRAWS: usize = 4096;

/// The extreme eigenvalue μ of YG for one draw of the end's [`LABEL_SINGLES`] labels Y and their
/// Wishart Gram matrix G (d − 1 coordinates): the largest at the top end, else the smallest.
fn extreme_of_draw(rng: &mut SplitMix, tail: &TailQuantile, d: usize, top: bool) -> f64 {
    let k = LABEL_SINGLES;
    // Rényi: the j-th most extreme of n uniform draws has tail probability S_j/(n + 1) to
    // O(n^{-1/2}) relative, S_j the sum of j standard exponentials.
    let mut s = 0.0;
    let y: Vec<f64> = (0..k)
        .map(|_| {
            s += rng.exponential();
            tail.at(s)
        })
        .collect();
    // Bartlett: G = LLᵀ/(d − 1), L lower triangular, L_ii² ~ χ²_{d−1−i}, L_ij ~ N(0, 1).
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        let dof = (d - 1 - i) as f64;
        let v = 2.0 / (9.0 * dof);
        let cube = (1.0 - v + rng.normal() * v.sqrt()).max(0.0).powi(3);
        l[i * k + i] = (dof * cube).sqrt();
        for j in 0..i {
            l[i * k + j] = rng.normal();
        }
    }
    // LᵀYL/(d − 1) has the eigenvalues of YG.
    let mut b = vec![0.0; k * k];
    for p in 0..k {
        for q in 0..=p {
            let v: f64 = (p.max(q)..k)
                .map(|i| l[i * k + p] * y[i] * l[i * k + q])
                .sum();
            b[p * k + q] = v / (d - 1) as f64;
            b[q * k + p] = b[p * k + q];
        }
    }
    extreme_eigenvalue(&mut b, k, top)
}

/// The largest (`top`) or smallest eigenvalue of a symmetric k × k matrix (row-major;
/// overwritten): Householder reduction to tridiagonal form, then bisection on the Sturm count
/// between Gershgorin bounds (relative precision 1e-13).
fn extreme_eigenvalue(a: &mut [f64], k: usize, top: bool) -> f64 {
    for j in 0..k.saturating_sub(2) {
        // v: the reflector taking column j below the diagonal to (α, 0, …).
        let norm = (j + 1..k).map(|i| a[i * k + j].powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let x0 = a[(j + 1) * k + j];
        let alpha = if x0 > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (j + 1..k).map(|i| a[i * k + j]).collect();
        v[0] -= alpha;
        let vn = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= vn);
        // A ← HAH on the trailing block: A − 2vwᵀ − 2wvᵀ, w = Av − (vᵀAv)v.
        let m = k - j - 1;
        let at = |a: &[f64], r: usize, c: usize| a[(j + 1 + r) * k + j + 1 + c];
        let p: Vec<f64> = (0..m)
            .map(|r| (0..m).map(|c| at(a, r, c) * v[c]).sum())
            .collect();
        let vp: f64 = v.iter().zip(&p).map(|(x, y)| x * y).sum();
        let w: Vec<f64> = p.iter().zip(&v).map(|(p, v)| p - vp * v).collect();
        for r in 0..m {
            for c in 0..m {
                a[(j + 1 + r) * k + j + 1 + c] -= 2.0 * (v[r] * w[c] + w[r] * v[c]);
            }
        }
        a[(j + 1) * k + j] = alpha;
    }
    let diag: Vec<f64> = (0..k).map(|i| a[i * k + i]).collect();
    let off: Vec<f64> = (1..k).map(|i| a[i * k + i - 1]).collect();
    let radius = |i: usize| {
        off.get(i).map_or(0.0, |e| e.abs()) + i.checked_sub(1).map_or(0.0, |i| off[i].abs())
    };
    let lo = (0..k)
        .map(|i| diag[i] - radius(i))
        .fold(f64::INFINITY, f64::min);
    let hi = (0..k)
        .map(|i| diag[i] + radius(i))
        .fold(f64::NEG_INFINITY, f64::max);
    // Eigenvalues below x: the negative pivots of T − xI.
    let below = |x: f64| {
        let mut q = 1.0;
        let mut count = 0;
        for i in 0..k {
            let e2 = if i == 0 { 0.0 } else { off[i - 1] * off[i - 1] };
            q = diag[i] - x - e2 / q;
            if q == 0.0 {
                q = f64::MIN_POSITIVE;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    let target = if top { k } else { 1 };
    let (mut lo, mut hi) = (lo, hi);
    while hi - lo > 1e-13 * hi.abs().max(lo.abs()) {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if below(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The eigenvalue of M_y that one effective label μ separates from the rest (classes of value
/// and weight): where 1 + c·μ·m(λ) = 0 for the Stieltjes transform m of the rest,
/// λ = −1/m + Σ w y/(1 + c y m) at m = −1/(cμ), when λ is increasing there (outside the rest's
/// spectrum).
fn separated(mu: f64, c: f64, rest: &[(f64, f64)]) -> Option<f64> {
    if mu == 0.0 {
        return None;
    }
    let m = -1.0 / (c * mu);
    let (mut lam, mut slope) = (-1.0 / m, 1.0 / (m * m));
    for &(yi, wi) in rest {
        let den = 1.0 + c * yi * m;
        lam += wi * yi / den;
        slope -= wi * c * yi * yi / (den * den);
    }
    (slope > 0.0 && lam.is_finite()).then_some(lam)
}

/// For each value z of a law of [`extreme_eigenvalues`], the profile τ_m over the neuron classes
/// (atoms `atom_values` of √N·a): τ²_m = [1 + 2h₁A_m + (E σ′² − c₁²)A_m² + ϱ_m]/s_m²,
/// A_m = ηa_mz (the sample's step along its own direction, σ′ − c₁ whole), s_m² = 1 + γκ_m², and
/// ϱ_m = γκ_m² − (ηh₁a_m)²(d/n)E y² the rest of the step noise, kept isotropic (γ counts all of
/// σ′ − c₁, of which (d/n)h₁²E y² per unit η²a² is the He₁ part). Both ends empty without step
/// noise.
pub(super) fn profiles(
    inp: &NetworkInputs,
    pr: &Prepared,
    atom_values: &[f64],
) -> [Vec<Option<Vec<f64>>>; 2] {
    let h1 = 2.0 * inp.act.coeff(2).unwrap_or(0.0);
    if pr.gamma == 0.0 || h1 == 0.0 {
        return [Vec::new(), Vec::new()];
    }
    let (n, d, nw) = (inp.n as f64, inp.d as f64, inp.width as f64);
    let ey2 = inp.target.second_moment + inp.noise * inp.noise;
    let c1 = inp.act.coeff(1).unwrap_or(0.0);
    let var_deriv = (inp.act.deriv_second_moment() - c1 * c1).max(h1 * h1);
    let profile = |z: f64| -> Vec<f64> {
        atom_values
            .iter()
            .map(|&x| {
                let kappa = pr.kappa_rms * x;
                let step = pr.eta * x / nw.sqrt() * z;
                let noise = pr.gamma * kappa * kappa;
                let rest = (noise - (pr.eta * h1 * x / nw.sqrt()).powi(2) * (d / n) * ey2).max(0.0);
                ((1.0 + 2.0 * h1 * step + var_deriv * step * step + rest) / (1.0 + noise)).sqrt()
            })
            .collect()
    };
    extreme_eigenvalues(&inp.target, inp.noise, inp.n, inp.d)
        .map(|end| end.into_iter().map(|z| z.map(profile)).collect())
}

/// Whether z is above the outlier of the input direction with profile `tau`, i.e.
/// det(I + ψ D T P T) > 0 with P = E_u[b φφᵀ], D = diag(p_m ρ_m) of the bulk's fixed point `st`
/// at the ridge −z (docs/theory.md §10.6); it turns negative where the direction's outlier is.
pub(super) fn above_outlier(g: &Grid, z: f64, st: &Bulk, tau: &[f64]) -> bool {
    let k = g.p.len();
    let mut a = vec![0.0; k * k];
    for i in 0..g.u.len() {
        let w = g.wu[i] / (st.delta[i] - z);
        let f = &g.mu1[i];
        for m in 0..k {
            for l in 0..k {
                a[m * k + l] += w * f[m] * f[l];
            }
        }
    }
    for m in 0..k {
        let dm = g.psi * g.p[m] * st.rho[m] * tau[m];
        for l in 0..k {
            a[m * k + l] *= dm * tau[l];
        }
        a[m * k + m] += 1.0;
    }
    determinant_sign(&mut a, k) > 0.0
}

/// The sign of det(a) (k × k, row-major; overwritten) by elimination with partial pivoting.
fn determinant_sign(a: &mut [f64], k: usize) -> f64 {
    let mut sign = 1.0;
    for c in 0..k {
        let p = (c..k)
            .max_by(|&i, &j| a[i * k + c].abs().total_cmp(&a[j * k + c].abs()))
            .expect("c < k");
        if a[p * k + c] == 0.0 {
            return 0.0;
        }
        if p != c {
            for j in 0..k {
                a.swap(p * k + j, c * k + j);
            }
            sign = -sign;
        }
        let piv = a[c * k + c];
        if piv < 0.0 {
            sign = -sign;
        }
        for i in c + 1..k {
            let f = a[i * k + c] / piv;
            for j in c..k {
                a[i * k + j] -= f * a[c * k + j];
            }
        }
    }
    sign
}

/// The label quantile at one end as a function of t = −ln(tail probability), tabulated on
/// [`TAIL_POINTS`] points from the tail of the [`LABEL_SINGLES`]-th extreme's typical value
/// outwards and read by linear interpolation in t.
struct TailQuantile {
    t0: f64,
    dt: f64,
    values: Vec<f64>,
    n1: f64,
}

const TAIL_POINTS: usize = 512;

impl TailQuantile {
    fn new(law: &LabelLaw, top: bool, n: f64) -> Self {
        let n1 = n + 1.0;
        // Tail probabilities S/(n + 1) for S from 3K (the K-th extreme's S has mean K) down to
        // 10⁻⁴ (the first's S is below that with probability 10⁻⁴); the table is clamped beyond.
        let t0 = (n1 / (3.0 * LABEL_SINGLES as f64)).ln();
        let t1 = n1.ln() + 4.0 * std::f64::consts::LN_10;
        let dt = (t1 - t0) / (TAIL_POINTS - 1) as f64;
        let values = (0..TAIL_POINTS)
            .map(|i| {
                let tail = (-(t0 + i as f64 * dt)).exp();
                law.quantile(if top { 1.0 - tail } else { tail })
            })
            .collect();
        Self { t0, dt, values, n1 }
    }

    /// The label whose tail probability is s/(n + 1).
    fn at(&self, s: f64) -> f64 {
        let x = ((-(s / self.n1).ln() - self.t0) / self.dt).clamp(0.0, (TAIL_POINTS - 1) as f64);
        let i = (x.floor() as usize).min(TAIL_POINTS - 2);
        let f = x - i as f64;
        self.values[i] * (1.0 - f) + self.values[i + 1] * f
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014) with Box–Muller normals: a fixed stream for the
/// draws of [`extreme_eigenvalues`], so that the theory is a deterministic function.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // (0, 1): 53 bits, offset by half a step.
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The law of y = σ*(u*) + σ_ε ξ on a fine grid in u*.
struct LabelLaw {
    values: Vec<f64>,
    weights: Vec<f64>,
    noise: f64,
}

impl LabelLaw {
    fn new(target: &FnStats, noise: f64) -> Self {
        let m = (2.0 * U_RANGE / U_STEP).round() as usize;
        let (mut values, mut weights) = (Vec::with_capacity(m + 1), Vec::with_capacity(m + 1));
        for i in 0..=m {
            let u = -U_RANGE + i as f64 * U_STEP;
            values.push(hermite_sum(&target.coeffs, u));
            weights.push((-0.5 * u * u).exp());
        }
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        Self {
            values,
            weights,
            noise,
        }
    }

    fn mean(&self) -> f64 {
        self.values
            .iter()
            .zip(&self.weights)
            .map(|(v, w)| v * w)
            .sum()
    }

    fn spread(&self) -> f64 {
        let m = self.mean();
        let var: f64 = self
            .values
            .iter()
            .zip(&self.weights)
            .map(|(v, w)| w * (v - m) * (v - m))
            .sum();
        (var + self.noise * self.noise).sqrt()
    }

    /// P(y ≤ t) and its density (0 without label noise: the grid's law has no density).
    fn cdf_pdf(&self, t: f64) -> (f64, f64) {
        let s = self.noise;
        let norm = 1.0 / (s * (2.0 * std::f64::consts::PI).sqrt());
        let mut out = (0.0, 0.0);
        for (&v, &w) in self.values.iter().zip(&self.weights) {
            if s > 0.0 {
                // Beyond 12 noise widths Φ is 0 or 1 to double precision and φ is 0.
                let x = (t - v) / s;
                if x.abs() > 12.0 {
                    out.0 += if x > 0.0 { w } else { 0.0 };
                    continue;
                }
                out.0 += w * normal_cdf(x);
                out.1 += w * norm * (-0.5 * x * x).exp();
            } else if v <= t {
                out.0 += w;
            }
        }
        out
    }

    fn lower(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min) - 10.0 * self.noise
    }

    fn upper(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            + 10.0 * self.noise
    }

    /// The p-quantile of y by Newton's method kept inside a bisection bracket (precision
    /// 1e-8 of its range).
    fn quantile(&self, p: f64) -> f64 {
        let (mut lo, mut hi) = (self.lower(), self.upper());
        let tol = 1e-8 * (hi - lo);
        let mut x = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (c, density) = self.cdf_pdf(x);
            if c < p {
                lo = x;
            } else {
                hi = x;
            }
            let newton = x - (c - p) / density;
            if density > 0.0 && newton > lo && newton < hi {
                if (newton - x).abs() <= tol {
                    return newton;
                }
                x = newton;
            } else if hi - lo <= tol {
                break;
            } else {
                x = 0.5 * (lo + hi);
            }
        }
        x
    }
}

/// Φ(x) through erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_series_and_normal_cdf() {
        // He₂(u) = u² − 1, He₃(u) = u³ − 3u
        assert!((hermite_sum(&[0.0, 0.0, 1.0], 1.5) - 1.25).abs() < 1e-14);
        assert!((hermite_sum(&[1.0, 0.0, 0.0, 2.0], 2.0) - 5.0).abs() < 1e-14);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-7);
        assert!((normal_cdf(-3.0) - 0.0013498980316301).abs() < 1e-9);
    }

    #[test]
    fn extreme_eigenvalues_of_symmetric_matrices() {
        let mut rng = SplitMix(7);
        for k in [1usize, 2, 3, 7, 16] {
            let mut a = vec![0.0; k * k];
            for i in 0..k {
                for j in 0..=i {
                    a[i * k + j] = rng.normal() + if i == j { 3.0 * i as f64 } else { 0.0 };
                    a[j * k + i] = a[i * k + j];
                }
            }
            let (values, _) = crate::locations::dense::sym_eigen(&a, k);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let top = extreme_eigenvalue(&mut a.clone(), k, true);
            let bottom = extreme_eigenvalue(&mut a.clone(), k, false);
            let scale = max.abs().max(min.abs());
            assert!((top - max).abs() < 1e-11 * scale, "k = {k}: {top} vs {max}");
            assert!(
                (bottom - min).abs() < 1e-11 * scale,
                "k = {k}: {bottom} vs {min}"
            );
        }
    }

    #[test]
    fn gaussian_labels_quantiles() {
        // y = u* + 0.1ξ ~ N(0, 1.01)
        let law = LabelLaw::new(&FnStats::polynomial(&[0.0, 1.0]), 0.1);
        let q = law.quantile(0.975);
        assert!((q - 1.959963984540054 * 1.01f64.sqrt()).abs() < 1e-5, "{q}");
    }

    #[test]
    fn constant_labels_give_marchenko_pastur_without_spikes() {
        // y ≡ 1 up to tiny noise: M_y is a sample covariance, its extremes are its bulk edges.
        let ends = extreme_eigenvalues(&FnStats::polynomial(&[1.0]), 1e-6, 4096, 1024);
        assert!(ends.iter().flatten().all(Option::is_none), "{ends:?}");
    }

    /// The predicted law of Z's largest eigenvalue against simulated step batches (target B,
    /// d = 256, n = 1024, 16 seeds; power iteration on Z + 2I off β*): its mean within 3 standard
    /// errors of the seeds' mean, its standard deviation within 3 standard errors (1/√(2(S − 1))
    /// relative) of the seeds'; Z's smallest eigenvalue is not separated (the labels are bounded
    /// below).
    #[test]
    fn largest_eigenvalue_of_z_follows_simulation() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let (n, d, seeds) = (1024, 256, 16);
        let c2 = std::f64::consts::FRAC_1_SQRT_2;
        let target = FnStats::polynomial(&[0.0, 1.0, c2]);
        let [top, bottom] = extreme_eigenvalues(&target, 0.1, n, d);
        assert!(bottom.iter().all(Option::is_none), "{bottom:?}");
        let top: Vec<f64> = top.into_iter().map(Option::unwrap).collect();
        let predicted = top.iter().sum::<f64>() / top.len() as f64;
        // The nodes are bin means: their spread is the law's less its spread within the bins, a
        // lower bound of the law's standard deviation.
        let predicted_sd =
            (top.iter().map(|z| (z - predicted).powi(2)).sum::<f64>() / top.len() as f64).sqrt();
        let tops: Vec<f64> = (0..seeds)
            .map(|seed| {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
                // β* = e₁: u* is the first coordinate; Z off β* is the lower-right block.
                let mut z = vec![0.0; (d - 1) * (d - 1)];
                for _ in 0..n {
                    let x: Vec<f64> = (0..d).map(|_| g()).collect();
                    let y = hermite_sum(&[0.0, 1.0, c2], x[0]) + 0.1 * g();
                    for i in 1..d {
                        for j in 1..d {
                            z[(i - 1) * (d - 1) + j - 1] += y * x[i] * x[j] / n as f64;
                        }
                    }
                }
                let mut v = vec![1.0; d - 1];
                let mut top = 0.0;
                for _ in 0..2000 {
                    let w: Vec<f64> = (0..d - 1)
                        .map(|i| {
                            2.0 * v[i] + (0..d - 1).map(|j| z[i * (d - 1) + j] * v[j]).sum::<f64>()
                        })
                        .collect();
                    let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
                    top = norm - 2.0;
                    v = w.iter().map(|a| a / norm).collect();
                }
                top
            })
            .collect();
        let mean = tops.iter().sum::<f64>() / seeds as f64;
        let var = tops.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (seeds - 1) as f64;
        let se = (var / seeds as f64).sqrt();
        let sd = var.sqrt();
        eprintln!(
            "largest eigenvalue of Z: predicted {predicted:.3} (sd {predicted_sd:.3}), \
             simulated {mean:.3} ± {se:.3} (sd {sd:.3})"
        );
        assert!(
            (predicted - mean).abs() <= 3.0 * se,
            "predicted {predicted}, simulated {mean} ± {se} ({tops:?})"
        );
        let sd_se = sd / (2.0 * (seeds - 1) as f64).sqrt();
        assert!(
            (predicted_sd - sd).abs() <= 3.0 * sd_se,
            "predicted sd {predicted_sd}, simulated {sd} ± {sd_se}"
        );
    }
}
