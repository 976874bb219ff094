//! Tiny dense symmetric positive-definite solves (k×k with k ≲ 10), written by hand so the
//! theory crate needs no linear-algebra library. Matrices are row-major `Vec<f64>`.

use crate::TheoryError;

/// Symmetric positive-definite matrix of order `n`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Sym {
    /// Order.
    pub n: usize,
    /// Row-major entries, length `n²`.
    pub a: Vec<f64>,
}

impl Sym {
    /// Zero matrix of order n.
    pub fn zeros(n: usize) -> Self {
        Self {
            n,
            a: vec![0.0; n * n],
        }
    }

    /// Entry (i, j).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.n + j]
    }

    /// Sets entries (i, j) and (j, i).
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.a[i * self.n + j] = v;
        self.a[j * self.n + i] = v;
    }

    /// Solves `self · x = b` by a Cholesky factorisation of the diagonally rescaled matrix
    /// (D⁻¹AD⁻¹ with D = diag(√a_ii), which makes the pivots scale-free). Errors with
    /// [`TheoryError::Singular`] when a pivot is ≤ 1e-13 (relative).
    pub fn solve(&self, b: &[f64], what: &'static str) -> Result<Vec<f64>, TheoryError> {
        let n = self.n;
        assert_eq!(b.len(), n, "rhs length {} vs order {}", b.len(), n);
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut d = vec![0.0; n];
        for (i, di) in d.iter_mut().enumerate() {
            let v = self.get(i, i);
            if !(v > 0.0 && v.is_finite()) {
                return Err(TheoryError::Singular { what, pivot: v });
            }
            *di = v.sqrt();
        }
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut s = self.get(i, j) / (d[i] * d[j]);
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if i == j {
                    if s.is_nan() || s <= 1e-13 {
                        return Err(TheoryError::Singular { what, pivot: s });
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        // Solve (D L Lᵀ D) x = b.
        let mut y: Vec<f64> = b.iter().zip(&d).map(|(b, d)| b / d).collect();
        for i in 0..n {
            for k in 0..i {
                y[i] -= l[i * n + k] * y[k];
            }
            y[i] /= l[i * n + i];
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                y[i] -= l[k * n + i] * y[k];
            }
            y[i] /= l[i * n + i];
        }
        Ok(y.iter().zip(&d).map(|(y, d)| y / d).collect())
    }

    /// The inverse, column by column.
    pub fn inverse(&self, what: &'static str) -> Result<Sym, TheoryError> {
        let n = self.n;
        let mut inv = Sym::zeros(n);
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let x = self.solve(&e, what)?;
            for (i, xi) in x.iter().enumerate() {
                inv.a[i * n + j] = *xi;
            }
        }
        // symmetrise rounding
        for i in 0..n {
            for j in 0..i {
                let v = 0.5 * (inv.get(i, j) + inv.get(j, i));
                inv.set(i, j, v);
            }
        }
        Ok(inv)
    }
}

/// `xᵀ A y`.
pub fn bilinear(x: &[f64], a: &Sym, y: &[f64]) -> f64 {
    let n = a.n;
    let mut s = 0.0;
    for (xi, row) in x.iter().zip(a.a.chunks(n.max(1))) {
        s += xi * row.iter().zip(y).map(|(a, y)| a * y).sum::<f64>();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_hilbert_like() {
        let n = 4;
        let mut a = Sym::zeros(n);
        for i in 0..n {
            for j in 0..=i {
                a.set(i, j, 1.0 / (i + j + 1) as f64 * 10f64.powi((i + j) as i32));
            }
        }
        let x0 = [1.0, -2.0, 0.5, 3.0];
        let b: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| a.get(i, j) * x0[j]).sum())
            .collect();
        let x = a.solve(&b, "test").unwrap();
        for (x, x0) in x.iter().zip(x0) {
            assert!((x - x0).abs() < 1e-8, "{x} vs {x0}");
        }
    }

    #[test]
    fn singular_is_an_error() {
        let mut a = Sym::zeros(2);
        a.set(0, 0, 1.0);
        a.set(1, 1, 1.0);
        a.set(0, 1, 1.0);
        assert!(matches!(
            a.solve(&[1.0, 1.0], "t"),
            Err(TheoryError::Singular { .. })
        ));
    }
}
