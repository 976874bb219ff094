//! The nalgebra backend (pure Rust, feature `nalgebra`): `DMatrix<f64>`, column-major.
//!
//! nalgebra's own products are single-threaded (matrixmultiply); here a product is split into
//! strips of result columns computed in parallel on the rayon pool, so `threads` is honoured.
//! Cholesky and the symmetric eigensolver (Householder tridiagonalisation + implicit QR) are
//! nalgebra's, single-threaded.
use crate::backend::{assert_square, check_finite};
use crate::{Backend, Dense, LinalgError, Op, SymEigen};
use nalgebra::{DMatrix, DMatrixViewMut};
use rayon::prelude::*;

/// nalgebra backend; `threads` bounds the parallel strips of a product and of elementwise maps.
#[derive(Clone, Debug)]
pub struct NalgebraBackend {
    threads: usize,
}

impl NalgebraBackend {
    /// A backend using `threads` threads of the global rayon pool (0 means all of them).
    pub fn new(threads: usize) -> Self {
        let threads = if threads == 0 {
            rayon::current_num_threads()
        } else {
            threads
        };
        Self { threads }
    }
}

impl Default for NalgebraBackend {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Backend for NalgebraBackend {
    type Mat = DMatrix<f64>;

    fn name(&self) -> &'static str {
        "nalgebra"
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn from_dense(&self, m: &Dense) -> DMatrix<f64> {
        DMatrix::from_row_slice(m.rows, m.cols, &m.data)
    }

    fn to_dense(&self, m: &DMatrix<f64>) -> Dense {
        Dense::from_vec(m.nrows(), m.ncols(), m.transpose().as_slice().to_vec())
    }

    fn shape(&self, m: &DMatrix<f64>) -> (usize, usize) {
        (m.nrows(), m.ncols())
    }

    fn zeros(&self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::zeros(rows, cols)
    }

    #[track_caller]
    fn from_cols(&self, cols: &[Vec<f64>]) -> DMatrix<f64> {
        let rows = cols.first().map_or(0, Vec::len);
        assert!(
            cols.iter().all(|c| c.len() == rows),
            "from_cols: columns of unequal length"
        );
        DMatrix::from_iterator(rows, cols.len(), cols.iter().flatten().copied())
    }

    fn col(&self, m: &DMatrix<f64>, j: usize) -> Vec<f64> {
        m.column(j).iter().copied().collect()
    }

    #[track_caller]
    fn matmul(
        &self,
        a: &DMatrix<f64>,
        ta: Op,
        b: &DMatrix<f64>,
        tb: Op,
        alpha: f64,
    ) -> DMatrix<f64> {
        let (m, k) = match ta {
            Op::N => (a.nrows(), a.ncols()),
            Op::T => (a.ncols(), a.nrows()),
        };
        // nalgebra's gemm_tr runs column dot products (a few GFLOP/s); a transposed copy and the
        // matrixmultiply kernel of gemm are far faster.
        let (at, bt);
        let a = match ta {
            Op::N => a,
            Op::T => {
                at = a.transpose();
                &at
            }
        };
        let b = match tb {
            Op::N => b,
            Op::T => {
                bt = b.transpose();
                &bt
            }
        };
        assert_eq!(
            k,
            b.nrows(),
            "matmul: op(a) is {m}x{k}, op(b) is {}x{}",
            b.nrows(),
            b.ncols()
        );
        let n = b.ncols();
        let mut out = DMatrix::zeros(m, n);
        if m == 0 || n == 0 {
            return out;
        }
        // Parallel strips of result columns; each strip is one gemm.
        let strip = n.div_ceil(self.threads.max(1)).max(16);
        out.as_mut_slice()
            .par_chunks_mut(m * strip)
            .enumerate()
            .for_each(|(s, chunk)| {
                let (j0, w) = (s * strip, chunk.len() / m);
                let bcols = b.columns(j0, w);
                DMatrixViewMut::from_slice(chunk, m, w).gemm(alpha, a, &bcols, 0.0);
            });
        out
    }

