//! Tests for activations: parsing, display round trip, derivatives, Hermite coefficients, second moments.
// Indexing by k mirrors the c_k formulas; 0.7071067811865476 is the spec string of docs/model.md §7.
#![allow(clippy::needless_range_loop, clippy::approx_constant)]

use std::f64::consts::PI;

use onestep_data::hermite::{gauss_rule, normal_cdf};
use onestep_data::{DataError, Func, Named, factorial, gauss_expect, he};
use proptest::prelude::*;

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

fn f(s: &str) -> Func {
    s.parse().unwrap()
}

/// Quadrature c_k for any Func, independent of `hermite_coeffs`'s exact branches.
fn quad_coeff(func: &Func, k: usize) -> f64 {
    gauss_expect(|z| func.eval(z) * he(k, z), func.kinks()) / factorial(k)
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want}, |diff| = {:e}",
        (got - want).abs()
    );
}

#[test]
fn parses_every_name_and_alias() {
    for n in Named::ALL {
        assert_eq!(f(n.name()), Func::Named(n));
        assert_eq!(Func::Named(n).to_string(), n.name());
    }
    assert_eq!(f("  relu-centred "), Func::Named(Named::ReluCentered));
    assert_eq!(f("ReLU"), Func::Named(Named::Relu));
    assert_eq!(f("GELU\n"), Func::Named(Named::Gelu));
    assert_eq!(
        f("hermite:0,1,0.7071067811865476"),
        Func::Hermite(vec![0.0, 1.0, 0.7071067811865476])
    );
    assert_eq!(
        f(" Hermite : 0 , 1 ,\t-2.5e-1 "),
        Func::Hermite(vec![0.0, 1.0, -0.25])
    );
}

#[test]
fn parse_errors_name_the_problem_and_the_allowed_form() {
    let err = "swish".parse::<Func>().unwrap_err();
    assert_eq!(
        err,
        DataError::UnknownFunction {
            name: "swish".into()
        }
    );
    let msg = err.to_string();
    for name in [
        "relu",
        "relu-centered",
        "tanh",
        "erf",
        "sigmoid",
        "softplus",
        "gelu",
        "linear",
        "hermite:",
    ] {
        assert!(msg.contains(name), "message `{msg}` does not list `{name}`");
    }
    assert!(matches!(
        "".parse::<Func>(),
        Err(DataError::UnknownFunction { .. })
    ));
    assert!(matches!(
        "hermite".parse::<Func>(),
        Err(DataError::UnknownFunction { .. })
    ));
    assert_eq!("hermite:".parse::<Func>(), Err(DataError::EmptyHermite));
    assert_eq!("hermite:   ".parse::<Func>(), Err(DataError::EmptyHermite));

    let err = "hermite:0,1,x2".parse::<Func>().unwrap_err();
    assert_eq!(
        err,
        DataError::BadHermiteToken {
            position: 3,
            token: "x2".into()
        }
    );
    assert!(err.to_string().contains("`x2`") && err.to_string().contains("hermite:c0,c1"));
    assert_eq!(
        "hermite:0,,1".parse::<Func>(),
        Err(DataError::BadHermiteToken {
            position: 2,
            token: "".into()
        })
    );
    assert_eq!(
        "hermite:1,".parse::<Func>(),
        Err(DataError::BadHermiteToken {
            position: 2,
            token: "".into()
        })
    );
    let err = "hermite:1,NaN".parse::<Func>().unwrap_err();
    assert_eq!(
        err,
        DataError::NonFiniteHermite {
            position: 2,
            token: "NaN".into()
        }
    );
    assert!(err.to_string().contains("`NaN`"));
    assert!(matches!(
        "hermite:inf".parse::<Func>(),
        Err(DataError::NonFiniteHermite { position: 1, .. })
    ));
    assert!(matches!(
        "hermite:1e400".parse::<Func>(),
        Err(DataError::NonFiniteHermite { .. })
    ));
    let err = "hermite:0,0,-0".parse::<Func>().unwrap_err();
    assert!(matches!(err, DataError::ZeroHermite { .. }));
    assert!(err.to_string().contains("non-zero"));
}

proptest! {
    #[test]
    fn display_from_str_round_trip(
        c in prop::collection::vec(prop_oneof![
            -1e3f64..1e3,
            Just(0.0),
            (-300i32..300).prop_map(|e| 1.234_567_890_123_456_7 * 10f64.powi(e)),
        ], 1..8)
    ) {
        prop_assume!(c.iter().any(|&v| v != 0.0));
        let func = Func::Hermite(c.clone());
        let back: Func = func.to_string().parse().unwrap();
        prop_assert_eq!(&back, &func);
        if let Func::Hermite(b) = back {
            for (x, y) in b.iter().zip(&c) {
                prop_assert_eq!(x.to_bits(), y.to_bits());
            }
        }
    }

    #[test]
    fn hermite_eval_matches_definition(c in prop::collection::vec(-2.0f64..2.0, 1..7), z in -4.0f64..4.0) {
        let func = Func::Hermite(c.clone());
        let want: f64 = c.iter().enumerate().map(|(k, ck)| ck * he(k, z)).sum();
        prop_assert!((func.eval(z) - want).abs() <= 1e-12 * (1.0 + want.abs()));
    }
}

