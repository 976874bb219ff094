//! Deterministic equivalents of the ridge training and test errors in the proportional limit
//! (n, d, N → ∞, φ = n/d, ψ = N/d fixed): the random-features baseline (ℓ = 0) and the
//! infinite-spike models ℓ = 1, 2, … that form the staircase (docs/model.md §5 item 4, §6, §6.1
//! items 1–5). Derivation and validation: `docs/theory.md`.
//!
//! Conventions (docs/model.md §5): `â = argmin (1/n)‖ỹ − Fa − Pγ‖² + λ‖a‖²`, λ NOT multiplied by
//! n inside the norm; F = F₀ = σ(X̃W₀ᵀ) is penalised, the columns P = (X̃β)∘ᵏ (k in the
//! degree set) are not. `noise` is the label-noise standard deviation σ_ε.
//!
//! Route (docs/model.md §6.1):
//! 1. F₀ ≈ c₀11ᵀ + A + c₁TVᵀ, rows of A ~ N(0, Σ), Σ = c₁²W₀W₀ᵀ + c_{>1}²I, T = X̃Q,
//!    V = W₀Q, VᵀV ≈ ψI, Q a basis of span(β, β*).
//! 2. m = (1/n) tr (AAᵀ/n + λ)⁻¹ solves `m = 1/(λ + (N/n)·E_τ[τ/(1+τm)])`.
//! 3. For u, v functions of (⟨x,β*⟩, ⟨x,β⟩, ε), with R = (F₀F₀ᵀ/n + λ)⁻¹ (Woodbury on the
//!    rank-2 part): `(1/n)uᵀRv → m⟨u,v⟩ − q⟨Πu,Πv⟩`, `q = m²c₁²ψ𝔲/(1 + mc₁²ψ𝔲)`,
//!    `𝔲 = E_τ[1/(1+τm)]` (this is docs/model.md's `m·s`, using `κ − ψ = −ψ𝔲`, which avoids the
//!    cancellation in κ − ψ); `(1/n)uᵀR²v = −∂_λ` of it.
//! 4. ⟨x,β*⟩ ~ N(0,1), ⟨x,β⟩ ~ N(0,‖β‖²), covariance c*₁ ([`crate::overlap`]).
//! 5. γ̂ = Q(P,P)⁻¹Q(P,y), train = λ²·Q₂(y − Pγ̂), test = train/(λm)² (GCV), clean = test − σ_ε².
//!
//! An activation mean c₀ ≠ 0 adds c₀11ᵀ, a rank-one term whose strength c₀²N → ∞ in the
//! limit: by docs/model.md §6.1 item 6 with H → ∞ in that direction it acts exactly as an
//! unpenalised constant column, which is how it is implemented (finite-N corrections O(1/N)).

use crate::TheoryError;
use crate::hermite::{BiPoly, FnStats};
use crate::mp::Spectrum;
use crate::small::Sym;
use crate::spikes::{COEFF_ZERO, overlap, spike_degrees};
use std::collections::HashMap;

/// Everything the deterministic equivalents depend on.
///
/// | field | meaning | allowed |
/// |---|---|---|
/// | `phi` | φ = n/d (each batch has n samples) | finite, > 0 |
/// | `psi` | ψ = N/d (width over dimension) | finite, > 0 |
/// | `lambda` | ridge penalty λ in `(1/n)‖ỹ − Fa‖² + λ‖a‖²` | finite, > 0 |
/// | `noise` | label-noise standard deviation σ_ε | finite, ≥ 0 |
/// | `act` | Hermite description of σ | [`FnStats::validate`] |
/// | `target` | Hermite description of σ* (β* unit norm) | [`FnStats::validate`] |
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Setting {
    /// φ = n/d.
    pub phi: f64,
    /// ψ = N/d.
    pub psi: f64,
    /// Ridge penalty λ (not scaled by n).
    pub lambda: f64,
    /// Label-noise standard deviation σ_ε.
    pub noise: f64,
    /// Activation σ.
    pub act: FnStats,
    /// Target link σ*.
    pub target: FnStats,
}

