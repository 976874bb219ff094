//! Probabilists' Hermite polynomials and Gaussian quadrature (docs/model.md §3).
//!
//! Conventions: He_0 = 1, He_1 = z, He_{k+1}(z) = z He_k(z) − k He_{k−1}(z), so that
//! E[He_j(ξ) He_k(ξ)] = k! δ_jk for ξ ~ N(0, 1). Expectations are against the standard normal
//! density φ(z) = e^{−z²/2}/√(2π).

use std::f64::consts::PI;
use std::sync::OnceLock;

/// Half-width L of the integration window [−L, L] used by [`gauss_expect`]; φ(15) ≈ 5.5·10⁻⁵⁰.
pub const QUAD_HALF_WIDTH: f64 = 15.0;
/// Gauss–Legendre nodes per panel in [`gauss_expect`].
pub const QUAD_NODES_PER_PANEL: usize = 20;
/// Panels of [`gauss_expect`] are at most this wide (before the kink points split them further).
pub const QUAD_PANEL_WIDTH: f64 = 1.0;

/// He_k(z), by the three-term recurrence He_{k+1} = z He_k − k He_{k−1} (docs/model.md §3).
pub fn he(k: usize, z: f64) -> f64 {
    let (mut prev, mut cur) = (0.0, 1.0); // He_{-1} := 0, He_0 = 1
    for j in 0..k {
        let next = z * cur - j as f64 * prev;
        prev = cur;
        cur = next;
    }
    cur
}

/// Fills `out[k] = He_k(z)` for every `k < out.len()` with one pass of the three-term recurrence.
pub fn he_all(z: f64, out: &mut [f64]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    out[0] = 1.0;
    if n == 1 {
        return;
    }
    out[1] = z;
    for k in 1..n - 1 {
        out[k + 1] = z * out[k] - k as f64 * out[k - 1];
    }
}

/// k! as f64 (exact up to 22!, correctly rounded-ish beyond, `inf` past 170!).
pub fn factorial(k: usize) -> f64 {
    (2..=k).fold(1.0, |acc, j| acc * j as f64)
}

/// Double factorial n!! = n (n−2) (n−4) ⋯, with 0!! = (−1)!! = 1.
///
/// Negative odd n use the extension n!! = (n+2)!!/(n+2) (so (−3)!! = −1, (−5)!! = 1/3);
/// negative even n are poles of that extension and give NaN.
pub fn double_factorial(n: i64) -> f64 {
    if n >= 0 {
        let mut acc = 1.0;
        let mut j = n;
        while j > 1 {
            acc *= j as f64;
            j -= 2;
        }
        acc
    } else if n % 2 != 0 {
        // (n)!! = (−1)!! / ((n+2)(n+4)⋯(−1)) for negative odd n.
        let mut acc = 1.0;
        let mut j = n + 2;
        while j <= -1 {
            acc /= j as f64;
            j += 2;
        }
        acc
    } else {
        f64::NAN
    }
}

/// The 20-point Gauss–Legendre rule on [−1, 1]: nodes by Newton on the Legendre recurrence
/// (Abramowitz & Stegun 25.4.29), computed once.
fn legendre_rule() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| gauss_legendre(QUAD_NODES_PER_PANEL))
}

/// m-point Gauss–Legendre nodes and weights on [−1, 1].
fn gauss_legendre(m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mf = m as f64;
    for i in 0..m.div_ceil(2) {
        // Tricomi's initial guess, then Newton on P_m.
        let mut z = (PI * (i as f64 + 0.75) / (mf + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for j in 1..m {
                let jf = j as f64;
                let p2 = ((2.0 * jf + 1.0) * z * p1 - jf * p0) / (jf + 1.0);
                p0 = p1;
                p1 = p2;
            }
            let pm = if m == 0 { 1.0 } else { p1 };
            let pm1 = if m == 1 { 1.0 } else { p0 };
            dp = mf * (z * pm - pm1) / (z * z - 1.0);
            let dz = pm / dp;
            z -= dz;
            if dz.abs() <= 1e-16 {
                break;
            }
        }
        x[i] = -z;
        x[m - 1 - i] = z;
        let wi = 2.0 / ((1.0 - z * z) * dp * dp);
        w[i] = wi;
        w[m - 1 - i] = wi;
    }
    (x, w)
}

/// Standard normal density φ(z) = e^{−z²/2}/√(2π).
#[inline]
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Standard normal distribution function Φ(z) = erfc(−z/√2)/2 (accurate in both tails).
#[inline]
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Nodes z_i and weights w_i (φ(z_i) folded in) with Σ_i w_i f(z_i) ≈ E[f(ξ)], ξ ~ N(0, 1).
///
/// Composite 20-point Gauss–Legendre on [−L, L], L = [`QUAD_HALF_WIDTH`], panels at most
/// [`QUAD_PANEL_WIDTH`] wide, with a panel boundary at every finite point of `breaks` inside the
/// window. Put the kinks of a piecewise-smooth f in `breaks`; then each panel sees a smooth
/// integrand and the rule is accurate to ~1e-14 (plain Gauss–Hermite is not: docs/model.md §3).
pub fn gauss_rule(breaks: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let l = QUAD_HALF_WIDTH;
    let n_base = (2.0 * l / QUAD_PANEL_WIDTH).ceil() as usize;
    let mut edges: Vec<f64> = (0..=n_base)
        .map(|i| -l + 2.0 * l * i as f64 / n_base as f64)
        .collect();
    edges.extend(
        breaks
            .iter()
            .copied()
            .filter(|b| b.is_finite() && b.abs() < l),
    );
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let (gx, gw) = legendre_rule();
    let mut nodes = Vec::with_capacity((edges.len() - 1) * gx.len());
    let mut weights = Vec::with_capacity(nodes.capacity());
    for pair in edges.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        if half <= 0.0 {
            continue;
        }
        for (&t, &w) in gx.iter().zip(gw) {
            let z = mid + half * t;
            nodes.push(z);
            weights.push(half * w * normal_pdf(z));
        }
    }
    (nodes, weights)
}

