//! Top-k singular triplets of a feature matrix by one of three routes, chosen by size.
//!
//! The k leading triplets (s, u, v) of F (n × N), F·v = s·u, with m = min(n, N):
//! - [`SpectrumMethod::GramEigen`]: the full symmetric eigendecomposition of the smaller Gram
//!   matrix (FᵀF or FFᵀ), then the other side's vectors as F·v/s or Fᵀ·u/s. Cost about
//!   n·m² + 4m³/3 flops; gives every value at once.
//! - [`SpectrumMethod::GramKrylov`]: the same Gram matrix, then only its k leading eigenpairs
//!   by block Lanczos ([`onestep_linalg::krylov::sym_top`]); each iteration is one product of
//!   the m × m Gram matrix with a max(k, 8)-column block. Cost n·m² + O(iterations·m²·k).
//! - [`SpectrumMethod::Krylov`]: block Lanczos on FᵀF without forming it
//!   ([`onestep_linalg::krylov::svd_top`]); each iteration is two products of F with a thin
//!   block, O(n·N·k), and the Gram matrix (m² memory) is never formed.
//!
//! Both Krylov routes stop when every residual satisfies ‖Fᵀu − s v‖ ≤ 1e-8·s₁, which leaves the
//! values accurate to about 1e-12 relative. [`top_singular`] picks the route by
//! [`choose_method`] and records it in [`TopK::method`].
use crate::ridge::{Form, singular_vectors};
use crate::{GramEigen, SolverError};
use onestep_linalg::{Backend, KrylovParams, Op, krylov};

/// Which route computed a [`TopK`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpectrumMethod {
    /// Full eigendecomposition of the smaller Gram matrix.
    GramEigen,
    /// The smaller Gram matrix, then its leading eigenpairs by block Lanczos.
    GramKrylov,
    /// Block Lanczos (block Krylov) on the Gram operator, never formed.
    Krylov,
}

impl SpectrumMethod {
    /// Name recorded in outputs ("gram-eigen", "gram-krylov", "krylov").
    pub fn name(self) -> &'static str {
        match self {
            Self::GramEigen => "gram-eigen",
            Self::GramKrylov => "gram-krylov",
            Self::Krylov => "krylov",
        }
    }
}

/// The k leading singular triplets of F, descending. `left[j]` has length rows(F), `right[j]`
/// length cols(F); signs are arbitrary; vectors belonging to a zero singular value are zero on
/// the side that is computed as F·v/s (or Fᵀ·u/s).
#[derive(Clone, Debug)]
pub struct TopK {
    /// Singular values s₁ ≥ … ≥ s_k ≥ 0.
    pub values: Vec<f64>,
    /// Unit left singular vectors u_j.
    pub left: Vec<Vec<f64>>,
    /// Unit right singular vectors v_j.
    pub right: Vec<Vec<f64>>,
    /// The route that produced them.
    pub method: SpectrumMethod,
    /// Block iterations of the Krylov route (0 for the Gram route).
    pub iterations: usize,
}

/// The route [`top_singular`] takes for an n × p matrix and k triplets.
///
/// Measured on 2 cores (faer, n = 8192, p = 2048, k = 8 triplets, two spikes and six clustered
/// bulk-edge values; `cargo bench --bench backends -- pipeline`, medians): Gram matrix alone
/// 0.34 s; Gram + block Lanczos (about 80 iterations with an 8-column block) 0.63 s; Gram + full
/// eigendecomposition 1.39 s; block Lanczos on F itself 2.06 s, since each iteration reads F twice
/// with a thin block.
/// So: the full decomposition for small matrices or many values (m < 512 or k > m/16), the Gram
/// matrix plus Lanczos up to m = 8192, and Lanczos on F beyond, where the Gram matrix alone
/// would cost n·m² flops and m² memory.
pub fn choose_method(n: usize, p: usize, k: usize) -> SpectrumMethod {
    let m = n.min(p);
    if m < 512 || 16 * k > m {
        SpectrumMethod::GramEigen
    } else if m < 8192 {
        SpectrumMethod::GramKrylov
    } else {
        SpectrumMethod::Krylov
    }
}

/// The `k` leading singular triplets of `f` (k capped at min(n, N)), route chosen by [`choose_method`].
pub fn top_singular<B: Backend>(b: &B, f: &B::Mat, k: usize) -> Result<TopK, SolverError> {
    let (n, p) = b.shape(f);
    top_singular_with(b, f, k, choose_method(n, p, k))
}