/// Limiting errors of one model.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Errors {
    /// Training error (1/n)‖ỹ − ŷ‖² WITHOUT the penalty.
    pub train: f64,
    /// Test error E(y − f̂(x))² on fresh data, label noise included.
    pub test: f64,
    /// Noiseless risk E(σ*(⟨x,β*⟩) − f̂(x))² = test − σ_ε².
    pub test_clean: f64,
}

impl Errors {
    /// All errors zero (labels identically zero).
    pub const ZERO: Errors = Errors {
        train: 0.0,
        test: 0.0,
        test_clean: 0.0,
    };
}

fn finite_pos(name: &'static str, v: f64, allowed: &'static str) -> Result<(), TheoryError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value: v,
            allowed,
        })
    }
}

/// Highest polynomial degree of the unpenalised columns ([`errors`], [`staircase`]).
pub const MAX_POLY_DEGREE: usize = 20;
/// The ratios φ = n/d and ψ = N/d the theory accepts.
pub const RATIO_RANGE: (f64, f64) = (1e-6, 1e6);
/// The largest label-noise sd σ_ε (theory and simulation): squared errors stay finite.
pub const MAX_NOISE: f64 = 1e100;
/// Most α points of one [`staircase`] call.
pub const MAX_ALPHA_POINTS: usize = 100_000;

/// Ridge penalties the theory accepts: inside this range every error is computed to better
/// than 1e-9 relative; outside it λ² or 1/λ² leaves double precision.
pub const LAMBDA_RANGE: (f64, f64) = (1e-12, 1e12);

/// Validates a [`Setting`]: φ, ψ, λ finite and > 0, noise finite and ≥ 0, both Hermite
/// descriptions consistent.
pub fn check(s: &Setting) -> Result<(), TheoryError> {
    for (name, v, allowed) in [
        ("phi", s.phi, "sample ratio φ = n/d must lie in [1e-6, 1e6]"),
        ("psi", s.psi, "width ratio ψ = N/d must lie in [1e-6, 1e6]"),
    ] {
        if !(RATIO_RANGE.0..=RATIO_RANGE.1).contains(&v) {
            return Err(TheoryError::InvalidParameter {
                name,
                value: v,
                allowed,
            });
        }
    }
    if s.lambda == 0.0 {
        return Err(TheoryError::InvalidParameter {
            name: "lambda",
            value: s.lambda,
            allowed: "ridge penalty λ must be > 0: the ridgeless limit λ → 0 is not implemented (the GCV step divides by λm); use a small positive λ such as 1e-6",
        });
    }
    finite_pos("lambda", s.lambda, "ridge penalty λ must be finite and > 0")?;
    if !(LAMBDA_RANGE.0..=LAMBDA_RANGE.1).contains(&s.lambda) {
        return Err(TheoryError::InvalidParameter {
            name: "lambda",
            value: s.lambda,
            allowed: "ridge penalty λ must lie in [1e-12, 1e12] for the theory: beyond it the training error λ²·R² leaves double precision (at λ = 1e-155 it underflows to 0); the limits are flat long before (λ = 1e-12 and 1e-8 agree to 1e-6)",
        });
    }
    if !(0.0..=MAX_NOISE).contains(&s.noise) {
        return Err(TheoryError::InvalidParameter {
            name: "noise",
            value: s.noise,
            allowed: "label-noise standard deviation σ_ε must lie in [0, 1e100] (squared errors must stay in double precision)",
        });
    }
    s.act.validate("activation")?;
    s.target.validate("target")?;
    Ok(())
}

/// Resolvent quantities of the bulk at the setting's λ (docs/model.md §6.1 item 2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bulk {
    /// m = lim (1/n) tr (AAᵀ/n + λ)⁻¹.
    pub m: f64,
    /// dm/dλ.
    pub dm: f64,
    /// 𝔲 = E_τ[1/(1+τm)] (so κ − ψ = −ψ𝔲 with κ = φ(1 − λm)).
    pub u: f64,
    /// d𝔲/dλ.
    pub du: f64,
}

