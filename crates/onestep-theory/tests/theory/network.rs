//! The finite-n network theory ([`onestep_theory::network_errors`], docs/theory.md §10): its
//! reduction to the RF equivalent as η → 0, its convergence in the number K of atoms for a, its
//! large-n limit (the finite-α spiked equivalent when the step noise is switched off, which is
//! the only difference between the two models at n → ∞), and a comparison with a pure-Rust
//! simulation of the network at small d.
//!
//! Setting: centred ReLU, target B (σ* = He₁ + He₂/√2), n = 4d, N = d, λ = 0.1, σ_ε = 0.1, η₀ = 1.
//!
//! Simulation tolerance: over `SEEDS` seeds the mean and its standard error se are computed and
//! the test asserts |mean − theory| ≤ 3·se + 4%·theory. Why: at d = 96 with 8 seeds the
//! seed-to-seed sd is ~15% (se ≈ 4–5%, heavy-tailed label energy at n = 384); the 4% allows the
//! O(d^{−1/2}) finite-size bias of a Gaussian equivalent at this small d (observed at α = 0.35:
//! train −2.0% ± 5.4%, test +0.6% ± 4.2%; the spiked equivalent is off by +2.7% and +8.4%) while
//! a wrong constant (≳ 15%) still fails. `ONESTEP_SLOW=1` adds d = 256 at α = 0.35 and 0.45.

use onestep_theory::network::DEFAULT_ATOMS;
use onestep_theory::{
    Errors, FnStats, GaussSmoothing, NetworkInputs, ScaledCoeffs, Setting, Spectrum, SpikeInputs,
    errors, network_bulk_edge, network_errors, network_outliers, predict_spikes, spiked_errors,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

const LAMBDA: f64 = 0.1;
const NOISE: f64 = 0.1;

fn target_b() -> FnStats {
    FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2])
}

fn inputs(d: usize, alpha: f64, eta0: f64) -> NetworkInputs {
    NetworkInputs::new(
        4 * d,
        d,
        d,
        alpha,
        eta0,
        LAMBDA,
        NOISE,
        FnStats::relu_centred(8),
        GaussSmoothing::relu(true),
        target_b(),
    )
}