#[test]
fn values_at_reference_points() {
    close(f("relu").eval(-1.0), 0.0, 0.0, "relu(-1)");
    close(f("relu").eval(2.5), 2.5, 0.0, "relu(2.5)");
    close(
        f("relu-centered").eval(0.0),
        -INV_SQRT_2PI,
        1e-16,
        "relu-c(0)",
    );
    close(f("erf").eval(1.0), 0.842_700_792_949_714_9, 1e-15, "erf(1)");
    close(f("sigmoid").eval(0.0), 0.5, 0.0, "sigmoid(0)");
    close(f("sigmoid").eval(-800.0), 0.0, 0.0, "sigmoid(-800)");
    close(f("sigmoid").eval(800.0), 1.0, 0.0, "sigmoid(800)");
    close(f("softplus").eval(0.0), 2f64.ln(), 1e-16, "softplus(0)");
    close(f("softplus").eval(800.0), 800.0, 0.0, "softplus(800)");
    close(f("softplus").eval(-800.0), 0.0, 1e-300, "softplus(-800)");
    close(
        f("gelu").eval(1.0),
        0.841_344_746_068_542_9,
        1e-15,
        "gelu(1) = Φ(1)",
    );
    close(f("gelu").eval(-40.0), 0.0, 1e-300, "gelu(-40)");
    close(normal_cdf(-1.0), 0.158_655_253_931_457_05, 1e-16, "Φ(-1)");
    close(f("linear").eval(-3.0), -3.0, 0.0, "linear");
}

#[test]
fn derivatives_match_central_differences_away_from_kinks() {
    let mut funcs: Vec<Func> = Named::ALL.iter().map(|&n| Func::Named(n)).collect();
    funcs.push(f("hermite:0.3,-1,0.7071067811865476,0.2,-0.05"));
    let zs = [-3.1, -1.3, -0.4, 0.25, 0.9, 2.2, 3.7];
    let h = 1e-5;
    for func in &funcs {
        for &z in &zs {
            let fd = (func.eval(z + h) - func.eval(z - h)) / (2.0 * h);
            let d = func.deriv(z);
            assert!(
                (fd - d).abs() < 1e-7 * (1.0 + d.abs()),
                "{func}: σ'({z}) = {d}, finite difference {fd}"
            );
        }
        // slice versions agree with the scalar ones bit for bit
        let mut ev = zs.to_vec();
        func.eval_slice(&mut ev);
        let mut dv = zs.to_vec();
        func.deriv_slice(&mut dv);
        for (i, &z) in zs.iter().enumerate() {
            assert_eq!(ev[i].to_bits(), func.eval(z).to_bits(), "{func} eval_slice");
            assert_eq!(
                dv[i].to_bits(),
                func.deriv(z).to_bits(),
                "{func} deriv_slice"
            );
        }
    }
    assert_eq!(f("relu").deriv(0.0), 0.0);
    assert_eq!(f("relu-centered").deriv(1e-300), 1.0);
    assert_eq!(f("relu").kinks(), &[0.0]);
    assert_eq!(f("relu-centered").kinks(), &[0.0]);
    assert!(f("tanh").kinks().is_empty() && f("hermite:1").kinks().is_empty());
}