/// Solves the fixed point `m (λ + (ψ/φ) E_τ[τ/(1+τm)]) = 1` on (0, 1/λ).
///
/// The left side minus 1, h(m), increases from −1 at m = 0 to a positive value at 1/λ, so the
/// root is unique. We use Newton steps safeguarded by that bracket (bisection whenever a Newton
/// step leaves it) rather than the plain damped iteration, whose contraction factor
/// `1 − λm` tends to 1 as λ → 0; convergence is checked (relative step < 1e-14) and failure is
/// a [`TheoryError::NoConvergence`].
pub fn bulk(s: &Setting, spectrum: &Spectrum<'_>) -> Result<Bulk, TheoryError> {
    let c1 = s.act.coeff(1).unwrap_or(0.0);
    let a = c1 * c1;
    let b = s.act.nonlinear_energy();
    let ratio = s.psi / s.phi;
    let lambda = s.lambda;
    let h = |m: f64| {
        let av = spectrum.averages(a, b, s.psi, m);
        (
            m * (lambda + ratio * av.h1) - 1.0,
            lambda + ratio * (av.h1 - m * av.h2),
        )
    };
    let (mut lo, mut hi) = (0.0, 1.0 / lambda);
    // initial guess: one damped step from 1/(λ + ratio·E τ)
    let mut m = 1.0 / (lambda + ratio * (a + b)).max(f64::MIN_POSITIVE);
    m = m.clamp(hi * 1e-12, hi);
    let mut change = f64::INFINITY;
    let max_iter = 200;
    for _ in 0..max_iter {
        let (f, df) = h(m);
        if !f.is_finite() || !df.is_finite() {
            break;
        }
        if f == 0.0 {
            change = 0.0;
            break;
        }
        if f < 0.0 {
            lo = m;
        } else {
            hi = m;
        }
        let mut next = m - f / df;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        change = ((next - m) / m).abs();
        m = next;
        if change < 1e-14 {
            break;
        }
    }
    if change.is_nan() || change >= 1e-12 || !m.is_finite() || m <= 0.0 {
        return Err(TheoryError::NoConvergence {
            iterations: max_iter,
            lambda,
            last: m,
            change,
        });
    }
    let av = spectrum.averages(a, b, s.psi, m);
    let dm = -m * m / (1.0 - m * m * ratio * av.h2);
    Ok(Bulk {
        m,
        dm,
        u: av.u,
        du: -av.hu * dm,
    })
}

/// A function of (⟨x,β*⟩, ⟨x,β⟩, ε): the labels, or a polynomial in the projections.
#[derive(Clone, Debug)]
pub(crate) enum El {
    Label,
    Poly(BiPoly),
}

/// Gaussian L² inner products over (⟨x,β*⟩, ⟨x,β⟩, ε) (docs/model.md §6.1 items 3–4).
pub(crate) struct Gauss<'a> {
    pub(crate) target: &'a FnStats,
    pub(crate) noise: f64,
}

impl Gauss<'_> {
    pub(crate) fn inner(&self, x: &El, y: &El) -> Result<f64, TheoryError> {
        match (x, y) {
            (El::Label, El::Label) => Ok(self.target.second_moment + self.noise * self.noise),
            (El::Label, El::Poly(p)) | (El::Poly(p), El::Label) => {
                p.inner_fn(self.target, "target")
            }
            (El::Poly(p), El::Poly(q)) => Ok(p.inner(q)),
        }
    }
}

/// The quadratic forms `Q(u,v) = lim (1/n)uᵀRv = m⟨u,v⟩ − q⟨Πu,Πv⟩` and
/// `Q₂(u,v) = lim (1/n)uᵀR²v = −∂_λ Q = −m′⟨u,v⟩ + q′⟨Πu,Πv⟩`.
struct Forms<'a> {
    g: Gauss<'a>,
    basis: Vec<El>,
    m: f64,
    dm: f64,
    q: f64,
    dq: f64,
}

impl Forms<'_> {
    fn both(&self, x: &El, y: &El) -> Result<(f64, f64), TheoryError> {
        let xy = self.g.inner(x, y)?;
        let mut proj = 0.0;
        for e in &self.basis {
            proj += self.g.inner(x, e)? * self.g.inner(e, y)?;
        }
        Ok((self.m * xy - self.q * proj, -self.dm * xy + self.dq * proj))
    }
}

