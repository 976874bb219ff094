//! Finite-n errors of the network itself (docs/model.md §8.1, docs/theory.md §10): a conditional
//! Gaussian equivalent of `F = σ(X̃Wᵀ)` after one step that is non-perturbative in the step.
//!
//! Model (reconstruction; derivation in docs/theory.md §10). Neuron j's pre-activation at x̃ is
//! `κ_j u + s_j g_j + ε_j`, with u = ⟨x̃,β⟩/‖β‖, κ_j = ηc₁‖β‖a_j, s_j² = 1 + γκ_j² (step noise γ of
//! docs/theory.md §9.5), g_j = ⟨ŵ_j, x̃^⊥⟩ a standard Gaussian on the complement of span(β, β*)
//! (ŵ_j ≈ i.i.d. uniform unit vectors) and ε_j = ⟨ŵ_j,β̂⟩u + ⟨ŵ_j,e⟩w the O(d^{−1/2}) linear part
//! along the two projections (w the standardised part of ⟨x̃,β*⟩ orthogonal to u). Conditionally
//! on (u, a_j) the feature is replaced by its Gaussian equivalent
//! `μ₀(κ_j u) + μ₁(κ_j u)(g_j + ε_j) + √ν(κ_j u) ζ_ij`, with the exact Gaussian integrals
//! μ₀(t) = E σ(t + s g), μ₁(t) = E[σ(t + s g) g], ν = E σ(t + s g)² − μ₀² − μ₁² ([`GaussSmoothing`]).
//! `a` is discretised into K Gauss–Hermite atoms (√N a ~ N(0,1)), u into Q Gauss–Hermite nodes.
//!
//! Ridge. With row ridge λ(u) (the derivative trick below needs it), the bulk resolvent has the
//! deterministic equivalent `B_ii ≈ b(u_i) = 1/(λ(u_i) + δ̂(u_i))`, where for classes m of atoms
//! (fraction p_m, φ_m(u) = μ₁(κ_m u), ν_m(u)), `P = E_u[b φφᵀ]`, `Λ_m = E_u[b ν_m]`, `D = diag(p_m ρ_m)`:
//!
//! `ρ_m = 1/(1 + Λ_m + [P(I + ψDP)⁻¹]_mm)`,
//! `δ̂(u) = (N/n)[φ(u)ᵀ(I + ψDP)⁻¹D φ(u) + Σ_m p_m ρ_m ν_m(u)]`,
//!
//! (ρ_m the diagonal of `R̂ = (I + AᵀD_λ⁻¹A/n)⁻¹` on class m). The low-rank part (class means
//! μ₀(κ_m u), M = class indicators; the linear columns μ₁(κ_m u)u and μ₁(κ_m u)w, M = the projections
//! of ŵ_j) enters by Woodbury: `Q(x,y) = lim (1/n)xᵀRy = ⟨x, b y⟩ − ⟨x,bl⟩ᵀH^{½}(I + H^{½}G_bH^{½})⁻¹H^{½}⟨bl,y⟩`,
//! `G_b = E[b llᵀ]`, `H = MᵀR̂M` (diagonal: p_mNρ_m for the means, p_mψρ_m for the linear columns).
//! Training error `λ²·(1/n)yᵀR²y`, test error by leave-one-out `(1/n)Σ_i (Ry)_i²/R_ii²` with
//! `R_ii ≈ b(u_i)`; both are `−∂_ε Q(y,y)` at the row ridge `λ + ε w(u)` (w = 1, resp. 1/b(u)²),
//! taken by a 4-point central difference.
//!
//! As η → 0 every class has μ₀ = c₀, μ₁ = c₁, ν = c_{>1}² and the equations reduce to the RF
//! deterministic equivalent of [`crate::errors`] (GCV and leave-one-out coincide when b is
//! constant).

use crate::TheoryError;
use crate::equivalents::{Errors, LAMBDA_RANGE};
use crate::hermite::{FnStats, factorial};
use crate::small::Sym;
use crate::spikes::overlap;
mod anisotropy;
mod outliers;
mod quadrature;

pub use outliers::{
    NetworkOutlier, NetworkSpikes, OUTLIER_DEGREES, network_outliers, outlier_diagonal,
};
use quadrature::lu_inverse;
pub use quadrature::{GaussSmoothing, gauss_hermite, gauss_legendre};

/// Default number K of quadrature atoms for the second layer a: at the reference setting
/// (d = N = 1024, n = 4d) the errors change by < 1e-8 beyond K = 16 at α = 0.3 and by 2e-5
/// from K = 48 to 64 at α = 0.45 (heavy tails of κ_j; `tests/theory/network.rs`).
pub const DEFAULT_ATOMS: usize = 48;
/// The largest K and Q accepted: the Gauss–Hermite rule is exact to ~1e-15 in its moments up to
/// here (it loses accuracy near 200 nodes; `quadrature_rules_integrate_moments`).
pub const MAX_NODES: usize = 160;
/// Default number Q of Gauss–Hermite nodes for the spike coordinate u.
pub const DEFAULT_NODES: usize = 48;

