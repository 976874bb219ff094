//! The ndarray + OpenBLAS backend (feature `openblas`): `Array2<f64>` in column-major (Fortran)
//! layout, products by `dgemm` (through ndarray's `blas` feature), Gram matrices by `dsyrk`,
//! Cholesky by `dpotrf`/`dpotrs`, symmetric eigenproblems by `dsyevd`.
//!
//! The BLAS/LAPACK symbols come from a provider chosen by the final binary, not here: the
//! facade's `openblas` feature links the system OpenBLAS through `openblas-src`
//! (`apt-get install libopenblas-dev`; that crate's `static` build downloads sources and does not
//! work offline), and this crate's own tests link it as a dev-dependency. OpenBLAS runs its own thread pool; `new(t)`
//! sets its size with `openblas_set_num_threads`, a process-wide setting.
use crate::backend::{assert_square, check_finite};
use crate::{Backend, Dense, LinalgError, Op, SymEigen};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ShapeBuilder};
use rayon::prelude::*;
use std::ffi::{c_char, c_int};

unsafe extern "C" {
    fn openblas_set_num_threads(n: c_int);
    fn openblas_get_corename() -> *const c_char;
}

/// ndarray + OpenBLAS backend; `threads` is OpenBLAS's thread count (and rayon's for maps).
#[derive(Clone, Debug)]
pub struct OpenBlasBackend {
    threads: usize,
}

impl OpenBlasBackend {
    /// A backend with `threads` OpenBLAS threads (0 means the size of the global rayon pool).
    pub fn new(threads: usize) -> Self {
        let threads = if threads == 0 {
            rayon::current_num_threads()
        } else {
            threads
        };
        // SAFETY: a plain setter of OpenBLAS's global thread count.
        unsafe { openblas_set_num_threads(threads as c_int) };
        Self { threads }
    }
}

impl OpenBlasBackend {
    /// The kernel family OpenBLAS chose at load time (e.g. "Haswell", "SkylakeX"). A
    /// `DYNAMIC_ARCH` build that does not recognise the CPU (virtual CPUs often report a generic
    /// model) falls back to "Prescott", its slow SSE3 kernels; set `OPENBLAS_CORETYPE` (e.g.
    /// `Haswell` for AVX2, `SkylakeX` for AVX-512) before starting the program to override.
    pub fn core_name(&self) -> String {
        // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(openblas_get_corename()) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Default for OpenBlasBackend {
    fn default() -> Self {
        Self::new(0)
    }
}

/// A column-major copy (LAPACK's layout); every matrix this backend creates already is one.
fn fortran(m: &Array2<f64>) -> Array2<f64> {
    if m.t().is_standard_layout() {
        m.clone()
    } else {
        let mut out = Array2::zeros(m.raw_dim().f());
        out.assign(m);
        out
    }
}

/// The column-major buffer of a matrix this backend created (columns are consecutive chunks).
fn columns(a: &mut Array2<f64>) -> &mut [f64] {
    assert!(
        a.t().is_standard_layout(),
        "openblas backend: matrix not column-major"
    );
    a.as_slice_memory_order_mut().expect("contiguous")
}

/// `dsyevd` on a column-major copy of `a`: eigenvalues ascending, and the vectors if `vectors`.
fn syevd(a: &Array2<f64>, vectors: bool) -> Result<(Vec<f64>, Array2<f64>), LinalgError> {
    let n = a.nrows();
    let mut m = fortran(a);
    let mut w = vec![0.0; n];
    let jobz = if vectors { b'V' } else { b'N' } as c_char;
    let uplo = b'L' as c_char;
    let ni = n as c_int;
    let mut info: c_int = 0;
    let (mut wq, mut iwq): (f64, c_int) = (0.0, 0);
    let call = |m: &mut Array2<f64>,
                w: &mut [f64],
                work: &mut [f64],
                lw: c_int,
                iwork: &mut [c_int],
                liw: c_int,
                info: &mut c_int| {
        let a = m.as_slice_memory_order_mut().expect("column-major");
        // SAFETY: a is n×n column-major with lda = n; w has n entries; work/iwork sizes are lw/liw.
        unsafe {
            lapack_sys::dsyevd_(
                &jobz,
                &uplo,
                &ni,
                a.as_mut_ptr(),
                &ni.max(1),
                w.as_mut_ptr(),
                work.as_mut_ptr(),
                &lw,
                iwork.as_mut_ptr(),
                &liw,
                info,
            )
        };
    };
    // Workspace query, then the decomposition.
    call(
        &mut m,
        &mut w,
        std::slice::from_mut(&mut wq),
        -1,
        std::slice::from_mut(&mut iwq),
        -1,
        &mut info,
    );
    let lw = (wq as usize).max(1);
    let liw = (iwq as usize).max(1);
    let (mut work, mut iwork) = (vec![0.0; lw], vec![0 as c_int; liw]);
    call(
        &mut m,
        &mut w,
        &mut work,
        lw as c_int,
        &mut iwork,
        liw as c_int,
        &mut info,
    );
    if info != 0 {
        return Err(LinalgError::NoConvergence {
            what: "symmetric eigensolver (dsyevd)",
            size: n,
        });
    }
    Ok((w, m))
}

impl Backend for OpenBlasBackend {
    type Mat = Array2<f64>;

