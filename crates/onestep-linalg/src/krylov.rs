//! Leading eigenpairs of a symmetric operator by block Lanczos with full reorthogonalisation,
//! thick restarts and Rayleigh–Ritz, written only with [`Backend`] operations: [`sym_top`] for a
//! symmetric matrix A, [`svd_top`] for the singular triplets of F through the operator FᵀF.
//!
//! Method (Golub & Van Loan, *Matrix Computations*, 4th ed., §10.3.6 "block Lanczos"; thick
//! restart as in Wu & Simon 2000, SIAM J. Matrix Anal. Appl. 22(2)). The basis Q (c × m,
//! orthonormal) grows by blocks of `block` columns; for every new block V we compute P = A·V,
//! the only work that touches A (for [`svd_top`], two BLAS-3 products with op(F), the taller
//! orientation). Then H = QᵀAQ = QᵀP (m × m) is decomposed, H = YΘYᵀ, giving Ritz values θⱼ and
//! vectors vⱼ = Q·yⱼ (for [`svd_top`], sⱼ = √θⱼ and uⱼ = F·vⱼ/sⱼ). The next block is the
//! residuals A·vⱼ − θⱼvⱼ = P·yⱼ − θⱼQ·yⱼ of the leading Ritz pairs, projected off Q twice and
//! orthonormalised. When m reaches `max_dim`, Q and P are compressed to the leading Ritz vectors
//! (a thick restart; no product with A is needed since P·Y = A·Q·Y).
//!
//! Convergence: the residual ‖P yⱼ − θⱼ Q yⱼ‖ is available without another product. For
//! [`svd_top`] it equals sⱼ·‖Fᵀuⱼ − sⱼvⱼ‖, and pair j is converged when it is
//! ≤ tol·s₁·sⱼ + 64·ε·s₁² (the second term is the rounding floor, which only matters for
//! numerically zero singular values); for [`sym_top`] the bound is tol·max|θ| + 64·ε·max|θ|.
//! Ritz values are accurate to about the squared residual over the gap, so the default
//! tol = 1e-8 gives values to about 1e-12 relative.
//! The start block is pseudo-random from a fixed seed, so results are deterministic for a given
//! backend and thread count.
use crate::{Backend, BackendExt, LinalgError, Op};

/// Top singular triplets of a matrix F: F·vⱼ = sⱼ·uⱼ, Fᵀ·uⱼ ≈ sⱼ·vⱼ.
#[derive(Clone, Debug)]
pub struct SvdTop<M> {
    /// Singular values, largest first.
    pub values: Vec<f64>,
    /// Left singular vectors as columns (rows(F) × k). A vector for a zero singular value is zero.
    pub left: M,
    /// Right singular vectors as columns (cols(F) × k), orthonormal.
    pub right: M,
    /// Number of block iterations (each one product with F and one with Fᵀ).
    pub iterations: usize,
}

/// Top eigenpairs of a symmetric matrix A: A·vⱼ ≈ θⱼ·vⱼ.
#[derive(Clone, Debug)]
pub struct SymTop<M> {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns (n × k).
    pub vectors: M,
    /// Number of block iterations (each one product with A).
    pub iterations: usize,
}

/// Tuning of [`svd_top`] and [`sym_top`].
#[derive(Clone, Copy, Debug)]
pub struct KrylovParams {
    /// Residual tolerance relative to the largest singular value: ‖Fᵀu − s v‖ ≤ tol·s₁.
    pub tol: f64,
    /// Extra columns beyond k in each block (block size = max(k + oversample, 8), capped by the
    /// dimension).
    pub oversample: usize,
    /// Largest basis size before a thick restart (0: automatic, 8 blocks).
    pub max_dim: usize,
    /// Give up with [`LinalgError::NoConvergence`] after this many block iterations.
    pub max_iter: usize,
    /// Seed of the random start block.
    pub seed: u64,
}

impl Default for KrylovParams {
    fn default() -> Self {
        Self {
            tol: 1e-8,
            oversample: 0,
            max_dim: 0,
            max_iter: 300,
            seed: 0x5EED_5BEC,
        }
    }
}

/// Deterministic xorshift stream for start and replacement vectors (entries in [-1, 1]).
struct Xorshift(u64);

impl Xorshift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn flip(t: Op) -> Op {
    match t {
        Op::N => Op::T,
        Op::T => Op::N,
    }
}

