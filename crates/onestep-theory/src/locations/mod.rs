//! Spike locations and alignments after one step (docs/model.md §4, §6 "outlier locations and
//! alignments"): where the outlier singular values of `F = σ(X̃Wᵀ)` sit, where the bulk ends,
//! and how well each outlier's left singular vector aligns with the polynomial feature
//! `GS(t∘ᵏ)`, `t = X̃β` (Gram–Schmidt of the k-th power against the powers 1..k−1, not
//! against the constant). Derivation and validation: `docs/theory.md` §9.
//!
//! Model (docs/model.md §6.1 items 1 and 6): `F ≈ A + LMᵀ`, rows of A i.i.d. N(0, Σ),
//! `Σ = c₁²W₀W₀ᵀ + c_{>1}²I`, L the functions of u = ⟨x̃,β⟩/‖β‖ and of an independent
//! standard w (the second projection): `u`, `w` (linear part `c₁TVᵀ`, M columns `c₁W₀q`,
//! `MᵀM` block `c₁²(N/d)I`), plus the spike part, the mean of neuron j's activation given u.
//!
//! Spike part. Neuron j's pre-activation moves by ηa_j(c₁⟨β,x̃⟩ + ⟨r_j,x̃⟩): the gradient's
//! row j is a_j(c₁β + r_j), r_j = (1/n)Σ_i(σ′(⟨w_j,x_i⟩) − c₁)y_ix_i a per-neuron noise
//! direction with ‖r_j‖² ≈ (d/n)(E σ′² − c₁²)(E σ*² + σ_ε²) ("step noise"; its share
//! γ = ‖r_j‖²/(c₁²‖β‖²) is 0.33 at the reference setting). With κ_j = ηc₁‖β‖a_j the mean given
//! u is m_j(u) = E_{g,ξ} σ(g + κ_j(u + √γξ)) = E_g σ(√(1+γκ_j²)·g + κ_j u), expanded exactly in Hermite
//! polynomials of u: m_j(u) = Σ_r G_r(κ_j)He_r(u), G_r(κ) = ρ^r T_r(s), s = √(1 + (1+γ)κ²),
//! ρ = κ/s, T_r(s) = E[σ(sξ)He_r(ξ)]/r! ("smoothed" route; L columns He_r(u)/√r!, r ≤ 8,
//! Gram S_{rr'} = Σ_j G_r(κ_j)G_{r'}(κ_j), by Gauss–Hermite over a ~ N(0, 1/N) unless the
//! realised a is given). T_r(s) comes from [`ScaledCoeffs`] (the caller has σ) or, for a
//! polynomial σ, exactly from its coefficients. Without either, the "taylor" route expands
//! m_j in powers of κ_j instead: columns E_ξ(u + √γξ)^k for k ≤ 8 with c_k ≠ 0 and M columns
//! `c₁^k c_k (η‖β‖)^k a∘ᵏ` (docs/model.md §4's route when γ = 0), plus the constant when
//! c₀ ≠ 0 (M column `c₀1_N`). The Taylor series in κ converges only for |κ| ≲ 1, so at large
//! α it invents outliers (degree ≥ 4) and overshoots degree 2; the smoothed route does not.
//!
//! Outliers. With `G = E[llᵀ]`, `H = MᵀM` and the bulk Stieltjes transform
//! `m(z) = lim (1/n) tr (AAᵀ/n − z)⁻¹`, the outliers of `FFᵀ/n` are the z above the bulk with
//! `det(G + (m𝔲H)⁻¹) = 0`, `𝔲 = E_τ[1/(1+τm)]` (docs/model.md's `det(mG − ((κ′−1)H)⁻¹) = 0`,
//! κ′ − 1 = −𝔲). After orthonormalising L (G = I, `Ȟ = C H Cᵀ`), each eigenvalue h of Ȟ with
//! `1/h < g_edge` gives one outlier at the unique m ∈ (m_edge, 0) with `−m𝔲(m) = 1/h`;
//! z follows from the physical branch `z(m) = −1/m + (N/n) E_τ[τ/(1+τm)]` and the singular
//! value of F is `√(n z)`. The squared overlap of the outlier's unit left singular vector
//! with a unit-norm function v of the projections is the residue
//! `⟨f_h, v⟩² · m² 𝔲 z′(m) / (𝔲 − m E_τ[τ/(1+τm)²])`, f_h the outlier's direction function.
//! The bulk is F₀'s: the step's noise also widens the bulk of F (its edge is 13% above ‖F₀‖ at
//! d = 1024, α = 0.4), which this model ignores; outliers well above the edge barely feel it.
//!
//! Layout: `bulk.rs` (the bulk law and its edge), `mean_model.rs` (the columns L and the
//! blocks G, H), `outliers.rs` (orthonormalisation and the outlier equation), `alignment.rs`
//! (attribution of the outliers and their alignments, [`gs_power`]), `dense.rs` (small dense
//! matrices).