    fn name(&self) -> &'static str {
        "openblas"
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn from_dense(&self, m: &Dense) -> Array2<f64> {
        Array2::from_shape_fn((m.rows, m.cols).f(), |(i, j)| m.data[i * m.cols + j])
    }

    fn to_dense(&self, m: &Array2<f64>) -> Dense {
        Dense::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
    }

    fn shape(&self, m: &Array2<f64>) -> (usize, usize) {
        m.dim()
    }

    fn zeros(&self, rows: usize, cols: usize) -> Array2<f64> {
        Array2::zeros((rows, cols).f())
    }

    #[track_caller]
    fn from_cols(&self, cols: &[Vec<f64>]) -> Array2<f64> {
        let rows = cols.first().map_or(0, Vec::len);
        assert!(
            cols.iter().all(|c| c.len() == rows),
            "from_cols: columns of unequal length"
        );
        Array2::from_shape_vec((rows, cols.len()).f(), cols.concat()).expect("column-major shape")
    }

    fn col(&self, m: &Array2<f64>, j: usize) -> Vec<f64> {
        m.column(j).to_vec()
    }

    #[track_caller]
    fn matmul(&self, a: &Array2<f64>, ta: Op, b: &Array2<f64>, tb: Op, alpha: f64) -> Array2<f64> {
        let av = if ta == Op::T { a.t() } else { a.view() };
        let bv = if tb == Op::T { b.t() } else { b.view() };
        assert_eq!(
            av.ncols(),
            bv.nrows(),
            "matmul: op(a) is {}x{}, op(b) is {}x{}",
            av.nrows(),
            av.ncols(),
            bv.nrows(),
            bv.ncols()
        );
        let mut out = Array2::zeros((av.nrows(), bv.ncols()).f());
        general_mat_mul(alpha, &av, &bv, 0.0, &mut out);
        out
    }

    #[track_caller]
    fn matvec(&self, a: &Array2<f64>, ta: Op, x: &[f64]) -> Vec<f64> {
        let xm = self.from_cols(&[x.to_vec()]);
        self.matmul(a, ta, &xm, Op::N, 1.0)
            .into_raw_vec_and_offset()
            .0
    }

    fn gram(&self, a: &Array2<f64>, side: Op) -> Array2<f64> {
        // dsyrk computes the lower triangle (half the flops of a product); mirror it.
        let a = fortran(a);
        let (r, c) = a.dim();
        let (n, k, trans) = match side {
            Op::T => (c, r, cblas_sys::CBLAS_TRANSPOSE::CblasTrans),
            Op::N => (r, c, cblas_sys::CBLAS_TRANSPOSE::CblasNoTrans),
        };
        let mut out = Array2::zeros((n, n).f());
        if n == 0 {
            return out;
        }
        if k > 0 {
            let src = a.as_slice_memory_order().expect("column-major");
            let dst = out.as_slice_memory_order_mut().expect("column-major");
            // SAFETY: a is r×c column-major (lda = r); out is n×n column-major (ldc = n).
            unsafe {
                cblas_sys::cblas_dsyrk(
                    cblas_sys::CBLAS_LAYOUT::CblasColMajor,
                    cblas_sys::CBLAS_UPLO::CblasLower,
                    trans,
                    n as c_int,
                    k as c_int,
                    1.0,
                    src.as_ptr(),
                    r.max(1) as c_int,
                    0.0,
                    dst.as_mut_ptr(),
                    n as c_int,
                )
            };
        }
        for j in 0..n {
            for i in 0..j {
                out[(i, j)] = out[(j, i)];
            }
        }
        out
    }