fn cols_of<B: Backend>(b: &B, m: &B::Mat) -> Vec<Vec<f64>> {
    (0..b.shape(m).1).map(|j| b.col(m, j)).collect()
}

/// Small dense matrix (columns) as a backend matrix: `rows × cols`, column j = `c[j]`.
fn mat_from_cols<B: Backend>(b: &B, rows: usize, c: &[Vec<f64>]) -> B::Mat {
    if c.is_empty() {
        b.zeros(rows, 0)
    } else {
        b.from_cols(c)
    }
}

/// Projects the columns of `w` off the orthonormal basis `q` (its columns as a backend matrix,
/// `None` when empty; twice: "twice is enough", Giraud et al. 2005) and orthonormalises them
/// among themselves by modified Gram–Schmidt, also twice. Columns that vanish numerically are
/// replaced by fresh random vectors. Returns the orthonormal block; fewer columns if the whole
/// space is exhausted.
fn orthonormalise<B: Backend>(
    b: &B,
    q: Option<&B::Mat>,
    mut w: Vec<Vec<f64>>,
    rng: &mut Xorshift,
) -> Vec<Vec<f64>> {
    let c = w.first().map_or(0, Vec::len);
    let qlen = q.map_or(0, |m| b.shape(m).1);
    let project = |w: &mut Vec<Vec<f64>>, passes: usize| {
        if let Some(qm) = q {
            if w.is_empty() || qlen == 0 {
                return;
            }
            for _ in 0..passes {
                let wm = b.from_cols(w);
                let coef = b.matmul(qm, Op::T, &wm, Op::N, 1.0);
                let corr = b.matmul(qm, Op::N, &coef, Op::N, 1.0);
                for (j, wj) in w.iter_mut().enumerate() {
                    let cj = b.col(&corr, j);
                    wj.iter_mut().zip(&cj).for_each(|(x, y)| *x -= y);
                }
            }
        }
    };
    let before: Vec<f64> = w.iter().map(|x| norm(x)).collect();
    project(&mut w, 2);
    let mut out: Vec<Vec<f64>> = Vec::with_capacity(w.len());
    let mut attempts = 0;
    let mut amplified = false;
    let mut pending: Vec<(Vec<f64>, f64)> = w.into_iter().zip(before).collect();
    while !pending.is_empty() && qlen + out.len() < c {
        let mut dropped = 0;
        for (mut x, nb) in pending.drain(..) {
            for _ in 0..2 {
                for o in &out {
                    let p = dot(o, &x);
                    x.iter_mut().zip(o).for_each(|(xi, oi)| *xi -= p * oi);
                }
            }
            let nx = norm(&x);
            if nb > 0.0 && nx > 1e-12 * nb && nx > 0.0 {
                amplified |= nx < 1e-3 * nb;
                x.iter_mut().for_each(|v| *v /= nx);
                out.push(x);
            } else {
                dropped += 1;
            }
            if qlen + out.len() >= c {
                break;
            }
        }
        attempts += 1;
        if dropped == 0 || attempts > 4 {
            break;
        }
        // Replace vanished columns by random ones, projected off Q (and then off `out` above).
        let mut fresh: Vec<Vec<f64>> = (0..dropped).map(|_| rng.vec(c)).collect();
        let nb: Vec<f64> = fresh.iter().map(|x| norm(x)).collect();
        project(&mut fresh, 2);
        pending = fresh.into_iter().zip(nb).collect();
    }
    // A kept vector amplified from a tiny remainder (most of it lay in span Q) magnifies the
    // rounding-level components along Q. Once more, now on unit vectors: project off Q and
    // re-orthonormalise.
    if amplified {
        project(&mut out, 1);
        for j in 0..out.len() {
            let (done, rest) = out.split_at_mut(j);
            let x = &mut rest[0];
            for o in done.iter() {
                let p = dot(o, x);
                x.iter_mut().zip(o).for_each(|(xi, oi)| *xi -= p * oi);
            }
            let nx = norm(x);
            x.iter_mut().for_each(|v| *v /= nx);
        }
    }
    out
}

