//! The `Backend` trait (core operations a backend must provide) and `BackendExt` (conveniences built on them).
use crate::{Dense, KrylovParams, LinalgError, SvdTop};

/// Transpose flag for matrix products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as is.
    N,
    /// Use its transpose.
    T,
}

/// Eigen-decomposition of a symmetric matrix, eigenvalues in DEScending order.
#[derive(Clone, Debug)]
pub struct SymEigen<M> {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Eigenvectors as columns, in the order of `values`.
    pub vectors: M,
}

/// Core dense operations on f64 matrices. A backend is a small value carrying its own thread count.
///
/// Shape mismatches panic (`#[track_caller]` in implementations) naming both shapes; numerical
/// failures return [`LinalgError`].
// `from_dense`/`from_cols` take `&self` on purpose: the backend value owns the thread setting.
#[allow(clippy::wrong_self_convention)]
pub trait Backend: Clone + Send + Sync + std::fmt::Debug {
    /// The backend's own matrix type.
    type Mat: Clone + Send + Sync + std::fmt::Debug;

    /// Short name recorded in outputs ("faer", "nalgebra", "openblas").
    fn name(&self) -> &'static str;
    /// Number of threads the backend uses.
    fn threads(&self) -> usize;

    /// Converts from the interchange type.
    fn from_dense(&self, m: &Dense) -> Self::Mat;
    /// Converts to the interchange type.
    fn to_dense(&self, m: &Self::Mat) -> Dense;
    /// (rows, cols).
    fn shape(&self, m: &Self::Mat) -> (usize, usize);
    /// All-zero matrix.
    fn zeros(&self, rows: usize, cols: usize) -> Self::Mat;
    /// Matrix with the given columns (all of equal length).
    fn from_cols(&self, cols: &[Vec<f64>]) -> Self::Mat;
    /// Column j copied out.
    fn col(&self, m: &Self::Mat, j: usize) -> Vec<f64>;

    /// alpha · op(a) · op(b).
    fn matmul(&self, a: &Self::Mat, ta: Op, b: &Self::Mat, tb: Op, alpha: f64) -> Self::Mat;
    /// op(a) · x.
    fn matvec(&self, a: &Self::Mat, ta: Op, x: &[f64]) -> Vec<f64>;
    /// Gram matrix: `Op::T` gives aᵀa (cols × cols), `Op::N` gives aaᵀ (rows × rows).
    fn gram(&self, a: &Self::Mat, side: Op) -> Self::Mat {
        match side {
            Op::T => self.matmul(a, Op::T, a, Op::N, 1.0),
            Op::N => self.matmul(a, Op::N, a, Op::T, 1.0),
        }
    }
    /// Solves a·x = b for symmetric positive definite a (Cholesky).
    fn spd_solve(&self, a: &Self::Mat, b: &Self::Mat) -> Result<Self::Mat, LinalgError>;
    /// All eigenvalues (descending) and eigenvectors of a symmetric matrix.
    fn sym_eigen(&self, a: &Self::Mat) -> Result<SymEigen<Self::Mat>, LinalgError>;
    /// All eigenvalues (descending) of a symmetric matrix.
    fn sym_eigenvalues(&self, a: &Self::Mat) -> Result<Vec<f64>, LinalgError>;
    /// The k largest eigenpairs of a symmetric matrix. The default uses the block Lanczos of
    /// [`crate::krylov::sym_top`] (default [`KrylovParams`]) when `a` is at least 512 × 512 and
    /// k ≤ n/16, and the full decomposition otherwise.
    fn sym_eigen_top(&self, a: &Self::Mat, k: usize) -> Result<SymEigen<Self::Mat>, LinalgError> {
        let n = self.shape(a).0;
        if sym_top_by_lanczos(n, k) {
            let top = crate::krylov::sym_top(self, a, k, &KrylovParams::default())?;
            return Ok(SymEigen {
                values: top.values,
                vectors: top.vectors,
            });
        }
        Ok(leading_eigenpairs(self, self.sym_eigen(a)?, k))
    }

    /// The k largest singular triplets of `a` (k capped at min(rows, cols)) without a full
    /// decomposition. The default is the generic block Lanczos of [`crate::krylov::svd_top`]
    /// with default [`KrylovParams`].
    fn svd_top(&self, a: &Self::Mat, k: usize) -> Result<SvdTop<Self::Mat>, LinalgError> {
        crate::krylov::svd_top(self, a, k, &KrylovParams::default())
    }