/// Inputs of [`network_errors`]. Finite n, d, N enter because η = η₀n^α and the spike scale
/// κ = ηc₁‖β‖a (a ~ N(0, 1/N)) depend on them; φ = n/d, ψ = N/d.
///
/// | field | meaning | allowed |
/// |---|---|---|
/// | `n`, `d`, `width` | batch size (each batch), input dimension, width N | ≥ 1 |
/// | `alpha`, `eta0` | η = η₀n^α | finite, ≥ 0 |
/// | `lambda` | ridge penalty (not scaled by n) | [1e-12, 1e12] |
/// | `noise` | label-noise standard deviation σ_ε | finite, ≥ 0 |
/// | `act`, `target` | Hermite descriptions of σ and σ* | [`FnStats::validate`] |
/// | `smoothing` | σ's Gaussian smoothings (must describe the same σ as `act`) | |
/// | `atoms` | K quadrature atoms for a ([`DEFAULT_ATOMS`]) | 1..=[`MAX_NODES`] |
/// | `nodes` | Q Gauss–Hermite nodes for u ([`DEFAULT_NODES`]) | 8..=[`MAX_NODES`] |
/// | `beta_norm2` | realised ‖β‖² (None: the limit of [`crate::overlap`]) | finite, > 0 |
/// | `step_noise` | include the step noise γ in the bulk scale s (default true) | |
/// | `constant_a` | second layer a_j = 1/√N for every neuron (one atom; Cui et al.'s setting) instead of a ~ N(0, I/N) (default false) | |
///
/// The residual is `labels` (docs/model.md §2); callers refuse `full`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkInputs {
    /// Batch size n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// Width N.
    pub width: usize,
    /// Step exponent α.
    pub alpha: f64,
    /// Step prefactor η₀.
    pub eta0: f64,
    /// Ridge penalty λ.
    pub lambda: f64,
    /// Label-noise standard deviation σ_ε.
    pub noise: f64,
    /// Activation σ (its c₁ and E σ′² set κ and γ; E σ² checks the smoothing).
    pub act: FnStats,
    /// σ's Gaussian smoothings.
    pub smoothing: GaussSmoothing,
    /// Target link σ*.
    pub target: FnStats,
    /// Quadrature atoms K for a.
    pub atoms: usize,
    /// Gauss–Hermite nodes Q for u.
    pub nodes: usize,
    /// Realised ‖β‖².
    pub beta_norm2: Option<f64>,
    /// Step noise in the bulk scale.
    pub step_noise: bool,
    /// Constant second layer a_j = 1/√N (one class of neurons, κ_j = ηc₁‖β‖/√N for all j).
    pub constant_a: bool,
}

impl NetworkInputs {
    /// Inputs with the defaults: K = [`DEFAULT_ATOMS`], Q = [`DEFAULT_NODES`], limiting ‖β‖²,
    /// step noise on.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n: usize,
        d: usize,
        width: usize,
        alpha: f64,
        eta0: f64,
        lambda: f64,
        noise: f64,
        act: FnStats,
        smoothing: GaussSmoothing,
        target: FnStats,
    ) -> Self {
        Self {
            n,
            d,
            width,
            alpha,
            eta0,
            lambda,
            noise,
            act,
            smoothing,
            target,
            atoms: DEFAULT_ATOMS,
            nodes: DEFAULT_NODES,
            beta_norm2: None,
            step_noise: true,
            constant_a: false,
        }
    }
}

/// [`network_errors`] with diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct NetworkReport {
    /// The errors.
    pub errors: Errors,
    /// η = η₀n^α.
    pub eta: f64,
    /// Step-noise share γ (0 when off).
    pub gamma: f64,
    /// RMS spike scale ηc₁‖β‖/√N of κ_j.
    pub kappa_rms: f64,
    /// Fixed-point iterations of the base solve.
    pub iterations: usize,
}

/// Finite-n training, test and noiseless test errors of the network after one step (labels
/// residual), by the conditional Gaussian equivalent of the module docs.
pub fn network_errors(inp: &NetworkInputs) -> Result<Errors, TheoryError> {
    network_report(inp).map(|r| r.errors)
}

fn bad(name: &'static str, value: f64, allowed: &'static str) -> TheoryError {
    TheoryError::InvalidParameter {
        name,
        value,
        allowed,
    }
}

