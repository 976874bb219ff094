//! The gradient against central finite differences of the loss it claims to differentiate.
use onestep_data::{Func, gaussian_matrix, gaussian_vector};
use onestep_linalg::{Backend, Dense, FaerBackend};
use onestep_net::{Init, Network, Residual, step_size};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Full residual: −∇ of L(W) = (1/2n)‖y − σ(XWᵀ)a‖². Labels residual: −∇ of −(1/n)Σ y_s f_W(x_s).
fn loss(
    b: &FaerBackend,
    net: &Network<FaerBackend>,
    x: &Dense,
    y: &[f64],
    act: &Func,
    residual: Residual,
) -> f64 {
    let f = net.output(b, &b.from_dense(x), act);
    let n = y.len() as f64;
    match residual {
        Residual::Full => y.iter().zip(&f).map(|(y, f)| (y - f).powi(2)).sum::<f64>() / (2.0 * n),
        Residual::Labels => -y.iter().zip(&f).map(|(y, f)| y * f).sum::<f64>() / n,
    }
}

fn check(seed: u64, n: usize, d: usize, width: usize, act: &str, residual: Residual) {
    let b = FaerBackend::new(1);
    let act: Func = act.parse().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = Network::init(&b, &mut rng, d, width, Init::Sphere);
    let x = gaussian_matrix(&mut rng, n, d);
    let y = gaussian_vector(&mut rng, n);
    let g = b.to_dense(&net.gradient(&b, &b.from_dense(&x), &y, &act, residual));
    let w = b.to_dense(&net.w);
    let h = 1e-6;
    for i in 0..width {
        for j in 0..d {
            let shifted = |delta: f64| {
                let mut wp = w.clone();
                *wp.get_mut(i, j) += delta;
                let net = Network::<FaerBackend> {
                    w: b.from_dense(&wp),
                    a: net.a.clone(),
                };
                loss(&b, &net, &x, &y, &act, residual)
            };
            let fd = -(shifted(h) - shifted(-h)) / (2.0 * h);
            let err = (fd - g.get(i, j)).abs();
            assert!(
                err < 1e-6 * (1.0 + fd.abs()),
                "G[{i},{j}] = {} but finite difference gives {fd} (seed {seed}, {act}, {residual:?})",
                g.get(i, j)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn gradient_matches_finite_differences(seed in 0u64..1000, n in 1usize..12, d in 1usize..6, width in 1usize..6,
                                           act in prop::sample::select(vec!["tanh", "erf", "softplus", "hermite:0.1,1,0.5,0.2"]),
                                           full in any::<bool>()) {
        check(seed, n, d, width, act, if full { Residual::Full } else { Residual::Labels });
    }
}

#[test]
fn step_size_is_eta0_times_n_to_alpha() {
    assert_eq!(step_size(2.0, 0.0, 100), 2.0);
    assert!((step_size(1.0, 0.5, 100) - 10.0).abs() < 1e-12);
}

#[test]
fn sphere_rows_and_second_layer_scale() {
    let b = FaerBackend::new(1);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = Network::init(&b, &mut rng, 50, 400, Init::Sphere);
    let w = b.to_dense(&net.w);
    for i in 0..400 {
        let norm: f64 = w.row(i).iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-12);
    }
    let a2: f64 = net.a.iter().map(|v| v * v).sum();
    // ‖a‖² ~ χ²_N / N: mean 1, sd √(2/N) ≈ 0.07.
    assert!((a2 - 1.0).abs() < 0.35, "‖a‖² = {a2}");
}