mod alignment;
mod bulk;
pub(crate) mod dense;
mod mean_model;
mod outliers;

pub use alignment::gs_power;

use crate::TheoryError;
use crate::hermite::{FnStats, gauss_moment};
use crate::mp::Spectrum;
use crate::spiked::SPIKED_MAX_DEGREE;
use crate::spikes::{COEFF_ZERO, overlap, spike_degrees, threshold};
use bulk::BulkLaw;

/// Hermite coefficients of the activation at a larger input scale:
/// `s ↦ [E σ(sξ)He_r(ξ)/r!]_{r = 0..=R}` for s ≥ 1 (R ≥ [`SPIKED_MAX_DEGREE`]). The caller
/// holds σ itself (the theory crate only has its coefficients at s = 1); see
/// [`predict_spikes`] for where it is needed.
#[derive(Clone)]
pub struct ScaledCoeffs(pub std::sync::Arc<dyn Fn(f64) -> Vec<f64> + Send + Sync>);

impl std::fmt::Debug for ScaledCoeffs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScaledCoeffs(..)")
    }
}

impl ScaledCoeffs {
    /// Exact for ReLU (`centred`: minus 1/√(2π)), which is positively homogeneous:
    /// E[ReLU(sξ)He_r(ξ)] = s·E[ReLU(ξ)He_r(ξ)].
    pub fn relu(centred: bool) -> Self {
        let base = FnStats::relu(SPIKED_MAX_DEGREE).coeffs;
        let shift = if centred { base[0] } else { 0.0 };
        Self(std::sync::Arc::new(move |s| {
            let mut t: Vec<f64> = base.iter().map(|c| s * c).collect();
            t[0] -= shift;
            t
        }))
    }
}

impl PartialEq for ScaledCoeffs {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Inputs of [`predict_spikes`]. Finite n, d, N are inputs because η = η₀ n^α depends on n;
/// the ratios are φ = n/d, ψ = N/d.
///
/// | field | meaning | allowed |
/// |---|---|---|
/// | `n` | batch size (each of the two batches) | ≥ 1 |
/// | `d` | input dimension | ≥ 1 |
/// | `width` | N, hidden neurons | ≥ 1 |
/// | `alpha` | step exponent, η = η₀ n^α | finite, ≥ 0 |
/// | `eta0` | step prefactor η₀ | finite, ≥ 0 |
/// | `noise` | label-noise standard deviation σ_ε | finite, ≥ 0 |
/// | `act`, `target` | Hermite descriptions of σ and σ* | [`FnStats::validate`] |
/// | `beta_norm2` | realised ‖β‖² (None: the limit of [`crate::overlap`]) | finite, > 0 |
/// | `a` | realised second layer (None: a ~ N(0, I_N/N), its moments replaced by their means) | length N, finite |
/// | `step_noise` | spike functions E_ξ(u + √γ ξ)^k instead of u^k (default true) | |
/// | `act_scaled` | σ's Hermite coefficients at scales s ≥ 1 (smoothed route) | finite |
///
/// The residual is `labels` (docs/model.md §2), the convention under which G ≈ c₁aβᵀ.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SpikeInputs {
    /// Batch size n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// Width N.
    pub width: usize,
    /// Step exponent α (η = η₀ n^α).
    pub alpha: f64,
    /// Step prefactor η₀.
    pub eta0: f64,
    /// Label-noise standard deviation σ_ε.
    pub noise: f64,
    /// Activation σ.
    pub act: FnStats,
    /// Target link σ*.
    pub target: FnStats,
    /// Realised ‖β‖², overriding the limit `c*₁² + (Eσ*² + σ_ε²)d/n`.
    pub beta_norm2: Option<f64>,
    /// Realised second layer a (length N), overriding the Gaussian moments of a ~ N(0, I/N).
    pub a: Option<Vec<f64>>,
    /// Whether the spike functions include the step's per-neuron noise direction (module docs,
    /// "Step noise"); `false` gives the plain truncated-Taylor route of docs/model.md §4, kept for
    /// comparison.
    pub step_noise: bool,
    /// σ's coefficients at larger scales, for the smoothed spike functions (module docs). None:
    /// exact from the coefficients when σ is a polynomial, otherwise the truncated Taylor route.
    #[serde(skip)]
    pub act_scaled: Option<ScaledCoeffs>,
}