fn validate(inp: &NetworkInputs) -> Result<(), TheoryError> {
    for (name, v) in [("n", inp.n), ("d", inp.d), ("width", inp.width)] {
        if v == 0 {
            return Err(bad(name, 0.0, "sizes n, d and width N must be ≥ 1"));
        }
    }
    if !(inp.alpha.is_finite() && inp.alpha >= 0.0) {
        return Err(bad(
            "alpha",
            inp.alpha,
            "step exponent α must be finite and ≥ 0",
        ));
    }
    if !(inp.eta0.is_finite() && inp.eta0 >= 0.0) {
        return Err(bad(
            "eta0",
            inp.eta0,
            "step prefactor η₀ must be finite and ≥ 0",
        ));
    }
    if !(inp.lambda.is_finite() && (LAMBDA_RANGE.0..=LAMBDA_RANGE.1).contains(&inp.lambda)) {
        return Err(bad(
            "lambda",
            inp.lambda,
            "ridge penalty λ must lie in [1e-12, 1e12] (the ridgeless limit is not implemented)",
        ));
    }
    if !(inp.noise.is_finite() && inp.noise >= 0.0) {
        return Err(bad(
            "noise",
            inp.noise,
            "label-noise sd σ_ε must be finite and ≥ 0",
        ));
    }
    if !(1..=MAX_NODES).contains(&inp.atoms) {
        return Err(bad(
            "atoms",
            inp.atoms as f64,
            "atoms K must lie in 1..=160",
        ));
    }
    if !(8..=MAX_NODES).contains(&inp.nodes) {
        return Err(bad(
            "nodes",
            inp.nodes as f64,
            "u-nodes Q must lie in 8..=160",
        ));
    }
    if let Some(b) = inp.beta_norm2
        && !(b.is_finite() && b > 0.0)
    {
        return Err(bad("beta_norm2", b, "realised ‖β‖² must be finite and > 0"));
    }
    inp.act.validate("activation")?;
    inp.target.validate("target")?;
    // The smoothing must describe the activation: E σ(g)² and E[σ(g)g] at t = 0, s = 1.
    let [_, m1, m2] = (inp.smoothing.0)(0.0, 1.0);
    let c1 = inp.act.coeff(1).unwrap_or(0.0);
    let tol = 1e-6 * inp.act.second_moment.max(1e-12);
    if !((m2 - inp.act.second_moment).abs() <= tol && (m1 - c1).abs() <= tol.sqrt()) {
        return Err(bad(
            "smoothing",
            m2,
            "the Gaussian smoothing must describe the same σ as `act` (E σ(g)² and c₁ disagree)",
        ));
    }
    Ok(())
}

/// Everything the fixed point needs, on the (atom m, node q) grid.
struct Grid {
    /// Atom weights p_m (sum 1).
    p: Vec<f64>,
    /// u-nodes and weights.
    u: Vec<f64>,
    wu: Vec<f64>,
    /// μ₀, μ₁, ν at [q][m].
    mu0: Vec<Vec<f64>>,
    mu1: Vec<Vec<f64>>,
    nu: Vec<Vec<f64>>,
    /// ψ = N/d and N/n, N.
    psi: f64,
    nn: f64,
    width: f64,
}

/// State of the bulk fixed point.
#[derive(Clone)]
struct Bulk {
    /// δ̂ at the u-nodes.
    delta: Vec<f64>,
    /// ρ_m.
    rho: Vec<f64>,
}

/// When [`solve_bulk`] stops: converged when the largest relative change is below `tol`;
/// failed after `max_iter` iterations, when the change is still above 1% after `patience`, or
/// when it has not reached a new minimum for `patience` iterations.
#[derive(Clone, Copy)]
struct Limits {
    tol: f64,
    max_iter: usize,
    patience: usize,
}

/// The errors' solves: tolerance 1e-14, at most 20000 iterations.
const ERRORS: Limits = Limits {
    tol: 1e-14,
    max_iter: 20_000,
    patience: 20_000,
};
/// The edge's solves (the search in z of [`network_bulk_edge`]): below the edge the iteration
/// wanders, and near it convergence slows down like the distance to the edge.
const EDGE: Limits = Limits {
    tol: 1e-10,
    max_iter: 4000,
    patience: 200,
};

