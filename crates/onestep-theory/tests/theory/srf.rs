//! Cross-check of the finite-n network theory with one class of neurons (constant second layer
//! a_j = 1/√N) against an independent route: the replica fixed point of Cui, Pesce, Dandi,
//! Krzakala, Lu, Zdeborová & Loureiro (2024, arXiv 2402.04980, Result 3.3) for the spiked random
//! features σ(κu + s g) with a constant spike scale κ. That fixed point is written here from the
//! structure of their equations (overlaps q₁, q₂, V₁, V₂, θ, ψ, m and their conjugates; the means
//! over the spectrum of Ω are taken over the Marchenko–Pastur law, which is what their
//! empirical averages tend to), not with this crate's code: it shares only the Gaussian
//! smoothing of σ and the Gauss quadrature rules. docs/theory.md §10.5 has the numbers.
//!
//! Our side (`constant_a: true`, docs/theory.md §10): the resolvent/Woodbury route with the
//! test error by leave-one-out. Their side: the replica generalisation error. The two are
//! derived differently; they must agree wherever both apply.

use onestep_theory::network::{gauss_hermite, gauss_legendre};
use onestep_theory::{FnStats, GaussSmoothing, NetworkInputs, network_report, overlap};

const NOISE: f64 = 0.0;

fn target(t: f64) -> f64 {
    // σ* = He₁ + He₂/√2 (target B)
    t + (t * t - 1.0) * std::f64::consts::FRAC_1_SQRT_2
}

fn target_stats() -> FnStats {
    FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2])
}

/// Means over D = s²x, x ~ MP(1) on [0, 4] (ψ = 1): x = 4 sin²φ, density dx = (4/π) cos²φ dφ,
/// Gauss–Legendre in φ ∈ [0, π/2].
struct Mp {
    x: Vec<f64>,
    w: Vec<f64>,
}

impl Mp {
    fn new(m: usize) -> Self {
        let (mut x, mut w) = (Vec::new(), Vec::new());
        let (nodes, weights) = gauss_legendre(m);
        for (z, wt) in nodes.into_iter().zip(weights) {
            let phi = std::f64::consts::FRAC_PI_4 * (z + 1.0);
            x.push(4.0 * phi.sin().powi(2));
            w.push(
                wt * std::f64::consts::FRAC_PI_4 * 4.0 / std::f64::consts::PI * phi.cos().powi(2),
            );
        }
        Self { x, w }
    }
    fn mean(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.x.iter().zip(&self.w).map(|(x, w)| w * f(*x)).sum()
    }
}

/// The replica fixed point's test error for features σ(κu + s g), ridge λ_r (their convention:
/// ½Σ(y − wᵀφ/√p)² + (λ_r/2)‖w‖², so λ_r = nλ/p for this crate's λ), sample ratio α = n/d,
/// width p = d, label y = σ*(ρu + √(1−ρ²) z); damped iteration (½) from their starting point.
fn replica_test_error(
    sm: &GaussSmoothing,
    target: &dyn Fn(f64) -> f64,
    kappa: f64,
    s: f64,
    rho: f64,
    alpha: f64,
    lam: f64,
) -> f64 {
    let (kx, kw) = gauss_hermite(96);
    let (zx, zw) = gauss_hermite(64);
    let rs = (1.0 - rho * rho).sqrt();
    // per k-node: μ₀, μ₁ (theirs: E[σ·g]/s), μ₂² = ν, and the label moments h, h₁, hh
    let nodes: Vec<[f64; 6]> = kx
        .iter()
        .map(|&k| {
            let [m0, m1, m2] = (sm.0)(kappa * k, s);
            let (mut h, mut h1, mut hh) = (0.0, 0.0, 0.0);
            for (z, w) in zx.iter().zip(&zw) {
                let y = target(rho * k + rs * z);
                h += w * y;
                h1 += w * z * y;
                hh += w * y * y;
            }
            [m0, m1 / s, (m2 - m0 * m0 - m1 * m1).max(0.0), h, h1, hh]
        })
        .collect();
    let mp = Mp::new(200);
    let (dscale, fval) = (s * s, s * s); // D = s²x; F = (uᵀWv)² ≈ s²; H = (uᵀWζ)² ≈ D
    let (mut q1, mut q2, mut v1, mut v2, mut th, mut ps, mut m) =
        (0.1, 0.2, 3.0, 3.0, 0.5, 0.5, 1.5);
    let damp = 0.5;
    for _ in 0..20000 {
        let (mut hq1, mut hq2, mut hv1, mut hv2, mut hth, mut hps) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut num_m, mut den_m) = (0.0, 0.0);
        for (i, n) in nodes.iter().enumerate() {
            let [m0, m1, nu, h, h1, hh] = *n;
            let (k, w) = (kx[i], kw[i]);
            let vk = m1 * m1 * v1 + nu * v2;
            let qk = m1 * m1 * q1 + nu * q2;
            let c = m0 * m + m1 * k * th;
            let common = c * c + hh - 2.0 * c * h - 2.0 * m1 * ps * h1 + qk;
            hq1 += alpha * w * m1 * m1 * common / (1.0 + vk).powi(2);
            hq2 += alpha * w * nu * common / (1.0 + vk).powi(2);
            hv1 += alpha * w * m1 * m1 / (1.0 + vk);
            hv2 += alpha * w * nu / (1.0 + vk);
            hth += alpha * w * k * m1 * (h - c) / (1.0 + vk);
            hps += alpha * w * h1 * m1 / (1.0 + vk);
            num_m += w * m0 * (h - m1 * k * th) / (1.0 + vk);
            den_m += w * m0 * m0 / (1.0 + vk);
        }
        let sfn = |x: f64| lam + hv1 * dscale * x + hv2;
        let src = |x: f64| hq1 * dscale * x + hq2 + hth * hth * fval + hps * hps * dscale * x;
        let nq1 = mp.mean(|x| dscale * x / sfn(x).powi(2) * src(x));
        let nq2 = mp.mean(|x| src(x) / sfn(x).powi(2));
        let nv1 = mp.mean(|x| dscale * x / sfn(x));
        let nv2 = mp.mean(|x| 1.0 / sfn(x));
        let nth = hth * mp.mean(|x| fval / sfn(x));
        let nps = hps * mp.mean(|x| dscale * x / sfn(x));
        let nm = if den_m > 1e-300 { num_m / den_m } else { 0.0 };
        let change = [
            (nq1 - q1).abs(),
            (nq2 - q2).abs(),
            (nv1 - v1).abs(),
            (nv2 - v2).abs(),
            (nth - th).abs(),
            (nps - ps).abs(),
            (nm - m).abs(),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        let mix = |new: f64, old: f64| (1.0 - damp) * new + damp * old;
        q1 = mix(nq1, q1);
        q2 = mix(nq2, q2);
        v1 = mix(nv1, v1);
        v2 = mix(nv2, v2);
        th = mix(nth, th);
        ps = mix(nps, ps);
        m = mix(nm, m);
        if change < 1e-13 {
            break;
        }
    }
    let mut mse = 0.0;
    for (i, n) in nodes.iter().enumerate() {
        let [m0, m1, nu, h, h1, hh] = *n;
        let c = m0 * m + m1 * kx[i] * th;
        mse += kw[i] * (hh + c * c - 2.0 * m1 * ps * h1 - 2.0 * c * h + q1 * m1 * m1 + q2 * nu);
    }
    mse
}

