//! The default backend: faer (pure Rust, SIMD, rayon-parallel).
use crate::backend::assert_square;
use crate::{Backend, Dense, LinalgError, Op, SymEigen};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};
use rayon::prelude::*;

/// faer backend; `threads` is the rayon parallelism used for products and decompositions.
#[derive(Clone, Debug)]
pub struct FaerBackend {
    threads: usize,
}

impl FaerBackend {
    /// A backend using `threads` threads of the global rayon pool (0 means all of them).
    pub fn new(threads: usize) -> Self {
        let threads = if threads == 0 {
            rayon::current_num_threads()
        } else {
            threads
        };
        faer::set_global_parallelism(par(threads));
        Self { threads }
    }

    fn par(&self) -> Par {
        par(self.threads)
    }
}

impl Default for FaerBackend {
    fn default() -> Self {
        Self::new(0)
    }
}

/// Rows of the left factor from which [`Backend::matmul`] copies a transposed right factor.
const TRANSPOSE_COPY_ROWS: usize = 256;

/// Rows of the left factor per call of faer's product in [`Backend::matmul`]: at the pipeline's
/// tall shapes (n × d times d × N, n = 4d) faer runs 10–20% faster on blocks of 512–1024 rows
/// than on the whole matrix.
const ROW_BLOCK: usize = 1024;

/// Width of the strips used by the parallel layout conversions.
const COPY_STRIP: usize = 32;

fn par(threads: usize) -> Par {
    if threads <= 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}

fn op(m: &Mat<f64>, t: Op) -> MatRef<'_, f64> {
    match t {
        Op::N => m.as_ref(),
        Op::T => m.as_ref().transpose(),
    }
}

fn check_finite(m: &Mat<f64>, what: &'static str) -> Result<(), LinalgError> {
    crate::backend::check_finite((0..m.ncols()).flat_map(|j| m.col(j).iter()), what)
}

impl Backend for FaerBackend {
    type Mat = Mat<f64>;

    fn name(&self) -> &'static str {
        "faer"
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn from_dense(&self, m: &Dense) -> Mat<f64> {
        // Blocked parallel transpose: each task fills a strip of COPY_STRIP columns, TILE rows at
        // a time, so the TILE × COPY_STRIP source tile stays in cache while each destination
        // column is written contiguously.
        const TILE: usize = 64;
        let mut out = Mat::zeros(m.rows, m.cols);
        if m.rows == 0 || m.cols == 0 {
            return out;
        }
        out.as_mut()
            .par_col_chunks_mut(COPY_STRIP)
            .enumerate()
            .for_each(|(c, mut strip)| {
                let j0 = c * COPY_STRIP;
                for i0 in (0..m.rows).step_by(TILE) {
                    let i1 = (i0 + TILE).min(m.rows);
                    for jj in 0..strip.ncols() {
                        let col = strip
                            .as_mut()
                            .col_mut(jj)
                            .try_as_col_major_mut()
                            .expect("owned faer columns are contiguous")
                            .as_slice_mut();
                        for (i, v) in col[i0..i1].iter_mut().enumerate() {
                            *v = m.data[(i0 + i) * m.cols + j0 + jj];
                        }
                    }
                }
            });
        out
    }

    fn to_dense(&self, m: &Mat<f64>) -> Dense {
        let (rows, cols) = (m.nrows(), m.ncols());
        let mut data = vec![0.0; rows * cols];
        if rows == 0 || cols == 0 {
            return Dense::from_vec(rows, cols, data);
        }
        // Parallel over blocks of rows; within a block, column by column (contiguous reads).
        data.par_chunks_mut(COPY_STRIP * cols)
            .enumerate()
            .for_each(|(b, block)| {
                let i0 = b * COPY_STRIP;
                let nr = block.len() / cols;
                for j in 0..cols {
                    let col = m.col(j);
                    for ii in 0..nr {
                        block[ii * cols + j] = col[i0 + ii];
                    }
                }
            });
        Dense::from_vec(rows, cols, data)
    }