/// The bulk traces and the geometry of ⟨x,β⟩ against ⟨x,β*⟩ shared by every error formula.
pub(crate) struct Geometry {
    /// Resolvent quantities of the bulk.
    pub bk: Bulk,
    /// ‖β‖ in the limit (§4).
    pub bnorm: f64,
    /// Standardised ⟨x,β⟩/‖β‖ = r z + s_ w, z = ⟨x,β*⟩, w ⟂ z.
    pub r: f64,
    pub s_: f64,
}

/// [`Geometry`] of a setting; `None` when σ* ≡ 0 and σ_ε = 0, where the labels and so every
/// error vanish.
pub(crate) fn geometry(
    s: &Setting,
    spectrum: &Spectrum<'_>,
) -> Result<Option<Geometry>, TheoryError> {
    let bk = bulk(s, spectrum)?;
    let ov = overlap(&s.target, s.noise, s.phi)?;
    if ov.norm2 <= 0.0 {
        return Ok(None);
    }
    let bnorm = ov.norm2.sqrt();
    let r = ov.inner / bnorm;
    Ok(Some(Geometry {
        bk,
        bnorm,
        r,
        s_: (1.0 - r * r).max(0.0).sqrt(),
    }))
}

/// Whether the activation's mean c₀ is large enough to add the c₀·11ᵀ column.
pub(crate) fn has_mean(act: &FnStats) -> bool {
    act.coeff(0).unwrap_or(0.0).abs() > COEFF_ZERO * act.second_moment.sqrt().max(1.0)
}

/// A polynomial degree above [`MAX_POLY_DEGREE`], as the parameter `name`.
fn too_high(name: &'static str, k: usize) -> TheoryError {
    TheoryError::InvalidParameter {
        name,
        value: k as f64,
        allowed: "polynomial degrees up to 20 (the Gram matrix of t^k, k ≤ ℓ, becomes numerically singular near ℓ = 50, and the cost grows like ℓ⁴); pass 20 or less",
    }
}

/// Errors of the infinite-spike model with unpenalised columns (X̃β)∘ᵏ, k ∈ `degrees`
/// (empty: the RF baseline), with the bulk spectrum given explicitly.
pub fn errors_with_spectrum(
    s: &Setting,
    degrees: &[usize],
    spectrum: &Spectrum<'_>,
) -> Result<Errors, TheoryError> {
    check(s)?;
    spectrum.validate()?;
    if let Some(&k) = degrees.iter().find(|&&k| k > MAX_POLY_DEGREE) {
        return Err(too_high("ell", k));
    }
    for (i, &k) in degrees.iter().enumerate() {
        if k == 0 || degrees[..i].contains(&k) {
            return Err(TheoryError::InvalidParameter {
                name: "degrees",
                value: k as f64,
                allowed: "spike degrees must be ≥ 1 and distinct (the mean is handled separately)",
            });
        }
    }
    let Some(Geometry { bk, r, s_, .. }) = geometry(s, spectrum)? else {
        return Ok(Errors::ZERO);
    };
    let c1 = s.act.coeff(1).unwrap_or(0.0);

    let mut basis = vec![El::Poly(BiPoly::monomial(1.0, 1, 0))];
    if s_ > 1e-12 {
        basis.push(El::Poly(BiPoly::monomial(1.0, 0, 1)));
    }
    // q = m² c₁²ψ𝔲/(1 + m c₁²ψ𝔲) and its λ-derivative
    let aa = c1 * c1 * s.psi;
    let p = bk.m * aa * bk.u;
    let dp = aa * (bk.dm * bk.u + bk.m * bk.du);
    let q = bk.m * p / (1.0 + p);
    let dq = bk.dm * p / (1.0 + p) + bk.m * dp / ((1.0 + p) * (1.0 + p));
    let forms = Forms {
        g: Gauss {
            target: &s.target,
            noise: s.noise,
        },
        basis,
        m: bk.m,
        dm: bk.dm,
        q,
        dq,
    };

    let mut cols: Vec<El> = degrees
        .iter()
        .map(|&k| El::Poly(BiPoly::linear_power(r, s_, k)))
        .collect();
    if has_mean(&s.act) {
        cols.push(El::Poly(BiPoly::monomial(1.0, 0, 0)));
    }
    let p_n = cols.len();
    let mut qpp = Sym::zeros(p_n);
    let mut q2pp = Sym::zeros(p_n);
    let mut qpy = vec![0.0; p_n];
    let mut q2py = vec![0.0; p_n];
    for i in 0..p_n {
        for j in 0..=i {
            let (a, b) = forms.both(&cols[i], &cols[j])?;
            qpp.set(i, j, a);
            q2pp.set(i, j, b);
        }
        let (a, b) = forms.both(&cols[i], &El::Label)?;
        qpy[i] = a;
        q2py[i] = b;
    }
    let gamma = qpp.solve(&qpy, "unpenalised-column (P^T R P)")?;
    let (_, q2yy) = forms.both(&El::Label, &El::Label)?;
    let mut res = q2yy;
    for i in 0..p_n {
        res -= 2.0 * gamma[i] * q2py[i];
        for j in 0..p_n {
            res += gamma[i] * q2pp.get(i, j) * gamma[j];
        }
    }
    let lambda = s.lambda;
    let train = (lambda * lambda * res).max(0.0);
    let test = train / (lambda * bk.m).powi(2);
    Ok(Errors {
        train,
        test,
        test_clean: test - s.noise * s.noise,
    })
}