/// Our test error with a constant second layer at n = 4d, N = d, α = 0 and step prefactor η₀,
/// with κ and the bulk scale s = √(1 + γκ²) it used.
fn ours(d: usize, eta0: f64, lambda: f64) -> (f64, f64, f64) {
    let mut inp = NetworkInputs::new(
        4 * d,
        d,
        d,
        0.0,
        eta0,
        lambda,
        NOISE,
        FnStats::relu_centred(8),
        GaussSmoothing::relu(true),
        target_stats(),
    );
    inp.constant_a = true;
    let r = network_report(&inp).unwrap();
    let s = (1.0 + r.gamma * r.kappa_rms.powi(2)).sqrt();
    (r.errors.test, r.kappa_rms, s)
}

#[test]
fn one_class_of_neurons_converges_to_the_replica_fixed_point() {
    // The replica fixed point fits the coefficient m of the mean column μ₀(κu)·1_N without
    // penalty (in their scaling that column is infinitely strong); here it has the finite
    // strength of a width-N layer (p_m N ρ_m), so the two differ by O(1/N) at fixed κ and s, and
    // must agree in the limit. κ is held fixed while N grows by choosing η₀ (α = 0); the step
    // noise makes s = √(1 + γκ²) > 1, passed to both.
    let ov = overlap(&target_stats(), NOISE, 4.0).unwrap();
    let rho = ov.inner / ov.norm2.sqrt();
    let sm = GaussSmoothing::relu(true);
    let (lambda, c1b) = (0.1, 0.5 * ov.norm2.sqrt());
    for kap in [0.3, 0.8] {
        let at = |d: usize| ours(d, kap * (d as f64).sqrt() / c1b, lambda);
        let (_, kappa, s) = at(1 << 12);
        assert!((kappa - kap).abs() < 1e-12 && s > 1.0, "κ {kappa}, s {s}");
        let replica = replica_test_error(&sm, &target, kap, s, rho, 4.0, 4.0 * lambda);
        let gaps: Vec<f64> = [12, 14, 16]
            .iter()
            .map(|&lg| at(1 << lg).0 - replica)
            .collect();
        // O(1/N): a factor 4 per factor 4 in N ...
        for w in gaps.windows(2) {
            let ratio = w[0] / w[1];
            assert!((3.5..4.5).contains(&ratio), "κ = {kap}: gaps {gaps:?}");
        }
        // ... and the Richardson extrapolation N → ∞ lands on the replica value.
        let limit = replica + gaps[2] - (gaps[1] - gaps[2]) / 3.0;
        let rel = (limit - replica).abs() / replica;
        assert!(
            rel < 1e-6,
            "κ = {kap}: extrapolated {limit} vs replica {replica} ({rel:.1e})"
        );
    }
}