impl SpikeInputs {
    /// Inputs with the limiting ‖β‖² and Gaussian second-layer moments.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n: usize,
        d: usize,
        width: usize,
        alpha: f64,
        eta0: f64,
        noise: f64,
        act: FnStats,
        target: FnStats,
    ) -> Self {
        Self {
            n,
            d,
            width,
            alpha,
            eta0,
            noise,
            act,
            target,
            beta_norm2: None,
            a: None,
            step_noise: true,
            act_scaled: None,
        }
    }
}

/// Prediction for the spike of one degree k.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SpikePrediction {
    /// Degree k (c_k ≠ 0).
    pub degree: usize,
    /// Raw strength θ_k ([`crate::spike_strength`], the operator norm of the rank-one term,
    /// in singular-value units of F).
    pub strength: f64,
    /// Predicted outlier singular value of F; None when the spike is not separated from the
    /// bulk at this finite n.
    pub location: Option<f64>,
    /// Predicted |⟨û_k, GS(t∘ᵏ)⟩| (û_k the outlier's unit left singular vector); None
    /// when not separated.
    pub alignment: Option<f64>,
    /// Whether `location` can be trusted: it is finite and, on the Taylor route only, for
    /// degree k ≥ 4 at most 2θ_k (see [`SpikePrediction::trusted_location`]).
    pub trusted: bool,
}

impl SpikePrediction {
    /// The location if it can be trusted (`trusted`). The smoothed route (§9.5 of
    /// docs/theory.md: σ smoothed exactly per neuron) trusts every finite location; the Taylor
    /// route (no [`ScaledCoeffs`] for a non-polynomial σ) truncates the spike series in κ at
    /// degree 8, which at large α and practical n invents degree-≥4 outliers far above their
    /// strengths, so it hides a degree k ≥ 4 location above 2θ_k.
    pub fn trusted_location(&self) -> Option<f64> {
        self.location.filter(|_| self.trusted)
    }
}

/// Everything [`predict_spikes`] predicts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SpikeReport {
    /// ℓ(α): number of spike degrees past their threshold (asymptotic count).
    pub ell: usize,
    /// The degrees past their threshold ([`crate::spike_degrees`], up to degree 8).
    pub degrees: Vec<usize>,
    /// `(k, (k−1)/(2k))` for every degree k ≤ 8 with c_k ≠ 0.
    pub thresholds: Vec<(usize, f64)>,
    /// η = η₀ n^α.
    pub eta: f64,
    /// ‖β‖² used.
    pub beta_norm2: f64,
    /// γ = E‖r_j‖²/(c₁²‖β‖²): variance of the step's per-neuron noise direction relative to its
    /// β component (0 when `step_noise` is off or c₁ = 0).
    pub step_noise_gamma: f64,
    /// How the spike part of F was modelled: "smoothed" (exact Gaussian smoothing of σ per
    /// neuron, expanded in He_r(u)) or "taylor" (the truncated series Σ_k c_k κ^k u^k).
    pub mean_model: &'static str,
    /// Predicted right edge of the bulk, in singular values of F (`√(n z_edge)`).
    pub bulk_edge: f64,
    /// One entry per degree k ≤ 8 with c_k ≠ 0 (separated or not), increasing k.
    pub spikes: Vec<SpikePrediction>,
    /// Outlier of the mean term c₀11ᵀ (c₀ ≠ 0 only; not a learned spike, docs/model.md §3).
    pub mean_outlier: Option<f64>,
    /// Outliers not attributed to a spike degree or to the mean (e.g. the linear part
    /// c₁TVᵀ alone), in singular values of F.
    pub other_outliers: Vec<f64>,
    /// Every outlier but the mean one, by decreasing location: its predicted alignment
    /// |⟨û, GS(t∘ᵏ)⟩| with each degree k = 1, 2, 3 (row j is the j-th outlier; docs/theory.md
    /// §9.2). The diagonal of the rows matched to degrees 1–3 is `spikes[..].alignment`.
    pub alignment_matrix: Vec<Vec<f64>>,
}

