//! Top-k singular triplets by block Lanczos (block Krylov on AᵀA) with full reorthogonalisation,
//! thick restarts and Rayleigh–Ritz, written only with [`Backend`] operations.
//!
//! Method (Golub & Van Loan, *Matrix Computations*, 4th ed., §10.3.6 "block Lanczos"; thick
//! restart as in Wu & Simon 2000, SIAM J. Matrix Anal. Appl. 22(2)). Let A = op(F) be the taller
//! orientation (r × c, c ≤ r). The basis Q (c × m, orthonormal) of the right singular space grows
//! by blocks of `block` columns; for every block V we compute Z = A·V and P = Aᵀ·Z = AᵀA·V, two
//! BLAS-3 products with F and the only work that touches F. Then H = QᵀAᵀAQ = QᵀP (m × m) is
//! decomposed, H = YΘYᵀ, giving Ritz values s_j = √θ_j and right vectors v_j = Q·y_j. The next
//! block is AᵀA applied to the top Ritz vectors (P·Y), projected off Q twice and orthonormalised.
//! When m reaches `max_dim`, Q and P are compressed to the leading Ritz vectors (a thick restart;
//! no product with F is needed since P·Y = AᵀA·Q·Y).
//!
//! Convergence: the residual of the triplet (s, u = Av/s, v) is ‖Aᵀu − s v‖ = ‖P y − θ Q y‖ / s,
//! available without another product. Pair j is converged when ‖Pyⱼ − θⱼQyⱼ‖ ≤ tol·s₁·sⱼ + 64·ε·s₁²;
//! the second term is the rounding floor, which only matters for (numerically) zero singular values.
//! The start block is pseudo-random from a fixed seed, so results are deterministic for a given
//! backend and thread count.
use crate::{Backend, LinalgError, Op};

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

/// Tuning of [`svd_top`].
#[derive(Clone, Copy, Debug)]
pub struct KrylovParams {
    /// Residual tolerance relative to the largest singular value: ‖Fᵀu − s v‖ ≤ tol·s₁.
    pub tol: f64,
    /// Extra columns beyond k in each block (block size = k + oversample, capped by min(rows, cols)).
    pub oversample: usize,
    /// Largest basis size before a thick restart (0: automatic, 24 blocks).
    pub max_dim: usize,
    /// Give up with [`LinalgError::NoConvergence`] after this many block iterations.
    pub max_iter: usize,
    /// Seed of the random start block.
    pub seed: u64,
}