#[test]
fn relu_coefficients_are_exact_and_match_quadrature() {
    let relu = f("relu");
    let c = relu.hermite_coeffs(16);
    assert_eq!(c.len(), 17);
    close(c[0], INV_SQRT_2PI, 1e-16, "relu c0");
    close(c[1], 0.5, 0.0, "relu c1");
    close(c[2], INV_SQRT_2PI / 2.0, 1e-16, "relu c2");
    close(c[3], 0.0, 0.0, "relu c3");
    close(c[4], -INV_SQRT_2PI / 24.0, 1e-16, "relu c4");
    for k in 2..=16 {
        // docs/model.md §3: E[ReLU He_k] = (−1)^{(k−2)/2} (k−3)!!/√(2π) for even k ≥ 2, 0 for odd k ≥ 3.
        let want = if k % 2 == 0 {
            let sign = if ((k - 2) / 2) % 2 == 0 { 1.0 } else { -1.0 };
            sign * onestep_data::double_factorial(k as i64 - 3) * INV_SQRT_2PI / factorial(k)
        } else {
            0.0
        };
        close(
            c[k],
            want,
            1e-15 * want.abs().max(1e-10),
            &format!("relu c{k} closed form"),
        );
    }
    for k in 0..=12 {
        close(
            c[k],
            quad_coeff(&relu, k),
            1e-12,
            &format!("relu c{k} vs quadrature"),
        );
    }
    let cc = f("relu-centered").hermite_coeffs(12);
    close(cc[0], 0.0, 0.0, "relu-centered c0");
    for k in 1..=12 {
        assert_eq!(cc[k], c[k], "relu-centered c{k}");
    }
    close(
        cc[0],
        quad_coeff(&f("relu-centered"), 0),
        1e-14,
        "relu-centered c0 quadrature",
    );
    // Large k neither overflows nor is NaN.
    assert!(relu.hermite_coeffs(400).iter().all(|v| v.is_finite()));
    assert_eq!(relu.hermite_coeffs(0), vec![INV_SQRT_2PI]);
}

#[test]
fn erf_coefficients_closed_form_and_quadrature() {
    let erf = f("erf");
    let c = erf.hermite_coeffs(13);
    // c1 = E[erf′(ξ)] = (2/√π)·E[e^{−ξ²}] = (2/√π)/√3.
    close(c[1], 2.0 / (3.0 * PI).sqrt(), 1e-15, "erf c1");
    for k in 0..=13 {
        close(
            c[k],
            quad_coeff(&erf, k),
            1e-12,
            &format!("erf c{k} vs quadrature"),
        );
        if k % 2 == 0 {
            assert_eq!(c[k], 0.0);
        }
    }
    close(
        erf.second_moment(),
        2.0 / PI * (2.0f64 / 3.0).asin(),
        1e-15,
        "E erf²",
    );
    close(
        erf.second_moment(),
        gauss_expect(|z| libm_erf(z).powi(2), &[]),
        1e-13,
        "E erf² vs quadrature",
    );
}

fn libm_erf(z: f64) -> f64 {
    f("erf").eval(z)
}

#[test]
fn model_md_table_fixtures() {
    // docs/model.md §3 table, printed to 6–7 digits.
    let tanh = f("tanh").hermite_coeffs(4);
    close(tanh[0], 0.0, 1e-14, "tanh c0");
    close(tanh[1], 0.605706, 1e-6, "tanh c1");
    close(tanh[2], 0.0, 1e-14, "tanh c2");
    close(tanh[3], -0.060599, 1e-6, "tanh c3");
    close(tanh[4], 0.0, 1e-14, "tanh c4");
    close(f("tanh").second_moment(), 0.394294, 1e-6, "E tanh²");
    let erf = f("erf").hermite_coeffs(4);
    close(erf[1], 0.651470, 1e-6, "erf c1");
    close(erf[3], -0.072386, 1e-6, "erf c3");
    close(f("erf").second_moment(), 0.464559, 1e-6, "E erf²");
    let relu = f("relu").hermite_coeffs(4);
    close(relu[0], 0.3989423, 1e-7, "relu c0");
    close(relu[2], 0.1994711, 1e-7, "relu c2");
    close(relu[4], -0.0166226, 1e-7, "relu c4");
    close(f("relu").second_moment(), 0.5, 0.0, "E relu²");
    close(
        f("relu-centered").second_moment(),
        0.3408451,
        1e-7,
        "E relu-centred²",
    );
}

#[test]
fn gelu_sigmoid_softplus_closed_forms_and_symmetries() {
    let gelu = f("gelu").hermite_coeffs(12);
    // c0 = E[ξΦ(ξ)] = E[φ(ξ)] = 1/(2√π); c1 = E[ξ²Φ(ξ)] = 1/2 (Φ(z)+Φ(−z) = 1);
    // c2 = E[gelu″]/2 with gelu″ = (2 − z²)φ(z): (1/√π − 1/(4√π))/2 = 3/(8√π).
    close(gelu[0], 0.5 / PI.sqrt(), 1e-13, "gelu c0");
    close(gelu[1], 0.5, 1e-13, "gelu c1");
    close(gelu[2], 3.0 / (8.0 * PI.sqrt()), 1e-13, "gelu c2");
    // gelu(z) − z/2 is even, so odd coefficients beyond c1 vanish.
    for k in (3..=12).step_by(2) {
        close(gelu[k], 0.0, 1e-13, &format!("gelu c{k}"));
    }
    let sig = f("sigmoid").hermite_coeffs(12);
    let sp = f("softplus").hermite_coeffs(13);
    close(sig[0], 0.5, 1e-14, "sigmoid c0");
    close(sp[1], 0.5, 1e-14, "softplus c1");
    for k in 0..=12 {
        // Stein: E[σ He_{k+1}] = E[σ′ He_k] and softplus′ = sigmoid, so (k+1)·c^sp_{k+1} = c^sig_k.
        close(
            (k as f64 + 1.0) * sp[k + 1],
            sig[k],
            1e-13,
            &format!("softplus/sigmoid k = {k}"),
        );
        if k % 2 == 0 && k > 0 {
            close(
                sig[k],
                0.0,
                1e-14,
                &format!("sigmoid c{k} (σ − 1/2 is odd)"),
            );
        }
    }
    // tanh(z) = 2 sigmoid(2z) − 1 gives E tanh² = 4 E sigmoid(2ξ)² − 4 E sigmoid(2ξ) + 1.
    let s2 = gauss_expect(|z| f("sigmoid").eval(2.0 * z).powi(2), &[]);
    let s1 = gauss_expect(|z| f("sigmoid").eval(2.0 * z), &[]);
    close(
        f("tanh").second_moment(),
        4.0 * s2 - 4.0 * s1 + 1.0,
        1e-13,
        "E tanh² identity",
    );
}