    #[track_caller]
    fn spd_solve(&self, a: &Array2<f64>, b: &Array2<f64>) -> Result<Array2<f64>, LinalgError> {
        assert_square("spd_solve", a.dim());
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
        let n = a.nrows();
        let mut l = fortran(a);
        let mut x = fortran(b);
        if n == 0 || b.ncols() == 0 {
            return Ok(x);
        }
        let (uplo, ni, nrhs) = (b'L' as c_char, n as c_int, b.ncols() as c_int);
        let mut info: c_int = 0;
        let ls = l.as_slice_memory_order_mut().expect("column-major");
        // SAFETY: l is n×n column-major, lda = n.
        unsafe { lapack_sys::dpotrf_(&uplo, &ni, ls.as_mut_ptr(), &ni, &mut info) };
        if info != 0 {
            return Err(LinalgError::NotPositiveDefinite {
                what: "Cholesky",
                size: n,
            });
        }
        let xs = x.as_slice_memory_order_mut().expect("column-major");
        // SAFETY: l holds the factor (lda = n); x is n×nrhs column-major (ldb = n).
        unsafe {
            lapack_sys::dpotrs_(
                &uplo,
                &ni,
                &nrhs,
                ls.as_ptr(),
                &ni,
                xs.as_mut_ptr(),
                &ni,
                &mut info,
            )
        };
        Ok(x)
    }

    #[track_caller]
    fn sym_eigen(&self, a: &Array2<f64>) -> Result<SymEigen<Array2<f64>>, LinalgError> {
        assert_square("sym_eigen", a.dim());
        check_finite(a.iter(), "sym_eigen")?;
        let n = a.nrows();
        if n == 0 {
            return Ok(SymEigen {
                values: vec![],
                vectors: self.zeros(0, 0),
            });
        }
        let (w, v) = syevd(a, true)?;
        // dsyevd sorts ascending; reverse to descending.
        let values = w.iter().rev().copied().collect();
        let vectors = Array2::from_shape_fn((n, n).f(), |(i, j)| v[(i, n - 1 - j)]);
        Ok(SymEigen { values, vectors })
    }

    #[track_caller]
    fn sym_eigenvalues(&self, a: &Array2<f64>) -> Result<Vec<f64>, LinalgError> {
        assert_square("sym_eigenvalues", a.dim());
        check_finite(a.iter(), "sym_eigenvalues")?;
        if a.nrows() == 0 {
            return Ok(vec![]);
        }
        let (mut w, _) = syevd(a, false)?;
        w.reverse();
        Ok(w)
    }

    fn map_inplace(&self, a: &mut Array2<f64>, f: &(dyn Fn(&mut [f64]) + Sync)) {
        let rows = a.nrows().max(1);
        columns(a).par_chunks_mut(rows).for_each(f);
    }

    #[track_caller]
    fn scale_rows(&self, a: &mut Array2<f64>, s: &[f64]) {
        assert_eq!(
            a.nrows(),
            s.len(),
            "scale_rows: a has {} rows, s has length {}",
            a.nrows(),
            s.len()
        );
        let rows = a.nrows().max(1);
        columns(a).par_chunks_mut(rows).for_each(|c| {
            c.iter_mut().zip(s).for_each(|(v, si)| *v *= si);
        });
    }

    #[track_caller]
    fn axpy(&self, y: &mut Array2<f64>, alpha: f64, x: &Array2<f64>) {
        assert_eq!(
            y.dim(),
            x.dim(),
            "axpy: y is {:?}, x is {:?}",
            y.dim(),
            x.dim()
        );
        y.scaled_add(alpha, x);
    }

    #[track_caller]
    fn add_diag(&self, a: &mut Array2<f64>, s: f64) {
        assert_square("add_diag", a.dim());
        a.diag_mut().iter_mut().for_each(|v| *v += s);
    }
}