    #[track_caller]
    fn matvec(&self, a: &DMatrix<f64>, ta: Op, x: &[f64]) -> Vec<f64> {
        let xm = DMatrix::from_column_slice(x.len(), 1, x);
        self.matmul(a, ta, &xm, Op::N, 1.0).as_slice().to_vec()
    }

    #[track_caller]
    fn spd_solve(&self, a: &DMatrix<f64>, b: &DMatrix<f64>) -> Result<DMatrix<f64>, LinalgError> {
        assert_square("spd_solve", a.shape());
        assert_eq!(
            a.nrows(),
            b.nrows(),
            "spd_solve: a is {}x{}, b is {}x{}",
            a.nrows(),
            a.ncols(),
            b.nrows(),
            b.ncols()
        );
        check_finite(a.iter(), "spd_solve")?;
        let chol = a
            .clone()
            .cholesky()
            .ok_or(LinalgError::NotPositiveDefinite {
                what: "Cholesky",
                size: a.nrows(),
            })?;
        Ok(chol.solve(b))
    }

    #[track_caller]
    fn sym_eigen(&self, a: &DMatrix<f64>) -> Result<SymEigen<DMatrix<f64>>, LinalgError> {
        assert_square("sym_eigen", a.shape());
        check_finite(a.iter(), "sym_eigen")?;
        let n = a.nrows();
        if n == 0 {
            return Ok(SymEigen {
                values: vec![],
                vectors: DMatrix::zeros(0, 0),
            });
        }
        let eig =
            a.clone()
                .try_symmetric_eigen(f64::EPSILON, 0)
                .ok_or(LinalgError::NoConvergence {
                    what: "symmetric eigensolver",
                    size: n,
                })?;
        // nalgebra does not sort; order descending.
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&i, &j| eig.eigenvalues[j].total_cmp(&eig.eigenvalues[i]));
        let values = idx.iter().map(|&i| eig.eigenvalues[i]).collect();
        let vectors = DMatrix::from_fn(n, n, |i, j| eig.eigenvectors[(i, idx[j])]);
        Ok(SymEigen { values, vectors })
    }

    #[track_caller]
    fn sym_eigenvalues(&self, a: &DMatrix<f64>) -> Result<Vec<f64>, LinalgError> {
        assert_square("sym_eigenvalues", a.shape());
        check_finite(a.iter(), "sym_eigenvalues")?;
        if a.nrows() == 0 {
            return Ok(vec![]);
        }
        let mut v: Vec<f64> = a.symmetric_eigenvalues().iter().copied().collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(LinalgError::NoConvergence {
                what: "symmetric eigensolver",
                size: a.nrows(),
            });
        }
        v.sort_by(|x, y| y.total_cmp(x));
        Ok(v)
    }

    fn map_inplace(&self, a: &mut DMatrix<f64>, f: &(dyn Fn(&mut [f64]) + Sync)) {
        let rows = a.nrows().max(1);
        a.as_mut_slice().par_chunks_mut(rows).for_each(f);
    }

    #[track_caller]
    fn scale_rows(&self, a: &mut DMatrix<f64>, s: &[f64]) {
        assert_eq!(
            a.nrows(),
            s.len(),
            "scale_rows: a has {} rows, s has length {}",
            a.nrows(),
            s.len()
        );
        let rows = a.nrows().max(1);
        a.as_mut_slice().par_chunks_mut(rows).for_each(|c| {
            c.iter_mut().zip(s).for_each(|(v, si)| *v *= si);
        });
    }

    #[track_caller]
    fn axpy(&self, y: &mut DMatrix<f64>, alpha: f64, x: &DMatrix<f64>) {
        assert_eq!(
            y.shape(),
            x.shape(),
            "axpy: y is {:?}, x is {:?}",
            y.shape(),
            x.shape()
        );
        y.iter_mut()
            .zip(x.iter())
            .for_each(|(y, x)| *y += alpha * x);
    }

    #[track_caller]
    fn add_diag(&self, a: &mut DMatrix<f64>, s: f64) {
        assert_square("add_diag", a.shape());
        for i in 0..a.nrows() {
            a[(i, i)] += s;
        }
    }
}