impl Default for KrylovParams {
    fn default() -> Self {
        Self {
            tol: 1e-10,
            oversample: 8,
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

/// Projects the columns of `w` off the orthonormal columns `q` (twice: "twice is enough",
/// Giraud et al. 2005) and orthonormalises them among themselves by modified Gram–Schmidt,
/// also twice. Columns that vanish numerically are replaced by fresh random vectors. Returns
/// the orthonormal block; fewer columns if the whole space is exhausted.
fn orthonormalise<B: Backend>(
    b: &B,
    q: &[Vec<f64>],
    mut w: Vec<Vec<f64>>,
    rng: &mut Xorshift,
) -> Vec<Vec<f64>> {
    let c = w.first().map_or(0, Vec::len);
    let qm = if q.is_empty() {
        None
    } else {
        Some(mat_from_cols(b, c, q))
    };
    let project = |w: &mut Vec<Vec<f64>>| {
        if let Some(qm) = &qm {
            if w.is_empty() {
                return;
            }
            for _ in 0..2 {
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
    project(&mut w);
    let mut out: Vec<Vec<f64>> = Vec::with_capacity(w.len());
    let mut attempts = 0;
    let mut pending: Vec<(Vec<f64>, f64)> = w.into_iter().zip(before).collect();
    while !pending.is_empty() && q.len() + out.len() < c {
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
                x.iter_mut().for_each(|v| *v /= nx);
                out.push(x);
            } else {
                dropped += 1;
            }
            if q.len() + out.len() >= c {
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
        project(&mut fresh);
        pending = fresh.into_iter().zip(nb).collect();
    }
    // The kept vectors may have been amplified from a tiny remainder (a converged Ritz pair leaves
    // a residual of relative size ~tol), which magnifies rounding-level components along Q.
    // Once more, now on unit vectors: project off Q and re-orthonormalise.
    project(&mut out);
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
    out
}

/// The `k` largest singular triplets of `a` by block Lanczos; see the module documentation.
///
/// `k` is capped at min(rows, cols). Returns [`LinalgError::NonFinite`] for NaN/∞ entries in the
/// iterates and [`LinalgError::NoConvergence`] after `params.max_iter` block iterations.
#[allow(clippy::needless_range_loop)] // dense-matrix index loops read best as such
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
    let k = k.min(c);
    let finish = |values: Vec<f64>, u: Vec<Vec<f64>>, v: Vec<Vec<f64>>, iterations| {
        let (um, vm) = (mat_from_cols(b, r, &u), mat_from_cols(b, c, &v));
        let (left, right) = if t == Op::N { (um, vm) } else { (vm, um) };
        Ok(SvdTop {
            values,
            left,
            right,
            iterations,
        })
    };
    if k == 0 {
        return finish(vec![], vec![], vec![], 0);
    }
    let block = (k + params.oversample).min(c).max(1);
    let max_dim = if params.max_dim == 0 {
        24 * block
    } else {
        params.max_dim.max(k + 2 * block)
    }
    .min(c);
    let mut rng = Xorshift::new(params.seed);

    let mut q: Vec<Vec<f64>> = Vec::new(); // orthonormal basis, c-vectors
    let mut p: Vec<Vec<f64>> = Vec::new(); // AᵀA·q, c-vectors
    let mut h: Vec<Vec<f64>> = Vec::new(); // H = QᵀP, symmetric, row-major m × m
    let start: Vec<Vec<f64>> = (0..block).map(|_| rng.vec(c)).collect();
    let mut next = orthonormalise(b, &q, start, &mut rng);
    let mut iterations = 0;
    loop {
        iterations += 1;
        // Expand: two products with F.
        if !next.is_empty() {
            let vm = b.from_cols(&next);
            let z = b.matmul(f, t, &vm, Op::N, 1.0);
            let pm = b.matmul(f, flip(t), &z, Op::N, 1.0);
            let pnew = cols_of(b, &pm);
            if pnew.iter().any(|x| x.iter().any(|v| !v.is_finite())) {
                return Err(LinalgError::NonFinite { what: "Krylov SVD" });
            }
            let m0 = q.len();
            q.append(&mut next);
            p.extend(pnew);
            // New columns of H: Qᵀ·P_new (BLAS-3), then mirror.
            let m = q.len();
            let coef = b.matmul(&b.from_cols(&q), Op::T, &b.from_cols(&p[m0..]), Op::N, 1.0);
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
                for j in 0..m {
                    if j < m0 {
                        h[i][j] = h[j][i];
                    }
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
        let theta: Vec<f64> = eig.values.iter().map(|v| v.max(0.0)).collect();
        let qm = b.from_cols(&q);
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
        let s1 = theta[0].sqrt();
        let floor = 64.0 * f64::EPSILON * theta[0];
        let res: Vec<f64> = (0..nk)
            .map(|j| {
                let (vq, vp) = (b.col(&qy, j), b.col(&py, j));
                vp.iter()
                    .zip(&vq)
                    .map(|(x, y)| (x - theta[j] * y).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let converged = (0..nk).all(|j| res[j] <= params.tol * s1 * theta[j].sqrt() + floor);
        let exhausted = m >= c;
        if converged || exhausted {
            let v: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    let mut x = b.col(&qy, j);
                    let nx = norm(&x);
                    if nx > 0.0 {
                        x.iter_mut().for_each(|e| *e /= nx);
                    }
                    x
                })
                .collect();
            let um = b.matmul(f, t, &b.from_cols(&v), Op::N, 1.0);
            let values: Vec<f64> = theta[..k].iter().map(|x| x.sqrt()).collect();
            let u: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    let mut x = b.col(&um, j);
                    let nx = norm(&x);
                    if nx > 0.0 {
                        x.iter_mut().for_each(|e| *e /= nx);
                    }
                    x
                })
                .collect();
            return finish(values, u, v, iterations);
        }
        if iterations >= params.max_iter {
            return Err(LinalgError::NoConvergence {
                what: "block Krylov SVD",
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
            q = cols_of(b, &b.matmul(&qm, Op::N, &yk, Op::N, 1.0));
            p = cols_of(b, &b.matmul(&pm, Op::N, &yk, Op::N, 1.0));
            h = (0..keep)
                .map(|i| {
                    (0..keep)
                        .map(|j| if i == j { theta[i] } else { 0.0 })
                        .collect()
                })
                .collect();
        }
        // Next block: AᵀA applied to the leading Ritz vectors, made orthogonal to the basis.
        let w: Vec<Vec<f64>> = (0..want.min(c - q.len())).map(|j| b.col(&py, j)).collect();
        next = orthonormalise(b, &q, w, &mut rng);
        if next.is_empty() && q.len() < c {
            // The basis spans an invariant subspace holding the top values: it is exact.
            let fresh: Vec<Vec<f64>> = (0..1).map(|_| rng.vec(c)).collect();
            next = orthonormalise(b, &q, fresh, &mut rng);
        }
    }
}