fn check_inputs(inp: &SpikeInputs) -> Result<(), TheoryError> {
    for (name, v) in [("n", inp.n), ("d", inp.d), ("width", inp.width)] {
        if v == 0 {
            return Err(TheoryError::InvalidParameter {
                name,
                value: 0.0,
                allowed: "n, d and width must be ≥ 1",
            });
        }
    }
    if !(inp.alpha.is_finite() && inp.alpha >= 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "alpha",
            value: inp.alpha,
            allowed: "step-size exponent α must be finite and ≥ 0 (the theory covers 0 ≤ α < 1/2)",
        });
    }
    if !(inp.eta0.is_finite() && inp.eta0 >= 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "eta0",
            value: inp.eta0,
            allowed: "step-size prefactor η₀ must be finite and ≥ 0",
        });
    }
    if let Some(b) = inp.beta_norm2
        && !(b.is_finite() && b > 0.0)
    {
        return Err(TheoryError::InvalidParameter {
            name: "beta_norm2",
            value: b,
            allowed: "‖β‖² must be finite and > 0",
        });
    }
    if let Some(a) = &inp.a {
        if a.len() != inp.width {
            return Err(TheoryError::InvalidParameter {
                name: "a",
                value: a.len() as f64,
                allowed: "the second layer a must have exactly `width` entries",
            });
        }
        if let Some(x) = a.iter().find(|x| !x.is_finite()) {
            return Err(TheoryError::InvalidParameter {
                name: "a",
                value: *x,
                allowed: "the second layer a must be finite",
            });
        }
    }
    inp.act.validate("activation")?;
    inp.target.validate("target")?;
    Ok(())
}

/// The scalars of one prediction, shared by the stages of [`predict_spikes`].
struct Step<'a> {
    inp: &'a SpikeInputs,
    /// n as f64.
    n: f64,
    /// d as f64.
    d: f64,
    /// N as f64.
    nw: f64,
    /// ψ = N/d.
    psi: f64,
    /// ‖β‖² used (realised or the limit).
    bnorm2: f64,
    /// ‖β‖.
    bnorm: f64,
    /// η = η₀ n^α.
    eta: f64,
    /// c₀ of σ.
    c0: f64,
    /// c₁ of σ.
    c1: f64,
    /// The degrees k ≤ 8 with c_k ≠ 0, increasing.
    spike_ks: Vec<usize>,
}

impl<'a> Step<'a> {
    fn new(inp: &'a SpikeInputs) -> Result<Self, TheoryError> {
        let (n, d, nw) = (inp.n as f64, inp.d as f64, inp.width as f64);
        let phi = n / d;
        let psi = nw / d;
        let act = &inp.act;
        let bnorm2 = match inp.beta_norm2 {
            Some(b) => b,
            None => overlap(&inp.target, inp.noise, phi)?.norm2,
        };
        let kmax = SPIKED_MAX_DEGREE.min(act.max_degree());
        Ok(Self {
            inp,
            n,
            d,
            nw,
            psi,
            bnorm2,
            bnorm: bnorm2.sqrt(),
            eta: inp.eta0 * n.powf(inp.alpha),
            c0: act.coeff(0).unwrap_or(0.0),
            c1: act.coeff(1).unwrap_or(0.0),
            spike_ks: (1..=kmax)
                .filter(|&k| act.coeffs[k].abs() > COEFF_ZERO)
                .collect(),
        })
    }

    /// Power sums Σ a_i^p: realised, or their means N^{1−p/2}(p−1)!! under a ~ N(0, I/N).
    fn psum(&self, p: usize) -> f64 {
        match &self.inp.a {
            Some(a) => a.iter().map(|x| x.powi(p as i32)).sum(),
            None => self.nw.powf(1.0 - p as f64 / 2.0) * gauss_moment(p),
        }
    }
}

