//! Ridge regression: primal or dual Cholesky (whichever system is smaller), unpenalised extra
//! columns, and many penalties from one eigendecomposition.
use crate::SolverError;
use onestep_linalg::{Backend, BackendExt, Op, SymEigen};

/// Which normal equations were solved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// (FᵀF + nλI)a = Fᵀy, a p×p system (p ≤ n).
    Primal,
    /// a = Fᵀ(FFᵀ + nλI)⁻¹y, an n×n system (n < p).
    Dual,
}

/// A fitted ridge model.
#[derive(Clone, Debug)]
pub struct Ridge {
    /// Coefficients on the penalised features (length p).
    pub coef: Vec<f64>,
    /// Coefficients on the unpenalised columns, if any.
    pub unpenalised: Vec<f64>,
    /// Which system was solved.
    pub form: Form,
}

/// A ridge penalty must be finite and > 0.
pub fn check_lambda(lambda: f64) -> Result<(), SolverError> {
    if lambda > 0.0 && lambda.is_finite() {
        Ok(())
    } else {
        Err(SolverError::BadLambda(lambda))
    }
}

/// â = (FᵀF + nλI)⁻¹Fᵀy (primal, p ≤ n) or Fᵀ(FFᵀ + nλI)⁻¹y (dual, p > n), by Cholesky.
pub fn ridge<B: Backend>(b: &B, f: &B::Mat, y: &[f64], lambda: f64) -> Result<Ridge, SolverError> {
    ridge_unpenalised(b, f, &[], y, lambda)
}

/// Ridge on F plus unpenalised columns P (docs/model.md §5 model 4):
/// min over (a, γ) of (1/n)‖y − Fa − Pγ‖² + λ‖a‖², solved by Cholesky.
#[track_caller]
pub fn ridge_unpenalised<B: Backend>(
    b: &B,
    f: &B::Mat,
    p: &[Vec<f64>],
    y: &[f64],
    lambda: f64,
) -> Result<Ridge, SolverError> {
    check_lambda(lambda)?;
    let (n, nf) = b.shape(f);
    let nl = n as f64 * lambda;
    let form = if nf <= n { Form::Primal } else { Form::Dual };
    let mut k = b.gram(f, if form == Form::Primal { Op::T } else { Op::N });
    b.add_diag(&mut k, nl);
    let apply_s = |cols: &[Vec<f64>]| -> Result<Vec<Vec<f64>>, SolverError> {
        let rhs = b.from_cols(cols);
        Ok(match form {
            // S v = v − F(FᵀF + nλI)⁻¹Fᵀv
            Form::Primal => {
                let sol = b.spd_solve(&k, &b.matmul(f, Op::T, &rhs, Op::N, 1.0))?;
                let fsol = b.matmul(f, Op::N, &sol, Op::N, 1.0);
                cols.iter()
                    .enumerate()
                    .map(|(j, c)| c.iter().zip(b.col(&fsol, j)).map(|(v, w)| v - w).collect())
                    .collect()
            }
            // S v = nλ(FFᵀ + nλI)⁻¹v
            Form::Dual => {
                let sol = b.spd_solve(&k, &rhs)?;
                (0..cols.len())
                    .map(|j| b.col(&sol, j).into_iter().map(|v| v * nl).collect())
                    .collect()
            }
        })
    };
    let coef_of = |r: &[f64]| -> Result<Vec<f64>, SolverError> {
        Ok(match form {
            Form::Primal => b.spd_solve_vec(&k, &b.matvec(f, Op::T, r))?,
            Form::Dual => b.matvec(f, Op::T, &b.spd_solve_vec(&k, r)?),
        })
    };
    fit_profiled(n, p, y, form, apply_s, coef_of)
}

