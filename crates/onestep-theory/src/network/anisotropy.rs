//! The directions of the step noise (docs/theory.md §10.6). Neuron j's gradient contains
//! a_j h₁ M_y w⁰_j with h₁ = E σ′(g)g and M_y = XᵀDiag(y)X/n on the step batch; M_y − E M_y = Z is
//! one matrix applied to every neuron's weights, and its extreme eigenvalues are the step samples
//! with the extreme labels (each adds y_i x_ix_iᵀ/n), along whose directions every neuron moves
//! by its whole σ′ − c₁. The eigenvalues are predicted from the labels' order statistics with the
//! generalised Marchenko–Pastur equation of M_y; each becomes an input direction whose weight
//! components have a variance profile τ²_m over the neuron classes m ([`profiles`]), and gives F an
//! outlier where I + ψD T P T is singular (T = diag τ), P and D from the bulk's fixed point at z.
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

/// The eigenvalues of Z = M_y − E M_y (off β*) that stand out of its bulk, largest and smallest,
/// for a step batch of n labels y = σ*(u*) + σ_ε ξ in dimension d; empty when σ* is not exactly its
/// Hermite polynomial (the label law's tails are then unknown) or the labels vanish.
pub(super) fn input_spikes(target: &FnStats, noise: f64, n: usize, d: usize) -> Vec<f64> {
    if !target.is_complete() || n < 4 * LABEL_SINGLES {
        return Vec::new();
    }
    let law = LabelLaw::new(target, noise);
    if law.spread() == 0.0 {
        return Vec::new();
    }
    let nf = n as f64;
    // Label classes: the LABEL_SINGLES smallest and largest draws alone, the middle pooled; each
    // valued at the quantile of its (middle) rank's Blom position. A single sample's rank-one term
    // is y_i x_ix_iᵀ/n and the equation below averages ‖x_i‖² to d: the singles are order
    // statistics of y·r with r = ‖x_i‖²/(d − 1) ~ χ²_{d−1}/(d − 1), whose tail is wider.
    let mut classes: Vec<(f64, f64, bool)> = Vec::new(); // (value, weight, single)
    let blom = |rank: f64| (rank - 0.375) / (nf + 0.25);
    let norms = chi2_over_k(d - 1);
    let norms: Scale = (&norms.0, &norms.1);
    for k in 1..=LABEL_SINGLES {
        for rank in [k, n + 1 - k] {
            classes.push((
                law.quantile_scaled(blom(rank as f64), &norms),
                1.0 / nf,
                true,
            ));
        }
    }
    let mid = n - 2 * LABEL_SINGLES;
    for g in 0..LABEL_GROUPS {
        let (a, b) = (g * mid / LABEL_GROUPS, (g + 1) * mid / LABEL_GROUPS);
        let centre = LABEL_SINGLES as f64 + 0.5 * (a + b) as f64 + 0.5;
        classes.push((
            law.quantile_scaled(blom(centre), &NO_SCALE),
            (b - a) as f64 / nf,
            false,
        ));
    }
    let c = d as f64 / nf;
    let mean = law.mean();
    let mut out = Vec::new();
    for (k, &(y, _, single)) in classes.iter().enumerate() {
        if !single || y == 0.0 {
            continue;
        }
        // Sample k's rank-one term separates where 1 + c·y·m(λ) = 0 for the Stieltjes transform
        // m of the rest: λ = −1/m + Σ_{c≠k} w y/(1 + c y m) at m = −1/(c y), when λ is increasing
        // there (outside the rest's spectrum).
        let m = -1.0 / (c * y);
        let (mut lam, mut slope) = (-1.0 / m, 1.0 / (m * m));
        for (i, &(yi, wi, _)) in classes.iter().enumerate() {
            if i != k {
                let den = 1.0 + c * yi * m;
                lam += wi * yi / den;
                slope -= wi * c * yi * yi / (den * den);
            }
        }
        if slope > 0.0 && lam.is_finite() {
            out.push(lam - mean);
        }
    }
    out
}