// Index loops over the (node, atom) grid read best with explicit indices.
#[allow(clippy::needless_range_loop)]
fn solve_bulk(
    g: &Grid,
    lam: &[f64],
    start: &Bulk,
    lim: Limits,
) -> Result<(Bulk, usize), TheoryError> {
    let Limits {
        tol,
        max_iter,
        patience,
    } = lim;
    let (k, q) = (g.p.len(), g.u.len());
    let mut st = start.clone();
    let mut damping: f64 = 0.5;
    let mut last_change = f64::INFINITY;
    let mut best = (f64::INFINITY, 0);
    let mut iterations = max_iter;
    for it in 0..max_iter {
        let b: Vec<f64> = (0..q).map(|i| 1.0 / (lam[i] + st.delta[i])).collect();
        // b has the sign of the ridge on the physical branch (λ > 0: b > 0; below the spectrum,
        // λ = −z: b < 0); a change of sign means there is no solution here.
        if !(0..q).all(|i| b[i] * lam[i] > 0.0 && b[i].is_finite()) {
            iterations = it;
            break;
        }
        // P = E_u[b φφᵀ], Λ_m = E_u[b ν_m]
        let mut p = vec![0.0; k * k];
        let mut lv = vec![0.0; k];
        for i in 0..q {
            let w = g.wu[i] * b[i];
            let f = &g.mu1[i];
            for m in 0..k {
                lv[m] += w * g.nu[i][m];
                let wf = w * f[m];
                for l in 0..=m {
                    p[m * k + l] += wf * f[l];
                }
            }
        }
        for m in 0..k {
            for l in 0..m {
                p[l * k + m] = p[m * k + l];
            }
        }
        let dd: Vec<f64> = (0..k).map(|m| g.p[m] * st.rho[m]).collect();
        // X = (I + ψ D P)⁻¹
        let mut a = vec![0.0; k * k];
        for m in 0..k {
            for l in 0..k {
                a[m * k + l] = g.psi * dd[m] * p[m * k + l] + if m == l { 1.0 } else { 0.0 };
            }
        }
        let x = lu_inverse(&a, k).ok_or(TheoryError::Singular {
            what: "I + ψDP (network bulk)",
            pivot: 0.0,
        })?;
        let mut rho_new = vec![0.0; k];
        for m in 0..k {
            let tmm: f64 = (0..k).map(|l| p[m * k + l] * x[l * k + m]).sum();
            rho_new[m] = 1.0 / (1.0 + lv[m] + tmm);
        }
        // δ̂(u) = (N/n)[φᵀ X D φ + Σ p ρ ν]
        let mut xd = vec![0.0; k * k];
        for m in 0..k {
            for l in 0..k {
                xd[m * k + l] = x[m * k + l] * dd[l];
            }
        }
        let mut delta_new = vec![0.0; q];
        for i in 0..q {
            let f = &g.mu1[i];
            let mut s = 0.0;
            for m in 0..k {
                let row: f64 = (0..k).map(|l| xd[m * k + l] * f[l]).sum();
                s += f[m] * row + dd[m] * g.nu[i][m];
            }
            delta_new[i] = g.nn * s;
        }
        let mut change: f64 = 0.0;
        for (o, n) in st.delta.iter().zip(&delta_new) {
            change = change.max(((n - o) / n.abs().max(1e-300)).abs());
        }
        for (o, n) in st.rho.iter().zip(&rho_new) {
            change = change.max(((n - o) / n.abs().max(1e-300)).abs());
        }
        // Not finite, still changing by > 1% after `patience` iterations, or no new smallest
        // change for `patience` iterations (it hovers instead of contracting): no solution here.
        if change < best.0 {
            best = (change, it);
        }
        if !change.is_finite() || (it >= patience && change > 1e-2) || it - best.1 > patience {
            iterations = it + 1;
            break;
        }
        if change < tol {
            st.delta = delta_new;
            st.rho = rho_new;
            return Ok((st, it + 1));
        }
        // adapt the damping: back off when the change grows
        if change > last_change {
            damping = (damping * 0.7).max(0.05);
        } else {
            damping = (damping * 1.05).min(1.0);
        }
        last_change = change;
        for (o, n) in st.delta.iter_mut().zip(&delta_new) {
            *o += damping * (n - *o);
        }
        for (o, n) in st.rho.iter_mut().zip(&rho_new) {
            *o += damping * (n - *o);
        }
    }
    Err(TheoryError::NoConvergence {
        iterations,
        lambda: lam.iter().copied().fold(f64::INFINITY, f64::min),
        last: st.rho.iter().sum::<f64>() / st.rho.len() as f64,
        change: last_change,
    })
}

/// The labels' conditional moments at the u-nodes: h₀ = E[y|u], h₁ = E[y w|u], h₂ = E[y²|u].
struct Labels {
    h0: Vec<f64>,
    h1: Vec<f64>,
    h2: Vec<f64>,
}

/// Conditional moments of y = σ*(r u + s w) + σ_ε ε given u, from σ*'s Hermite coefficients
/// (Hermite addition theorem He_k(ru + sw) = Σ_i C(k,i) r^{k−i} s^i He_{k−i}(u) He_i(w), r² + s² = 1);
/// the part of E σ*² beyond the given degrees is added to h₂ uniformly in u.
fn labels(target: &FnStats, noise: f64, r: f64, s: f64, u: &[f64]) -> Labels {
    let c = &target.coeffs;
    let kmax = c.len().saturating_sub(1);
    let parseval: f64 = c
        .iter()
        .enumerate()
        .map(|(k, v)| factorial(k) * v * v)
        .sum();
    let rest = (target.second_moment - parseval).max(0.0);
    let binom = |n: usize, k: usize| -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    };
    let mut out = Labels {
        h0: Vec::new(),
        h1: Vec::new(),
        h2: Vec::new(),
    };
    for &x in u {
        let mut he = vec![0.0; kmax + 1];
        he[0] = 1.0;
        if kmax >= 1 {
            he[1] = x;
        }
        for j in 2..=kmax {
            he[j] = x * he[j - 1] - (j - 1) as f64 * he[j - 2];
        }
        // A_i(u) = Σ_k c_k C(k,i) r^{k−i} He_{k−i}(u): E[σ*|u, w] = Σ_i s^i A_i(u) He_i(w)
        let mut h2 = rest + noise * noise;
        let mut a = vec![0.0; kmax + 1];
        for (i, ai) in a.iter_mut().enumerate() {
            for k in i..=kmax {
                *ai += c[k] * binom(k, i) * r.powi((k - i) as i32) * he[k - i];
            }
            h2 += factorial(i) * s.powi(2 * i as i32) * *ai * *ai;
        }
        out.h0.push(a[0]);
        out.h1.push(if kmax >= 1 { s * a[1] } else { 0.0 });
        out.h2.push(h2);
    }
    out
}