/// Shared by the Cholesky and eigendecomposition routes. Profiling a out leaves
/// (1/n)(y − Pγ)ᵀS(y − Pγ) with S = I − F(FᵀF + nλI)⁻¹Fᵀ = nλ(FFᵀ + nλI)⁻¹, so
/// γ̂ = (PᵀSP)⁻¹PᵀSy and â = (FᵀF + nλI)⁻¹Fᵀ(y − Pγ̂).
#[track_caller]
fn fit_profiled(
    n: usize,
    p: &[Vec<f64>],
    y: &[f64],
    form: Form,
    apply_s: impl Fn(&[Vec<f64>]) -> Result<Vec<Vec<f64>>, SolverError>,
    coef_of: impl Fn(&[f64]) -> Result<Vec<f64>, SolverError>,
) -> Result<Ridge, SolverError> {
    assert_eq!(
        n,
        y.len(),
        "ridge: F has {n} rows, y has length {}",
        y.len()
    );
    assert!(
        p.iter().all(|c| c.len() == n),
        "ridge: unpenalised columns must have length {n}"
    );
    let gamma = if p.is_empty() {
        vec![]
    } else {
        let mut cols = vec![y.to_vec()];
        cols.extend(p.iter().cloned());
        let s_cols = apply_s(&cols)?;
        // (PᵀSP)γ = PᵀSy, a tiny q×q system.
        let q = p.len();
        let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        let m = (0..q)
            .map(|i| (0..q).map(|j| dot(&p[i], &s_cols[j + 1])).collect())
            .collect();
        let r = (0..q).map(|i| dot(&p[i], &s_cols[0])).collect();
        small_spd_solve(m, r).ok_or(SolverError::DependentColumns(q))?
    };
    let resid: Vec<f64> = (0..n)
        .map(|i| y[i] - p.iter().zip(&gamma).map(|(c, g)| c[i] * g).sum::<f64>())
        .collect();
    Ok(Ridge {
        coef: coef_of(&resid)?,
        unpenalised: gamma,
        form,
    })
}

/// Solves a small symmetric positive definite system by Cholesky with scaling; None if singular.
pub fn small_spd_solve(mut m: Vec<Vec<f64>>, mut r: Vec<f64>) -> Option<Vec<f64>> {
    let q = r.len();
    // Symmetric diagonal scaling so columns of different magnitude (t, t², t³…) are comparable.
    let s: Vec<f64> = (0..q)
        .map(|i| m[i][i].abs().sqrt().max(f64::MIN_POSITIVE))
        .collect();
    for i in 0..q {
        for j in 0..q {
            m[i][j] /= s[i] * s[j];
        }
        r[i] /= s[i];
    }
    for j in 0..q {
        let d = m[j][j] - m[j][..j].iter().map(|v| v * v).sum::<f64>();
        if d <= 1e-13 {
            return None;
        }
        let d = d.sqrt();
        m[j][j] = d;
        for i in j + 1..q {
            let v = m[i][j]
                - m[i][..j]
                    .iter()
                    .zip(&m[j][..j])
                    .map(|(x, y)| x * y)
                    .sum::<f64>();
            m[i][j] = v / d;
        }
    }
    for i in 0..q {
        for k in 0..i {
            r[i] -= m[i][k] * r[k];
        }
        r[i] /= m[i][i];
    }
    for i in (0..q).rev() {
        for k in i + 1..q {
            r[i] -= m[k][i] * r[k];
        }
        r[i] /= m[i][i];
    }
    Some((0..q).map(|i| r[i] / s[i]).collect())
}

/// One eigendecomposition of the smaller Gram matrix of F, reused for the spectrum and for ridge
/// at any number of penalties (docs/model.md §5): with FᵀF = VΛVᵀ,
/// â(λ) = V(Λ + nλ)⁻¹VᵀFᵀy (primal); with FFᵀ = UΛUᵀ, â(λ) = FᵀU(Λ + nλ)⁻¹Uᵀy (dual).
#[derive(Clone, Debug)]
pub struct GramEigen<'a, B: Backend> {
    b: &'a B,
    f: &'a B::Mat,
    /// Eigenpairs of FᵀF (primal) or FFᵀ (dual), descending.
    pub eig: SymEigen<B::Mat>,
    /// Which Gram matrix was decomposed.
    pub form: Form,
    n: usize,
}

