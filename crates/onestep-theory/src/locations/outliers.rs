//! The outliers of `FFᵀ/n` for [`super::predict_spikes`]: orthonormalise L, eigen-decompose
//! Ȟ = C H Cᵀ, and solve the outlier equation −m𝔲(m) = 1/h on the bulk's physical branch for
//! each eigenvalue h that separates (docs/theory.md §9.1, residues §9.2).

use super::bulk::{BulkLaw, Edge};
use super::dense::{mat_mul, sym_eigen, transpose};

/// L orthonormalised and Ȟ eigen-decomposed.
pub(super) struct Orthonormal {
    /// Number of columns of L.
    r: usize,
    /// Number of kept (non-null) directions.
    rr: usize,
    /// B = V₊Λ₊^{-1/2} (r × rr, row-major): the orthonormal functions are Σ_i l_i B_{i,·}.
    bmat: Vec<f64>,
    /// Eigenvalues of Ȟ (rr × rr).
    hev: Vec<f64>,
    /// Eigenvectors of Ȟ as columns (row-major).
    hvec: Vec<f64>,
}

/// Orthonormalise L: G = VΛVᵀ, keep Λ > 1e-12 max; Ľ = L V₊Λ₊^{-1/2}, C = Λ₊^{1/2}V₊ᵀ; then
/// Ȟ = C H Cᵀ = Bᵀ G H G B (since C = Bᵀ G), symmetrised and eigen-decomposed. `gm` and `h` are
/// G and H (r × r, row-major).
pub(super) fn orthonormalise(gm: &[f64], h: &[f64], r: usize) -> Orthonormal {
    let (lam, vg) = sym_eigen(gm, r);
    let lmax = lam.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..r).filter(|&i| lam[i] > 1e-12 * lmax).collect();
    let rr = keep.len();
    let bmat: Vec<f64> = (0..r)
        .flat_map(|i| {
            keep.iter()
                .map(|&j| vg[i * r + j] / lam[j].sqrt())
                .collect::<Vec<_>>()
        })
        .collect();
    // C (rr × r) = Bᵀ G
    let cmat = mat_mul(&transpose(&bmat, r, rr), rr, r, gm, r);
    let ch = mat_mul(&cmat, rr, r, h, r);
    let mut hc = mat_mul(&ch, rr, r, &transpose(&cmat, rr, r), rr);
    for i in 0..rr {
        for j in 0..i {
            let v = 0.5 * (hc[i * rr + j] + hc[j * rr + i]);
            hc[i * rr + j] = v;
            hc[j * rr + i] = v;
        }
    }
    let (hev, hvec) = sym_eigen(&hc, rr);
    Orthonormal {
        r,
        rr,
        bmat,
        hev,
        hvec,
    }
}

/// One outlier of `FFᵀ/n`.
pub(super) struct Outlier {
    /// Its singular value of F, √(n z).
    pub(super) sv: f64,
    /// Residue factor `m² 𝔲 z′(m) / (𝔲 − m E_τ[τ/(1+τm)²])` of its squared overlaps.
    pub(super) resid: f64,
    /// Its direction function f_h = Σ_i l_i coef_i over the columns l_i of L.
    pub(super) coef: Vec<f64>,
}

/// Outliers: one per eigenvalue h of Ȟ with 1/h < g(m_edge), at the m ∈ (m_edge, 0) with
/// −m𝔲(m) = 1/h; `n` is the batch size.
pub(super) fn outliers(law: &BulkLaw<'_>, edge: &Edge, orth: &Orthonormal, n: f64) -> Vec<Outlier> {
    let (r, rr) = (orth.r, orth.rr);
    let mut outs: Vec<Outlier> = Vec::new();
    for j in 0..rr {
        let hj = orth.hev[j];
        if hj.is_nan() || hj <= 0.0 || 1.0 / hj >= edge.g {
            continue;
        }
        let m = law.solve_g(edge.m, 1.0 / hj);
        let z = law.z(m);
        // direction function f = Σ_i l_i (B e_j)_i
        let coef: Vec<f64> = (0..r)
            .map(|i| {
                (0..rr)
                    .map(|q| orth.bmat[i * rr + q] * orth.hvec[q * rr + j])
                    .sum()
            })
            .collect();
        outs.push(Outlier {
            sv: (n * z).sqrt(),
            resid: law.residue(m),
            coef,
        });
    }
    outs
}