/// Q(y,y) = lim (1/n) yᵀRy at the bulk state (module docs).
#[allow(clippy::needless_range_loop)]
fn form_yy(g: &Grid, lab: &Labels, lam: &[f64], st: &Bulk) -> Result<f64, TheoryError> {
    let (k, q) = (g.p.len(), g.u.len());
    let b: Vec<f64> = (0..q).map(|i| 1.0 / (lam[i] + st.delta[i])).collect();
    // columns: 0..k means, k..2k u-columns, 2k..3k w-columns
    let r = 3 * k;
    let mut gm = Sym::zeros(r);
    let mut ly = vec![0.0; r];
    let mut yy = 0.0;
    let mut acc = vec![0.0; r * r];
    for i in 0..q {
        let w = g.wu[i] * b[i];
        let ui = g.u[i];
        yy += w * lab.h2[i];
        let mut lu = vec![0.0; 2 * k];
        for m in 0..k {
            lu[m] = g.mu0[i][m];
            lu[k + m] = g.mu1[i][m] * ui;
            ly[m] += w * g.mu0[i][m] * lab.h0[i];
            ly[k + m] += w * g.mu1[i][m] * ui * lab.h0[i];
            ly[2 * k + m] += w * g.mu1[i][m] * lab.h1[i];
        }
        for a in 0..2 * k {
            for c in 0..=a {
                acc[a * r + c] += w * lu[a] * lu[c];
            }
        }
        for m in 0..k {
            for l in 0..=m {
                acc[(2 * k + m) * r + 2 * k + l] += w * g.mu1[i][m] * g.mu1[i][l];
            }
        }
    }
    let mut hs = vec![0.0; r];
    for m in 0..k {
        hs[m] = (g.p[m] * g.width * st.rho[m]).sqrt();
        hs[k + m] = (g.p[m] * g.psi * st.rho[m]).sqrt();
        hs[2 * k + m] = hs[k + m];
    }
    for a in 0..r {
        for c in 0..=a {
            let v = hs[a] * acc[a * r + c] * hs[c] + if a == c { 1.0 } else { 0.0 };
            gm.set(a, c, v);
        }
    }
    let v: Vec<f64> = ly.iter().zip(&hs).map(|(l, h)| l * h).collect();
    let t = gm.solve(&v, "I + H½ G_b H½ (network low-rank part)")?;
    let corr: f64 = v.iter().zip(&t).map(|(a, b)| a * b).sum();
    Ok(yy - corr)
}

/// What every prediction of this module shares: the (atom, node) grid, the labels' moments
/// given u, and the step's scales.
struct Prepared {
    /// The labels are identically zero (no target, no noise): β = 0, no step.
    zero_labels: bool,
    grid: Grid,
    lab: Labels,
    eta: f64,
    gamma: f64,
    kappa_rms: f64,
}

/// The grid for atoms `(x, p)` of √N·a and nodes `(u, w)` of the spike coordinate (values,
/// weights summing to 1).
fn prepare(
    inp: &NetworkInputs,
    atoms: (Vec<f64>, Vec<f64>),
    nodes: (Vec<f64>, Vec<f64>),
) -> Result<Prepared, TheoryError> {
    validate(inp)?;
    let (n, d, nw) = (inp.n as f64, inp.d as f64, inp.width as f64);
    let phi = n / d;
    let ov = overlap(&inp.target, inp.noise, phi)?;
    let bnorm2 = inp.beta_norm2.unwrap_or(ov.norm2);
    let eta = inp.eta0 * n.powf(inp.alpha);
    let zero_labels = ov.norm2 <= 0.0 && inp.noise == 0.0;
    let bnorm2 = if zero_labels { 0.0 } else { bnorm2 };
    let c1 = inp.act.coeff(1).unwrap_or(0.0);
    let bnorm = bnorm2.sqrt();
    let r = if zero_labels {
        0.0
    } else {
        (ov.inner / bnorm).clamp(-1.0, 1.0)
    };
    let s_ = (1.0 - r * r).max(0.0).sqrt();
    let gamma = if inp.step_noise && c1 != 0.0 && !zero_labels {
        (d / n)
            * (inp.act.deriv_second_moment() - c1 * c1).max(0.0)
            * (inp.target.second_moment + inp.noise * inp.noise)
            / (c1 * c1 * bnorm2)
    } else {
        0.0
    };
    let kappa_rms = eta * c1 * bnorm / nw.sqrt();
    let (ax, aw) = atoms;
    let (ux, uw) = nodes;
    let k = ax.len();
    let mut grid = Grid {
        p: aw,
        u: ux.clone(),
        wu: uw,
        mu0: Vec::new(),
        mu1: Vec::new(),
        nu: Vec::new(),
        psi: nw / d,
        nn: nw / n,
        width: nw,
    };
    let kap: Vec<f64> = ax.iter().map(|x| kappa_rms * x).collect();
    let sc: Vec<f64> = kap
        .iter()
        .map(|kk| (1.0 + gamma * kk * kk).sqrt())
        .collect();
    for &u in &ux {
        let (mut r0, mut r1, mut rn) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
        for m in 0..k {
            let [m0, m1, m2] = (inp.smoothing.0)(kap[m] * u, sc[m]);
            if !(m0.is_finite() && m1.is_finite() && m2.is_finite()) {
                return Err(bad(
                    "smoothing",
                    kap[m] * u,
                    "the Gaussian smoothing of σ returned a non-finite value",
                ));
            }
            r0[m] = m0;
            r1[m] = m1;
            rn[m] = (m2 - m0 * m0 - m1 * m1).max(0.0);
        }
        grid.mu0.push(r0);
        grid.mu1.push(r1);
        grid.nu.push(rn);
    }
    let lab = labels(&inp.target, inp.noise, r, s_, &ux);
    Ok(Prepared {
        zero_labels,
        grid,
        lab,
        eta,
        gamma,
        kappa_rms,
    })
}

