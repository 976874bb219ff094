//! Spike thresholds, spike counts, the predicted overlap of β = Xᵀy/n with β*, and raw spike
//! strengths (docs/model.md §1, §4, §6).
//!
//! # Raw spike strength (derivation, docs/model.md §4)
//! After one step, `W = W₀ + ηG` with `G ≈ c₁ a βᵀ` (labels residual), so the pre-activation
//! of neuron i at x̃ moves by `δ_i = η c₁ a_i ⟨x̃, β⟩`. Taylor-expanding σ and replacing
//! `σ^{(k)}(⟨x̃,w_i⟩)/k!` by its mean `c_k` gives the rank-one terms
//! `c₁^k c_k η^k (X̃β)∘ᵏ (a∘ᵏ)ᵀ`. For x̃ ~ N(0, I), `⟨x̃,β⟩ ~ N(0, ‖β‖²)` so
//! `‖(X̃β)∘ᵏ‖² = Σ_i ⟨x̃_i,β⟩^{2k} ≈ n ‖β‖^{2k} (2k−1)!!`, and for `a ~ N(0, I_N/N)`,
//! `‖a∘ᵏ‖² ≈ N · N^{−k} (2k−1)!!`. Hence
//! `θ_k = |c₁^k c_k| η^k ‖(X̃β)∘ᵏ‖ ‖a∘ᵏ‖ ≈ |c₁^k c_k| η^k ‖β‖^k (2k−1)!! √n N^{(1−k)/2}`:
//! the two square roots √((2k−1)!!) multiply to (2k−1)!!, so the form printed in docs/model.md
//! §4 is exact at this order (we re-derived it, it is not a simplification). Against the bulk
//! `‖F₀‖_op ≍ √n`, with η = η₀ n^α and N ∝ n, `θ_k/√n ≍ n^{αk − (k−1)/2}`: spike k separates
//! iff `α > (k−1)/(2k)`.

use crate::TheoryError;
use crate::hermite::{FnStats, double_factorial};

/// Magnitude below which a Hermite coefficient counts as zero for spike purposes.
pub const COEFF_ZERO: f64 = 1e-12;

/// Threshold `(k−1)/(2k)` above which the degree-k spike separates (docs/model.md §1);
/// `threshold(1) = 0`. Panics for k = 0 (degree 0 is the mean, never a learned spike).
pub fn threshold(k: usize) -> f64 {
    assert!(k >= 1, "spike degrees start at 1 (got 0)");
    (k as f64 - 1.0) / (2.0 * k as f64)
}

/// Degrees `1 ≤ k ≤ kmax` with `|c_k| > 1e-12` and `α > (k−1)/(2k)`, increasing
/// (docs/model.md §1, §3: zero coefficients give no spike). Degrees beyond the given
/// coefficients are not reported. Valid for 0 ≤ α < 1/2; for α ≥ 1/2 every degree with
/// c_k ≠ 0 is reported (outside the theory's range).
pub fn spike_degrees(alpha: f64, act: &FnStats, kmax: usize) -> Vec<usize> {
    (1..=kmax.min(act.max_degree()))
        .filter(|&k| act.coeffs[k].abs() > COEFF_ZERO && alpha > threshold(k))
        .collect()
}

/// Number of spikes, `spike_degrees(alpha, act, kmax).len()`.
pub fn spike_count(alpha: f64, act: &FnStats, kmax: usize) -> usize {
    spike_degrees(alpha, act, kmax).len()
}

/// Predicted overlap of β = Xᵀy/n with the unit target direction β* (labels residual,
/// docs/model.md §4), in the proportional limit with φ = n/d.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Overlap {
    /// `⟨β, β*⟩ → c*₁`.
    pub inner: f64,
    /// `‖β‖² → c*₁² + (E σ*² + σ_ε²)/φ`.
    pub norm2: f64,
    /// `cos∠(β, β*) = inner / √norm2` (0 when β → 0).
    pub cosine: f64,
}

