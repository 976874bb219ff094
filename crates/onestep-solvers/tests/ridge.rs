//! Ridge against closed forms, primal against dual, and the eigendecomposition route against Cholesky.
use onestep_linalg::{Backend, Dense, FaerBackend, conformance::pseudo_random};
use onestep_solvers::{Form, GramEigen, ridge, ridge_unpenalised};

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Orthogonal-design closed form: if FᵀF = D diagonal then â_j = (Fᵀy)_j / (D_j + nλ).
#[test]
fn orthogonal_design_closed_form() {
    let b = FaerBackend::new(1);
    let (n, lambda) = (6, 0.3);
    let scales = [2.0, 0.5, 1.5];
    let f = Dense::from_fn(n, 3, |i, j| if i == j { scales[j] } else { 0.0 });
    let y = [1.0, -2.0, 0.5, 3.0, 4.0, 5.0];
    let r = ridge(&b, &b.from_dense(&f), &y, lambda).unwrap();
    assert_eq!(r.form, Form::Primal);
    let want: Vec<f64> = (0..3)
        .map(|j| scales[j] * y[j] / (scales[j].powi(2) + n as f64 * lambda))
        .collect();
    assert!(max_diff(&r.coef, &want) < 1e-14, "{:?} vs {want:?}", r.coef);
}

/// Primal (p ≤ n) and dual (p > n) give the same coefficients; the ridge normal equations hold.
#[test]
fn primal_dual_and_normal_equations() {
    let b = FaerBackend::new(2);
    for (n, p) in [(40, 13), (13, 40), (1, 1), (2, 7)] {
        let f = pseudo_random(n, p, 1);
        let y = pseudo_random(n, 1, 2).data;
        let lambda = 0.05;
        let fm = b.from_dense(&f);
        let r = ridge(&b, &fm, &y, lambda).unwrap();
        // (FᵀF + nλ)a = Fᵀy
        let fa = b.matvec(&fm, onestep_linalg::Op::N, &r.coef);
        let resid: Vec<f64> = y.iter().zip(&fa).map(|(y, f)| y - f).collect();
        let grad = b.matvec(&fm, onestep_linalg::Op::T, &resid);
        let want: Vec<f64> = r.coef.iter().map(|a| a * n as f64 * lambda).collect();
        assert!(
            max_diff(&grad, &want) < 1e-10,
            "normal equations fail at {n}x{p}"
        );
        let e = GramEigen::new(&b, &fm).unwrap();
        let path = e.fit(&[], &y, lambda).unwrap();
        assert!(
            max_diff(&path.coef, &r.coef) < 1e-10,
            "eigen route differs at {n}x{p}"
        );
    }
}

/// Unpenalised columns: the optimality conditions Pᵀ(y − Fa − Pγ) = 0 and
/// Fᵀ(y − Fa − Pγ) = nλa hold, and both routes agree to 1e-10 along a λ path.
#[test]
fn unpenalised_columns_and_lambda_path() {
    let b = FaerBackend::new(2);
    for (n, p) in [(60, 20), (20, 60)] {
        let f = b.from_dense(&pseudo_random(n, p, 3));
        let cols: Vec<Vec<f64>> = (0..2).map(|k| pseudo_random(n, 1, 10 + k).data).collect();
        let y = pseudo_random(n, 1, 4).data;
        let e = GramEigen::new(&b, &f).unwrap();
        for lambda in [1e-3, 0.1, 10.0] {
            let r = ridge_unpenalised(&b, &f, &cols, &y, lambda).unwrap();
            let fa = b.matvec(&f, onestep_linalg::Op::N, &r.coef);
            let resid: Vec<f64> = (0..n)
                .map(|i| {
                    y[i] - fa[i] - cols[0][i] * r.unpenalised[0] - cols[1][i] * r.unpenalised[1]
                })
                .collect();
            for c in &cols {
                let g: f64 = c.iter().zip(&resid).map(|(a, b)| a * b).sum();
                assert!(g.abs() < 1e-9, "Pᵀ residual = {g} at λ = {lambda}");
            }
            let grad = b.matvec(&f, onestep_linalg::Op::T, &resid);
            let want: Vec<f64> = r.coef.iter().map(|a| a * n as f64 * lambda).collect();
            assert!(max_diff(&grad, &want) < 1e-9);
            let pe = e.fit(&cols, &y, lambda).unwrap();
            assert!(
                max_diff(&pe.coef, &r.coef) < 1e-10
                    && max_diff(&pe.unpenalised, &r.unpenalised) < 1e-10,
                "path vs Cholesky at λ = {lambda}"
            );
        }
    }
}