/// Errors of the infinite-spike model with unpenalised columns (X̃β)∘ᵏ for an explicit
/// degree set, bulk spectrum Marchenko–Pastur.
pub fn errors_for_degrees(s: &Setting, degrees: &[usize]) -> Result<Errors, TheoryError> {
    errors_with_spectrum(s, degrees, &Spectrum::MarchenkoPastur)
}

/// Errors of the infinite-spike model ℓ (unpenalised columns k = 1..=ℓ; ℓ = 0 is the RF
/// baseline), Marchenko–Pastur bulk (docs/model.md §5 item 4, §6.1).
pub fn errors(s: &Setting, ell: usize) -> Result<Errors, TheoryError> {
    if ell > MAX_POLY_DEGREE {
        return Err(too_high("ell", ell));
    }
    let degrees: Vec<usize> = (1..=ell).collect();
    errors_for_degrees(s, &degrees)
}

/// The staircase: for each α, ℓ(α) = the number of spikes of degree ≤ `max_ell`
/// ([`spike_degrees`]) and the errors of the infinite-spike model whose unpenalised columns
/// are exactly those spike degrees. When every c_k ≠ 0 that is the model `errors(s, ℓ)`;
/// with zero coefficients (e.g. centred ReLU, c₃ = 0) degrees without a spike are left out,
/// since their rank-one term vanishes (docs/model.md §3). Each distinct degree set is evaluated
/// once.
pub fn staircase(
    s: &Setting,
    alphas: &[f64],
    max_ell: usize,
) -> Result<Vec<(f64, usize, Errors)>, TheoryError> {
    check(s)?;
    if alphas.len() > MAX_ALPHA_POINTS {
        return Err(TheoryError::InvalidParameter {
            name: "alpha-grid",
            value: alphas.len() as f64,
            allowed: "at most 100000 α points per staircase (each costs a few µs and 50 bytes); split a larger grid",
        });
    }
    if max_ell > MAX_POLY_DEGREE {
        return Err(too_high("max-ell", max_ell));
    }
    if let Some(&a) = alphas.iter().find(|a| !a.is_finite() || **a < 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "alpha",
            value: a,
            allowed: "step-size exponents α must be finite and ≥ 0 (the theory covers 0 ≤ α < 1/2)",
        });
    }
    let mut cache: HashMap<Vec<usize>, Errors> = HashMap::new();
    let mut out = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let deg = spike_degrees(alpha, &s.act, max_ell);
        let e = match cache.get(&deg) {
            Some(e) => *e,
            None => {
                let e = errors_for_degrees(s, &deg)?;
                cache.insert(deg.clone(), e);
                e
            }
        };
        out.push((alpha, deg.len(), e));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_inputs_are_refused_not_computed_wrongly() {
        let mut s = Setting {
            phi: 4.0,
            psi: 1.0,
            lambda: 0.1,
            noise: 0.1,
            act: FnStats::relu_centred(16),
            target: target_b(),
        };
        for lambda in [1e-155, 1e-13, 1e13, 1e155, 1e300] {
            s.lambda = lambda;
            let e = errors(&s, 1).unwrap_err().to_string();
            assert!(
                e.contains("[1e-12, 1e12]") && !e.contains("0000000"),
                "{lambda}: {e}"
            );
        }
        for lambda in [1e-12, 1e12] {
            s.lambda = lambda;
            let e = errors(&s, 1).unwrap();
            assert!(
                e.train.is_finite() && e.train >= 0.0 && e.test_clean >= 0.0,
                "{lambda}: {e:?}"
            );
            assert!(
                (e.test - e.test_clean - s.noise * s.noise).abs() < 1e-9,
                "{e:?}"
            );
        }
        s.lambda = 0.1;
        assert!(errors(&s, MAX_POLY_DEGREE).is_ok());
        let e = errors(&s, MAX_POLY_DEGREE + 1).unwrap_err().to_string();
        assert!(e.contains("ell") && e.contains("20 or less"), "{e}");
        let many = vec![0.1; MAX_ALPHA_POINTS + 1];
        assert!(staircase(&s, &many, 2).is_err());
        assert!(staircase(&s, &[0.1], MAX_POLY_DEGREE + 1).is_err());
    }

    fn target_b() -> FnStats {
        FnStats::polynomial(&[
            0.0,
            1.0,
            std::f64::consts::FRAC_1_SQRT_2,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ])
    }

    fn reference() -> Setting {
        Setting {
            phi: 4.0,
            psi: 1.0,
            lambda: 0.1,
            noise: 0.1,
            act: FnStats::relu_centred(8),
            target: target_b(),
        }
    }

    /// E over the Marchenko–Pastur law of ratio y of g(μ)·1{μ>0}, by quadrature in θ
    /// (μ = 1 + y + 2√y cos θ, density dθ-form 2 sin²θ/(π μ)); spectrally accurate.
    fn mp_quad(y: f64, g: impl Fn(f64) -> f64) -> f64 {
        let n = 4000;
        let mut s = 0.0;
        for i in 0..n {
            let th = std::f64::consts::PI * (i as f64 + 0.5) / n as f64;
            let mu = 1.0 + y + 2.0 * y.sqrt() * th.cos();
            s += 2.0 * th.sin().powi(2) / (std::f64::consts::PI * mu) * g(mu);
        }
        s * std::f64::consts::PI / n as f64
    }

    /// Closed form for a linear activation (c = [0, 1], E σ² = 1): the features f = W₀x have
    /// covariance W₀W₀ᵀ, so RF ridge is anisotropic linear ridge, whose deterministic
    /// equivalent is classical (Hastie, Montanari, Rosset & Tibshirani 2022, Thm 5; Bach 2024,
    /// "High-dimensional analysis of double descent for linear regression with random
    /// projections", Prop. 2; Dobriban & Wager 2018 for the isotropic case):
    /// κ > λ solves λ = κ(1 − (1/n) Σ s_i/(s_i+κ)) over the eigenvalues s_i of W₀W₀ᵀ,
    /// df₂ = Σ s_i²/(s_i+κ)², and with the target's linear part c*₁⟨x,β*⟩ (β* Haar relative to
    /// W₀), its non-linear part and the label noise acting as noise of variance
    /// σ² = Eσ*² − c*₁² + σ_ε² (plus c*₁²(1−ψ) from the part of β* outside the row space of W₀
    /// when ψ < 1):
    /// test = σ² + [κ² c*₁² ψ E_MP[1{μ>0}/(μ+κ)²] + σ² df₂/n] / (1 − df₂/n),
    /// train = (λ/κ)² test (GCV; λ(1/n)tr R → λ/κ). The route of this module (MP closed forms,
    /// Woodbury on the rank-2 part, GCV) must reproduce it; the MP averages here come from
    /// quadrature, not from the closed forms under test.
    #[test]
    fn linear_activation_is_anisotropic_ridge() {
        let target = target_b();
        let noise: f64 = 0.3;
        for &(phi, psi, lambda) in &[
            (4.0, 1.0, 0.1),
            (0.5, 2.0, 0.3),
            (2.0, 0.5, 1e-2),
            (1.5, 3.0, 5.0),
        ] {
            let s = Setting {
                phi,
                psi,
                lambda,
                noise,
                act: FnStats::polynomial(&[0.0, 1.0]),
                target: target.clone(),
            };
            let e = errors(&s, 0).unwrap();
            let ratio = psi / phi; // N/n
            // λ(κ) = κ(1 − (N/n) E[μ/(μ+κ)]) is increasing in κ: bisection on [λ, λ + E s·N/n + 1]
            let lam_of = |k: f64| k * (1.0 - ratio * mp_quad(psi, |m| m / (m + k)));
            let (mut lo, mut hi) = (lambda, lambda + ratio * psi.max(1.0) * 4.0 + 10.0);
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if lam_of(mid) < lambda {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            let k = 0.5 * (lo + hi);
            let df2n = ratio * mp_quad(psi, |m| (m / (m + k)).powi(2));
            let c1 = 1.0;
            let sig2 =
                target.second_moment - c1 * c1 + noise * noise + c1 * c1 * (1.0 - psi).max(0.0);
            let bias = k * k * c1 * c1 * psi * mp_quad(psi, |m| 1.0 / (m + k).powi(2));
            let test = sig2 + (bias + sig2 * df2n) / (1.0 - df2n);
            let train = (lambda / k).powi(2) * test;
            assert!(
                (e.test - test).abs() < 1e-8 * test,
                "φ={phi} ψ={psi} λ={lambda}: test {} vs closed form {test}",
                e.test
            );
            assert!(
                (e.train - train).abs() < 1e-8 * train,
                "φ={phi} ψ={psi} λ={lambda}: train {} vs closed form {train}",
                e.train
            );
            assert!((e.test_clean - (test - noise * noise)).abs() < 1e-8);
        }
    }

    #[test]
    fn reference_numbers_are_sane() {
        let s = reference();
        let rf = errors(&s, 0).unwrap();
        let l1 = errors(&s, 1).unwrap();
        let l2 = errors(&s, 2).unwrap();
        eprintln!("RF {rf:?}\nℓ=1 {l1:?}\nℓ=2 {l2:?}");
        // train ≤ test, and the ℓ = 2 model can only learn the quadratic part.
        for e in [rf, l1, l2] {
            assert!(e.train < e.test && e.test_clean > 0.0, "{e:?}");
        }
        assert!(l2.test < l1.test && l1.test < rf.test);
    }

    #[test]
    fn staircase_monotone_on_target_b() {
        let s = reference();
        let alphas: Vec<f64> = (0..50).map(|i| 0.49 * i as f64 / 49.0).collect();
        let t0 = std::time::Instant::now();
        let st = staircase(&s, &alphas, 4).unwrap();
        let el = t0.elapsed();
        eprintln!("50-point staircase, max_ell 4: {el:?}");
        assert!(el.as_secs_f64() < 0.5, "staircase took {el:?}");
        for w in st.windows(2) {
            assert!(w[1].1 >= w[0].1, "ℓ must not decrease with α");
            assert!(
                w[1].2.test <= w[0].2.test * (1.0 + 1e-12),
                "test error rose from {} (α={}, ℓ={}) to {} (α={}, ℓ={})",
                w[0].2.test,
                w[0].0,
                w[0].1,
                w[1].2.test,
                w[1].0,
                w[1].1
            );
        }
        // also in ℓ directly, through ℓ = 4
        let mut prev = f64::INFINITY;
        for ell in 0..=4 {
            let e = errors(&s, ell).unwrap();
            assert!(
                e.test <= prev * (1.0 + 1e-12),
                "ℓ={ell}: {} > {prev}",
                e.test
            );
            prev = e.test;
        }
        assert_eq!(st[0].1, 0);
        assert_eq!(st.last().unwrap().1, 3); // degrees 1, 2, 4 (c₃ = 0)
    }

    #[test]
    fn error_cases() {
        let base = reference();
        let mut s = base.clone();
        s.lambda = 0.0;
        let e = errors(&s, 0).unwrap_err();
        assert!(
            e.to_string().contains("lambda") && e.to_string().contains("ridgeless"),
            "{e}"
        );
        for (name, f) in [
            ("phi", (|s: &mut Setting| s.phi = -1.0) as fn(&mut Setting)),
            ("psi", |s| s.psi = f64::NAN),
            ("lambda", |s| s.lambda = -0.1),
            ("noise", |s| s.noise = -0.1),
        ] {
            let mut s = base.clone();
            f(&mut s);
            match check(&s) {
                Err(TheoryError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: expected InvalidParameter, got {other:?}"),
            }
        }
        let mut s = base.clone();
        s.act.second_moment = 0.1; // below Σ k! c_k²
        assert!(matches!(
            check(&s),
            Err(TheoryError::InvalidFnStats {
                which: "activation",
                ..
            })
        ));
        let mut s = base.clone();
        s.target.coeffs.truncate(2); // [0, 1] with E σ*² = 2: incomplete
        assert!(matches!(
            errors(&s, 4),
            Err(TheoryError::TooFewCoefficients {
                which: "target",
                ..
            })
        ));
        assert!(errors_for_degrees(&base, &[1, 1]).is_err());
        assert!(errors_with_spectrum(&base, &[], &Spectrum::Empirical(&[])).is_err());
        assert!(staircase(&base, &[0.1, f64::NAN], 4).is_err());
    }

    #[test]
    fn uncentred_relu_mean_is_a_free_constant() {
        // c₀ ≠ 0: `errors` treats the mean c₀11ᵀ as an unpenalised constant column (the N → ∞
        // limit of its rank-one term). The finite-N route of `spiked_errors`, which keeps the
        // rank-one term with H = c₀²N, must converge to it as N grows.
        let mut s = reference();
        s.act = FnStats::relu(8);
        let rf = errors(&s, 0).unwrap();
        let n = 1e9;
        let f = crate::spiked::spiked_errors(&s, 0.0, 0.0, n).unwrap();
        assert!((f.test - rf.test).abs() < 1e-6 * rf.test, "{f:?} vs {rf:?}");
        let all = errors_for_degrees(&s, &[1, 2, 4, 6, 8]).unwrap();
        let g = crate::spiked::spiked_errors(&s, 0.0, 1e5, n).unwrap();
        assert!(
            (g.test - all.test).abs() < 1e-6 * all.test,
            "{g:?} vs {all:?}"
        );
        // and the mean matters once even powers are fitted: differs from the centred ReLU
        let c = errors_for_degrees(&reference(), &[1, 2, 4, 6, 8]).unwrap();
        assert!((c.test - all.test).abs() > 1e-6, "{c:?} vs {all:?}");
    }

    #[test]
    fn mp_and_large_empirical_agree() {
        // Empirical spectrum sampled from MP quantiles ≈ MP closed form.
        let s = reference();
        let e_mp = errors(&s, 1).unwrap();
        // ψ = 1: MP density on [0, 4]; quantiles by inverting the CDF numerically.
        let k = 4000;
        let grid = 400_000;
        let mut cdf = 0.0;
        let mut ev = Vec::with_capacity(k);
        let mut next = 0.5 / k as f64;
        for i in 0..grid {
            let x = 4.0 * (i as f64 + 0.5) / grid as f64;
            cdf += ((4.0 - x) * x).sqrt() / (2.0 * std::f64::consts::PI * x) * 4.0 / grid as f64;
            while cdf >= next && ev.len() < k {
                ev.push(x);
                next += 1.0 / k as f64;
            }
        }
        while ev.len() < k {
            ev.push(4.0);
        }
        let e_emp = errors_with_spectrum(&s, &[1], &Spectrum::Empirical(&ev)).unwrap();
        assert!(
            (e_emp.test - e_mp.test).abs() < 2e-3 * e_mp.test,
            "{e_emp:?} vs {e_mp:?}"
        );
    }
}
