//! Outliers of F after the step from the conditional model itself (docs/theory.md §10.7): the
//! low-rank part of §10.1 on top of the bulk after the step, instead of the Taylor spikes on F₀'s
//! bulk of [`crate::predict_spikes`].
//!
//! At the ridge λ = −z above the bulk (b < 0 at every row class) the Woodbury matrix of the
//! module docs is `I + H^{½}G_bH^{½} = I − CCᵀ`, with one column `c_i = √(w_i|b_i|) H^{½} l(u_i)`
//! per row class. Its zeros are the outliers, and the nonzero spectrum of CCᵀ is that of the row
//! kernel `K = CᵀC`, `K_ii' = √(w_i|b_i| w_i'|b_i'|) Σ_m p_mρ_m [N μ₀(κ_m u_i)μ₀(κ_m u_i') +
//! ψ μ₁(κ_m u_i)μ₁(κ_m u_i') u_i u_i']` for the class means and u-columns; the w-columns, functions
//! of the independent w, give a second kernel with ψ μ₁μ₁ alone. An outlier sits at each z where
//! an eigenvalue of a kernel equals 1 (the eigenvalues fall as z grows). With f the unit
//! eigenvector there and v a unit-norm function of u, the residue of (1/n)vᵀ(FFᵀ/n − z)⁻¹v
//! gives the squared alignment of the outlier's left singular vector with v:
//! `(fᵀy)² / (−∂_z k(z))`, `y_i = √(w_i|b_i|) v(u_i)`.

use super::{Bulk, NetworkInputs};
use super::{EDGE, Grid, bulk_edge, solve_bulk};
use crate::TheoryError;
use crate::locations::dense::sym_eigen;

/// Degrees k of the alignments |⟨û, GS(u^k)⟩| reported per outlier.
pub const OUTLIER_DEGREES: usize = 3;

/// One outlier of F predicted by [`network_outliers`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct NetworkOutlier {
    /// Singular value of F, √(n z).
    pub location: f64,
    /// |⟨û, GS(u^k)⟩| for k = 1..=[`OUTLIER_DEGREES`] (û the left singular vector, GS as
    /// [`crate::gs_power`], here under the row classes' measure); zero for an outlier of the w-columns.
    pub alignment: [f64; OUTLIER_DEGREES],
}

/// The bulk after the step and the outliers above it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NetworkSpikes {
    /// Top of the bulk after the step as a singular value of F ([`super::network_bulk_edge`]).
    pub bulk_edge: f64,
    /// Outliers, largest first. When c₀ ≠ 0 the first is the mean component.
    pub outliers: Vec<NetworkOutlier>,
}

/// For k = 1..=[`OUTLIER_DEGREES`], the k-th of `outliers` after the first `skip` (1 to leave
/// out the mean component when c₀ ≠ 0) against degree k, |⟨û_k, GS(u^k)⟩|: the quantity the
/// measured `spectrum.alignment` is. None without a k-th outlier (û_k is then a bulk vector,
/// alignment 0 in the limit).
pub fn outlier_diagonal(
    outliers: &[NetworkOutlier],
    skip: usize,
) -> [Option<f64>; OUTLIER_DEGREES] {
    std::array::from_fn(|k| outliers.get(skip + k).map(|o| o.alignment[k]))
}

/// Relative precision of an outlier's eigenvalue z.
const OUTLIER_RTOL: f64 = 1e-8;
/// Relative step in z of the derivative of a kernel eigenvalue.
const DERIV_STEP: f64 = 1e-5;