/// The `k` leading singular triplets of `f` by the given route.
pub fn top_singular_with<B: Backend>(
    b: &B,
    f: &B::Mat,
    k: usize,
    method: SpectrumMethod,
) -> Result<TopK, SolverError> {
    let (n, p) = b.shape(f);
    let k = k.min(n).min(p);
    let cols = |m: &B::Mat| (0..b.shape(m).1).map(|j| b.col(m, j)).collect::<Vec<_>>();
    match method {
        SpectrumMethod::Krylov => {
            let t = b.svd_top(f, k)?;
            Ok(TopK {
                values: t.values,
                left: cols(&t.left),
                right: cols(&t.right),
                method,
                iterations: t.iterations,
            })
        }
        SpectrumMethod::GramKrylov => {
            let form = if p <= n { Form::Primal } else { Form::Dual };
            let g = b.gram(f, if form == Form::Primal { Op::T } else { Op::N });
            let t = krylov::sym_top(b, &g, k, &KrylovParams::default())?;
            Ok(TopK {
                values: t.values.iter().map(|v| v.max(0.0).sqrt()).collect(),
                left: singular_vectors(b, f, form, &t.vectors, k, Form::Primal),
                right: singular_vectors(b, f, form, &t.vectors, k, Form::Dual),
                method,
                iterations: t.iterations,
            })
        }
        SpectrumMethod::GramEigen => {
            let e = GramEigen::new(b, f)?;
            Ok(TopK {
                values: e.singular_values()[..k].to_vec(),
                left: e.left_vectors(k),
                right: e.right_vectors(k),
                method,
                iterations: 0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use onestep_linalg::conformance::pseudo_random;
    use onestep_linalg::{Dense, FaerBackend};

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Random matrix plus a few rank-one spikes θ·a bᵀ (unit a, b): the pipeline's shape.
    fn spiked(n: usize, p: usize, spikes: &[f64], seed: u64) -> Dense {
        spiked_on(pseudo_random(n, p, seed), spikes, seed)
    }

    #[allow(clippy::needless_range_loop)]
    fn spiked_on(mut f: Dense, spikes: &[f64], seed: u64) -> Dense {
        let (n, p) = f.shape();
        let scale = (n as f64).sqrt() + (p as f64).sqrt();
        for (s, &theta) in spikes.iter().enumerate() {
            let a = pseudo_random(n, 1, seed + 100 + s as u64).data;
            let c = pseudo_random(p, 1, seed + 200 + s as u64).data;
            let (na, nc) = (dot(&a, &a).sqrt(), dot(&c, &c).sqrt());
            for i in 0..n {
                for j in 0..p {
                    *f.get_mut(i, j) += theta * scale * a[i] / na * c[j] / nc;
                }
            }
        }
        f
    }

    /// Krylov and Gram routes agree: values to 1e-8 relative to s₁, vectors up to sign (to a
    /// tolerance that scales with the gap to the next value), and GramEigen's values too.
    fn agree(b: &FaerBackend, f: &Dense, k: usize) {
        agree_with(b, f, k, SpectrumMethod::Krylov);
        agree_with(b, f, k, SpectrumMethod::GramKrylov);
    }

    fn agree_with(b: &FaerBackend, f: &Dense, k: usize, method: SpectrumMethod) {
        let fm = b.from_dense(f);
        let kr = top_singular_with(b, &fm, k, method).expect("krylov");
        let gr = top_singular_with(b, &fm, k, SpectrumMethod::GramEigen).expect("gram");
        let ge = GramEigen::new(b, &fm)
            .expect("gram eigen")
            .singular_values();
        let kk = k.min(f.rows).min(f.cols);
        assert_eq!(kr.values.len(), kk);
        assert_eq!(gr.values.len(), kk);
        let s1 = ge.first().copied().unwrap_or(0.0).max(f64::MIN_POSITIVE);
        for j in 0..kk {
            let (a, g) = (kr.values[j], ge[j]);
            assert!(
                (a - g).abs() <= 1e-8 * s1,
                "{}x{} k={k}: value {j}: {} {a} vs gram {g}",
                f.rows,
                f.cols,
                method.name()
            );
            assert!((gr.values[j] - g).abs() <= 1e-10 * s1);
            // Vectors are defined up to sign only where the value is simple; check well-separated ones.
            let gap = [
                j.checked_sub(1).map(|i| ge[i] - ge[j]),
                ge.get(j + 1).map(|x| ge[j] - x),
            ]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
            if gap > 1e-3 * s1 && ge[j] > 1e-6 * s1 {
                let tol = 1e-7 * s1 / gap;
                let cu = dot(&kr.left[j], &gr.left[j]).abs();
                let cv = dot(&kr.right[j], &gr.right[j]).abs();
                assert!(
                    (1.0 - cu).abs() <= tol && (1.0 - cv).abs() <= tol,
                    "{}x{}: vector {j}: |<u,u'>| = {cu}, |<v,v'>| = {cv}",
                    f.rows,
                    f.cols
                );
            }
        }
    }

    #[test]
    fn krylov_matches_gram_on_random_tall_and_wide() {
        let b = FaerBackend::new(2);
        agree(&b, &pseudo_random(300, 120, 1), 5);
        agree(&b, &pseudo_random(120, 300, 2), 5);
        agree(&b, &pseudo_random(257, 256, 3), 8);
    }

    #[test]
    fn krylov_matches_gram_on_spiked() {
        let b = FaerBackend::new(2);
        agree(&b, &spiked(400, 200, &[3.0, 2.0, 1.5], 4), 4);
        agree(&b, &spiked(200, 400, &[4.0, 1.2], 5), 6);
        // Exactly low rank: rank 2, ask for 5 (three zero values).
        agree(&b, &spiked_on(Dense::zeros(60, 50), &[3.0, 1.0], 6), 5);
        agree(&b, &spiked_on(Dense::zeros(50, 600), &[3.0, 1.0], 6), 5);
    }

    #[test]
    fn tiny_degenerate_and_zero() {
        let b = FaerBackend::new(1);
        for &(n, p, k) in &[(1, 1, 1), (3, 2, 5), (2, 9, 2), (10, 10, 10), (0, 4, 2)] {
            agree(&b, &pseudo_random(n, p, 7), k);
        }
        let z = b.zeros(40, 30);
        for m in [
            SpectrumMethod::Krylov,
            SpectrumMethod::GramKrylov,
            SpectrumMethod::GramEigen,
        ] {
            let t = top_singular_with(&b, &z, 3, m).expect("zero matrix");
            assert_eq!(t.values, vec![0.0; 3]);
            assert!(
                t.left
                    .iter()
                    .chain(&t.right)
                    .flatten()
                    .all(|x| x.is_finite()),
                "{m:?}: NaN for the zero matrix"
            );
        }
    }

    #[test]
    fn automatic_choice_is_recorded() {
        assert_eq!(choose_method(65536, 8192, 8), SpectrumMethod::Krylov);
        assert_eq!(choose_method(8192, 2048, 8), SpectrumMethod::GramKrylov);
        assert_eq!(choose_method(2048, 8192, 8), SpectrumMethod::GramKrylov);
        assert_eq!(choose_method(8192, 2048, 200), SpectrumMethod::GramEigen);
        assert_eq!(choose_method(8192, 8192, 600), SpectrumMethod::GramEigen);
        assert_eq!(choose_method(100, 100, 2), SpectrumMethod::GramEigen);
        let b = FaerBackend::new(2);
        let f = b.from_dense(&spiked(600, 300, &[3.0], 8));
        let t = top_singular_with(&b, &f, 4, SpectrumMethod::Krylov).expect("top");
        assert_eq!(t.method, SpectrumMethod::Krylov);
        assert!(t.iterations > 0);
        let t = top_singular(&b, &f, 100).expect("top");
        assert_eq!((t.method, t.iterations), (SpectrumMethod::GramEigen, 0));
        let f = b.from_dense(&spiked(900, 600, &[3.0], 9));
        let t = top_singular(&b, &f, 8).expect("top");
        assert_eq!(t.method, SpectrumMethod::GramKrylov);
        assert!(t.iterations > 0);
    }
}

/// Pipeline-sized check (n = 8192, N = 2048, k = 8), run only with `ONESTEP_LARGE_TESTS=1`.
#[cfg(test)]
mod large {
    use super::*;
    use onestep_linalg::FaerBackend;
    use onestep_linalg::conformance::pseudo_random;

    #[test]
    fn top8_at_pipeline_size() {
        if std::env::var("ONESTEP_LARGE_TESTS").map_or(true, |v| v != "1") {
            return;
        }
        let b = FaerBackend::new(2);
        let f = b.from_dense(&pseudo_random(8192, 2048, 1));
        let gr = top_singular_with(&b, &f, 8, SpectrumMethod::GramEigen).expect("gram");
        for method in [SpectrumMethod::Krylov, SpectrumMethod::GramKrylov] {
            let t0 = std::time::Instant::now();
            let kr = top_singular_with(&b, &f, 8, method).expect("krylov");
            eprintln!(
                "{}: {:?} ({} iterations)",
                method.name(),
                t0.elapsed(),
                kr.iterations
            );
            for j in 0..8 {
                assert!(
                    (kr.values[j] - gr.values[j]).abs() <= 1e-8 * gr.values[0],
                    "{}: value {j}: {} vs {}",
                    method.name(),
                    kr.values[j],
                    gr.values[j]
                );
            }
        }
    }
}