/// Predicted spike locations, alignments and bulk edge of `F = σ(X̃Wᵀ)` after one step
/// (labels residual), see module docs. `spectrum` gives the law of the eigenvalues μ of
/// W₀W₀ᵀ (N×N): [`Spectrum::MarchenkoPastur`] of ratio ψ = N/d, or the realised eigenvalues
/// ([`Spectrum::Empirical`], all N of them); the bulk covariance eigenvalues
/// `τ = c₁²μ + c_{>1}²` are formed here.
pub fn predict_spikes(
    inp: &SpikeInputs,
    spectrum: Spectrum<'_>,
) -> Result<SpikeReport, TheoryError> {
    check_inputs(inp)?;
    spectrum.validate()?;
    let st = Step::new(inp)?;
    // Low-rank part L Mᵀ and its blocks G = E[llᵀ], H = MᵀM.
    let model = mean_model::build(&st)?;
    let (gm, h) = model.gram_and_h(&st);
    let orth = outliers::orthonormalise(&gm, &h, model.cols.len());
    // Bulk.
    let law = BulkLaw::new(&inp.act, spectrum, st.psi, st.nw / st.n);
    let edge = law.edge();
    let bulk_edge = (st.n * edge.z.max(0.0)).sqrt();
    // Outliers, then their attribution to the spike degrees.
    let outs = outliers::outliers(&law, &edge, &orth, st.n);
    let assigned = alignment::assign(&st, &model.cols, &outs, model.has_mean);
    let degrees = spike_degrees(inp.alpha, &inp.act, SPIKED_MAX_DEGREE);
    let taylor = model.smooth.is_none();
    let mut spikes = assigned.spikes;
    for p in &mut spikes {
        p.trusted = p
            .location
            .is_some_and(|l| l.is_finite() && (!taylor || p.degree < 4 || l <= 2.0 * p.strength));
    }
    Ok(SpikeReport {
        ell: degrees.len(),
        thresholds: st.spike_ks.iter().map(|&k| (k, threshold(k))).collect(),
        degrees,
        eta: st.eta,
        beta_norm2: st.bnorm2,
        step_noise_gamma: model.gamma,
        mean_model: if taylor { "taylor" } else { "smoothed" },
        bulk_edge,
        spikes,
        mean_outlier: if model.has_mean {
            assigned.mean_outlier
        } else {
            None
        },
        other_outliers: assigned.other_outliers,
        alignment_matrix: assigned.alignment_matrix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_b() -> FnStats {
        FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2])
    }

    #[test]
    fn location_monotone_and_tends_to_strength() {
        // The degree-1 outlier moves up with η and, far from the threshold, approaches the
        // raw strength θ₁ with an alignment tending to 1.
        let act = FnStats::relu_centred(8);
        let mut last = 0.0;
        for &eta0 in &[0.5, 1.0, 2.0, 4.0, 16.0] {
            let inp = SpikeInputs::new(8192, 2048, 2048, 0.0, eta0, 0.1, act.clone(), target_b());
            let rep = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
            let s1 = rep.spikes[0];
            if let Some(loc) = s1.location {
                assert!(loc > last && loc > rep.bulk_edge, "{rep:?}");
                last = loc;
            }
            if eta0 == 16.0 {
                let loc = s1.location.unwrap();
                assert!(
                    (loc / s1.strength - 1.0).abs() < 0.1,
                    "large η: location {loc} vs θ₁ {}",
                    s1.strength
                );
                assert!(s1.alignment.unwrap() > 0.9);
            }
        }
        assert!(last > 0.0);
    }

    #[test]
    fn bad_inputs() {
        let act = FnStats::relu_centred(8);
        let mut inp = SpikeInputs::new(100, 25, 25, 0.2, 1.0, 0.1, act, target_b());
        inp.width = 0;
        assert!(predict_spikes(&inp, Spectrum::MarchenkoPastur).is_err());
        inp.width = 25;
        inp.a = Some(vec![0.0; 3]);
        assert!(predict_spikes(&inp, Spectrum::MarchenkoPastur).is_err());
        inp.a = None;
        inp.alpha = f64::NAN;
        assert!(predict_spikes(&inp, Spectrum::MarchenkoPastur).is_err());
    }

    /// docs/model.md §7 (d = N = 2048, n = 8192, 3 seeds): bulk edge 105.2; α = 0.3: 421, 124;
    /// α = 0.4: 1022, 492 and no further outlier (the third value, 120, is the widened bulk).
    #[test]
    fn reference_numbers_d2048() {
        let mut inp = SpikeInputs::new(
            8192,
            2048,
            2048,
            0.0,
            1.0,
            0.1,
            FnStats::relu_centred(8),
            target_b(),
        );
        inp.act_scaled = Some(ScaledCoeffs::relu(true));
        for (alpha, want) in [
            (0.0, vec![]),
            (0.3, vec![421.0, 124.0]),
            (0.4, vec![1022.0, 492.0]),
        ] {
            inp.alpha = alpha;
            let rep = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
            assert_eq!(rep.mean_model, "smoothed");
            assert!(
                (rep.bulk_edge / 105.2 - 1.0).abs() < 0.01,
                "bulk edge {}",
                rep.bulk_edge
            );
            let locs: Vec<f64> = rep.spikes.iter().filter_map(|s| s.location).collect();
            assert_eq!(locs.len(), want.len(), "α={alpha}: {locs:?}");
            for (k, (got, w)) in locs.iter().zip(&want).enumerate() {
                let tol = if k == 0 { 0.01 } else { 0.03 };
                assert!(
                    (got / w - 1.0).abs() < tol,
                    "α={alpha}: degree {} at {got}, simulated {w}",
                    k + 1
                );
            }
        }
    }

    /// Only the Taylor route hides locations: at d = N = 2048, n = 8192, α = 0.4 its degree-8
    /// truncation invents a degree-4 outlier far above 2θ₄ (docs/theory.md §9.3), which is
    /// untrusted; the smoothed route predicts none there, and its finite degree-≥4 locations
    /// (here the polynomial σ = Σ_{k≤4} He_k/k!) are all trusted.
    #[test]
    fn only_the_taylor_route_hides_degree_four_locations() {
        let act = FnStats::relu_centred(8);
        let mut inp = SpikeInputs::new(8192, 2048, 2048, 0.4, 1.0, 0.1, act, target_b());
        inp.step_noise = false;
        let taylor = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
        assert_eq!(taylor.mean_model, "taylor");
        let four = taylor.spikes.iter().find(|p| p.degree == 4).unwrap();
        assert!(four.location.unwrap() > 2.0 * four.strength, "{four:?}");
        assert!(!four.trusted && four.trusted_location().is_none());
        inp.step_noise = true;
        inp.act_scaled = Some(ScaledCoeffs::relu(true));
        let smooth = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
        assert!(
            smooth
                .spikes
                .iter()
                .all(|p| p.degree < 4 || p.location.is_none())
        );
        let richer = FnStats::polynomial(&[1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0]);
        let inp = SpikeInputs::new(1024, 256, 256, 0.45, 0.3, 0.1, richer, target_b());
        let rep = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
        assert_eq!(rep.mean_model, "smoothed");
        let four = rep.spikes.iter().find(|p| p.degree == 4).unwrap();
        assert!(
            four.trusted && four.trusted_location().is_some(),
            "{four:?}"
        );
        for p in &rep.spikes {
            assert_eq!(p.trusted, p.location.is_some(), "{p:?}");
        }
    }

    /// For a polynomial σ the smoothed route (He_r expansion of the exact mean) and the Taylor
    /// route (powers of κ) describe the same function; they must agree.
    #[test]
    fn smoothed_equals_taylor_for_a_polynomial() {
        let act = FnStats::polynomial(&[0.1, 1.0, 0.5, 1.0 / 6.0, 0.05]);
        for alpha in [0.2, 0.3, 0.35] {
            let inp = SpikeInputs::new(4096, 1024, 1024, alpha, 1.0, 0.1, act.clone(), target_b());
            let smooth = predict_spikes(&inp, Spectrum::MarchenkoPastur).unwrap();
            // Non-finite coefficients from the caller are an error, not a NaN in the output.
            let mut bad = inp.clone();
            bad.act_scaled = Some(ScaledCoeffs(std::sync::Arc::new(|_| vec![f64::NAN; 9])));
            assert!(predict_spikes(&bad, Spectrum::MarchenkoPastur).is_err());
            // Force the Taylor route: a second moment 1e-6 above Parseval makes σ non-polynomial
            // (and moves c_{>1}², hence the bulk, by 1e-6 only).
            let mut taylor_inp = inp.clone();
            taylor_inp.act.second_moment *= 1.0 + 1e-6;
            let taylor = predict_spikes(&taylor_inp, Spectrum::MarchenkoPastur).unwrap();
            assert_eq!(
                (smooth.mean_model, taylor.mean_model),
                ("smoothed", "taylor")
            );
            for (a, b) in smooth.spikes.iter().zip(&taylor.spikes) {
                match (a.location, b.location) {
                    (Some(x), Some(y)) => assert!(
                        (x / y - 1.0).abs() < 1e-5,
                        "α={alpha} degree {}: {x} vs {y}",
                        a.degree
                    ),
                    (None, None) => {}
                    other => panic!("α={alpha} degree {}: {other:?}", a.degree),
                }
            }
        }
    }
}