impl<'a, B: Backend> GramEigen<'a, B> {
    /// Decomposes the smaller Gram matrix of `f`.
    pub fn new(b: &'a B, f: &'a B::Mat) -> Result<Self, SolverError> {
        let (n, p) = b.shape(f);
        let form = if p <= n { Form::Primal } else { Form::Dual };
        let eig = b.sym_eigen(&b.gram(f, if form == Form::Primal { Op::T } else { Op::N }))?;
        Ok(Self { b, f, eig, form, n })
    }

    /// Singular values of F, descending (rounding negatives clamped to 0).
    pub fn singular_values(&self) -> Vec<f64> {
        self.eig.values.iter().map(|v| v.max(0.0).sqrt()).collect()
    }

    /// The `k` leading unit left singular vectors of F.
    pub fn left_vectors(&self, k: usize) -> Vec<Vec<f64>> {
        self.singular_vectors(k, Form::Primal)
    }

    /// The `k` leading unit right singular vectors of F.
    pub fn right_vectors(&self, k: usize) -> Vec<Vec<f64>> {
        self.singular_vectors(k, Form::Dual)
    }

    fn singular_vectors(&self, k: usize, mapped: Form) -> Vec<Vec<f64>> {
        singular_vectors(self.b, self.f, self.form, &self.eig.vectors, k, mapped)
    }

    /// Applies g(Λ) in the eigenbasis: V·diag(g(λ_i))·Vᵀ·v.
    fn apply(&self, v: &[f64], g: impl Fn(f64) -> f64) -> Vec<f64> {
        let w: Vec<f64> = self
            .b
            .matvec(&self.eig.vectors, Op::T, v)
            .into_iter()
            .zip(&self.eig.values)
            .map(|(p, l)| p * g(l.max(0.0)))
            .collect();
        self.b.matvec(&self.eig.vectors, Op::N, &w)
    }

    /// Ridge with unpenalised columns `p` at penalty λ, from the stored decomposition.
    pub fn fit(&self, p: &[Vec<f64>], y: &[f64], lambda: f64) -> Result<Ridge, SolverError> {
        check_lambda(lambda)?;
        let nl = self.n as f64 * lambda;
        let (b, f) = (self.b, self.f);
        let apply_s = |cols: &[Vec<f64>]| -> Result<Vec<Vec<f64>>, SolverError> {
            Ok(cols
                .iter()
                .map(|c| match self.form {
                    Form::Primal => {
                        let w = b.matvec(
                            f,
                            Op::N,
                            &self.apply(&b.matvec(f, Op::T, c), |l| 1.0 / (l + nl)),
                        );
                        c.iter().zip(w).map(|(v, w)| v - w).collect()
                    }
                    Form::Dual => self.apply(c, |l| nl / (l + nl)),
                })
                .collect())
        };
        let coef_of = |r: &[f64]| -> Result<Vec<f64>, SolverError> {
            Ok(match self.form {
                Form::Primal => self.apply(&b.matvec(f, Op::T, r), |l| 1.0 / (l + nl)),
                Form::Dual => b.matvec(f, Op::T, &self.apply(r, |l| 1.0 / (l + nl))),
            })
        };
        fit_profiled(self.n, p, y, self.form, apply_s, coef_of)
    }
}

/// Singular vectors of F from eigenvectors (columns of `vectors`) of its Gram matrix in `form`:
/// they are F's singular vectors on one side (right for FᵀF, left for FFᵀ); the other side's are
/// F·v/‖F·v‖ or Fᵀ·u/‖Fᵀ·u‖. `mapped` is the form in which the wanted side has to be mapped
/// through F (Primal: left vectors, Dual: right vectors).
pub(crate) fn singular_vectors<B: Backend>(
    b: &B,
    f: &B::Mat,
    form: Form,
    vectors: &B::Mat,
    k: usize,
    mapped: Form,
) -> Vec<Vec<f64>> {
    let v: Vec<Vec<f64>> = (0..k.min(b.shape(vectors).1))
        .map(|j| b.col(vectors, j))
        .collect();
    if form != mapped || v.is_empty() {
        return v;
    }
    // One product with F for all k vectors (k matrix-vector products would read F k times).
    let op = if form == Form::Primal { Op::N } else { Op::T };
    b.unit_columns(&b.matmul(f, op, &b.from_cols(&v), Op::N, 1.0), v.len())
}