    fn shape(&self, m: &Mat<f64>) -> (usize, usize) {
        (m.nrows(), m.ncols())
    }

    fn zeros(&self, rows: usize, cols: usize) -> Mat<f64> {
        Mat::zeros(rows, cols)
    }

    #[track_caller]
    fn from_cols(&self, cols: &[Vec<f64>]) -> Mat<f64> {
        let rows = cols.first().map_or(0, Vec::len);
        assert!(
            cols.iter().all(|c| c.len() == rows),
            "from_cols: columns of unequal length"
        );
        Mat::from_fn(rows, cols.len(), |i, j| cols[j][i])
    }

    fn col(&self, m: &Mat<f64>, j: usize) -> Vec<f64> {
        m.col(j).iter().copied().collect()
    }

    #[track_caller]
    fn matmul(&self, a: &Mat<f64>, ta: Op, b: &Mat<f64>, tb: Op, alpha: f64) -> Mat<f64> {
        // faer's kernels run at 0.6–0.7× their rate when the right factor is a transposed
        // (row-major) view, as in the pipeline's X·Wᵀ: a column-major copy of it costs one pass
        // over k·n entries against 2·m·k·n flops. Then the rows of the left factor go in blocks
        // of ROW_BLOCK (docs/performance.md, "Other levers measured").
        let owned;
        let a = op(a, ta);
        let b = if tb == Op::T && a.nrows() >= TRANSPOSE_COPY_ROWS {
            owned = b.transpose().to_owned();
            owned.as_ref()
        } else {
            op(b, tb)
        };
        assert_eq!(
            a.ncols(),
            b.nrows(),
            "matmul: op(a) is {}x{}, op(b) is {}x{}",
            a.nrows(),
            a.ncols(),
            b.nrows(),
            b.ncols()
        );
        let mut out = Mat::zeros(a.nrows(), b.ncols());
        let m = a.nrows();
        for r in (0..m).step_by(ROW_BLOCK) {
            let rows = ROW_BLOCK.min(m - r);
            faer::linalg::matmul::matmul(
                out.as_mut().subrows_mut(r, rows),
                Accum::Replace,
                a.subrows(r, rows),
                b,
                alpha,
                self.par(),
            );
        }
        out
    }

    #[track_caller]
    fn matvec(&self, a: &Mat<f64>, ta: Op, x: &[f64]) -> Vec<f64> {
        let a = op(a, ta);
        assert_eq!(
            a.ncols(),
            x.len(),
            "matvec: op(a) is {}x{}, x has length {}",
            a.nrows(),
            a.ncols(),
            x.len()
        );
        let xm = MatRef::from_column_major_slice(x, x.len(), 1);
        let mut out = Mat::zeros(a.nrows(), 1);
        faer::linalg::matmul::matmul(out.as_mut(), Accum::Replace, a, xm, 1.0, self.par());
        out.col(0).iter().copied().collect()
    }

    fn gram(&self, a: &Mat<f64>, side: Op) -> Mat<f64> {
        // Only the lower triangle is computed (half the flops), then mirrored.
        let (l, r) = match side {
            Op::T => (a.as_ref().transpose(), a.as_ref()),
            Op::N => (a.as_ref(), a.as_ref().transpose()),
        };
        let k = l.nrows();
        let mut out = Mat::zeros(k, k);
        faer::linalg::matmul::triangular::matmul(
            out.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            l,
            BlockStructure::Rectangular,
            r,
            BlockStructure::Rectangular,
            1.0,
            self.par(),
        );
        for j in 0..k {
            for i in 0..j {
                out[(i, j)] = out[(j, i)];
            }
        }
        out
    }

