//! Small dense row-major matrices for the low-rank outlier model of [`super::predict_spikes`]:
//! symmetric eigen-decomposition by cyclic Jacobi, products and transposes (docs/theory.md §9.1).

/// Eigen-decomposition of a small symmetric matrix (row-major, order r) by cyclic Jacobi:
/// returns (eigenvalues, eigenvectors as columns, row-major).
pub(crate) fn sym_eigen(a: &[f64], r: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; r * r];
    for i in 0..r {
        v[i * r + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..r {
            diag += a[i * r + i] * a[i * r + i];
            for j in 0..i {
                off += a[i * r + j] * a[i * r + j];
            }
        }
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..r {
            for q in p + 1..r {
                let apq = a[p * r + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * r + q] - a[p * r + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..r {
                    let akp = a[k * r + p];
                    let akq = a[k * r + q];
                    a[k * r + p] = c * akp - s * akq;
                    a[k * r + q] = s * akp + c * akq;
                }
                for k in 0..r {
                    let apk = a[p * r + k];
                    let aqk = a[q * r + k];
                    a[p * r + k] = c * apk - s * aqk;
                    a[q * r + k] = s * apk + c * aqk;
                }
                for k in 0..r {
                    let vkp = v[k * r + p];
                    let vkq = v[k * r + q];
                    v[k * r + p] = c * vkp - s * vkq;
                    v[k * r + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..r).map(|i| a[i * r + i]).collect(), v)
}

/// Product of `x` (xr × xc) and `y` (xc × yc), both row-major.
pub(super) fn mat_mul(x: &[f64], xr: usize, xc: usize, y: &[f64], yc: usize) -> Vec<f64> {
    let mut o = vec![0.0; xr * yc];
    for i in 0..xr {
        for k in 0..xc {
            let xv = x[i * xc + k];
            if xv == 0.0 {
                continue;
            }
            for j in 0..yc {
                o[i * yc + j] += xv * y[k * yc + j];
            }
        }
    }
    o
}

/// Transpose of `x` (rows × cols, row-major), itself row-major (cols × rows).
pub(super) fn transpose(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; cols * rows];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = x[i * cols + j];
        }
    }
    t
}