/// E[f(ξ)] for ξ ~ N(0, 1), to ~1e-13 for piecewise-smooth f of moderate growth.
///
/// Uses [`gauss_rule`]: composite Gauss–Legendre (20 nodes a panel) on [−15, 15] with a panel
/// boundary at each point of `breaks` (pass the kinks of f, e.g. `&[0.0]` for ReLU).
pub fn gauss_expect(f: impl Fn(f64) -> f64, breaks: &[f64]) -> f64 {
    let (nodes, weights) = gauss_rule(breaks);
    nodes.iter().zip(&weights).map(|(&z, &w)| w * f(z)).sum()
}

/// m-point Gauss–Hermite rule for the standard normal: Σ_i w_i f(z_i) = E[f(ξ)] exactly for
/// polynomials f of degree ≤ 2m − 1, and Σ_i w_i = 1. Nodes ascending; m = 0 gives empty vectors.
///
/// The nodes are the eigenvalues of the Jacobi matrix of He_k (zero diagonal, off-diagonal √k,
/// k = 1..m−1; Golub & Welsch 1969), found one by one by Sturm-sequence bisection (which cannot
/// skip or repeat a root, unlike Newton from asymptotic guesses) and polished by Newton on
/// h_m = He_m/√(m!) with h_m′ = √m h_{m−1}. Weights are the Christoffel numbers
/// w_i = 1/Σ_{k<m} h_k(z_i)². Good for m up to ~350 (beyond, the outermost weights underflow).
pub fn gauss_hermite(m: usize) -> (Vec<f64>, Vec<f64>) {
    if m == 0 {
        return (Vec::new(), Vec::new());
    }
    // Orthonormal h_0..h_{m-1} at z: returns (h_{m-1}, h_m, Σ_{k<m} h_k²).
    let orthonormal = |z: f64| {
        let (mut prev, mut cur, mut sumsq) = (0.0, 1.0, 0.0);
        for k in 0..m {
            sumsq += cur * cur;
            let kf = k as f64;
            let next = (z * cur - kf.sqrt() * prev) / (kf + 1.0).sqrt();
            prev = cur;
            cur = next;
        }
        (prev, cur, sumsq)
    };
    // Number of eigenvalues of the Jacobi matrix below x (Sturm count via LDLᵀ pivots).
    let count_below = |x: f64| {
        let mut count = 0usize;
        let mut q = -x;
        if q < 0.0 {
            count += 1;
        }
        for k in 1..m {
            let qq = if q == 0.0 { f64::MIN_POSITIVE } else { q };
            q = -x - k as f64 / qq;
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    let bound = 2.0 * (m as f64).sqrt() + 1.0; // Gershgorin: |z| ≤ √(m−2) + √(m−1)
    let mut nodes = vec![0.0; m];
    // Roots m/2.. are ≥ 0; the rest follow by symmetry z ↦ −z.
    for i in m / 2..m {
        let (mut lo, mut hi) = (if i == m / 2 { -1e-3 } else { nodes[i - 1] }, bound);
        loop {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if count_below(mid) > i {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let mut z = 0.5 * (lo + hi);
        for _ in 0..2 {
            let (hm1, hm, _) = orthonormal(z);
            let dz = hm / ((m as f64).sqrt() * hm1);
            if dz.is_finite() && dz.abs() < 1e-8 * z.abs().max(1.0) {
                z -= dz;
            }
        }
        if m % 2 == 1 && i == m / 2 {
            z = 0.0;
        }
        nodes[i] = z;
    }
    for i in 0..m / 2 {
        nodes[i] = -nodes[m - 1 - i];
    }
    let weights = nodes.iter().map(|&z| 1.0 / orthonormal(z).2).collect();
    (nodes, weights)
}