    #[track_caller]
    fn spd_solve(&self, a: &Mat<f64>, b: &Mat<f64>) -> Result<Mat<f64>, LinalgError> {
        assert_square("spd_solve", (a.nrows(), a.ncols()));
        assert_eq!(
            a.nrows(),
            b.nrows(),
            "spd_solve: a is {}x{}, b is {}x{}",
            a.nrows(),
            a.ncols(),
            b.nrows(),
            b.ncols()
        );
        check_finite(a, "spd_solve")?;
        let llt = a
            .llt(Side::Lower)
            .map_err(|_| LinalgError::NotPositiveDefinite {
                what: "Cholesky",
                size: a.nrows(),
            })?;
        let mut x = b.clone();
        llt.solve_in_place(x.as_mut());
        Ok(x)
    }

    #[track_caller]
    fn sym_eigen(&self, a: &Mat<f64>) -> Result<SymEigen<Mat<f64>>, LinalgError> {
        assert_square("sym_eigen", (a.nrows(), a.ncols()));
        check_finite(a, "sym_eigen")?;
        let n = a.nrows();
        if n == 0 {
            return Ok(SymEigen {
                values: vec![],
                vectors: Mat::zeros(0, 0),
            });
        }
        let evd = a
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| LinalgError::NoConvergence {
                what: "symmetric eigensolver",
                size: n,
            })?;
        // faer sorts ascending; reverse to descending.
        let values = (0..n).rev().map(|i| evd.S()[i]).collect();
        let u = evd.U();
        let vectors = Mat::from_fn(n, n, |i, j| u[(i, n - 1 - j)]);
        Ok(SymEigen { values, vectors })
    }

    #[track_caller]
    fn sym_eigenvalues(&self, a: &Mat<f64>) -> Result<Vec<f64>, LinalgError> {
        assert_square("sym_eigenvalues", (a.nrows(), a.ncols()));
        check_finite(a, "sym_eigenvalues")?;
        if a.nrows() == 0 {
            return Ok(vec![]);
        }
        let mut v =
            a.self_adjoint_eigenvalues(Side::Lower)
                .map_err(|_| LinalgError::NoConvergence {
                    what: "symmetric eigensolver",
                    size: a.nrows(),
                })?;
        v.reverse();
        Ok(v)
    }

    fn map_inplace(&self, a: &mut Mat<f64>, f: &(dyn Fn(&mut [f64]) + Sync)) {
        if a.nrows() == 0 || a.ncols() == 0 {
            return;
        }
        a.as_mut().par_col_chunks_mut(1).for_each(|c| {
            let col = c.col_mut(0);
            f(col
                .try_as_col_major_mut()
                .expect("owned faer columns are contiguous")
                .as_slice_mut());
        });
    }

    #[track_caller]
    fn scale_rows(&self, a: &mut Mat<f64>, s: &[f64]) {
        assert_eq!(
            a.nrows(),
            s.len(),
            "scale_rows: a has {} rows, s has length {}",
            a.nrows(),
            s.len()
        );
        a.as_mut().par_col_chunks_mut(1).for_each(|c| {
            let col = c.col_mut(0);
            for (v, si) in col
                .try_as_col_major_mut()
                .expect("contiguous")
                .as_slice_mut()
                .iter_mut()
                .zip(s)
            {
                *v *= si;
            }
        });
    }

    #[track_caller]
    fn axpy(&self, y: &mut Mat<f64>, alpha: f64, x: &Mat<f64>) {
        assert_eq!(
            (y.nrows(), y.ncols()),
            (x.nrows(), x.ncols()),
            "axpy: y is {}x{}, x is {}x{}",
            y.nrows(),
            y.ncols(),
            x.nrows(),
            x.ncols()
        );
        faer::zip!(y.as_mut(), x.as_ref()).for_each(|faer::unzip!(y, x)| *y += alpha * *x);
    }

    #[track_caller]
    fn add_diag(&self, a: &mut Mat<f64>, s: f64) {
        assert_square("add_diag", (a.nrows(), a.ncols()));
        for i in 0..a.nrows() {
            a[(i, i)] += s;
        }
    }
}