fn setting() -> Setting {
    Setting {
        phi: 4.0,
        psi: 1.0,
        lambda: LAMBDA,
        noise: NOISE,
        act: FnStats::relu_centred(8),
        target: target_b(),
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn zero_step_reproduces_rf() {
    let rf = errors(&setting(), 0).unwrap();
    for (alpha, eta0) in [(0.0, 0.0), (0.0, 1e-6), (0.3, 0.0)] {
        let e = network_errors(&inputs(1024, alpha, eta0)).unwrap();
        assert!(rel(e.train, rf.train) < 1e-6, "{e:?} vs {rf:?}");
        assert!(rel(e.test, rf.test) < 1e-6, "{e:?} vs {rf:?}");
        assert!(rel(e.test_clean, rf.test_clean) < 1e-6, "{e:?} vs {rf:?}");
    }
}

#[test]
fn converges_in_the_number_of_atoms() {
    // α = 0.3: converged to 1e-8 from K = 16 on; α = 0.45 (typical κ ≈ 0.8, heavy tails):
    // the default K = 48 is within 1e-4 of K = 64.
    let at = |alpha: f64, k: usize| {
        let mut inp = inputs(1024, alpha, 1.0);
        inp.atoms = k;
        network_errors(&inp).unwrap()
    };
    let (a, b) = (at(0.3, 16), at(0.3, 32));
    assert!(
        rel(a.test, b.test) < 1e-6 && rel(a.train, b.train) < 1e-6,
        "{a:?} {b:?}"
    );
    let (a, b) = (at(0.45, DEFAULT_ATOMS), at(0.45, 64));
    assert!(
        rel(a.test, b.test) < 1e-4 && rel(a.train, b.train) < 1e-4,
        "{a:?} {b:?}"
    );
    // more u-nodes change nothing
    let mut inp = inputs(1024, 0.45, 1.0);
    let base = network_errors(&inp).unwrap();
    inp.nodes = 96;
    let fine = network_errors(&inp).unwrap();
    assert!(rel(base.test, fine.test) < 1e-8, "{base:?} {fine:?}");
}

#[test]
fn large_n_without_step_noise_is_the_spiked_equivalent() {
    // κ_j = ηc₁‖β‖a_j → 0 as n → ∞ for α < 1/2: the conditional model tends to the Taylor
    // spikes of `spiked_errors`; with the step noise on, the degree-2 mean function is
    // u² + γ instead of u² and the limit differs (docs/theory.md §10.4).
    let s = setting();
    let d = 1 << 24;
    let mut inp = inputs(d, 0.3, 1.0);
    inp.step_noise = false;
    let e = network_errors(&inp).unwrap();
    let sp = spiked_errors(&s, 0.3, 1.0, 4.0 * d as f64).unwrap();
    assert!(
        rel(e.test, sp.test) < 1e-3 && rel(e.train, sp.train) < 1e-3,
        "{e:?} vs {sp:?}"
    );
    // below the degree-2 threshold the step noise does not matter in the limit
    let e = network_errors(&inputs(d, 0.2, 1.0)).unwrap();
    let sp = spiked_errors(&s, 0.2, 1.0, 4.0 * d as f64).unwrap();
    assert!(
        rel(e.test, sp.test) < 1e-4 && rel(e.train, sp.train) < 1e-4,
        "{e:?} vs {sp:?}"
    );
}

#[test]
fn bulk_edge_without_a_step_is_the_edge_of_f0() {
    // η₀ = 0: every class has μ₁ = c₁, ν = c_{>1}², and the edge is that of Silverstein's
    // equation for F₀ (the spike route's bulk edge, docs/theory.md §9.1), to the bisection's
    // precision (1e-4 in z, so 5e-5 in the singular value).
    let inp = inputs(512, 0.3, 0.0);
    let got = network_bulk_edge(&inp).unwrap();
    let sp = SpikeInputs::new(
        2048,
        512,
        512,
        0.3,
        0.0,
        NOISE,
        FnStats::relu_centred(8),
        target_b(),
    );
    let want = predict_spikes(&sp, Spectrum::MarchenkoPastur)
        .unwrap()
        .bulk_edge;
    assert!(rel(got, want) < 6e-5, "{got} vs {want}");
    // Linear σ, ψ = 1, N = n: AAᵀ/n is a product of two square Wisharts, whose edge is the
    // Fuss–Catalan value 27/4.
    let lin = FnStats::polynomial(&[0.0, 1.0]);
    let mut inp = NetworkInputs::new(
        300,
        300,
        300,
        0.0,
        0.0,
        LAMBDA,
        NOISE,
        lin.clone(),
        GaussSmoothing::polynomial(&[0.0, 1.0]),
        target_b(),
    );
    inp.act = lin;
    let got = network_bulk_edge(&inp).unwrap();
    let want = (300.0f64 * 6.75).sqrt();
    assert!(rel(got, want) < 6e-5, "{got} vs {want}");
}

#[test]
fn bulk_edge_widens_with_the_step() {
    // The step widens the bulk through the step noise (norm growth s_j² = 1 + γκ_j²) and the
    // conditional profile; without the step noise only the profile remains, and it is smaller.
    let edge = |alpha: f64, noise_on: bool| {
        let mut inp = inputs(1024, alpha, 1.0);
        inp.step_noise = noise_on;
        network_bulk_edge(&inp).unwrap()
    };
    let e0 = edge(0.0, true);
    let (e3, e4) = (edge(0.3, true), edge(0.4, true));
    assert!(e0 < e3 && e3 < e4, "{e0} {e3} {e4}");
    let off = edge(0.4, false);
    assert!(e0 < off && off < e4, "{e0} {off} {e4}");
}

#[test]
fn outliers_after_the_step() {
    // docs/theory.md §10.7. Without a step the centred ReLU's F has no outlier, and the edge is
    // `network_bulk_edge`'s.
    let flat = inputs(512, 0.3, 0.0);
    let none = network_outliers(&flat).unwrap();
    assert!(none.outliers.is_empty(), "{none:?}");
    assert_eq!(none.bulk_edge, network_bulk_edge(&flat).unwrap());
    // At d = 2048, α = 0.3 the bulk after the step is still F₀'s to 1%, so the outliers must be
    // where the spike route on F₀'s bulk puts them (§9, MP bulk, smoothed spike functions with
    // step noise; there 420.74 and 122.46, simulated 421 and 124), each alignment on its own
    // degree within 0.04 (the routes differ in the bulk the residue is taken on), and by parity
    // none on the other degrees; the centred ReLU's odd part in u is linear (E relu(t + sg) −
    // t/2 is even in t), so the top vector has no GS(u³) share.
    let after = network_outliers(&inputs(2048, 0.3, 1.0)).unwrap();
    let mut sp = SpikeInputs::new(
        8192,
        2048,
        2048,
        0.3,
        1.0,
        NOISE,
        FnStats::relu_centred(8),
        target_b(),
    );
    sp.act_scaled = Some(ScaledCoeffs::relu(true));
    let spikes = predict_spikes(&sp, Spectrum::MarchenkoPastur).unwrap();
    assert_eq!(after.outliers.len(), 2, "{after:?}");
    for (o, k) in after.outliers.iter().zip([1, 2]) {
        let want = spikes.spikes.iter().find(|p| p.degree == k).unwrap();
        assert!(
            rel(o.location, want.location.unwrap()) < 0.01,
            "{o:?} vs {want:?}"
        );
        let a = want.alignment.unwrap();
        assert!((o.alignment[k - 1] - a).abs() < 0.04, "{o:?} vs {want:?}");
        for j in (1..=3).filter(|&j| j != k) {
            assert!(o.alignment[j - 1] < 1e-3, "{o:?}");
        }
    }
    // σ = He₁ + ½He₂ + ⅙He₃, d = 1024, α = 0.36: the spike route on F₀'s bulk separates a
    // degree-3 outlier (at 352) that lies inside the bulk after the step (top 1181): two outliers.
    let c = [0.0, 1.0, 0.5, 1.0 / 6.0];
    let mut inp = inputs(1024, 0.36, 1.0);
    inp.act = FnStats::polynomial(&c);
    inp.smoothing = GaussSmoothing::polynomial(&c);
    let after = network_outliers(&inp).unwrap();
    assert_eq!(after.outliers.len(), 2, "{after:?}");
    assert!(after.outliers[1].location > after.bulk_edge, "{after:?}");
}

#[test]
fn rejects_bad_inputs() {
    let mut inp = inputs(64, 0.3, 1.0);
    inp.atoms = 0;
    assert!(network_errors(&inp).is_err());
    let mut inp = inputs(64, 0.3, 1.0);
    inp.lambda = 0.0;
    assert!(network_errors(&inp).is_err());
    let mut inp = inputs(64, -0.1, 1.0);
    assert!(network_errors(&inp).is_err());
    inp = inputs(64, 0.3, 1.0);
    inp.smoothing = GaussSmoothing::relu(false); // not the centred ReLU of `act`
    assert!(network_errors(&inp).is_err());
    assert!(network_bulk_edge(&inp).is_err());
}

// ---- simulation -------------------------------------------------------------------------

fn relu_c(z: f64) -> f64 {
    z.max(0.0) - 1.0 / (2.0 * std::f64::consts::PI).sqrt()
}

fn target(z: f64) -> f64 {
    z + (z * z - 1.0) * std::f64::consts::FRAC_1_SQRT_2
}

fn gauss(rng: &mut StdRng, len: usize) -> Vec<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

fn unit(v: &mut [f64]) {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
}

/// Cholesky solve of an SPD p×p row-major system.
fn chol_solve(mut a: Vec<f64>, p: usize, mut b: Vec<f64>) -> Vec<f64> {
    for j in 0..p {
        let mut s = a[j * p + j];
        for k in 0..j {
            s -= a[j * p + k] * a[j * p + k];
        }
        assert!(s > 0.0, "not positive definite at pivot {j}");
        let l = s.sqrt();
        a[j * p + j] = l;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / l;
        }
    }
    for i in 0..p {
        for k in 0..i {
            b[i] -= a[i * p + k] * b[k];
        }
        b[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            b[i] -= a[k * p + i] * b[k];
        }
        b[i] /= a[i * p + i];
    }
    b
}

/// One trial of the network (labels residual): (train, test) errors.
fn simulate(d: usize, alpha: f64, seed: u64, n_test: usize) -> (f64, f64) {
    let (n, nw) = (4 * d, d);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bstar = gauss(&mut rng, d);
    unit(&mut bstar);
    let mut w0 = gauss(&mut rng, nw * d);
    for row in w0.chunks_mut(d) {
        unit(row);
    }
    let a: Vec<f64> = gauss(&mut rng, nw)
        .iter()
        .map(|x| x / (nw as f64).sqrt())
        .collect();
    let labels = |rng: &mut StdRng, x: &[f64]| -> Vec<f64> {
        x.chunks(d)
            .map(|xi| {
                let z: f64 = xi.iter().zip(&bstar).map(|(p, q)| p * q).sum();
                let e: f64 = StandardNormal.sample(rng);
                target(z) + NOISE * e
            })
            .collect()
    };
    // gradient step on an independent batch
    let x = gauss(&mut rng, n * d);
    let y = labels(&mut rng, &x);
    let eta = (n as f64).powf(alpha);
    let mut w = w0.clone();
    for j in 0..nw {
        let wj = &w0[j * d..(j + 1) * d];
        let mut g = vec![0.0; d];
        for (xi, yi) in x.chunks(d).zip(&y) {
            let z: f64 = xi.iter().zip(wj).map(|(p, q)| p * q).sum();
            if z > 0.0 {
                g.iter_mut().zip(xi).for_each(|(gk, xk)| *gk += yi * xk);
            }
        }
        let c = eta * a[j] / n as f64;
        w[j * d..(j + 1) * d]
            .iter_mut()
            .zip(&g)
            .for_each(|(wk, gk)| *wk += c * gk);
    }
    let feats = |x: &[f64]| -> Vec<f64> {
        let mut f = Vec::with_capacity(x.len() / d * nw);
        for xi in x.chunks(d) {
            for wj in w.chunks(d) {
                f.push(relu_c(xi.iter().zip(wj).map(|(p, q)| p * q).sum()));
            }
        }
        f
    };
    // ridge batch
    let xt = gauss(&mut rng, n * d);
    let yt = labels(&mut rng, &xt);
    let f = feats(&xt);
    let mut gram = vec![0.0; nw * nw];
    let mut rhs = vec![0.0; nw];
    for (fi, yi) in f.chunks(nw).zip(&yt) {
        for p in 0..nw {
            rhs[p] += fi[p] * yi / n as f64;
            for q in 0..=p {
                gram[p * nw + q] += fi[p] * fi[q] / n as f64;
            }
        }
    }
    for p in 0..nw {
        gram[p * nw + p] += LAMBDA;
        for q in 0..p {
            gram[q * nw + p] = gram[p * nw + q];
        }
    }
    let ahat = chol_solve(gram, nw, rhs);
    let pred = |fi: &[f64]| -> f64 { fi.iter().zip(&ahat).map(|(p, q)| p * q).sum() };
    let train = f
        .chunks(nw)
        .zip(&yt)
        .map(|(fi, yi)| (yi - pred(fi)).powi(2))
        .sum::<f64>()
        / n as f64;
    // test: noiseless risk + σ_ε²
    let xs = gauss(&mut rng, n_test * d);
    let fs = feats(&xs);
    let risk = xs
        .chunks(d)
        .zip(fs.chunks(nw))
        .map(|(xi, fi)| {
            let z: f64 = xi.iter().zip(&bstar).map(|(p, q)| p * q).sum();
            (target(z) - pred(fi)).powi(2)
        })
        .sum::<f64>()
        / n_test as f64;
    (train, risk + NOISE * NOISE)
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, (var / v.len() as f64).sqrt())
}

