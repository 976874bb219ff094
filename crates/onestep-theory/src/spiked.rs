//! Finite-α spiked equivalent (docs/model.md §5 item 1, §6.1 item 6): ridge on
//! `F = F₀ + Σ_k c₁^k c_k η^k (X̃β)∘ᵏ (a∘ᵏ)ᵀ`, every column penalised, η = η₀ n^α,
//! a ~ N(0, I_N/N), at finite n (N = ψn/φ). Smooth in α, it tends to the RF baseline as
//! η → 0 and to the infinite-spike model with the same degrees as η → ∞.
//!
//! General low rank (docs/model.md §6.1 item 6, derived in docs/theory.md): with
//! `F ≈ A + LMᵀ`, L the functions l(x̃) of the two projections (here z = ⟨x̃,β*⟩, the
//! standardised orthogonal part w of ⟨x̃,β⟩, the powers u^k of u = ⟨x̃,β⟩/‖β‖ and, for
//! c₀ ≠ 0, the constant), M ∈ ℝ^{N×r} independent of A, G = E[l lᵀ], H = MᵀM:
//! `(1/n)uᵀRv → m⟨u,v⟩ − m⟨u,l⟩ᵀ (G + (m𝔲H)⁻¹)⁻¹ ⟨l,v⟩`, 𝔲 = E_τ[1/(1+τm)]
//! (this is docs/model.md's `m⟨u,v⟩ − m²⟨u,l⟩ᵀ(mG − ((κ′−1)H)⁻¹)⁻¹⟨l,v⟩` with κ′ − 1 = −𝔲).
//! The columns of M are c₁·(W₀q₁, W₀q₂) (H block c₁²ψI), `c₁^k c_k η^k ‖β‖^k a∘ᵏ` and
//! `c₀1_N`; their Gram entries use `Σ_i a_i^p ≈ N^{1−p/2}(p−1)!!` (p even, 0 for p odd) and
//! neglect the O(N^{−1/2}) relative cross terms between independent vectors.
//! Errors: train = λ²·(−∂_λ of the form at u = v = y), test = train/(λm)² (GCV).

use crate::TheoryError;
use crate::equivalents::{El, Errors, Gauss, Geometry, Setting, check, geometry, has_mean};
use crate::hermite::{BiPoly, gauss_moment};
use crate::mp::Spectrum;
use crate::small::{Sym, bilinear};
use crate::spikes::COEFF_ZERO;

/// Highest spike degree included in [`spiked_errors`] (spike 8 separates only for
/// α > 7/16; higher ones are negligible for α < 1/2 at any practical n).
pub const SPIKED_MAX_DEGREE: usize = 8;