/// The `k` largest singular triplets of `a` by block Lanczos on AᵀA; see the module documentation.
///
/// `k` is capped at min(rows, cols). Returns [`LinalgError::NonFinite`] for NaN/∞ entries in the
/// iterates and [`LinalgError::NoConvergence`] after `params.max_iter` block iterations.
pub fn svd_top<B: Backend>(
    b: &B,
    f: &B::Mat,
    k: usize,
    params: &KrylovParams,
) -> Result<SvdTop<B::Mat>, LinalgError> {
    let (rows, cols) = b.shape(f);
    // A = op(F) is r × c with c ≤ r; the basis lives in the c-dimensional space.
    let t = if cols <= rows { Op::N } else { Op::T };
    let (r, c) = if t == Op::N {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let apply = |v: &B::Mat| {
        let z = b.matmul(f, t, v, Op::N, 1.0);
        b.matmul(f, flip(t), &z, Op::N, 1.0)
    };
    let top = top_eigen(b, c, apply, k, Residual::Singular, params)?;
    let k = top.values.len();
    let values: Vec<f64> = top.values.iter().map(|x| x.max(0.0).sqrt()).collect();
    let v = top.vectors;
    let u: Vec<Vec<f64>> = if k == 0 {
        vec![]
    } else {
        b.unit_columns(&b.matmul(f, t, &b.from_cols(&v), Op::N, 1.0), k)
    };
    let (um, vm) = (mat_from_cols(b, r, &u), mat_from_cols(b, c, &v));
    let (left, right) = if t == Op::N { (um, vm) } else { (vm, um) };
    Ok(SvdTop {
        values,
        left,
        right,
        iterations: top.iterations,
    })
}

/// The `k` largest eigenpairs of a symmetric matrix `a` (largest first) by block Lanczos on `a`
/// itself; see the module documentation. Pair j is converged when ‖a·v − θv‖ ≤ tol·‖a‖ (‖a‖
/// estimated by the largest Ritz value in magnitude).
pub fn sym_top<B: Backend>(
    b: &B,
    a: &B::Mat,
    k: usize,
    params: &KrylovParams,
) -> Result<SymTop<B::Mat>, LinalgError> {
    let (n, c) = b.shape(a);
    assert_eq!(n, c, "sym_top needs a square matrix, got {n} x {c}");
    let apply = |v: &B::Mat| b.matmul(a, Op::N, v, Op::N, 1.0);
    let top = top_eigen(b, n, apply, k, Residual::Operator, params)?;
    Ok(SymTop {
        vectors: mat_from_cols(b, n, &top.vectors),
        values: top.values,
        iterations: top.iterations,
    })
}

/// Top eigenpairs of a symmetric operator, from [`top_eigen`].
struct Eigs {
    values: Vec<f64>,
    vectors: Vec<Vec<f64>>,
    iterations: usize,
}

/// How a Ritz residual ‖Ay − θy‖ is judged.
#[derive(Clone, Copy)]
enum Residual {
    /// A = FᵀF: the singular-triplet residual ‖Fᵀu − s v‖ = ‖Ay − θy‖/s must be ≤ tol·s₁.
    Singular,
    /// A symmetric: ‖Ay − θy‖ ≤ tol·max|θ|.
    Operator,
}

/// Block Lanczos with full reorthogonalisation and thick restarts for the `k` algebraically
/// largest eigenpairs of the symmetric `c × c` operator `apply` (called on `c × block` blocks).
#[allow(clippy::needless_range_loop)] // dense-matrix index loops read best as such
fn top_eigen<B: Backend>(
    b: &B,
    c: usize,
    apply: impl Fn(&B::Mat) -> B::Mat,
    k: usize,
    residual: Residual,
    params: &KrylovParams,
) -> Result<Eigs, LinalgError> {
    let k = k.min(c);
    if k == 0 {
        return Ok(Eigs {
            values: vec![],
            vectors: vec![],
            iterations: 0,
        });
    }
    let block = (k + params.oversample).max(8).min(c);
    let max_dim = if params.max_dim == 0 {
        8 * block
    } else {
        params.max_dim.max(k + 2 * block)
    }
    .min(c);
    let mut rng = Xorshift::new(params.seed);

    let mut q: Vec<Vec<f64>> = Vec::new(); // orthonormal basis, c-vectors
    let mut p: Vec<Vec<f64>> = Vec::new(); // A·q, c-vectors
    let mut qm = b.zeros(c, 0); // q as a backend matrix
    let mut h: Vec<Vec<f64>> = Vec::new(); // H = QᵀP, symmetric, row-major m × m
    let start: Vec<Vec<f64>> = (0..block).map(|_| rng.vec(c)).collect();
    let mut next = orthonormalise(b, None, start, &mut rng);
    let mut iterations = 0;
    loop {
        iterations += 1;
        // Expand: one application of the operator.
        if !next.is_empty() {
            let pnew = cols_of(b, &apply(&b.from_cols(&next)));
            if pnew.iter().any(|x| x.iter().any(|v| !v.is_finite())) {
                return Err(LinalgError::NonFinite {
                    what: "block Krylov",
                });
            }
            let m0 = q.len();
            q.append(&mut next);
            p.extend(pnew);
            // New columns of H: Qᵀ·P_new (BLAS-3), then mirror.
            let m = q.len();
            qm = b.from_cols(&q);
            let coef = b.matmul(&qm, Op::T, &b.from_cols(&p[m0..]), Op::N, 1.0);
            for row in h.iter_mut() {
                row.resize(m, 0.0);
            }
            h.resize(m, vec![0.0; m]);
            for (jj, j) in (m0..m).enumerate() {
                let cj = b.col(&coef, jj);
                for i in 0..m {
                    h[i][j] = cj[i];
                }
            }
            for i in m0..m {
                for j in 0..m0 {
                    h[i][j] = h[j][i];
                }
            }
            for i in m0..m {
                for j in m0..i {
                    let s = 0.5 * (h[i][j] + h[j][i]);
                    h[i][j] = s;
                    h[j][i] = s;
                }
            }
        }
        // Rayleigh–Ritz.
        let m = q.len();
        let hm = b.from_dense(&crate::Dense::from_fn(m, m, |i, j| h[i][j]));
        let eig = b.sym_eigen(&hm)?;
        let theta = &eig.values;
        let pm = b.from_cols(&p);
        let nk = k.min(m);
        let want = block.min(m);
        let ytop = b.from_cols(
            &(0..want)
                .map(|j| b.col(&eig.vectors, j))
                .collect::<Vec<_>>(),
        );
        let qy = b.matmul(&qm, Op::N, &ytop, Op::N, 1.0);
        let py = b.matmul(&pm, Op::N, &ytop, Op::N, 1.0);
        let amax = theta.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let floor = 64.0 * f64::EPSILON * amax;
        let converged = (0..nk).all(|j| {
            let (vq, vp) = (b.col(&qy, j), b.col(&py, j));
            let res = vp
                .iter()
                .zip(&vq)
                .map(|(x, y)| (x - theta[j] * y).powi(2))
                .sum::<f64>()
                .sqrt();
            let scale = match residual {
                Residual::Singular => (theta[0].max(0.0) * theta[j].max(0.0)).sqrt(),
                Residual::Operator => amax,
            };
            res <= params.tol * scale + floor
        });
        if converged || m >= c {
            let vectors = b.unit_columns(&qy, k);
            return Ok(Eigs {
                values: theta[..k].to_vec(),
                vectors,
                iterations,
            });
        }
        if iterations >= params.max_iter {
            return Err(LinalgError::NoConvergence {
                what: "block Krylov",
                size: c,
            });
        }
        // Thick restart when the basis would outgrow max_dim: keep the leading Ritz vectors.
        let grow = block.min(c - m);
        if m + grow > max_dim {
            let keep = (k + block).min(m);
            let yk = b.from_cols(
                &(0..keep)
                    .map(|j| b.col(&eig.vectors, j))
                    .collect::<Vec<_>>(),
            );
            qm = b.matmul(&qm, Op::N, &yk, Op::N, 1.0);
            q = cols_of(b, &qm);
            p = cols_of(b, &b.matmul(&pm, Op::N, &yk, Op::N, 1.0));
            h = (0..keep)
                .map(|i| {
                    (0..keep)
                        .map(|j| if i == j { theta[i] } else { 0.0 })
                        .collect()
                })
                .collect();
        }
        // Next block: the residuals A·y − θy of the leading Ritz pairs (A·y and y span the same
        // new direction, but the residual carries no large component along the basis), made
        // orthogonal to the basis.
        let w: Vec<Vec<f64>> = (0..want.min(c - q.len()))
            .map(|j| {
                let (mut x, y) = (b.col(&py, j), b.col(&qy, j));
                x.iter_mut().zip(&y).for_each(|(x, y)| *x -= theta[j] * y);
                x
            })
            .collect();
        next = orthonormalise(b, Some(&qm), w, &mut rng);
        if next.is_empty() && q.len() < c {
            // The basis spans an invariant subspace holding the top values: it is exact.
            let fresh: Vec<Vec<f64>> = (0..1).map(|_| rng.vec(c)).collect();
            next = orthonormalise(b, Some(&qm), fresh, &mut rng);
        }
    }
}