fn check_against_simulation(d: usize, alpha: f64, seeds: u64) {
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for seed in 0..seeds {
        let (a, b) = simulate(d, alpha, 1000 + seed, 1024);
        tr.push(a);
        te.push(b);
    }
    let th: Errors = network_errors(&inputs(d, alpha, 1.0)).unwrap();
    let sp = spiked_errors(&setting(), alpha, 1.0, 4.0 * d as f64).unwrap();
    for (what, v, t, s) in [
        ("train", &tr, th.train, sp.train),
        ("test", &te, th.test, sp.test),
    ] {
        let (m, se) = mean_se(v);
        eprintln!(
            "d={d} α={alpha} {what}: sim {m:.4} ± {se:.4}, network theory {t:.4} ({:+.1}%), spiked {s:.4} ({:+.1}%)",
            100.0 * (m / t - 1.0),
            100.0 * (m / s - 1.0)
        );
        assert!(
            (m - t).abs() <= 3.0 * se + 0.04 * t,
            "d={d} α={alpha} {what}: simulated {m} ± {se} vs network theory {t}"
        );
    }
}

const SEEDS: u64 = 8;

#[test]
fn follows_simulation_at_small_d() {
    check_against_simulation(96, 0.35, SEEDS);
    if std::env::var("ONESTEP_SLOW").as_deref() == Ok("1") {
        check_against_simulation(256, 0.35, 6);
        check_against_simulation(256, 0.45, 6);
    }
}