/// Atoms of √N·a: the single value 1 for a constant second layer, else `rule()`.
fn atoms_or(
    inp: &NetworkInputs,
    rule: impl FnOnce() -> (Vec<f64>, Vec<f64>),
) -> (Vec<f64>, Vec<f64>) {
    if inp.constant_a {
        (vec![1.0], vec![1.0])
    } else {
        rule()
    }
}

/// [`network_errors`] with η, γ, the κ scale and the iteration count.
pub fn network_report(inp: &NetworkInputs) -> Result<NetworkReport, TheoryError> {
    let Prepared {
        zero_labels,
        grid,
        lab,
        eta,
        gamma,
        kappa_rms,
    } = prepare(
        inp,
        atoms_or(inp, || gauss_hermite(inp.atoms)),
        gauss_hermite(inp.nodes),
    )?;
    if zero_labels {
        return Ok(NetworkReport {
            errors: Errors::ZERO,
            eta,
            gamma: 0.0,
            kappa_rms: 0.0,
            iterations: 0,
        });
    }
    let (k, q) = (grid.p.len(), grid.u.len());
    let lam0 = vec![inp.lambda; q];
    let start = Bulk {
        delta: vec![0.0; q],
        rho: vec![1.0; k],
    };
    let (base, iterations) = solve_bulk(&grid, &lam0, &start, ERRORS)?;
    let b0: Vec<f64> = (0..q).map(|i| 1.0 / (lam0[i] + base.delta[i])).collect();
    // −∂_ε Q(y,y) at the row ridge λ + ε w(u), 4-point central difference.
    let deriv = |w: &[f64]| -> Result<f64, TheoryError> {
        let wmax = w.iter().copied().fold(0.0, f64::max);
        let h = 1e-3 * inp.lambda / wmax;
        let mut vals = [0.0; 4];
        for (j, e) in [-2.0, -1.0, 1.0, 2.0].iter().enumerate() {
            let lam: Vec<f64> = (0..q).map(|i| inp.lambda + e * h * w[i]).collect();
            let (st, _) = solve_bulk(&grid, &lam, &base, ERRORS)?;
            vals[j] = form_yy(&grid, &lab, &lam, &st)?;
        }
        Ok(-(vals[0] - 8.0 * vals[1] + 8.0 * vals[2] - vals[3]) / (12.0 * h))
    };
    let train = (inp.lambda * inp.lambda * deriv(&vec![1.0; q])?).max(0.0);
    let wl: Vec<f64> = b0.iter().map(|b| 1.0 / (b * b)).collect();
    let test = deriv(&wl)?.max(0.0);
    Ok(NetworkReport {
        errors: Errors {
            train,
            test,
            test_clean: test - inp.noise * inp.noise,
        },
        eta,
        gamma,
        kappa_rms,
        iterations,
    })
}

/// A standard normal sample of `count` draws (√N·a over the neurons, or u over the rows) as
/// classes for the bulk edge: the expected order statistics (Blom's
/// Φ⁻¹((j − 0.375)/(count + 0.25))), the [`EDGE_SINGLES`] largest and smallest as classes of one
/// draw each, the rest pooled into [`EDGE_GROUPS`] classes of equal count (value: the class's
/// root mean square, with its sign). The edge of a finite matrix is set by its extreme columns
/// and rows, which a Gauss–Hermite rule (whose outer nodes stand for far less than one draw)
/// does not represent.
fn order_classes(count: usize) -> (Vec<f64>, Vec<f64>) {
    let nf = count as f64;
    let x: Vec<f64> = (1..=count)
        .map(|j| normal_quantile((j as f64 - 0.375) / (nf + 0.25)))
        .collect();
    if count <= 2 * EDGE_SINGLES + EDGE_GROUPS {
        return (x, vec![1.0 / nf; count]);
    }
    let (mut xs, mut ps) = (Vec::new(), Vec::new());
    let mid = &x[EDGE_SINGLES..count - EDGE_SINGLES];
    for j in 0..EDGE_GROUPS {
        let c = &mid[j * mid.len() / EDGE_GROUPS..(j + 1) * mid.len() / EDGE_GROUPS];
        let rms = (c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64).sqrt();
        xs.push(rms.copysign(c.iter().sum::<f64>()));
        ps.push(c.len() as f64 / nf);
    }
    for &v in x[..EDGE_SINGLES].iter().chain(&x[count - EDGE_SINGLES..]) {
        xs.push(v);
        ps.push(1.0 / nf);
    }
    (xs, ps)
}