/// For each input spike z of [`input_spikes`], the profile τ_m over the neuron classes (atoms
/// `atom_values` of √N·a): τ²_m = [1 + 2h₁A_m + (E σ′² − c₁²)A_m² + ϱ_m]/s_m², A_m = ηa_mz (the
/// sample's step along its own direction, σ′ − c₁ whole), s_m² = 1 + γκ_m², and
/// ϱ_m = γκ_m² − (ηh₁a_m)²(d/n)E y² the rest of the step noise, kept isotropic (γ counts all of
/// σ′ − c₁, of which (d/n)h₁²E y² per unit η²a² is the He₁ part). Empty without step noise.
pub(super) fn profiles(inp: &NetworkInputs, pr: &Prepared, atom_values: &[f64]) -> Vec<Vec<f64>> {
    let h1 = 2.0 * inp.act.coeff(2).unwrap_or(0.0);
    if pr.gamma == 0.0 || h1 == 0.0 {
        return Vec::new();
    }
    let (n, d, nw) = (inp.n as f64, inp.d as f64, inp.width as f64);
    let ey2 = inp.target.second_moment + inp.noise * inp.noise;
    let c1 = inp.act.coeff(1).unwrap_or(0.0);
    let var_deriv = (inp.act.deriv_second_moment() - c1 * c1).max(h1 * h1);
    input_spikes(&inp.target, inp.noise, inp.n, inp.d)
        .into_iter()
        .map(|z| {
            atom_values
                .iter()
                .map(|&x| {
                    let kappa = pr.kappa_rms * x;
                    let step = pr.eta * x / nw.sqrt() * z;
                    let noise = pr.gamma * kappa * kappa;
                    let rest =
                        (noise - (pr.eta * h1 * x / nw.sqrt()).powi(2) * (d / n) * ey2).max(0.0);
                    ((1.0 + 2.0 * h1 * step + var_deriv * step * step + rest) / (1.0 + noise))
                        .sqrt()
                })
                .collect()
        })
        .collect()
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

    /// P(y·r ≤ t) and its density, for r > 0 independent of y with the law `scale`.
    fn cdf_pdf_scaled(&self, t: f64, scale: &Scale) -> (f64, f64) {
        let mut out = (0.0, 0.0);
        for (&r, &w) in scale.0.iter().zip(scale.1) {
            let (c, p) = self.cdf_pdf(t / r);
            out.0 += w * c;
            out.1 += w * p / r;
        }
        out
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

    /// The p-quantile of y: `quantile_scaled` with r ≡ 1.
    #[cfg(test)]
    fn quantile(&self, p: f64) -> f64 {
        self.quantile_scaled(p, &NO_SCALE)
    }

    /// The p-quantile of y·r by Newton's method kept inside a bisection bracket (precision
    /// 1e-8 of its range).
    fn quantile_scaled(&self, p: f64, scale: &Scale) -> f64 {
        let rmin = scale.0.iter().copied().fold(f64::INFINITY, f64::min);
        let rmax = scale.0.iter().copied().fold(0.0, f64::max);
        let (lo, hi) = (self.lower(), self.upper());
        let (mut lo, mut hi) = ((lo * rmin).min(lo * rmax), (hi * rmin).max(hi * rmax));
        let tol = 1e-8 * (hi - lo);
        let mut x = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (c, density) = self.cdf_pdf_scaled(x, scale);
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

/// A positive scale factor's law as atoms and weights.
type Scale<'a> = (&'a [f64], &'a [f64]);
const NO_SCALE: Scale<'static> = (&[1.0], &[1.0]);

/// χ²_k/k as 24 atoms: Wilson–Hilferty's cube of a Gaussian at the Gauss–Hermite nodes.
fn chi2_over_k(k: usize) -> (Vec<f64>, Vec<f64>) {
    let v = 2.0 / (9.0 * k as f64);
    let (g, w) = super::quadrature::gauss_hermite(24);
    let r = g
        .iter()
        .map(|&g| (1.0 - v + g * v.sqrt()).max(0.0).powi(3).max(1e-12))
        .collect();
    (r, w)
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
    fn chi2_atoms_have_the_chi2_moments() {
        // χ²_k/k: mean 1, variance 2/k, third central moment 8/k².
        for k in [15usize, 255, 4095] {
            let (r, w) = chi2_over_k(k);
            let m = |f: &dyn Fn(f64) -> f64| r.iter().zip(&w).map(|(&r, &w)| w * f(r)).sum::<f64>();
            let kf = k as f64;
            assert!((m(&|_| 1.0) - 1.0).abs() < 1e-12);
            assert!((m(&|r| r) - 1.0).abs() < 1e-3 / kf, "k = {k}");
            assert!(
                (m(&|r| (r - 1.0).powi(2)) * kf / 2.0 - 1.0).abs() < 0.01,
                "k = {k}"
            );
            assert!(
                (m(&|r| (r - 1.0).powi(3)) * kf * kf / 8.0 - 1.0).abs() < 0.05,
                "k = {k}"
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
        let z = input_spikes(&FnStats::polynomial(&[1.0]), 1e-6, 4096, 1024);
        assert!(z.is_empty(), "{z:?}");
    }

    /// The predicted largest eigenvalue of Z against simulated step batches (target B, d = 256,
    /// n = 1024, 16 seeds; power iteration on Z + 2I off β*): within 3 standard errors of the mean.
    #[test]
    fn largest_eigenvalue_of_z_follows_simulation() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let (n, d, seeds) = (1024, 256, 16);
        let c2 = std::f64::consts::FRAC_1_SQRT_2;
        let target = FnStats::polynomial(&[0.0, 1.0, c2]);
        let predicted = input_spikes(&target, 0.1, n, d)
            .into_iter()
            .fold(f64::NEG_INFINITY, f64::max);
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
        eprintln!(
            "largest eigenvalue of Z: predicted {predicted:.3}, simulated {mean:.3} ± {se:.3}"
        );
        assert!(
            (predicted - mean).abs() <= 3.0 * se,
            "predicted {predicted}, simulated {mean} ± {se} ({tops:?})"
        );
    }
}
