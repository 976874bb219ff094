//! Simulation against theory: the random-features baseline and the infinite-spike models
//! ℓ = 1, 2 (docs/model.md §5 item 4), simulated in pure Rust at small d (naive Cholesky written
//! here), compared with [`onestep_theory::errors`].
//!
//! Setting: centred ReLU, target B (σ* = He₁ + He₂/√2), n = 4d, N = d, λ = 0.1, σ_ε = 0.1,
//! W₀ rows uniform on the sphere, β = Xᵀy/n from an independent batch, unpenalised columns
//! (X̃β)∘ᵏ. The test error is estimated on fresh inputs as the noiseless risk plus σ_ε²
//! (the label noise is independent, so this only removes variance).
//!
//! The spiked equivalents (docs/model.md §5 item 1) at α = 0.2 and 0.35 (η₀ = 1, a ~ N(0, I/N),
//! all columns penalised) are simulated on the same draws and compared with
//! [`onestep_theory::spiked_errors`].
//!
//! Tolerance: over `SEEDS` = 20 seeds the mean and its standard error se are computed and the
//! test asserts |mean − theory| ≤ 3·se + b(d)·theory with b(d) = 5%·(200/d)^{1/2}. Why: the
//! seed-to-seed sd is large (0.06–0.11, i.e. 5–9%, dominated by the heavy-tailed label energy
//! (1/n)‖ỹ‖² of target B at n = 800), so se ≈ 1.2–2.5%; 3·se keeps false alarms below ~0.3%
//! per comparison. The finite-d bias b(d) is O(d^{−1/2}): observed deviations were within
//! ±2% for RF / ℓ = 1, 2 and the α = 0.2 spiked model and +2.5% for the α = 0.35 spiked model
//! at d = 200 (docs/model.md §6.1 item 6 reports slower convergence of the spiked equivalent at
//! larger α), and within ±1.3% on the test error at d = 800 (4 seeds); 5% leaves room for
//! that bias while a wrong constant in the theory (≳ 10%) still fails. `ONESTEP_SLOW=1`
//! additionally runs d = 400 and 800.

use onestep_theory::{Errors, FnStats, Setting, errors, spiked_errors};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

const LAMBDA: f64 = 0.1;
const SEEDS: u64 = 20;
const NOISE: f64 = 0.1;

fn relu_c(z: f64) -> f64 {
    z.max(0.0) - 1.0 / (2.0 * std::f64::consts::PI).sqrt()
}

fn target(z: f64) -> f64 {
    z + (z * z - 1.0) * std::f64::consts::FRAC_1_SQRT_2
}

/// Row-major n×d matrix of N(0,1).
fn gauss(rng: &mut StdRng, n: usize, d: usize) -> Vec<f64> {
    (0..n * d).map(|_| StandardNormal.sample(rng)).collect()
}