/// Extreme draws kept as classes of their own, and classes for the rest ([`order_classes`]).
const EDGE_SINGLES: usize = 8;
const EDGE_GROUPS: usize = 32;
/// Relative step of the walk down to the edge.
const EDGE_STEP: f64 = 0.01;
/// Relative step of the first, coarse walk down from the a-priori bound.
const EDGE_COARSE_STEP: f64 = 0.1;
/// Relative precision of the edge eigenvalue z.
const EDGE_RTOL: f64 = 1e-4;

/// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation (relative error < 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The predicted largest non-spike singular value of F after the step (docs/theory.md §10.6):
/// the upper edge of the spectrum of the bulk A of the conditional model, whose rows have the
/// covariance profile C(u) = D(u)ΩD(u) + V(u). The deterministic equivalent of §10.2 at the
/// negative ridge λ = −z has a real solution on the physical branch (b < 0) exactly for z above
/// the spectrum; the edge is found by walking down in z from far above with warm starts (10%
/// steps, then 1% steps) until the first z without a solution, then bisecting that step
/// (1–1.5 s on one core of a 2.45 GHz EPYC), and returned as the singular value
/// √(n z). The second layer and the rows' spike coordinate enter through the expected order
/// statistics of N and n standard normals (the extreme neurons and rows as classes of their own,
/// docs/theory.md §10.6); `atoms`, `nodes` and `lambda` are not used. At η = 0 it is the edge of
/// F₀'s bulk (Silverstein's equation). Above it, the outliers that the step noise puts along the
/// directions of the step batch's most extreme labels (docs/theory.md §10.6) are searched on the
/// same walk, for each node of the law of those labels, and the mean over that law of the larger
/// of the two is returned (what a mean over seeds measures).
///
/// Partial: within 0.5% of simulation for α ≤ 0.35 at d = 1024–2048; at α = 0.4 / 0.45 low by
/// 2.2 / 3.1% at d = 1024 (24 seeds), 1.2 / 1.1% at d = 2048 and within 1% at d = 4096
/// (docs/theory.md §10.6).
pub fn network_bulk_edge(inp: &NetworkInputs) -> Result<f64, TheoryError> {
    let edge = bulk_edge(inp)?;
    Ok((inp.n as f64 * edge.top).sqrt())
}

/// The top of the bulk after the step as an eigenvalue z of FFᵀ/n (relative precision
/// [`EDGE_RTOL`], from above), with the grid it was found on (order classes of the neurons and
/// rows) and the fixed-point state at z.
struct Edge {
    pr: Prepared,
    z: f64,
    state: Bulk,
    /// The largest non-spike eigenvalue of FFᵀ/n: the bulk's edge z or the outlier that the
    /// step noise puts along the extreme labels' directions ([`anisotropy`]), as the mean over
    /// the extremes' law of its square root (a mean singular value, squared).
    top: f64,
}

