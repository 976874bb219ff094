//! Quadrature for the finite-n network theory: σ's Gaussian smoothings ([`GaussSmoothing`]),
//! Gauss–Hermite and Gauss–Legendre rules, and a small dense inverse.
use std::sync::Arc;

/// Gaussian smoothings of the activation: `(t, s) ↦ [E σ(t + sg), E[σ(t + sg)g], E σ(t + sg)²]`,
/// g ~ N(0,1), for any real t and s ≥ 1. The caller holds σ; [`GaussSmoothing::from_fn`] builds
/// it by composite Gauss–Legendre quadrature split at σ's kinks.
#[derive(Clone)]
pub struct GaussSmoothing(pub Arc<dyn Fn(f64, f64) -> [f64; 3] + Send + Sync>);

impl std::fmt::Debug for GaussSmoothing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GaussSmoothing(..)")
    }
}

impl GaussSmoothing {
    /// From σ itself and its kinks (points where σ is not smooth): composite 24-point
    /// Gauss–Legendre on [−12, 12] in g with breaks at the kinks (in g: (k − t)/s) and at
    /// ±1, ±2, ±4, ±8; exact to ~1e-14 for piecewise-smooth σ of polynomial growth.
    pub fn from_fn(f: Arc<dyn Fn(f64) -> f64 + Send + Sync>, kinks: Vec<f64>) -> Self {
        let (gx, gw) = gauss_legendre(24);
        let inv_sqrt_2pi = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        Self(Arc::new(move |t: f64, s: f64| {
            let lim = 12.0;
            let mut br: Vec<f64> = vec![-lim, lim, 0.0];
            for b in [1.0, 2.0, 4.0, 8.0] {
                br.extend([b, -b]);
            }
            for k in &kinks {
                let z = (k - t) / s;
                if z.abs() < lim {
                    br.push(z);
                }
            }
            br.sort_by(|a, b| a.total_cmp(b));
            br.dedup_by(|a, b| (*a - *b).abs() < 1e-15);
            let mut acc = [0.0; 3];
            for win in br.windows(2) {
                let (lo, hi) = (win[0], win[1]);
                let (c, h) = (0.5 * (lo + hi), 0.5 * (hi - lo));
                for (x, w) in gx.iter().zip(&gw) {
                    let g = c + h * x;
                    let wt = w * h * inv_sqrt_2pi * (-0.5 * g * g).exp();
                    let v = f(t + s * g);
                    acc[0] += wt * v;
                    acc[1] += wt * v * g;
                    acc[2] += wt * v * v;
                }
            }
            acc
        }))
    }

    /// ReLU (`centred`: minus 1/√(2π)), by [`GaussSmoothing::from_fn`] with the kink at 0.
    pub fn relu(centred: bool) -> Self {
        let shift = if centred {
            1.0 / (2.0 * std::f64::consts::PI).sqrt()
        } else {
            0.0
        };
        Self::from_fn(Arc::new(move |z: f64| z.max(0.0) - shift), vec![0.0])
    }

    /// A finite Hermite sum σ = Σ_k c_k He_k (smooth, no kinks).
    pub fn polynomial(coeffs: &[f64]) -> Self {
        let c = coeffs.to_vec();
        Self::from_fn(Arc::new(move |z: f64| hermite_sum(&c, z)), Vec::new())
    }
}

/// Σ_k c_k He_k(z) (probabilists' Hermite polynomials by their recurrence).
pub(super) fn hermite_sum(coeffs: &[f64], z: f64) -> f64 {
    let (mut prev, mut cur) = (0.0, 1.0); // He_{-1} := 0, He_0 = 1
    let mut sum = 0.0;
    for (k, &c) in coeffs.iter().enumerate() {
        sum += c * cur;
        let next = z * cur - k as f64 * prev;
        prev = cur;
        cur = next;
    }
    sum
}

impl PartialEq for GaussSmoothing {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Inverse of a k×k matrix (row-major) by Gauss–Jordan with partial pivoting; None if singular.
pub(super) fn lu_inverse(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        inv[i * k + i] = 1.0;
    }
    for c in 0..k {
        let piv = (c..k).max_by(|&x, &y| m[x * k + c].abs().total_cmp(&m[y * k + c].abs()))?;
        let pv = m[piv * k + c];
        if pv.is_nan() || pv.abs() <= 1e-300 {
            return None;
        }
        if piv != c {
            for j in 0..k {
                m.swap(piv * k + j, c * k + j);
                inv.swap(piv * k + j, c * k + j);
            }
        }
        let ip = 1.0 / pv;
        for j in 0..k {
            m[c * k + j] *= ip;
            inv[c * k + j] *= ip;
        }
        for i in 0..k {
            if i != c {
                let f = m[i * k + c];
                if f != 0.0 {
                    for j in 0..k {
                        m[i * k + j] -= f * m[c * k + j];
                        inv[i * k + j] -= f * inv[c * k + j];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Probabilists' Gauss–Hermite rule with m nodes (weights sum to 1), by Newton iteration on the
/// orthonormal Hermite recursion (Numerical Recipes' `gauher`, rescaled from e^{−x²}).
pub fn gauss_hermite(m: usize) -> (Vec<f64>, Vec<f64>) {
    let pim4 = std::f64::consts::PI.powf(-0.25);
    let nf = m as f64;
    let mut x = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut z: f64 = 0.0;
    for i in 0..m.div_ceil(2) {
        z = match i {
            0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
            1 => z - 1.14 * nf.powf(0.426) / z,
            2 => 1.86 * z - 0.86 * x[0],
            3 => 1.91 * z - 0.91 * x[1],
            _ => 2.0 * z - x[i - 2],
        };
        let mut pp = 1.0;
        for _ in 0..200 {
            let (mut p1, mut p2) = (pim4, 0.0);
            for j in 0..m {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
            }
            pp = (2.0 * nf).sqrt() * p2;
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 * z.abs().max(1.0) {
                break;
            }
        }
        x[i] = z;
        x[m - 1 - i] = -z;
        w[i] = 2.0 / (pp * pp);
        w[m - 1 - i] = w[i];
    }
    let sq = std::f64::consts::SQRT_2;
    let spi = std::f64::consts::PI.sqrt();
    (
        x.iter().map(|v| v * sq).collect(),
        w.iter().map(|v| v / spi).collect(),
    )
}

/// Gauss–Legendre rule on [−1, 1] with m nodes.
pub fn gauss_legendre(m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; m];
    let mut w = vec![0.0; m];
    let nf = m as f64;
    for i in 0..m.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut pp = 1.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 0..m {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = ((2.0 * jf + 1.0) * z * p2 - jf * p3) / (jf + 1.0);
            }
            pp = nf * (z * p1 - p2) / (z * z - 1.0);
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-16 {
                break;
            }
        }
        x[i] = -z;
        x[m - 1 - i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * pp * pp);
        w[m - 1 - i] = w[i];
    }
    (x, w)
}