#[test]
fn linear_and_hermite_coefficients_and_moments() {
    assert_eq!(f("linear").hermite_coeffs(3), vec![0.0, 1.0, 0.0, 0.0]);
    assert_eq!(f("linear").hermite_coeffs(0), vec![0.0]);
    assert_eq!(f("linear").second_moment(), 1.0);
    let target = f("hermite:0,1,0.7071067811865476");
    assert_eq!(target.hermite_coeffs(1), vec![0.0, 1.0]);
    assert_eq!(
        target.hermite_coeffs(4),
        vec![0.0, 1.0, 0.7071067811865476, 0.0, 0.0]
    );
    // docs/model.md §7: E σ*² = 2 for target B.
    close(target.second_moment(), 2.0, 1e-15, "target B second moment");
    // Quadrature of a Hermite sum recovers its coefficients and Σ k! c_k².
    let g = f("hermite:0.5,-1,0.25,0.125,-0.03");
    let want = g.hermite_coeffs(6);
    for k in 0..=6 {
        close(
            quad_coeff(&g, k),
            want[k],
            1e-13,
            &format!("hermite c{k} by quadrature"),
        );
    }
    close(
        g.second_moment(),
        gauss_expect(|z| g.eval(z).powi(2), &[]),
        1e-12,
        "hermite E σ²",
    );
}

#[test]
fn quadrature_second_moments_agree_with_parseval() {
    // E σ² = Σ k! c_k² (docs/model.md §3); smooth activations converge fast.
    for name in ["tanh", "erf", "sigmoid", "softplus", "gelu"] {
        let func = f(name);
        let c = func.hermite_coeffs(30);
        let parseval: f64 = c
            .iter()
            .enumerate()
            .map(|(k, ck)| factorial(k) * ck * ck)
            .sum();
        close(
            parseval,
            func.second_moment(),
            1e-6,
            &format!("{name} Parseval"),
        );
    }
    let (_, w) = gauss_rule(&[]);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-14);
}

/// σ(s·) against exact values: ReLU is positively homogeneous (c_k(s) = s·c_k for k ≥ 1), erf has
/// c_1(s) = E[ξ erf(sξ)] = 2s/√(π(1 + 2s²)), and He₃(sx) = s³He₃(x) + 3s(s² − 1)He₁(x).
#[test]
fn scaled_hermite_coefficients() {
    let relu = f("relu-centered");
    let base = relu.hermite_coeffs(8);
    for s in [1.0, 1.7, 6.0, 40.0] {
        let c = relu.scaled_hermite_coeffs(s, 8);
        close(
            c[0],
            (s - 1.0) * INV_SQRT_2PI,
            1e-12 * s,
            "centred ReLU c_0(s)",
        );
        for k in 1..=8 {
            close(c[k], s * base[k], 1e-12 * s, &format!("ReLU c_{k}({s})"));
        }
        let e = f("erf").scaled_hermite_coeffs(s, 3);
        close(
            e[1],
            2.0 * s / (PI * (1.0 + 2.0 * s * s)).sqrt(),
            1e-10,
            "erf c_1(s)",
        );
        close(e[0], 0.0, 1e-12, "erf c_0(s)");
        let h = f("hermite:0,0,0,1").scaled_hermite_coeffs(s, 3);
        close(h[3], s.powi(3), 1e-9 * s.powi(3), "He3 c_3(s)");
        close(
            h[1],
            3.0 * s * (s * s - 1.0),
            1e-9 * s.powi(3),
            "He3 c_1(s)",
        );
    }
}