#[test]
fn bad_lambda_and_dependent_columns_are_errors() {
    let b = FaerBackend::new(1);
    let f = b.from_dense(&pseudo_random(5, 3, 1));
    let y = vec![1.0; 5];
    for l in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = ridge(&b, &f, &y, l).unwrap_err().to_string();
        assert!(e.contains("--lambda"), "{e}");
    }
    let c = vec![1.0, 2.0, 3.0, 4.0, 5.0];
    assert!(ridge_unpenalised(&b, &f, &[c.clone(), c], &y, 0.1).is_err());
}

#[test]
fn singular_values_and_left_vectors() {
    let b = FaerBackend::new(1);
    for (n, p) in [(30, 10), (10, 30)] {
        let f = pseudo_random(n, p, 7);
        let fm = b.from_dense(&f);
        let e = GramEigen::new(&b, &fm).unwrap();
        let s = e.singular_values();
        let u = e.left_vectors(3);
        // ‖Fᵀu_j‖ = s_j and ‖u_j‖ = 1.
        for j in 0..3 {
            let ftu = b.matvec(&fm, onestep_linalg::Op::T, &u[j]);
            let norm = ftu.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((norm - s[j]).abs() < 1e-10 * s[0]);
            assert!((u[j].iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-12);
        }
        // Sum of squared singular values = ‖F‖_F².
        let fro: f64 = f.data.iter().map(|x| x * x).sum();
        assert!((s.iter().map(|x| x * x).sum::<f64>() - fro).abs() < 1e-9 * fro);
    }
}

/// A long λ path (12 log-spaced penalties over six decades) from ONE eigendecomposition agrees
/// with an independent Cholesky fit at every λ to 1e-10 (relative to the coefficients' size), in
/// both forms, with and without unpenalised columns.
#[test]
fn long_lambda_path_matches_cholesky() {
    let b = FaerBackend::new(2);
    let lambdas: Vec<f64> = (0..12)
        .map(|i| 10f64.powf(-4.0 + 6.0 * i as f64 / 11.0))
        .collect();
    for (n, p, q) in [
        (50, 17, 0),
        (50, 17, 2),
        (17, 50, 0),
        (17, 50, 3),
        (30, 30, 1),
    ] {
        let f = b.from_dense(&pseudo_random(n, p, 21));
        let cols: Vec<Vec<f64>> = (0..q)
            .map(|k| pseudo_random(n, 1, 30 + k as u64).data)
            .collect();
        let y = pseudo_random(n, 1, 22).data;
        let e = GramEigen::new(&b, &f).unwrap();
        for &lambda in &lambdas {
            let want = ridge_unpenalised(&b, &f, &cols, &y, lambda).unwrap();
            let got = e.fit(&cols, &y, lambda).unwrap();
            let scale = want
                .coef
                .iter()
                .chain(&want.unpenalised)
                .fold(1.0f64, |m, v| m.max(v.abs()));
            let diff =
                max_diff(&got.coef, &want.coef).max(max_diff(&got.unpenalised, &want.unpenalised));
            assert!(
                diff <= 1e-10 * scale,
                "{n}x{p}, {q} unpenalised, λ = {lambda:e}: path vs Cholesky differ by {diff:e} (scale {scale:e})"
            );
        }
    }
}