/// The outliers of F after the step and their alignments with GS(u^k), k ≤ 3, from the
/// conditional model (module docs): the same fixed point as [`super::network_bulk_edge`], taken
/// above the bulk. Labels residual; `atoms`, `nodes` and `lambda` are not used (the neurons and
/// rows enter as order classes, as for the edge). Costs the edge search plus ~40 solves per
/// outlier.
pub fn network_outliers(inp: &NetworkInputs) -> Result<NetworkSpikes, TheoryError> {
    let edge = bulk_edge(inp)?;
    let g = &edge.pr.grid;
    let n = inp.n as f64;
    let mut at = Probe {
        g,
        state: edge.state.clone(),
    };
    let gs = gram_schmidt_powers(&g.u, &g.wu);
    let mut outliers = Vec::new();
    for block in [Block::Means, Block::Linear] {
        let top = at.eigen(edge.z, block)?.0;
        for j in (0..top.len()).filter(|&j| top[j] > 1.0) {
            // bracket the crossing k_j(z) = 1 from the edge upwards, then bisect
            let (mut lo, mut hi) = (edge.z, 2.0 * edge.z);
            while at.eigen(hi, block)?.0[j] > 1.0 {
                lo = hi;
                hi *= 2.0;
            }
            while hi - lo > OUTLIER_RTOL * hi {
                let mid = 0.5 * (lo + hi);
                if at.eigen(mid, block)?.0[j] > 1.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let z = 0.5 * (lo + hi);
            let (_, f, sb) = at.eigen(z, block)?;
            let h = DERIV_STEP * z;
            let slope = (at.eigen(z - h, block)?.0[j] - at.eigen(z + h, block)?.0[j]) / (2.0 * h);
            let mut alignment = [0.0; OUTLIER_DEGREES];
            if block == Block::Means && slope > 0.0 {
                for (a, v) in alignment.iter_mut().zip(&gs) {
                    let fy: f64 = (0..sb.len()).map(|i| f[i][j] * sb[i] * v[i]).sum();
                    *a = (fy * fy / slope).sqrt().min(1.0);
                }
            }
            outliers.push(NetworkOutlier {
                location: (n * z).sqrt(),
                alignment,
            });
        }
    }
    outliers.sort_by(|a, b| b.location.total_cmp(&a.location));
    Ok(NetworkSpikes {
        bulk_edge: (n * edge.top).sqrt(),
        outliers,
    })
}

/// The low-rank columns of a kernel: class means with the u-columns, or the w-columns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Means,
    Linear,
}

/// Solves the bulk above the edge with a warm start from the last solve.
struct Probe<'a> {
    g: &'a Grid,
    state: Bulk,
}

impl Probe<'_> {
    /// The kernel's eigenvalues (largest first), its eigenvectors (`f[i][j]`: class i of
    /// eigenvector j) and √(w_i|b_i|) at z.
    #[allow(clippy::type_complexity)]
    fn eigen(
        &mut self,
        z: f64,
        block: Block,
    ) -> Result<(Vec<f64>, Vec<Vec<f64>>, Vec<f64>), TheoryError> {
        let g = self.g;
        let (k, q) = (g.p.len(), g.u.len());
        let (st, _) = solve_bulk(g, &vec![-z; q], &self.state, EDGE)?;
        self.state = st;
        let sb: Vec<f64> = (0..q)
            .map(|i| (g.wu[i] / (z - self.state.delta[i])).sqrt())
            .collect();
        let mut kern = vec![0.0; q * q];
        for i in 0..q {
            for l in 0..=i {
                let mut s = 0.0;
                for m in 0..k {
                    let pr = g.p[m] * self.state.rho[m];
                    let lin = g.psi * g.mu1[i][m] * g.mu1[l][m];
                    s += pr
                        * match block {
                            Block::Means => {
                                g.width * g.mu0[i][m] * g.mu0[l][m] + lin * g.u[i] * g.u[l]
                            }
                            Block::Linear => lin,
                        };
                }
                kern[i * q + l] = sb[i] * sb[l] * s;
                kern[l * q + i] = kern[i * q + l];
            }
        }
        let (vals, vecs) = sym_eigen(&kern, q);
        let mut order: Vec<usize> = (0..q).collect();
        order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
        let sorted = order.iter().map(|&j| vals[j]).collect();
        let f = (0..q)
            .map(|i| order.iter().map(|&j| vecs[i * q + j]).collect())
            .collect();
        Ok((sorted, f, sb))
    }
}

/// GS(u^k) for k = 1..=[`OUTLIER_DEGREES`] at the row classes `u` (weights `w`): u^k minus its
/// projection on u, …, u^{k−1}, normalised, all under the classes' own measure (as
/// [`crate::gs_power`] is under N(0, 1) and the measured alignments are under the sample's).
/// Under the classes' measure a linear profile is then exactly orthogonal to GS(u³); with the
/// Gaussian polynomials it would pick up the classes' error in E u⁴ (0.05 at n = 4096).
fn gram_schmidt_powers(u: &[f64], w: &[f64]) -> Vec<Vec<f64>> {
    let dot = |a: &[f64], b: &[f64]| -> f64 { (0..u.len()).map(|i| w[i] * a[i] * b[i]).sum() };
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for k in 1..=OUTLIER_DEGREES {
        let mut v: Vec<f64> = u.iter().map(|x| x.powi(k as i32)).collect();
        for e in &basis {
            let c = dot(&v, e);
            v.iter_mut().zip(e).for_each(|(a, b)| *a -= c * b);
        }
        let norm = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        basis.push(v);
    }
    basis
}
