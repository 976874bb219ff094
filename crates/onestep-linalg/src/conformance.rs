//! Conformance suite: every backend must agree with slow, obviously-correct reference code.
//!
//! Each check is a plain function generic over [`Backend`]; `conformance_tests!(name, ctor)`
//! expands them into named `#[test]`s for one backend. Sizes cover 0, 1, 2, odd and just past
//! typical block sizes.
use crate::{Backend, BackendExt, Dense, Op};

/// Sizes exercised by the suite.
pub const SIZES: [usize; 7] = [0, 1, 2, 7, 33, 65, 130];

/// Deterministic pseudo-random matrix (no RNG crate needed): entries in [-1, 1].
pub fn pseudo_random(rows: usize, cols: usize, seed: u64) -> Dense {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Dense::from_fn(rows, cols, |_, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

fn reference_matmul(a: &Dense, ta: Op, b: &Dense, tb: Op, alpha: f64) -> Dense {
    let a = if ta == Op::T {
        a.transpose()
    } else {
        a.clone()
    };
    let b = if tb == Op::T {
        b.transpose()
    } else {
        b.clone()
    };
    Dense::from_fn(a.rows, b.cols, |i, j| {
        alpha * (0..a.cols).map(|k| a.get(i, k) * b.get(k, j)).sum::<f64>()
    })
}

fn max_abs_diff(a: &Dense, b: &Dense) -> f64 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn spd(n: usize, seed: u64) -> Dense {
    let a = pseudo_random(n, n, seed);
    let mut g = reference_matmul(&a, Op::T, &a, Op::N, 1.0);
    for i in 0..n {
        *g.get_mut(i, i) += n as f64 * 0.1 + 1.0;
    }
    g
}

/// Dense round trip is exact.
pub fn round_trip<B: Backend>(b: &B) {
    for &n in &SIZES {
        let d = pseudo_random(n, n + 3, 1);
        assert_eq!(
            b.to_dense(&b.from_dense(&d)),
            d,
            "round trip at {n}x{}",
            n + 3
        );
    }
}

/// Products in all four transpose combinations, and matvec.
pub fn matmul<B: Backend>(b: &B) {
    // The square-ish sizes, then a tall left factor (backends may take another route from a
    // few hundred rows on: faer copies a transposed right factor).
    let shapes = SIZES
        .iter()
        .map(|&n| (n + 1, n, n + 2))
        .chain([(600, 40, 30)]);
    for (m, k, p) in shapes {
        let n = k;
        for (ta, tb) in [
            (Op::N, Op::N),
            (Op::T, Op::N),
            (Op::N, Op::T),
            (Op::T, Op::T),
        ] {
            let a = if ta == Op::N {
                pseudo_random(m, k, 2)
            } else {
                pseudo_random(k, m, 2)
            };
            let c = if tb == Op::N {
                pseudo_random(k, p, 3)
            } else {
                pseudo_random(p, k, 3)
            };
            let got = b.to_dense(&b.matmul(&b.from_dense(&a), ta, &b.from_dense(&c), tb, 0.5));
            let want = reference_matmul(&a, ta, &c, tb, 0.5);
            let err = max_abs_diff(&got, &want);
            assert!(
                err <= 1e-12 * (k as f64 + 1.0),
                "matmul {ta:?}{tb:?} at {m}×{k}×{p}: error {err}"
            );
        }
        let a = pseudo_random(n + 1, n, 4);
        let x: Vec<f64> = (0..n).map(|i| i as f64 - 1.5).collect();
        let got = b.matvec(&b.from_dense(&a), Op::N, &x);
        let want = reference_matmul(&a, Op::N, &Dense::from_vec(n, 1, x.clone()), Op::N, 1.0);
        let err = got
            .iter()
            .zip(&want.data)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f64::max);
        assert!(
            err <= 1e-11 * (n as f64 + 1.0),
            "matvec at n={n}: error {err}"
        );
    }
}

/// Gram matrices on both sides.
pub fn gram<B: Backend>(b: &B) {
    for &n in &SIZES {
        let a = pseudo_random(n + 5, n, 5);
        let am = b.from_dense(&a);
        let e1 = max_abs_diff(
            &b.to_dense(&b.gram(&am, Op::T)),
            &reference_matmul(&a, Op::T, &a, Op::N, 1.0),
        );
        let e2 = max_abs_diff(
            &b.to_dense(&b.gram(&am, Op::N)),
            &reference_matmul(&a, Op::N, &a, Op::T, 1.0),
        );
        assert!(
            e1.max(e2) <= 1e-12 * (n as f64 + 5.0),
            "gram at n={n}: errors {e1}, {e2}"
        );
    }
}

/// Cholesky solve returns x with a·x = rhs, and reports a non-SPD matrix as an error.
pub fn spd_solve<B: Backend>(b: &B) {
    for &n in &SIZES {
        let a = spd(n, 6);
        let rhs = pseudo_random(n, 3, 7);
        let x = b.to_dense(
            &b.spd_solve(&b.from_dense(&a), &b.from_dense(&rhs))
                .expect("spd"),
        );
        let err = max_abs_diff(&reference_matmul(&a, Op::N, &x, Op::N, 1.0), &rhs);
        assert!(err <= 1e-10, "spd_solve at n={n}: residual {err}");
    }
    let neg = Dense::from_vec(2, 2, vec![1.0, 2.0, 2.0, 1.0]);
    assert!(
        b.spd_solve(&b.from_dense(&neg), &b.from_dense(&Dense::zeros(2, 1)))
            .is_err(),
        "indefinite matrix accepted"
    );
}

/// Eigen-decomposition: descending values, orthonormal vectors, A·v = λ·v; values-only agrees.
pub fn sym_eigen<B: Backend>(b: &B) {
    for &n in &SIZES {
        let a = spd(n, 8);
        let e = b.sym_eigen(&b.from_dense(&a)).expect("eigen");
        assert!(
            e.values.windows(2).all(|w| w[0] >= w[1]),
            "eigenvalues not descending at n={n}"
        );
        let v = b.to_dense(&e.vectors);
        let av = reference_matmul(&a, Op::N, &v, Op::N, 1.0);
        let scale = e.values.first().copied().unwrap_or(1.0);
        for j in 0..n {
            for i in 0..n {
                let r = av.get(i, j) - e.values[j] * v.get(i, j);
                assert!(
                    r.abs() <= 1e-10 * scale,
                    "A v != λ v at n={n}, ({i},{j}): {r}"
                );
            }
        }
        let vtv = reference_matmul(&v, Op::T, &v, Op::N, 1.0);
        let id = Dense::from_fn(n, n, |i, j| f64::from(u8::from(i == j)));
        assert!(
            max_abs_diff(&vtv, &id) <= 1e-10,
            "eigenvectors not orthonormal at n={n}"
        );
        let vals = b.sym_eigenvalues(&b.from_dense(&a)).expect("values");
        let err = vals
            .iter()
            .zip(&e.values)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(err <= 1e-10 * scale, "values-only differs at n={n}: {err}");
        let k = n.min(3);
        let top = b.sym_eigen_top(&b.from_dense(&a), k).expect("top");
        assert_eq!(top.values.len(), k);
        for j in 0..k {
            assert!(
                (top.values[j] - e.values[j]).abs() <= 1e-9 * scale,
                "top-k value {j} at n={n}"
            );
        }
    }
}

/// Top eigenpairs of large symmetric matrices (where `sym_eigen_top` may use block Lanczos)
/// agree with the full decomposition: a positive semi-definite one whose top values sit in a
/// tight cluster below two spikes, and an indefinite one.
pub fn sym_eigen_top_large<B: Backend>(b: &B) {
    let n = 600;
    let x = pseudo_random(2 * n, n, 21);
    let mut g = reference_matmul(&x, Op::T, &x, Op::N, 1.0 / n as f64);
    let (u, w) = (pseudo_random(n, 1, 22).data, pseudo_random(n, 1, 23).data);
    let (nu, nw) = (sq_norm(&u), sq_norm(&w));
    for i in 0..n {
        for j in 0..n {
            *g.get_mut(i, j) += 40.0 * u[i] * u[j] / nu + 9.0 * w[i] * w[j] / nw;
        }
    }
    let mut indefinite = g.clone();
    for i in 0..n {
        *indefinite.get_mut(i, i) -= 2.0;
    }
    for (name, a) in [("psd", g), ("indefinite", indefinite)] {
        let am = b.from_dense(&a);
        let all = b.sym_eigen(&am).expect("full");
        let k = 8;
        let top = b.sym_eigen_top(&am, k).expect("top");
        let scale = all.values[0].abs();
        let v = b.to_dense(&top.vectors);
        let av = reference_matmul(&a, Op::N, &v, Op::N, 1.0);
        for j in 0..k {
            assert!(
                (top.values[j] - all.values[j]).abs() <= 1e-9 * scale,
                "{name}: value {j}: {} vs {}",
                top.values[j],
                all.values[j]
            );
            let res = (0..n)
                .map(|i| (av.get(i, j) - top.values[j] * v.get(i, j)).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(res <= 1e-7 * scale, "{name}: residual {j}: {res}");
        }
    }
}

fn sq_norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

/// Singular values via the Gram matrix match a known diagonal case.
pub fn singular_values<B: Backend>(b: &B) {
    let d = Dense::from_fn(5, 3, |i, j| if i == j { [3.0, -2.0, 0.5][j] } else { 0.0 });
    let s = b.singular_values(&b.from_dense(&d)).expect("svd");
    for (got, want) in s.iter().zip([3.0, 2.0, 0.5]) {
        assert!((got - want).abs() < 1e-12, "singular value {got} vs {want}");
    }
    let s = b
        .singular_values(&b.from_dense(&d.transpose()))
        .expect("svd");
    assert_eq!(s.len(), 3);
}

/// Top-k singular triplets (block Krylov) agree with the Gram route: values, F·v = s·u,
/// Fᵀ·u = s·v, orthonormal right vectors; tall, wide, k ≥ min(rows, cols) and the zero matrix.
#[allow(clippy::needless_range_loop)]
pub fn svd_top<B: Backend>(b: &B) {
    for &(r, c, k) in &[
        (0, 5, 2),
        (1, 1, 1),
        (2, 3, 5),
        (40, 7, 3),
        (7, 40, 3),
        (130, 65, 4),
        (65, 130, 6),
        (33, 33, 33),
    ] {
        let a = pseudo_random(r, c, 12);
        let am = b.from_dense(&a);
        let top = b.svd_top(&am, k).expect("svd_top");
        let kk = k.min(r).min(c);
        assert_eq!(top.values.len(), kk, "svd_top length at {r}x{c}, k={k}");
        let all = b.singular_values(&am).expect("svd");
        let s1 = all.first().copied().unwrap_or(0.0).max(1e-300);
        for j in 0..kk {
            assert!(
                (top.values[j] - all[j]).abs() <= 1e-9 * s1,
                "svd_top value {j} at {r}x{c}: {} vs {}",
                top.values[j],
                all[j]
            );
        }
        let (u, v) = (b.to_dense(&top.left), b.to_dense(&top.right));
        assert_eq!(u.shape(), (r, kk));
        assert_eq!(v.shape(), (c, kk));
        let av = reference_matmul(&a, Op::N, &v, Op::N, 1.0);
        let atu = reference_matmul(&a, Op::T, &u, Op::N, 1.0);
        for j in 0..kk {
            for i in 0..r {
                assert!(
                    (av.get(i, j) - top.values[j] * u.get(i, j)).abs() <= 1e-8 * s1,
                    "F v != s u at {r}x{c}"
                );
            }
            for i in 0..c {
                assert!(
                    (atu.get(i, j) - top.values[j] * v.get(i, j)).abs() <= 1e-8 * s1,
                    "Fᵀu != s v at {r}x{c}"
                );
            }
        }
        let vtv = reference_matmul(&v, Op::T, &v, Op::N, 1.0);
        let id = Dense::from_fn(kk, kk, |i, j| f64::from(u8::from(i == j)));
        assert!(
            max_abs_diff(&vtv, &id) <= 1e-10,
            "right vectors not orthonormal at {r}x{c}"
        );
    }
    let z = b.svd_top(&b.zeros(50, 20), 3).expect("zero matrix");
    assert!(
        z.values.iter().all(|&s| s == 0.0),
        "zero matrix gives {:?}",
        z.values
    );
    assert!(
        b.to_dense(&z.left)
            .data
            .iter()
            .chain(&b.to_dense(&z.right).data)
            .all(|x| x.is_finite()),
        "NaN from zero matrix"
    );
}

/// Elementwise map, row scaling, axpy and diagonal shift.
pub fn elementwise<B: Backend>(b: &B) {
    for &n in &SIZES {
        let a = pseudo_random(n, n + 1, 9);
        let mut m = b.from_dense(&a);
        b.map_inplace(&mut m, &|s: &mut [f64]| {
            s.iter_mut().for_each(|v| *v = *v * *v)
        });
        let s: Vec<f64> = (0..n).map(|i| i as f64).collect();
        b.scale_rows(&mut m, &s);
        let x = b.from_dense(&a);
        b.axpy(&mut m, 2.0, &x);
        let want = Dense::from_fn(n, n + 1, |i, j| {
            a.get(i, j).powi(2) * i as f64 + 2.0 * a.get(i, j)
        });
        assert!(
            max_abs_diff(&b.to_dense(&m), &want) <= 1e-12,
            "elementwise at n={n}"
        );
        let base = spd(n, 10);
        let mut sq = b.from_dense(&base);
        b.add_diag(&mut sq, 1.5);
        let want = Dense::from_fn(n, n, |i, j| base.get(i, j) + if i == j { 1.5 } else { 0.0 });
        assert!(max_abs_diff(&b.to_dense(&sq), &want) <= 1e-12);
    }
}

/// NaN input to a decomposition is an error, not a panic or garbage.
pub fn non_finite<B: Backend>(b: &B) {
    let mut a = spd(4, 11);
    *a.get_mut(1, 1) = f64::NAN;
    assert!(b.sym_eigen(&b.from_dense(&a)).is_err());
    assert!(
        b.spd_solve(&b.from_dense(&a), &b.from_dense(&Dense::zeros(4, 1)))
            .is_err()
    );
}

/// Expands the suite into named tests for one backend: `conformance_tests!(faer, FaerBackend::new(2));`
#[macro_export]
macro_rules! conformance_tests {
    ($name:ident, $ctor:expr) => {
        mod $name {
            use $crate::conformance as c;
            #[test]
            fn round_trip() {
                c::round_trip(&$ctor)
            }
            #[test]
            fn matmul() {
                c::matmul(&$ctor)
            }
            #[test]
            fn gram() {
                c::gram(&$ctor)
            }
            #[test]
            fn spd_solve() {
                c::spd_solve(&$ctor)
            }
            #[test]
            fn sym_eigen() {
                c::sym_eigen(&$ctor)
            }
            #[test]
            fn sym_eigen_top_large() {
                c::sym_eigen_top_large(&$ctor)
            }
            #[test]
            fn singular_values() {
                c::singular_values(&$ctor)
            }
            #[test]
            fn svd_top() {
                c::svd_top(&$ctor)
            }
            #[test]
            fn elementwise() {
                c::elementwise(&$ctor)
            }
            #[test]
            fn non_finite() {
                c::non_finite(&$ctor)
            }
        }
    };
}