    /// Applies `f` to the entries in place, in contiguous chunks (any order; f must be elementwise).
    fn map_inplace(&self, a: &mut Self::Mat, f: &(dyn Fn(&mut [f64]) + Sync));
    /// Scales row i by s\[i\].
    fn scale_rows(&self, a: &mut Self::Mat, s: &[f64]);
    /// y ← y + alpha·x.
    fn axpy(&self, y: &mut Self::Mat, alpha: f64, x: &Self::Mat);
    /// a ← a + s·I (square a).
    fn add_diag(&self, a: &mut Self::Mat, s: f64);
}

/// Conveniences built from the core operations; a backend may override none of them.
pub trait BackendExt: Backend {
    /// `f` applied entrywise to a copy.
    fn map(&self, a: &Self::Mat, f: &(dyn Fn(&mut [f64]) + Sync)) -> Self::Mat {
        let mut out = a.clone();
        self.map_inplace(&mut out, f);
        out
    }

    /// Solves a·x = b for one right-hand side vector.
    fn spd_solve_vec(&self, a: &Self::Mat, b: &[f64]) -> Result<Vec<f64>, LinalgError> {
        let rhs = self.from_cols(&[b.to_vec()]);
        Ok(self.col(&self.spd_solve(a, &rhs)?, 0))
    }

    /// The first `k` columns of `m`, each scaled to unit norm (a zero column stays zero).
    fn unit_columns(&self, m: &Self::Mat, k: usize) -> Vec<Vec<f64>> {
        (0..k)
            .map(|j| {
                let mut x = self.col(m, j);
                let norm = x.iter().map(|e| e * e).sum::<f64>().sqrt();
                if norm > 0.0 {
                    x.iter_mut().for_each(|e| *e /= norm);
                }
                x
            })
            .collect()
    }

    /// Singular values of `a` (descending, min(rows, cols) of them) from the eigenvalues of the
    /// smaller Gram matrix; tiny negative eigenvalues from rounding are clamped to zero.
    fn singular_values(&self, a: &Self::Mat) -> Result<Vec<f64>, LinalgError> {
        let (r, c) = self.shape(a);
        let g = self.gram(a, if c <= r { Op::T } else { Op::N });
        Ok(self
            .sym_eigenvalues(&g)?
            .into_iter()
            .map(|v| v.max(0.0).sqrt())
            .collect())
    }
}

impl<B: Backend> BackendExt for B {}

/// Whether [`Backend::sym_eigen_top`]'s default takes block Lanczos (true) or the full
/// decomposition for the k largest eigenpairs of an n × n matrix.
pub fn sym_top_by_lanczos(n: usize, k: usize) -> bool {
    n >= 512 && 16 * k <= n
}

/// The k leading pairs (k capped at the size) of a full decomposition `full` (descending).
pub fn leading_eigenpairs<B: Backend>(b: &B, full: SymEigen<B::Mat>, k: usize) -> SymEigen<B::Mat> {
    let k = k.min(full.values.len());
    let cols: Vec<Vec<f64>> = (0..k).map(|j| b.col(&full.vectors, j)).collect();
    let vectors = if k == 0 {
        b.zeros(b.shape(&full.vectors).0, 0)
    } else {
        b.from_cols(&cols)
    };
    SymEigen {
        values: full.values[..k].to_vec(),
        vectors,
    }
}

/// `Err(NonFinite)` unless every entry is finite (backends check their inputs with it).
#[allow(dead_code)] // unused when no backend feature is on
pub(crate) fn check_finite<'a>(
    entries: impl IntoIterator<Item = &'a f64>,
    what: &'static str,
) -> Result<(), LinalgError> {
    if entries.into_iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(LinalgError::NonFinite { what })
    }
}

/// Panics (a programmer error, naming the operation) unless the shape is square.
#[allow(dead_code)] // unused when no backend feature is on
#[track_caller]
pub(crate) fn assert_square(what: &str, (rows, cols): (usize, usize)) {
    assert_eq!(rows, cols, "{what}: a is {rows}x{cols}, not square");
}