/// In-place Cholesky of an SPD p×p row-major matrix, then solve for b.
fn chol_solve(mut a: Vec<f64>, p: usize, mut b: Vec<f64>) -> Vec<f64> {
    for j in 0..p {
        let mut s = a[j * p + j];
        for k in 0..j {
            s -= a[j * p + k] * a[j * p + k];
        }
        assert!(s > 0.0, "matrix not positive definite at pivot {j}: {s}");
        let ljj = s.sqrt();
        a[j * p + j] = ljj;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / ljj;
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

/// Step-size exponents of the spiked-equivalent models simulated alongside (η₀ = 1).
const ALPHAS: [f64; 2] = [0.2, 0.35];

/// One seed: train and test errors of RF, ℓ = 1, ℓ = 2, then the spiked equivalents at
/// [`ALPHAS`].
fn simulate(d: usize, seed: u64, n_test: usize) -> [Errors; 5] {
    let n = 4 * d;
    let nw = d;
    let mut rng = StdRng::seed_from_u64(seed);
    // β* = e₁ (rotation invariance of x and of W₀'s law).
    let x = gauss(&mut rng, n, d);
    let mut beta = vec![0.0; d];
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        let e: f64 = StandardNormal.sample(&mut rng);
        let y = target(xi[0]) + NOISE * e;
        for (b, v) in beta.iter_mut().zip(xi) {
            *b += y * v / n as f64;
        }
    }
    let mut w0 = gauss(&mut rng, nw, d);
    for r in w0.chunks_mut(d) {
        let nr = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        r.iter_mut().for_each(|v| *v /= nr);
    }
    let features = |xs: &[f64], m: usize| -> (Vec<f64>, Vec<f64>) {
        // returns (σ(x W₀ᵀ) m×N, ⟨x, β⟩ m)
        let mut f = vec![0.0; m * nw];
        let mut t = vec![0.0; m];
        for i in 0..m {
            let xi = &xs[i * d..(i + 1) * d];
            for j in 0..nw {
                let wj = &w0[j * d..(j + 1) * d];
                f[i * nw + j] = relu_c(xi.iter().zip(wj).map(|(a, b)| a * b).sum());
            }
            t[i] = xi.iter().zip(&beta).map(|(a, b)| a * b).sum();
        }
        (f, t)
    };
    let xt = gauss(&mut rng, n, d);
    let yt: Vec<f64> = (0..n)
        .map(|i| {
            let e: f64 = StandardNormal.sample(&mut rng);
            target(xt[i * d]) + NOISE * e
        })
        .collect();
    let (f, t) = features(&xt, n);
    let xs = gauss(&mut rng, n_test, d);
    let (fs, ts) = features(&xs, n_test);

    let a: Vec<f64> = (0..nw)
        .map(|_| {
            let g: f64 = StandardNormal.sample(&mut rng);
            g / (nw as f64).sqrt()
        })
        .collect();
    let mut out = [Errors {
        train: 0.0,
        test: 0.0,
        test_clean: 0.0,
    }; 5];
    for (ell, slot) in out.iter_mut().take(3).enumerate() {
        let p = nw + ell;
        let col = |i: usize, j: usize| -> f64 {
            if j < nw {
                f[i * nw + j]
            } else {
                t[i].powi((j - nw + 1) as i32)
            }
        };
        let mut a = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        let mut row = vec![0.0; p];
        for (i, yi) in yt.iter().enumerate() {
            for (j, r) in row.iter_mut().enumerate() {
                *r = col(i, j);
            }
            for j in 0..p {
                let rj = row[j] / n as f64;
                b[j] += rj * yi;
                for k in 0..=j {
                    a[j * p + k] += rj * row[k];
                }
            }
        }
        for j in 0..p {
            for k in 0..j {
                a[k * p + j] = a[j * p + k];
            }
            if j < nw {
                a[j * p + j] += LAMBDA;
            }
        }
        let theta = chol_solve(a, p, b);
        let train = (0..n)
            .map(|i| {
                let pred: f64 = (0..p).map(|j| col(i, j) * theta[j]).sum();
                (yt[i] - pred).powi(2)
            })
            .sum::<f64>()
            / n as f64;
        let clean = (0..n_test)
            .map(|i| {
                let mut pred: f64 = (0..nw).map(|j| fs[i * nw + j] * theta[j]).sum();
                for k in 0..ell {
                    pred += ts[i].powi(k as i32 + 1) * theta[nw + k];
                }
                (target(xs[i * d]) - pred).powi(2)
            })
            .sum::<f64>()
            / n_test as f64;
        *slot = Errors {
            train,
            test: clean + NOISE * NOISE,
            test_clean: clean,
        };
    }
    // Spiked equivalents: F₀ + Σ_k c₁^k c_k η^k (X̃β)∘ᵏ(a∘ᵏ)ᵀ, all penalised.
    let act = FnStats::relu_centred(8);
    for (slot, alpha) in out.iter_mut().skip(3).zip(ALPHAS) {
        let eta = (n as f64).powf(alpha);
        // coef_k a_j^k, k = 1..=8, precomputed; spike(t, j) = Σ_k coef_k a_j^k t^k
        let ak: Vec<[f64; 8]> = a
            .iter()
            .map(|&aj| {
                let mut r = [0.0; 8];
                for (k, rk) in r.iter_mut().enumerate() {
                    let k = k as i32 + 1;
                    *rk = act.coeffs[1].powi(k) * act.coeffs[k as usize] * (eta * aj).powi(k);
                }
                r
            })
            .collect();
        let spike = |t: f64, j: usize| -> f64 {
            let mut tp = 1.0;
            let mut acc = 0.0;
            for c in &ak[j] {
                tp *= t;
                acc += c * tp;
            }
            acc
        };
        let fl: Vec<f64> = (0..n * nw)
            .map(|ij| f[ij] + spike(t[ij / nw], ij % nw))
            .collect();
        let mut g = vec![0.0; nw * nw];
        let mut b = vec![0.0; nw];
        for i in 0..n {
            let row = &fl[i * nw..(i + 1) * nw];
            for j in 0..nw {
                let rj = row[j] / n as f64;
                b[j] += rj * yt[i];
                for k in 0..=j {
                    g[j * nw + k] += rj * row[k];
                }
            }
        }
        for j in 0..nw {
            for k in 0..j {
                g[k * nw + j] = g[j * nw + k];
            }
            g[j * nw + j] += LAMBDA;
        }
        let theta = chol_solve(g, nw, b);
        let train = (0..n)
            .map(|i| {
                let pred: f64 = (0..nw).map(|j| fl[i * nw + j] * theta[j]).sum();
                (yt[i] - pred).powi(2)
            })
            .sum::<f64>()
            / n as f64;
        let clean = (0..n_test)
            .map(|i| {
                let pred: f64 = (0..nw)
                    .map(|j| (fs[i * nw + j] + spike(ts[i], j)) * theta[j])
                    .sum();
                (target(xs[i * d]) - pred).powi(2)
            })
            .sum::<f64>()
            / n_test as f64;
        *slot = Errors {
            train,
            test: clean + NOISE * NOISE,
            test_clean: clean,
        };
    }
    out
}

fn setting() -> Setting {
    Setting {
        phi: 4.0,
        psi: 1.0,
        lambda: LAMBDA,
        noise: NOISE,
        act: FnStats::relu_centred(8),
        target: FnStats::polynomial(&[
            0.0,
            1.0,
            std::f64::consts::FRAC_1_SQRT_2,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ]),
    }
}

/// Allowed finite-d bias (relative): 5% at d = 200, shrinking like d^{−1/2}.
fn bias_allowance(d: usize) -> f64 {
    0.05 * (200.0 / d as f64).sqrt()
}

fn compare(d: usize, seeds: u64, n_test: usize) {
    let s = setting();
    let n = (4 * d) as f64;
    let mut theory: Vec<Errors> = (0..3).map(|l| errors(&s, l).unwrap()).collect();
    for alpha in ALPHAS {
        theory.push(spiked_errors(&s, alpha, 1.0, n).unwrap());
    }
    let label = |i: usize| -> String {
        if i < 3 {
            format!("ℓ={i}")
        } else {
            format!("spiked α={}", ALPHAS[i - 3])
        }
    };
    let runs: Vec<[Errors; 5]> = (0..seeds).map(|k| simulate(d, 1000 + k, n_test)).collect();
    let mut failures = Vec::new();
    for ell in 0..5 {
        for (name, get) in [
            ("train", (|e: &Errors| e.train) as fn(&Errors) -> f64),
            ("test", |e: &Errors| e.test),
        ] {
            let v: Vec<f64> = runs.iter().map(|r| get(&r[ell])).collect();
            let k = v.len() as f64;
            let mean = v.iter().sum::<f64>() / k;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
            let se = sd / k.sqrt();
            let th = get(&theory[ell]);
            let dev = mean - th;
            let tol = 3.0 * se + bias_allowance(d) * th;
            let msg = format!(
                "d={d} {} {name}: simulation {mean:.4} ± {se:.4} (se, {seeds} seeds, sd {sd:.4}) vs theory {th:.4}: deviation {dev:+.4} ({:+.2}%), tolerance {tol:.4}",
                label(ell),
                100.0 * dev / th
            );
            eprintln!("{msg}");
            if dev.abs() > tol {
                failures.push(msg);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "simulation disagrees with theory:\n{}",
        failures.join("\n")
    );
}

#[test]
fn simulation_matches_theory_small_d() {
    compare(200, SEEDS, 6000);
}

#[test]
fn simulation_matches_theory_growing_d() {
    if !std::env::var("ONESTEP_SLOW").is_ok_and(|v| v == "1") {
        eprintln!("set ONESTEP_SLOW=1 to run d = 400, 800");
        return;
    }
    compare(400, 4, 8000);
    compare(800, 3, 8000);
}
