//! What `onestep` measures: errors, β overlap, spike detection, alignments with polynomial
//! features (docs/model.md §4–§5), and mean ± sd summaries over trials. Plain slices in, numbers out.
use serde::{Deserialize, Serialize};

/// Mean squared difference (1/n)Σ(a_i − b_i)².
#[track_caller]
pub fn mse(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "mse: lengths {} and {}", a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Errors of one fitted model (docs/model.md §5). `test` includes the label noise, `test_clean` is
/// the noiseless risk E(σ*(⟨x,β*⟩) − f̂(x))²; they differ by about σ_ε².
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Errors {
    /// (1/n)‖ỹ − F̂a‖² on the ridge batch.
    pub train: f64,
    /// Training error plus the penalty λ‖â‖².
    pub train_penalised: f64,
    /// Mean squared error against noisy test labels.
    pub test: f64,
    /// Mean squared error against the noiseless target.
    pub test_clean: f64,
}

impl Errors {
    /// The value of `metric` (`train`, `train_penalised`, `test`, `test_clean`); NaN otherwise.
    pub fn get(&self, metric: &str) -> f64 {
        match metric {
            "train" => self.train,
            "train_penalised" => self.train_penalised,
            "test" => self.test,
            "test_clean" => self.test_clean,
            _ => f64::NAN,
        }
    }
}

/// β overlap: ⟨β, β*⟩ and ‖β‖² (docs/model.md §4).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Overlap {
    /// ⟨β, β*⟩.
    pub overlap: f64,
    /// ‖β‖².
    pub norm2: f64,
}

/// ⟨β, β*⟩ and ‖β‖².
pub fn beta_overlap(beta: &[f64], beta_star: &[f64]) -> Overlap {
    Overlap {
        overlap: dot(beta, beta_star),
        norm2: dot(beta, beta),
    }
}

/// Relative margin above the bulk edge ‖F₀‖_op that a singular value of F must clear to count as
/// a spike.
///
/// Justification: the top singular value of F₀ fluctuates on the Tracy–Widom scale, a relative
/// O(n^{-2/3}) (0.25% at n = 8192, 1.6% at n = 512); the step also moves the bulk edge of F itself
/// by a small amount (docs/model.md §7: 105.2 → 106 at d = 2048, α = 0.3, i.e. 0.8%). A fixed 3%
/// clears both at the sizes we run while keeping every separated spike of the reference table
/// (the weakest, 120 vs 105.2, is 14% above the edge). The margin grows as n^{-1/3} for small n.
pub fn spike_margin(n: usize) -> f64 {
    0.03_f64.max(0.5 * (n.max(1) as f64).powf(-1.0 / 3.0) / 4.0)
}

/// Number of singular values of F above `bulk_edge·(1 + margin)`, minus `exclude` (the c₀·11ᵀ mean
/// component, when the activation has c₀ ≠ 0, is present in F₀ and F alike and is not a learned spike).
pub fn spikes_detected(values: &[f64], bulk_edge: f64, margin: f64, exclude: usize) -> usize {
    values
        .iter()
        .filter(|&&s| s > bulk_edge * (1.0 + margin))
        .count()
        .saturating_sub(exclude)
}