/// Errors of the finite-α spiked equivalent at batch size `n` with step η = η₀ n^α
/// (labels residual), Marchenko–Pastur bulk. Spikes k = 1..=[`SPIKED_MAX_DEGREE`] with
/// c_k ≠ 0 (and available) are all included, separated or not.
pub fn spiked_errors(s: &Setting, alpha: f64, eta0: f64, n: f64) -> Result<Errors, TheoryError> {
    check(s)?;
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "alpha",
            value: alpha,
            allowed: "step-size exponent α must be finite and ≥ 0 (the theory covers 0 ≤ α < 1/2)",
        });
    }
    if !(eta0.is_finite() && eta0 >= 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "eta0",
            value: eta0,
            allowed: "step-size prefactor η₀ must be finite and ≥ 0",
        });
    }
    if !(n.is_finite() && n >= 1.0) {
        return Err(TheoryError::InvalidParameter {
            name: "n",
            value: n,
            allowed: "batch size n must be finite and ≥ 1",
        });
    }
    let spectrum = Spectrum::MarchenkoPastur;
    let Some(Geometry { bk, bnorm, r, s_ }) = geometry(s, &spectrum)? else {
        return Ok(Errors::ZERO);
    };
    let width = s.psi * n / s.phi;
    let eta = eta0 * n.powf(alpha);
    let c0 = s.act.coeff(0).unwrap_or(0.0);
    let c1 = s.act.coeff(1).unwrap_or(0.0);

    // Low-rank columns: (function l, kind) where kind says how M's column is built.
    enum Kind {
        Lin,
        Spike { k: usize, scale: f64 },
        Mean,
    }
    let mut ls: Vec<(El, Kind)> = Vec::new();
    if c1 != 0.0 {
        ls.push((El::Poly(BiPoly::monomial(1.0, 1, 0)), Kind::Lin));
        if s_ > 1e-12 {
            ls.push((El::Poly(BiPoly::monomial(1.0, 0, 1)), Kind::Lin));
        }
    }
    if eta > 0.0 {
        for k in 1..=SPIKED_MAX_DEGREE.min(s.act.max_degree()) {
            let ck = s.act.coeffs[k];
            if ck.abs() <= COEFF_ZERO {
                continue;
            }
            let scale = c1.powi(k as i32) * ck * (eta * bnorm).powi(k as i32);
            if scale != 0.0 && scale.is_finite() {
                ls.push((
                    El::Poly(BiPoly::linear_power(r, s_, k)),
                    Kind::Spike { k, scale },
                ));
            }
        }
    }
    if has_mean(&s.act) {
        ls.push((El::Poly(BiPoly::monomial(1.0, 0, 0)), Kind::Mean));
    }
    let rk = ls.len();
    let g = Gauss {
        target: &s.target,
        noise: s.noise,
    };
    // Σ_i a_i^p for a ~ N(0, I/N), and Σ_i a_i^p · 1
    let apow = |p: usize| width.powf(1.0 - p as f64 / 2.0) * gauss_moment(p);
    let mut gm = Sym::zeros(rk);
    let mut h = Sym::zeros(rk);
    let mut ly = vec![0.0; rk];
    for i in 0..rk {
        ly[i] = g.inner(&ls[i].0, &El::Label)?;
        for j in 0..=i {
            gm.set(i, j, g.inner(&ls[i].0, &ls[j].0)?);
            let hij = match (&ls[i].1, &ls[j].1) {
                (Kind::Lin, Kind::Lin) if i == j => c1 * c1 * s.psi,
                (Kind::Spike { k, scale }, Kind::Spike { k: k2, scale: s2 }) => {
                    scale * s2 * apow(k + k2)
                }
                (Kind::Spike { k, scale }, Kind::Mean) | (Kind::Mean, Kind::Spike { k, scale }) => {
                    c0 * scale * apow(*k)
                }
                (Kind::Mean, Kind::Mean) => c0 * c0 * width,
                _ => 0.0,
            };
            h.set(i, j, hij);
        }
    }
    let yy = g.inner(&El::Label, &El::Label)?;
    let (m, dm) = (bk.m, bk.dm);
    let p = m * bk.u;
    let dp = dm * bk.u + m * bk.du;
    let (corr, dcorr) = if rk == 0 {
        (0.0, 0.0)
    } else {
        let hinv = h.inverse("spike Gram MᵀM")?;
        // J = (G + (pH)⁻¹)⁻¹; t = J⟨l,y⟩
        let mut k = gm.clone();
        for (kv, hv) in k.a.iter_mut().zip(&hinv.a) {
            *kv += hv / p;
        }
        let t = k.solve(&ly, "G + (m𝔲H)⁻¹")?;
        let corr: f64 = ly.iter().zip(&t).map(|(a, b)| a * b).sum();
        // d/dλ of ⟨y,l⟩ᵀJ⟨l,y⟩ = (p′/p²) tᵀH⁻¹t
        (corr, dp / (p * p) * bilinear(&t, &hinv, &t))
    };
    // Q(y,y) = m yy − m corr; Q₂ = −∂_λ Q = −m′ yy + m′ corr + m dcorr
    let q2 = -dm * yy + dm * corr + m * dcorr;
    let lambda = s.lambda;
    let train = (lambda * lambda * q2).max(0.0);
    let test = train / (lambda * m).powi(2);
    Ok(Errors {
        train,
        test,
        test_clean: test - s.noise * s.noise,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equivalents::{errors, errors_for_degrees};
    use crate::hermite::FnStats;

    fn reference() -> Setting {
        Setting {
            phi: 4.0,
            psi: 1.0,
            lambda: 0.1,
            noise: 0.1,
            act: FnStats::relu_centred(8),
            target: FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2]),
        }
    }

    #[test]
    fn zero_step_is_rf() {
        let s = reference();
        let a = spiked_errors(&s, 0.3, 0.0, 8192.0).unwrap();
        let b = errors(&s, 0).unwrap();
        assert!((a.test - b.test).abs() < 1e-10 * b.test, "{a:?} vs {b:?}");
        assert!(
            (a.train - b.train).abs() < 1e-10 * b.train,
            "{a:?} vs {b:?}"
        );
    }

    #[test]
    fn huge_step_is_infinite_spike_limit() {
        let s = reference();
        let a = spiked_errors(&s, 0.0, 1e5, 8192.0).unwrap();
        let b = errors_for_degrees(&s, &[1, 2, 4, 6, 8]).unwrap();
        assert!((a.test - b.test).abs() < 1e-6 * b.test, "{a:?} vs {b:?}");
        assert!((a.train - b.train).abs() < 1e-6 * b.train, "{a:?} vs {b:?}");
    }

    #[test]
    fn large_n_tends_to_staircase() {
        // α inside (1/4, 1/3): two spikes separate, the rest vanish as n → ∞.
        let s = reference();
        let lim = errors(&s, 2).unwrap();
        let mut prev = f64::INFINITY;
        for n in [1e4, 1e6, 1e8, 1e10] {
            let e = spiked_errors(&s, 0.3, 1.0, n).unwrap();
            let gap = (e.test - lim.test).abs();
            assert!(gap < prev, "n={n}: gap {gap} did not shrink (prev {prev})");
            prev = gap;
        }
        assert!(prev < 0.05 * lim.test, "gap at n=1e10 still {prev}");
    }

    #[test]
    fn spiked_rejects_bad_inputs() {
        let s = reference();
        assert!(spiked_errors(&s, -0.1, 1.0, 100.0).is_err());
        assert!(spiked_errors(&s, 0.1, f64::NAN, 100.0).is_err());
        assert!(spiked_errors(&s, 0.1, 1.0, 0.5).is_err());
    }

    #[test]
    fn uncentred_relu_finite() {
        let mut s = reference();
        s.act = FnStats::relu(8);
        let e = spiked_errors(&s, 0.3, 1.0, 8192.0).unwrap();
        assert!(e.test.is_finite() && e.test > e.train, "{e:?}");
    }
}
