//! Attribution and alignment of the outliers for [`super::predict_spikes`]: the target
//! directions GS(u^k) (`gs_power`), the constant and w, the greedy one-to-one matching of
//! outliers to them by largest squared overlap, and the alignments |⟨û_k, GS(t∘ᵏ)⟩| from the
//! residue (docs/theory.md §9.1–§9.2).

use super::mean_model::{Column, bipoly_u, inner_sum};
use super::outliers::Outlier;
use super::{SpikePrediction, Step};
use crate::hermite::{BiPoly, gauss_moment};
use crate::spikes::spike_strength;

/// Coefficients (powers 0..=k of u) of `GS(u^k)`: u^k minus its L²(N(0,1)) projection on
/// span(u, …, u^{k−1}) (not on the constant), normalised to unit L² norm.
pub fn gs_power(k: usize) -> Vec<f64> {
    assert!(k >= 1, "GS(t^k) needs k ≥ 1");
    let inner = |p: &[f64], q: &[f64]| -> f64 {
        let mut s = 0.0;
        for (i, a) in p.iter().enumerate() {
            for (j, b) in q.iter().enumerate() {
                s += a * b * gauss_moment(i + j);
            }
        }
        s
    };
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for j in 1..=k {
        let mut p = vec![0.0; k + 1];
        p[j] = 1.0;
        for e in &basis {
            let c = inner(&p, e);
            for (pi, ei) in p.iter_mut().zip(e) {
                *pi -= c * ei;
            }
        }
        let nrm = inner(&p, &p).sqrt();
        p.iter_mut().for_each(|x| *x /= nrm);
        basis.push(p);
    }
    basis.pop().unwrap()
}

/// The outliers sorted into spikes, the mean outlier and the rest.
pub(super) struct Assigned {
    /// One entry per spike degree, increasing k.
    pub(super) spikes: Vec<SpikePrediction>,
    /// The outlier matched to the constant (reported only when c₀ ≠ 0).
    pub(super) mean_outlier: Option<f64>,
    /// Unmatched outliers and the one matched to w, decreasing.
    pub(super) other_outliers: Vec<f64>,
    /// Every outlier but the mean one, decreasing: |⟨û, GS(t∘ᵏ)⟩| for k = 1..=[`MATRIX_DEGREES`].
    pub(super) alignment_matrix: Vec<Vec<f64>>,
}

/// Degrees (columns) of [`Assigned::alignment_matrix`].
pub const MATRIX_DEGREES: usize = 3;

/// Matches the outliers to the candidate directions GS(u^k) (one per spike degree), the
/// constant and w, and reports each spike's location, strength and alignment; `has_mean`: the
/// model has the mean column c₀1, whose outlier is left out of the alignment matrix.
pub(super) fn assign(st: &Step<'_>, cols: &[Column], outs: &[Outlier], has_mean: bool) -> Assigned {
    // Candidate target directions: GS(u^k) for each spike degree, the constant, and w.
    let mut cands: Vec<Vec<BiPoly>> = st
        .spike_ks
        .iter()
        .map(|&k| bipoly_u(&gs_power(k)))
        .collect();
    let mean_idx = cands.len();
    cands.push(vec![BiPoly::monomial(1.0, 0, 0)]);
    cands.push(vec![BiPoly::monomial(1.0, 0, 1)]);
    // ⟨l_i, v⟩ for each candidate v.
    let lv: Vec<Vec<f64>> = cands
        .iter()
        .map(|v| cols.iter().map(|l| inner_sum(&l.f, v)).collect())
        .collect();
    // ⟨f_h, v⟩² for each outlier and candidate.
    let overlaps2: Vec<Vec<f64>> = outs
        .iter()
        .map(|o| {
            lv.iter()
                .map(|l| {
                    let c: f64 = l.iter().zip(&o.coef).map(|(a, b)| a * b).sum();
                    c * c
                })
                .collect()
        })
        .collect();
    let cand_of = greedy_match(&overlaps2, cands.len());
    let (act, n, nw) = (&st.inp.act, st.n, st.nw);
    let spikes = st
        .spike_ks
        .iter()
        .enumerate()
        .map(|(ci, &k)| {
            let o = cand_of[ci];
            SpikePrediction {
                degree: k,
                strength: spike_strength(k, act, st.eta, st.bnorm2, n, nw),
                location: o.map(|o| outs[o].sv),
                alignment: o.map(|o| (overlaps2[o][ci] * outs[o].resid).sqrt()),
                // Set by `predict_spikes`, which knows the route.
                trusted: false,
            }
        })
        .collect();
    let mean_outlier = cand_of[mean_idx].map(|o| outs[o].sv);
    let mut other_outliers: Vec<f64> = outs
        .iter()
        .enumerate()
        .filter(|(o, _)| !cand_of.contains(&Some(*o)))
        .map(|(_, o)| o.sv)
        .collect();
    if let Some(o) = cand_of[mean_idx + 1] {
        other_outliers.push(outs[o].sv);
    }
    other_outliers.sort_by(|a, b| b.total_cmp(a));
    // Every outlier against every degree 1..=MATRIX_DEGREES: the residue of §9.2 with v = GS(u^k),
    // whichever degree the outlier was matched to (the joint low-rank part puts one outlier's
    // direction on several degrees of the same parity).
    let gs: Vec<Vec<f64>> = (1..=MATRIX_DEGREES)
        .map(|k| {
            let v = bipoly_u(&gs_power(k));
            cols.iter().map(|l| inner_sum(&l.f, &v)).collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..outs.len())
        .filter(|&o| !(has_mean && cand_of[mean_idx] == Some(o)))
        .collect();
    order.sort_by(|&a, &b| outs[b].sv.total_cmp(&outs[a].sv));
    let alignment_matrix = order
        .iter()
        .map(|&o| {
            gs.iter()
                .map(|l| {
                    let c: f64 = l.iter().zip(&outs[o].coef).map(|(a, b)| a * b).sum();
                    (c * c * outs[o].resid).sqrt()
                })
                .collect()
        })
        .collect();
    Assigned {
        spikes,
        mean_outlier,
        other_outliers,
        alignment_matrix,
    }
}

/// Greedy one-to-one assignment of outliers to candidates by largest squared overlap
/// (`overlaps2[outlier][candidate]`); returns the outlier matched to each candidate.
fn greedy_match(overlaps2: &[Vec<f64>], n_cands: usize) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (o, ovs) in overlaps2.iter().enumerate() {
        for (c, ov) in ovs.iter().enumerate() {
            pairs.push((*ov, o, c));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut out_used = vec![false; overlaps2.len()];
    let mut cand_of: Vec<Option<usize>> = vec![None; n_cands];
    for (ov, o, c) in pairs {
        if ov <= 0.0 || out_used[o] || cand_of[c].is_some() {
            continue;
        }
        out_used[o] = true;
        cand_of[c] = Some(o);
    }
    cand_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs_powers() {
        // GS(u) = u, GS(u²) = u²/√3 (u² ⟂ u, constant kept), GS(u³) ∝ u³ − 3u = He₃ → /√6.
        assert_eq!(gs_power(1), vec![0.0, 1.0]);
        let g2 = gs_power(2);
        assert!((g2[2] - 1.0 / 3f64.sqrt()).abs() < 1e-14 && g2[0] == 0.0 && g2[1] == 0.0);
        let g3 = gs_power(3);
        assert!((g3[3] - 1.0 / 6f64.sqrt()).abs() < 1e-14);
        assert!((g3[1] + 3.0 / 6f64.sqrt()).abs() < 1e-14);
    }
}