/// β-overlap prediction: `⟨β,β*⟩ → c*₁`, `‖β‖² → c*₁² + (Eσ*² + σ_ε²)/φ` (docs/model.md §4).
/// `noise` is the label-noise standard deviation σ_ε.
pub fn overlap(target: &FnStats, noise: f64, phi: f64) -> Result<Overlap, TheoryError> {
    target.validate("target")?;
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "noise",
            value: noise,
            allowed: "label-noise standard deviation must be finite and ≥ 0",
        });
    }
    if !(phi.is_finite() && phi > 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "phi",
            value: phi,
            allowed: "sample ratio φ = n/d must be finite and > 0",
        });
    }
    let c1 = target.coeff(1).unwrap_or(0.0);
    let norm2 = c1 * c1 + (target.second_moment + noise * noise) / phi;
    let cosine = if norm2 > 0.0 { c1 / norm2.sqrt() } else { 0.0 };
    Ok(Overlap {
        inner: c1,
        norm2,
        cosine,
    })
}

/// Raw strength of spike k (see module docs):
/// `θ_k ≈ |c₁^k c_k| η^k ‖β‖^k (2k−1)!! √n N^{(1−k)/2}`, to be compared with `‖F₀‖_op ≍ √n`.
/// `beta_norm2 = ‖β‖²` (e.g. [`Overlap::norm2`]), `n` the batch size, `width` = N.
/// Returns 0 when c_k is not available.
pub fn spike_strength(
    k: usize,
    act: &FnStats,
    eta: f64,
    beta_norm2: f64,
    n: f64,
    width: f64,
) -> f64 {
    let c1 = act.coeff(1).unwrap_or(0.0);
    let ck = act.coeff(k).unwrap_or(0.0);
    let kf = k as f64;
    (c1.powi(k as i32) * ck).abs()
        * eta.powi(k as i32)
        * beta_norm2.powf(kf / 2.0)
        * double_factorial(2 * k - 1)
        * n.sqrt()
        * width.powf((1.0 - kf) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(threshold(1), 0.0);
        assert_eq!(threshold(2), 0.25);
        assert!((threshold(3) - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(threshold(4), 0.375);
        assert_eq!(threshold(5), 0.4);
    }

    #[test]
    fn relu_skips_odd_degrees() {
        let r = FnStats::relu_centred(8);
        assert_eq!(spike_degrees(0.0, &r, 8), Vec::<usize>::new());
        assert_eq!(spike_degrees(0.1, &r, 8), vec![1]);
        assert_eq!(spike_degrees(0.3, &r, 8), vec![1, 2]);
        assert_eq!(spike_degrees(0.36, &r, 8), vec![1, 2]);
        assert_eq!(spike_degrees(0.39, &r, 8), vec![1, 2, 4]);
        assert_eq!(spike_count(0.45, &r, 8), 5); // 1, 2, 4, 6, 8 (5/12 ≈ 0.417, 7/16 = 0.4375)
        assert_eq!(spike_count(0.45, &r, 3), 2);
        // tanh-like: odd only
        let t = FnStats::polynomial(&[0.0, 0.6, 0.0, -0.06]);
        assert_eq!(spike_degrees(0.45, &t, 8), vec![1, 3]);
    }

    #[test]
    fn overlap_reference() {
        let t = FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2]);
        let o = overlap(&t, 0.1, 4.0).unwrap();
        assert!((o.norm2 - (1.0 + 2.01 / 4.0)).abs() < 1e-14);
        assert!((o.cosine - 1.0 / (1.5025f64).sqrt()).abs() < 1e-14);
        assert!(overlap(&t, -1.0, 4.0).is_err());
    }

    #[test]
    fn strength_scaling() {
        let r = FnStats::relu_centred(8);
        // θ_1 = c₁² η ‖β‖ √n, no width dependence.
        let t1 = spike_strength(1, &r, 2.0, 4.0, 100.0, 50.0);
        assert!((t1 - 0.25 * 2.0 * 2.0 * 10.0).abs() < 1e-12, "{t1}");
        // θ_2 ∝ N^{-1/2} and (2·2−1)!! = 3.
        let t2 = spike_strength(2, &r, 1.0, 1.0, 1.0, 4.0);
        assert!((t2 - 0.25 * r.coeffs[2] * 3.0 / 2.0).abs() < 1e-15);
    }
}