fn bulk_edge(inp: &NetworkInputs) -> Result<Edge, TheoryError> {
    let atoms = atoms_or(inp, || order_classes(inp.width));
    let atom_values = atoms.0.clone();
    let pr = prepare(inp, atoms, order_classes(inp.n))?;
    let g = &pr.grid;
    let q = g.u.len();
    let solve = |z: f64, start: &Bulk| solve_bulk(g, &vec![-z; q], start, EDGE);
    let vmax = g
        .mu1
        .iter()
        .zip(&g.nu)
        .flat_map(|(m1, nu)| m1.iter().zip(nu).map(|(a, v)| a * a + v))
        .fold(0.0, f64::max);
    let mut hi = 4.0 * vmax * (1.0 + g.nn.sqrt()).powi(2) * (1.0 + g.psi.sqrt()).powi(2);
    let start = Bulk {
        delta: vec![0.0; q],
        rho: vec![1.0; g.p.len()],
    };
    let mut state = None;
    for _ in 0..60 {
        if let Ok((st, _)) = solve(hi, &start) {
            state = Some(st);
            break;
        }
        hi *= 2.0;
    }
    let mut state = state.ok_or(TheoryError::NoConvergence {
        iterations: EDGE.max_iter,
        lambda: -hi,
        last: f64::NAN,
        change: f64::NAN,
    })?;
    // Moves `hi` (and the warm start) down to z if z has a solution.
    let lower_to = |z: f64, hi: &mut f64, state: &mut Bulk| match solve(z, state) {
        Ok((st, _)) => {
            *hi = z;
            *state = st;
            true
        }
        Err(_) => false,
    };
    // Walk down in steps of EDGE_COARSE_STEP, then from the last solution in steps of EDGE_STEP,
    // until the first z without a solution: the support may have gaps (a class of one extreme
    // neuron or row has a piece of its own), and only the walk from above finds the top of the
    // highest piece. Then bisect that last step.
    let mut lo = 0.0;
    let mut walk = vec![(hi, state.clone())];
    for step in [EDGE_COARSE_STEP, EDGE_STEP] {
        lo = loop {
            let z = hi * (1.0 - step);
            if !lower_to(z, &mut hi, &mut state) {
                break z;
            }
            walk.push((hi, state.clone()));
        };
    }
    while hi - lo > EDGE_RTOL * hi {
        let mid = 0.5 * (lo + hi);
        if !lower_to(mid, &mut hi, &mut state) {
            lo = mid;
        }
    }
    walk.push((hi, state.clone()));
    // F's outlier along one input direction of profile τ (0 when none is above the bulk): the
    // first sign change of det(I + ψDTPT) on the way down, then bisection in z, below `cap`
    // (an outlier known to be at least as large).
    let outlier = |tau: &[f64], cap: f64| -> f64 {
        let above = |z: f64, st: &Bulk| anisotropy::above_outlier(g, z, st, tau);
        let Some(i) = walk.windows(2).position(|w| !above(w[1].0, &w[1].1)) else {
            return 0.0;
        };
        if !above(walk[i].0, &walk[i].1) {
            return 0.0;
        }
        let (mut top, mut bottom, mut st) = (walk[i].0, walk[i + 1].0, walk[i].1.clone());
        if cap > bottom {
            top = top.min(cap);
        }
        while top - bottom > EDGE_RTOL * top {
            let mid = 0.5 * (top + bottom);
            match solve(mid, &st) {
                Ok((s2, _)) if above(mid, &s2) => {
                    top = mid;
                    st = s2;
                }
                _ => bottom = mid,
            }
        }
        top
    };
    // Along each node of each end's law of Z's extreme eigenvalue, most extreme first: once one
    // has no outlier, the less extreme ones have none either.
    let ends = anisotropy::profiles(inp, &pr, &atom_values).map(|end| {
        let mut values = vec![0.0; end.len()];
        let mut cap = f64::INFINITY;
        for (i, tau) in end.iter().enumerate().rev() {
            match tau.as_deref().map(|t| outlier(t, cap)) {
                Some(v) if v > 0.0 => (values[i], cap) = (v, v),
                _ => break,
            }
        }
        values
    });
    // What is measured is the largest non-spike singular value averaged over seeds: the mean of
    // √(n·max(edge, outlier of the top end, outlier of the bottom end)) over the two ends'
    // independent laws, kept as the eigenvalue whose singular value it is.
    let end = |v: &[f64]| if v.is_empty() { vec![0.0] } else { v.to_vec() };
    let (a, b) = (end(&ends[0]), end(&ends[1]));
    let root = a
        .iter()
        .flat_map(|&x| b.iter().map(move |&y| x.max(y).max(hi).sqrt()))
        .sum::<f64>()
        / (a.len() * b.len()) as f64;
    Ok(Edge {
        pr,
        z: hi,
        state,
        top: root * root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_rules_integrate_moments() {
        let (x, w) = gauss_hermite(20);
        let mom = |p: i32| -> f64 { x.iter().zip(&w).map(|(x, w)| w * x.powi(p)).sum() };
        assert!((mom(0) - 1.0).abs() < 1e-13);
        assert!((mom(2) - 1.0).abs() < 1e-12);
        assert!((mom(4) - 3.0).abs() < 1e-11);
        assert!((mom(10) - 945.0).abs() < 1e-8);
        let (x, w) = gauss_hermite(MAX_NODES);
        let sum: f64 = w.iter().sum();
        let m2: f64 = x.iter().zip(&w).map(|(x, w)| w * x * x).sum();
        assert!(
            (sum - 1.0).abs() < 1e-12 && (m2 - 1.0).abs() < 1e-12,
            "{sum} {m2}"
        );
        let (x, w) = gauss_legendre(24);
        let s: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(10)).sum();
        assert!((s - 2.0 / 11.0).abs() < 1e-14);
    }

    #[test]
    fn relu_smoothing_matches_closed_form() {
        // E ReLU(t + s g) = t Φ(t/s) + s φ(t/s); at t = 0: s/√(2π), E[.. g] = s/2, E[..²] = s²/2.
        let sm = GaussSmoothing::relu(false);
        let [a, b, c] = (sm.0)(0.0, 1.7);
        let inv = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!((a - 1.7 * inv).abs() < 1e-13, "{a}");
        assert!((b - 0.85).abs() < 1e-13, "{b}");
        assert!((c - 1.7 * 1.7 / 2.0).abs() < 1e-12, "{c}");
        // far right: ReLU(t + s g) ≈ t + s g
        let [a, b, c] = (sm.0)(30.0, 1.0);
        assert!((a - 30.0).abs() < 1e-10 && (b - 1.0).abs() < 1e-10 && (c - 901.0).abs() < 1e-8);
    }
}
