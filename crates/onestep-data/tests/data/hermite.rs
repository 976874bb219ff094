//! Tests for Hermite polynomials and the two quadrature rules: closed forms and orthogonality.
// Indexing by k mirrors the c_k formulas; 0.7071067811865476 is the spec string of docs/model.md §7.
#![allow(clippy::needless_range_loop, clippy::approx_constant)]

use onestep_data::hermite::{gauss_rule, normal_cdf};
use onestep_data::{double_factorial, factorial, gauss_expect, gauss_hermite, he, he_all};

#[test]
fn hermite_low_orders_match_explicit_polynomials() {
    for &z in &[-2.5f64, -1.0, 0.0, 0.3, 1.7, 4.0] {
        let explicit = [
            1.0,
            z,
            z * z - 1.0,
            z * z * z - 3.0 * z,
            z.powi(4) - 6.0 * z * z + 3.0,
            z.powi(5) - 10.0 * z.powi(3) + 15.0 * z,
        ];
        let mut all = [0.0; 6];
        he_all(z, &mut all);
        for k in 0..6 {
            let tol = 1e-12 * (1.0 + explicit[k].abs());
            assert!((he(k, z) - explicit[k]).abs() < tol, "He_{k}({z})");
            assert!((all[k] - explicit[k]).abs() < tol, "he_all[{k}]({z})");
        }
    }
    he_all(1.0, &mut []); // empty output is fine
}

#[test]
fn factorials() {
    assert_eq!(factorial(0), 1.0);
    assert_eq!(factorial(1), 1.0);
    assert_eq!(factorial(5), 120.0);
    assert_eq!(factorial(12), 479_001_600.0);
    assert_eq!(double_factorial(-1), 1.0);
    assert_eq!(double_factorial(0), 1.0);
    assert_eq!(double_factorial(1), 1.0);
    assert_eq!(double_factorial(5), 15.0);
    assert_eq!(double_factorial(6), 48.0);
    assert_eq!(double_factorial(-3), -1.0);
    assert!((double_factorial(-5) - 1.0 / 3.0).abs() < 1e-15);
    assert!(double_factorial(-2).is_nan());
}

#[test]
fn gauss_expect_moments_and_orthogonality() {
    // E ξ^{2m} = (2m−1)!!
    for m in 0..8 {
        let got = gauss_expect(|z| z.powi(2 * m), &[]);
        let want = double_factorial(2 * m as i64 - 1);
        assert!(
            (got - want).abs() < 1e-13 * want,
            "E ξ^{} = {got}, want {want}",
            2 * m
        );
    }
    // E[He_j He_k] = k! δ_jk, up to k = 12.
    for j in 0..=12 {
        for k in 0..=12 {
            let got = gauss_expect(|z| he(j, z) * he(k, z), &[0.7]);
            let want = if j == k { factorial(k) } else { 0.0 };
            let scale = (factorial(j) * factorial(k)).sqrt();
            assert!(
                (got - want).abs() < 1e-12 * scale,
                "E[He_{j} He_{k}] = {got}"
            );
        }
    }
}

#[test]
fn gauss_expect_is_exact_at_kinks() {
    // E ReLU(ξ) = 1/√(2π), E ReLU(ξ)² = 1/2, E|ξ − a| closed form.
    let relu = |z: f64| z.max(0.0);
    let inv = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    assert!((gauss_expect(relu, &[0.0]) - inv).abs() < 1e-14);
    assert!((gauss_expect(|z| relu(z).powi(2), &[0.0]) - 0.5).abs() < 1e-14);
    let a: f64 = 0.37;
    // E|ξ − a| = 2φ(a) + a(2Φ(a) − 1)
    let phi = (-0.5 * a * a).exp() * inv;
    let want = 2.0 * phi + a * (2.0 * normal_cdf(a) - 1.0);
    let got = gauss_expect(|z| (z - a).abs(), &[a]);
    assert!((got - want).abs() < 1e-14, "E|ξ−a| = {got}, want {want}");
    // Breaks outside the window, NaN and duplicates are harmless.
    let got2 = gauss_expect(|z| (z - a).abs(), &[a, a, f64::NAN, 100.0, -1e300]);
    assert!((got2 - want).abs() < 1e-14);
    // Without the break the rule is visibly worse: the test above is not vacuous.
    let bad = gauss_expect(|z| (z - a).abs(), &[]);
    assert!(
        (bad - want).abs() > 1e-8,
        "unsplit error {}",
        (bad - want).abs()
    );
    let (n, w) = gauss_rule(&[0.0]);
    assert_eq!(n.len(), w.len());
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-14);
}

#[test]
fn gauss_hermite_weights_nodes_and_exactness() {
    assert_eq!(gauss_hermite(0), (vec![], vec![]));
    let (z1, w1) = gauss_hermite(1);
    assert!(z1[0].abs() < 1e-15 && (w1[0] - 1.0).abs() < 1e-15);
    let (z2, w2) = gauss_hermite(2);
    assert!((z2[0] + 1.0).abs() < 1e-14 && (z2[1] - 1.0).abs() < 1e-14);
    assert!((w2[0] - 0.5).abs() < 1e-14 && (w2[1] - 0.5).abs() < 1e-14);
    for &m in &[3usize, 5, 10, 20, 41, 100, 200] {
        let (z, w) = gauss_hermite(m);
        assert_eq!(z.len(), m);
        assert!(
            z.windows(2).all(|p| p[0] < p[1]),
            "m = {m}: nodes not strictly ascending"
        );
        assert!(
            w.iter().all(|&x| x > 0.0 && x.is_finite()),
            "m = {m}: bad weights"
        );
        let sum: f64 = w.iter().sum();
        assert!((sum - 1.0).abs() < 1e-13, "m = {m}: Σw = {sum}");
        // Orthogonality E[He_j He_k] = k! δ_jk is exact for j + k ≤ 2m − 1 (checked up to 12).
        let kmax = (m - 1).min(12);
        let mut h = vec![0.0; kmax + 1];
        let mut gram = vec![vec![0.0; kmax + 1]; kmax + 1];
        for (&zi, &wi) in z.iter().zip(&w) {
            he_all(zi, &mut h);
            for j in 0..=kmax {
                for k in 0..=kmax {
                    gram[j][k] += wi * h[j] * h[k];
                }
            }
        }
        for j in 0..=kmax {
            for k in 0..=kmax {
                if j + k > 2 * m - 1 {
                    continue;
                }
                let want = if j == k { factorial(k) } else { 0.0 };
                let scale = (factorial(j) * factorial(k)).sqrt();
                assert!(
                    (gram[j][k] - want).abs() < 1e-11 * scale,
                    "m = {m}: Σ w He_{j} He_{k} = {}",
                    gram[j][k]
                );
            }
        }
    }
}

#[test]
fn gauss_hermite_is_poor_at_a_kink_as_model_md_says() {
    // docs/model.md §3: 200 nodes give c₂ ≈ 0.19906 for ReLU (exact 0.1994711).
    let (z, w) = gauss_hermite(200);
    let c2: f64 = z
        .iter()
        .zip(&w)
        .map(|(&x, &wi)| wi * x.max(0.0) * he(2, x))
        .sum::<f64>()
        / 2.0;
    assert!((c2 - 0.19906).abs() < 5e-5, "GH c2 = {c2}");
}
