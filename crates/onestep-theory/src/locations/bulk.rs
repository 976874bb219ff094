//! The bulk of `FFᵀ/n` for [`super::predict_spikes`]: the law of `AAᵀ/n` on the real axis above
//! its support (physical branch of the Stieltjes transform, its inverse z(m), the bulk edge and
//! the residue factor of the alignments), docs/theory.md §9.1–§9.2.

use crate::hermite::FnStats;
use crate::mp::{Averages, Spectrum};

/// The bulk law of `AAᵀ/n` on the real axis above its support.
pub(super) struct BulkLaw<'a> {
    spectrum: Spectrum<'a>,
    /// c₁².
    a: f64,
    /// c_{>1}².
    b: f64,
    /// ψ = N/d (MP ratio).
    psi: f64,
    /// N/n.
    ratio: f64,
}

impl<'a> BulkLaw<'a> {
    pub(super) fn new(act: &FnStats, spectrum: Spectrum<'a>, psi: f64, ratio: f64) -> Self {
        let c1 = act.coeff(1).unwrap_or(0.0);
        Self {
            spectrum,
            a: c1 * c1,
            b: act.nonlinear_energy(),
            psi,
            ratio,
        }
    }

    /// Largest τ = c₁²μ + c_{>1}².
    fn tau_max(&self) -> f64 {
        let mu_max = match self.spectrum {
            Spectrum::MarchenkoPastur => (1.0 + self.psi.sqrt()).powi(2),
            Spectrum::Empirical(ev) => ev.iter().cloned().fold(0.0, f64::max),
        };
        self.a * mu_max + self.b
    }

    /// Averages over τ at m ∈ (−1/τ_max, 0].
    fn avg(&self, m: f64) -> Averages {
        self.spectrum.averages(self.a, self.b, self.psi, m)
    }

    /// z(m) = −1/m + (N/n)E[τ/(1+τm)].
    pub(super) fn z(&self, m: f64) -> f64 {
        -1.0 / m + self.ratio * self.avg(m).h1
    }

    /// m²·z′(m) = 1 − (N/n) m² E[τ²/(1+τm)²], decreasing in |m| on m < 0.
    fn m2dz(&self, m: f64) -> f64 {
        1.0 - self.ratio * m * m * self.avg(m).h2
    }

    /// g(m) = −m𝔲(m) > 0, decreasing in m on (m_edge, 0).
    fn g(&self, m: f64) -> f64 {
        -m * self.avg(m).u
    }

    /// m at the right edge of the bulk: the root of z′(m) = 0 in (−1/τ_max, 0).
    fn m_edge(&self) -> f64 {
        let mut lo = -1.0 / self.tau_max(); // z′ < 0 just above lo
        let mut hi = 0.0; // z′ > 0 just below 0
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid == lo || mid == hi {
                break;
            }
            let f = self.m2dz(mid);
            if f.is_nan() || f < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// The m ∈ (m_edge, 0) with g(m) = target (g decreasing), by bisection.
    pub(super) fn solve_g(&self, m_edge: f64, target: f64) -> f64 {
        let (mut lo, mut hi) = (m_edge, 0.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid == lo || mid == hi {
                break;
            }
            if self.g(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// Squared-overlap factor of the residue at m: `m² 𝔲 z′(m) / (𝔲 − m E[τ/(1+τm)²])`.
    pub(super) fn residue(&self, m: f64) -> f64 {
        let av = self.avg(m);
        let dz = 1.0 / (m * m) - self.ratio * av.h2;
        (m * m * av.u * dz / (av.u - m * av.hu)).max(0.0)
    }

    /// The right edge of the bulk: m_edge, z(m_edge) and g(m_edge).
    pub(super) fn edge(&self) -> Edge {
        let m = self.m_edge();
        Edge {
            m,
            z: self.z(m),
            g: self.g(m),
        }
    }
}

/// The bulk edge in the m variable (see [`BulkLaw::edge`]).
pub(super) struct Edge {
    /// m at the edge, the root of z′(m) = 0.
    pub(super) m: f64,
    /// z(m_edge): the edge as an eigenvalue of `FFᵀ/n`.
    pub(super) z: f64,
    /// g(m_edge): an eigenvalue h of Ȟ separates iff 1/h < g(m_edge).
    pub(super) g: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp_below_support_matches_sum() {
        // MP quantile sample vs closed form at negative m.
        for &y in &[0.5, 1.0, 2.0] {
            let law_mp = BulkLaw {
                spectrum: Spectrum::MarchenkoPastur,
                a: 0.25,
                b: 0.09,
                psi: y,
                ratio: 0.25,
            };
            let tmax = law_mp.tau_max();
            for &frac in &[0.2, 0.6, 0.9] {
                let m = -frac / tmax;
                let av = law_mp.avg(m);
                // quadrature in θ over the MP density plus the atom
                let nq = 200_000;
                let mut q = [0.0; 4];
                for i in 0..nq {
                    let th = std::f64::consts::PI * (i as f64 + 0.5) / nq as f64;
                    let mu = 1.0 + y + 2.0 * y.sqrt() * th.cos();
                    let wgt = 2.0 * th.sin().powi(2) / (std::f64::consts::PI * mu)
                        * std::f64::consts::PI
                        / nq as f64;
                    let tau = 0.25 * mu + 0.09;
                    let inv = 1.0 / (1.0 + tau * m);
                    q[0] += wgt * tau * inv;
                    q[1] += wgt * tau * tau * inv * inv;
                    q[2] += wgt * inv;
                    q[3] += wgt * tau * inv * inv;
                }
                if y > 1.0 {
                    let w0 = 1.0 - 1.0 / y;
                    let inv = 1.0 / (1.0 + 0.09 * m);
                    q[0] += w0 * 0.09 * inv;
                    q[1] += w0 * 0.0081 * inv * inv;
                    q[2] += w0 * inv;
                    q[3] += w0 * 0.09 * inv * inv;
                }
                let got = [av.h1, av.h2, av.u, av.hu];
                for (g, q) in got.iter().zip(q) {
                    assert!(
                        (g - q).abs() < 1e-6 * q.abs(),
                        "y={y} m={m}: closed {g} vs quadrature {q}"
                    );
                }
            }
        }
    }

    #[test]
    fn edge_of_pure_mp() {
        // Linear activation c₁ = 1, no non-linear part, Σ = W₀W₀ᵀ ~ MP(ψ): AAᵀ/n has the
        // free multiplicative convolution edge; for N = n (ratio 1) and ψ = 1 check against
        // the known formula for products: edge of (1/n)XΣXᵀ with Σ ~ MP(1), n = N:
        // this is the squared singular-value law of a product of two square Ginibre
        // matrices (Fuss–Catalan of order 2), whose edge is 27/4.
        let act = FnStats::polynomial(&[0.0, 1.0]);
        let law = BulkLaw::new(&act, Spectrum::MarchenkoPastur, 1.0, 1.0);
        let z = law.z(law.m_edge());
        assert!((z - 6.75).abs() < 1e-8, "edge {z}");
    }
}