/// Orthonormalised polynomial features: g_k = Gram–Schmidt of t∘ᵏ against t^{∘1..k−1}, unit norm,
/// for k = 1..=kmax (docs/model.md §4; u_k ≈ g_k).
pub fn polynomial_directions(t: &[f64], kmax: usize) -> Vec<Vec<f64>> {
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(kmax);
    for k in 1..=kmax {
        let mut v: Vec<f64> = t.iter().map(|x| x.powi(k as i32)).collect();
        // Modified Gram–Schmidt, twice for stability.
        for _ in 0..2 {
            for b in &basis {
                let c = dot(&v, b);
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let nv = norm(&v);
        if nv > 0.0 {
            v.iter_mut().for_each(|x| *x /= nv);
        }
        basis.push(v);
    }
    basis
}

/// |⟨u_j, g_k⟩| for j, k = 1..=kmax (row j, column k), u_j the j-th left singular vector of F
/// (descending) and g_k the orthonormalised k-th power of t = X̃β. Missing u_j (fewer vectors
/// than kmax) give rows of 0.
pub fn alignment_matrix(left: &[Vec<f64>], t: &[f64], kmax: usize) -> Vec<Vec<f64>> {
    let g = polynomial_directions(t, kmax);
    (0..kmax)
        .map(|j| {
            g.iter()
                .map(|g| left.get(j).map_or(0.0, |u| dot(u, g).abs()))
                .collect()
        })
        .collect()
}

/// The diagonal of a square matrix given by rows (of [`alignment_matrix`]: |⟨u_k, g_k⟩|).
pub fn diagonal(m: &[Vec<f64>]) -> Vec<f64> {
    m.iter().enumerate().map(|(k, row)| row[k]).collect()
}

/// Mean and sample standard deviation (0 for a single value).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct MeanSd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub sd: f64,
}

/// Mean ± sd of a sample.
pub fn mean_sd(xs: &[f64]) -> MeanSd {
    let n = xs.len();
    if n == 0 {
        return MeanSd {
            mean: f64::NAN,
            sd: f64::NAN,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    MeanSd { mean, sd }
}

/// Histogram of `xs` on `bins` equal bins over [lo, hi]: (bin centres, counts). Values outside are dropped.
pub fn histogram(xs: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<usize>) {
    let bins = bins.max(1);
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in xs {
        if x >= lo && x <= hi && w > 0.0 {
            counts[(((x - lo) / w) as usize).min(bins - 1)] += 1;
        }
    }
    (
        (0..bins).map(|i| lo + (i as f64 + 0.5) * w).collect(),
        counts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_and_overlap() {
        assert_eq!(mse(&[1.0, 2.0], &[0.0, 0.0]), 2.5);
        let o = beta_overlap(&[3.0, 4.0], &[1.0, 0.0]);
        assert_eq!((o.overlap, o.norm2), (3.0, 25.0));
    }

    #[test]
    fn spike_count_excludes_mean_and_respects_margin() {
        let v = [400.0, 124.0, 106.0, 105.0];
        assert_eq!(spikes_detected(&v, 105.2, 0.03, 0), 2);
        assert_eq!(spikes_detected(&v, 105.2, 0.03, 1), 1);
        assert_eq!(spikes_detected(&[1.0], 5.0, 0.03, 1), 0);
        assert!(spike_margin(8192) >= 0.03 && spike_margin(64) > spike_margin(8192));
    }

    #[test]
    fn polynomial_directions_are_orthonormal_and_align_with_themselves() {
        let t: Vec<f64> = (0..200).map(|i| ((i as f64) * 0.37).sin() * 1.7).collect();
        let g = polynomial_directions(&t, 3);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot(&g[i], &g[j]) - want).abs() < 1e-12);
            }
        }
        // u_1 = t/‖t‖ is perfectly aligned with g_1; u_2 = −g_2 too (absolute value).
        let u1: Vec<f64> = t.iter().map(|x| x / norm(&t)).collect();
        let u2: Vec<f64> = g[1].iter().map(|x| -x).collect();
        let a = diagonal(&alignment_matrix(&[u1, u2], &t, 3));
        assert!((a[0] - 1.0).abs() < 1e-12 && (a[1] - 1.0).abs() < 1e-12 && a[2] == 0.0);
    }

    #[test]
    fn mean_sd_and_histogram() {
        let m = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!((m.mean, m.sd), (2.0, 1.0));
        assert_eq!(mean_sd(&[5.0]).sd, 0.0);
        let (c, h) = histogram(&[0.1, 0.2, 0.9, 1.0, 2.0], 0.0, 1.0, 2);
        assert_eq!(c, vec![0.25, 0.75]);
        assert_eq!(h, vec![2, 2]);
    }
}
