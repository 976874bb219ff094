//! Ridge fits of one feature matrix at every λ of the path, and the errors they give.
use onestep_linalg::{Backend, Op};
use onestep_metrics::{Errors, mse};
use onestep_solvers::{GramEigen, SolverError};

/// Labels of the ridge batch and the test set.
pub(crate) struct Labels<'a> {
    pub y: &'a [f64],
    pub y_test: &'a [f64],
    pub y_test_clean: &'a [f64],
}

/// The predictor F·coef + Σ_j γ_j p_j.
pub(crate) fn predict<B: Backend>(
    b: &B,
    f: &B::Mat,
    coef: &[f64],
    cols: &[Vec<f64>],
    gamma: &[f64],
) -> Vec<f64> {
    let mut p = b.matvec(f, Op::N, coef);
    for (c, g) in cols.iter().zip(gamma) {
        p.iter_mut().zip(c).for_each(|(p, c)| *p += g * c);
    }
    p
}

/// Ridge on `f` (decomposed once in `eig`; `ft` on the test set) with unpenalised columns
/// `cols = (p, p_test)`, at every λ of `lambdas`: one eigendecomposition, one cheap fit per λ.
pub(crate) fn fit_path<B: Backend>(
    b: &B,
    eig: &GramEigen<'_, B>,
    (f, ft): (&B::Mat, &B::Mat),
    (p, p_test): (&[Vec<f64>], &[Vec<f64>]),
    lab: &Labels<'_>,
    lambdas: &[f64],
) -> Result<Vec<Errors>, SolverError> {
    lambdas
        .iter()
        .map(|&lambda| {
            let fit = eig.fit(p, lab.y, lambda)?;
            let train = mse(&predict(b, f, &fit.coef, p, &fit.unpenalised), lab.y);
            let test = predict(b, ft, &fit.coef, p_test, &fit.unpenalised);
            let penalty = lambda * fit.coef.iter().map(|v| v * v).sum::<f64>();
            Ok(Errors {
                train,
                train_penalised: train + penalty,
                test: mse(&test, lab.y_test),
                test_clean: mse(&test, lab.y_test_clean),
            })
        })
        .collect()
}

/// Decomposes `f` once and fits the whole path.
pub(crate) fn fit_features<B: Backend>(
    b: &B,
    f: &B::Mat,
    ft: &B::Mat,
    lab: &Labels<'_>,
    lambdas: &[f64],
) -> Result<Vec<Errors>, SolverError> {
    fit_path(b, &GramEigen::new(b, f)?, (f, ft), (&[], &[]), lab, lambdas)
}

/// t∘ᵏ, entrywise.
pub(crate) fn powers(t: &[f64], k: usize) -> Vec<f64> {
    t.iter().map(|x| x.powi(k as i32)).collect()
}
