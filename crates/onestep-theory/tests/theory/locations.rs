//! Simulation against [`onestep_theory::predict_spikes`]: outlier singular values, bulk edge
//! and left-singular-vector alignments of F = σ(X̃Wᵀ) after one gradient step (labels
//! residual), in pure Rust at d = N = 200, n = 4d (Householder tridiagonalisation + implicit
//! QL written here, residuals checked).
//!
//! Setting (docs/model.md §2, §7): centred ReLU, target B = He₁ + He₂/√2, σ_ε = 0.1, η₀ = 1,
//! α ∈ {0, 0.2, 0.3}, W₀ rows uniform on the sphere, a ~ N(0, I/N). The prediction is fed
//! the realised eigenvalues of W₀W₀ᵀ, the realised a and the realised ‖β‖² (all are inputs
//! of the theory at finite size; at N = 200 the fourth moment of a alone fluctuates by ~20%
//! between seeds, which moves the degree-2 spike). The MP-bulk prediction is printed too.
//!
//! Tolerances (on the mean over `SEEDS` seeds): bulk edge within 4%: at N = 200 the largest
//! bulk singular value sits below the limiting edge by Tracy–Widom fluctuations of relative
//! size ~N^{−2/3}/2 ≈ 1.5% (mean shift of the same order; observed −1.2% … +1.2%);
//! degree-1 outlier within 5% and its alignment within 0.05 absolute. Observed: the degree-1
//! outlier sits +2.7–2.8% above the prediction on average (single seeds +0.3% … +7.1%), the
//! alignment within 0.01; the finite-d error of G ≈ c₁aβᵀ and of the Gaussian equivalent is
//! O(d^{−1/2}) ≈ 7% at d = 200, so 5% on the mean of 3 seeds is the tightest honest band. The degree-2 outlier is
//! reported, not asserted beyond a loose 35% band (docs/model.md §4: the low-rank route is
//! 7–20% low for the degree-2 spike at large d; at d = 200 it is worse).

use onestep_theory::{FnStats, ScaledCoeffs, Spectrum, SpikeInputs, gs_power, predict_spikes};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

const NOISE: f64 = 0.1;
const SEEDS: u64 = 3;
const ALPHAS: [f64; 3] = [0.0, 0.2, 0.3];

fn relu_c(z: f64) -> f64 {
    z.max(0.0) - 1.0 / (2.0 * std::f64::consts::PI).sqrt()
}

fn target(z: f64) -> f64 {
    z + (z * z - 1.0) * std::f64::consts::FRAC_1_SQRT_2
}

fn gauss(rng: &mut StdRng, len: usize) -> Vec<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

/// Symmetric eigen-decomposition (Householder tridiagonalisation, then QL with implicit
/// shifts; Numerical Recipes tred2/tqli). `a` is n×n row-major; returns eigenvalues and the
/// eigenvectors as the columns of a row-major matrix.
fn sym_eig(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    let ix = |i: usize, j: usize| i * n + j;
    for i in (1..n).rev() {
        let l = i - 1;
        let mut h = 0.0;
        if l > 0 {
            let scale: f64 = (0..=l).map(|k| a[ix(i, k)].abs()).sum();
            if scale == 0.0 {
                e[i] = a[ix(i, l)];
            } else {
                for k in 0..=l {
                    a[ix(i, k)] /= scale;
                    h += a[ix(i, k)] * a[ix(i, k)];
                }
                let f = a[ix(i, l)];
                let g = if f >= 0.0 { -h.sqrt() } else { h.sqrt() };
                e[i] = scale * g;
                h -= f * g;
                a[ix(i, l)] = f - g;
                let mut f = 0.0;
                for j in 0..=l {
                    a[ix(j, i)] = a[ix(i, j)] / h;
                    let mut g = 0.0;
                    for k in 0..=j {
                        g += a[ix(j, k)] * a[ix(i, k)];
                    }
                    for k in j + 1..=l {
                        g += a[ix(k, j)] * a[ix(i, k)];
                    }
                    e[j] = g / h;
                    f += e[j] * a[ix(i, j)];
                }
                let hh = f / (h + h);
                for j in 0..=l {
                    let f = a[ix(i, j)];
                    let g = e[j] - hh * f;
                    e[j] = g;
                    for k in 0..=j {
                        a[ix(j, k)] -= f * e[k] + g * a[ix(i, k)];
                    }
                }
            }
        } else {
            e[i] = a[ix(i, l)];
        }
        d[i] = h;
    }
    d[0] = 0.0;
    e[0] = 0.0;
    for i in 0..n {
        if d[i] != 0.0 {
            for j in 0..i {
                let mut g = 0.0;
                for k in 0..i {
                    g += a[ix(i, k)] * a[ix(k, j)];
                }
                for k in 0..i {
                    a[ix(k, j)] -= g * a[ix(k, i)];
                }
            }
        }
        d[i] = a[ix(i, i)];
        a[ix(i, i)] = 1.0;
        for j in 0..i {
            a[ix(j, i)] = 0.0;
            a[ix(i, j)] = 0.0;
        }
    }
    // tqli
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    for l in 0..n {
        let mut iter = 0;
        loop {
            let mut m = l;
            while m < n - 1 {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            assert!(iter < 100, "tqli did not converge");
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut i = m;
            let mut restart = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    restart = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                for k in 0..n {
                    let f = a[ix(k, i + 1)];
                    a[ix(k, i + 1)] = s * a[ix(k, i)] + c * f;
                    a[ix(k, i)] = c * a[ix(k, i)] - s * f;
                }
            }
            if restart {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    (d, a)
}

/// `XᵀX/scale`-type Gram: rows×cols row-major x ↦ cols×cols xᵀx/scale.
fn gram_t(x: &[f64], rows: usize, cols: usize, scale: f64) -> Vec<f64> {
    let mut g = vec![0.0; cols * cols];
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        for i in 0..cols {
            let v = row[i] / scale;
            if v == 0.0 {
                continue;
            }
            for j in 0..=i {
                g[i * cols + j] += v * row[j];
            }
        }
    }
    for i in 0..cols {
        for j in 0..i {
            g[j * cols + i] = g[i * cols + j];
        }
    }
    g
}

struct Run {
    beta_norm2: f64,
    a: Vec<f64>,
    w_eigs: Vec<f64>,
    /// per α: top 4 singular values of F, |⟨û₁, GS(t)⟩|, |⟨û₂, GS(t²)⟩|
    per_alpha: Vec<([f64; 4], f64, f64)>,
}

fn simulate(d: usize, seed: u64) -> Run {
    let n = 4 * d;
    let nw = d;
    let mut rng = StdRng::seed_from_u64(seed);
    let x = gauss(&mut rng, n * d);
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let e: f64 = StandardNormal.sample(&mut rng);
            target(x[i * d]) + NOISE * e
        })
        .collect();
    let mut beta = vec![0.0; d];
    for i in 0..n {
        for (b, v) in beta.iter_mut().zip(&x[i * d..(i + 1) * d]) {
            *b += y[i] * v / n as f64;
        }
    }
    let mut w0 = gauss(&mut rng, nw * d);
    for r in w0.chunks_mut(d) {
        let nr = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        r.iter_mut().for_each(|v| *v /= nr);
    }
    let a: Vec<f64> = gauss(&mut rng, nw)
        .iter()
        .map(|g| g / (nw as f64).sqrt())
        .collect();
    // G = (1/n)[(a yᵀ) ⊙ σ′(W₀Xᵀ)] X  (labels residual), N×d
    let mut grad = vec![0.0; nw * d];
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        for j in 0..nw {
            let pre: f64 = w0[j * d..(j + 1) * d]
                .iter()
                .zip(xi)
                .map(|(a, b)| a * b)
                .sum();
            if pre > 0.0 {
                let c = a[j] * y[i] / n as f64;
                for (g, v) in grad[j * d..(j + 1) * d].iter_mut().zip(xi) {
                    *g += c * v;
                }
            }
        }
    }
    let xt = gauss(&mut rng, n * d);
    let t: Vec<f64> = (0..n)
        .map(|i| {
            xt[i * d..(i + 1) * d]
                .iter()
                .zip(&beta)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect();
    // GS(t), GS(t²) in ℝⁿ (t² against t only, not against the constant)
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let g1: Vec<f64> = t.iter().map(|v| v / norm(&t)).collect();
    let mut t2: Vec<f64> = t.iter().map(|v| v * v).collect();
    let c: f64 = t2.iter().zip(&g1).map(|(a, b)| a * b).sum();
    t2.iter_mut().zip(&g1).for_each(|(a, b)| *a -= c * b);
    let n2 = norm(&t2);
    let g2: Vec<f64> = t2.iter().map(|v| v / n2).collect();

    // W₀W₀ᵀ (N×N) = gram of W₀ᵀ: compute directly
    let mut ww = vec![0.0; nw * nw];
    for i in 0..nw {
        for j in 0..=i {
            let v: f64 = w0[i * d..(i + 1) * d]
                .iter()
                .zip(&w0[j * d..(j + 1) * d])
                .map(|(a, b)| a * b)
                .sum();
            ww[i * nw + j] = v;
            ww[j * nw + i] = v;
        }
    }
    let (w_eigs, _) = sym_eig(ww, nw);

    let mut per_alpha = Vec::new();
    for alpha in ALPHAS {
        let eta = (n as f64).powf(alpha);
        let w: Vec<f64> = w0.iter().zip(&grad).map(|(w, g)| w + eta * g).collect();
        let mut f = vec![0.0; n * nw];
        for i in 0..n {
            let xi = &xt[i * d..(i + 1) * d];
            for j in 0..nw {
                let pre: f64 = w[j * d..(j + 1) * d]
                    .iter()
                    .zip(xi)
                    .map(|(a, b)| a * b)
                    .sum();
                f[i * nw + j] = relu_c(pre);
            }
        }
        let c = gram_t(&f, n, nw, n as f64);
        let (ev, vecs) = sym_eig(c.clone(), nw);
        let mut idx: Vec<usize> = (0..nw).collect();
        idx.sort_by(|&p, &q| ev[q].total_cmp(&ev[p]));
        let mut top = [0.0; 4];
        let mut aligns = [0.0; 2];
        for (r, &k) in idx.iter().take(4).enumerate() {
            // residual check ‖Cv − λv‖ ≤ 1e-8 λ
            let v: Vec<f64> = (0..nw).map(|i| vecs[i * nw + k]).collect();
            let res: f64 = (0..nw)
                .map(|i| {
                    let cv: f64 = (0..nw).map(|j| c[i * nw + j] * v[j]).sum();
                    (cv - ev[k] * v[i]).powi(2)
                })
                .sum::<f64>()
                .sqrt();
            assert!(res <= 1e-8 * ev[idx[0]], "eigen residual {res}");
            top[r] = (n as f64 * ev[k]).sqrt();
            if r < 2 {
                let u: Vec<f64> = (0..n)
                    .map(|i| (0..nw).map(|j| f[i * nw + j] * v[j]).sum())
                    .collect();
                let nu = norm(&u);
                let gs = if r == 0 { &g1 } else { &g2 };
                aligns[r] = (u.iter().zip(gs).map(|(a, b)| a * b).sum::<f64>() / nu).abs();
            }
        }
        per_alpha.push((top, aligns[0], aligns[1]));
    }
    Run {
        beta_norm2: beta.iter().map(|b| b * b).sum(),
        a,
        w_eigs,
        per_alpha,
    }
}

#[test]
fn gs_power_is_what_the_simulation_uses() {
    // GS(u²) ∝ u² (u² ⟂ u already; constant kept), as computed in ℝⁿ in `simulate`.
    let g = gs_power(2);
    assert_eq!(g[0], 0.0);
    assert_eq!(g[1], 0.0);
}

#[test]
fn simulation_matches_spike_locations() {
    let d = 200;
    let n = 4 * d;
    let act = FnStats::relu_centred(8);
    let tgt = FnStats::polynomial(&[0.0, 1.0, std::f64::consts::FRAC_1_SQRT_2]);
    let runs: Vec<Run> = (0..SEEDS).map(|s| simulate(d, 7000 + s)).collect();
    let mut failures = Vec::new();
    for (ai, alpha) in ALPHAS.iter().enumerate() {
        // per seed: (sim, theory) for bulk edge, degree-1 location, alignment, degree-2
        let mut rows: Vec<[f64; 8]> = Vec::new();
        for run in &runs {
            let mut inp = SpikeInputs::new(n, d, d, *alpha, 1.0, NOISE, act.clone(), tgt.clone());
            inp.beta_norm2 = Some(run.beta_norm2);
            inp.a = Some(run.a.clone());
            inp.act_scaled = Some(ScaledCoeffs::relu(true));
            let rep = predict_spikes(&inp, Spectrum::Empirical(&run.w_eigs)).unwrap();
            let mp = predict_spikes(
                &SpikeInputs::new(n, d, d, *alpha, 1.0, NOISE, act.clone(), tgt.clone()),
                Spectrum::MarchenkoPastur,
            )
            .unwrap();
            let (top, al1, al2) = run.per_alpha[ai];
            let sep: Vec<_> = rep.spikes.iter().filter(|s| s.location.is_some()).collect();
            let n_out = sep.len();
            eprintln!(
                "α={alpha}: sim top {:.2?} align(1) {al1:.3} align(2) {al2:.3} | theory (empirical bulk) edge {:.2} spikes {:?} | MP edge {:.2} spikes {:?}",
                top,
                rep.bulk_edge,
                sep.iter()
                    .map(|s| (s.degree, s.location.unwrap(), s.alignment.unwrap()))
                    .collect::<Vec<_>>(),
                mp.bulk_edge,
                mp.spikes
                    .iter()
                    .filter_map(|s| s.location.map(|l| (s.degree, l, s.alignment.unwrap())))
                    .collect::<Vec<_>>(),
            );
            let loc = |k: usize| {
                rep.spikes
                    .iter()
                    .find(|s| s.degree == k)
                    .and_then(|s| s.location.map(|l| (l, s.alignment.unwrap())))
            };
            let (l1, a1) = loc(1).unwrap_or((f64::NAN, f64::NAN));
            let (l2, _) = loc(2).unwrap_or((f64::NAN, f64::NAN));
            rows.push([
                top[n_out.min(3)],
                rep.bulk_edge,
                top[0],
                l1,
                al1,
                a1,
                top[1],
                l2,
            ]);
            let _ = al2;
        }
        let mean = |c: usize| rows.iter().map(|r| r[c]).sum::<f64>() / rows.len() as f64;
        let (be_s, be_t) = (mean(0), mean(1));
        let msg = format!(
            "α={alpha}: bulk edge simulated {be_s:.3} vs predicted {be_t:.3} ({:+.2}%)",
            100.0 * (be_s / be_t - 1.0)
        );
        eprintln!("{msg}");
        if (be_s / be_t - 1.0).abs() > 0.04 {
            failures.push(msg);
        }
        if rows[0][3].is_finite() {
            let (s, t) = (mean(2), mean(3));
            let msg = format!(
                "α={alpha}: degree-1 outlier simulated {s:.3} vs predicted {t:.3} ({:+.2}%)",
                100.0 * (s / t - 1.0)
            );
            eprintln!("{msg}");
            if (s / t - 1.0).abs() > 0.05 {
                failures.push(msg);
            }
            let (s, t) = (mean(4), mean(5));
            let msg = format!(
                "α={alpha}: degree-1 alignment simulated {s:.3} vs predicted {t:.3} ({:+.3})",
                s - t
            );
            eprintln!("{msg}");
            if (s - t).abs() > 0.05 {
                failures.push(msg);
            }
        }
        let with2: Vec<&[f64; 8]> = rows.iter().filter(|r| r[7].is_finite()).collect();
        if !with2.is_empty() {
            let k = with2.len() as f64;
            let s = with2.iter().map(|r| r[6]).sum::<f64>() / k;
            let t = with2.iter().map(|r| r[7]).sum::<f64>() / k;
            let msg = format!(
                "α={alpha}: degree-2 outlier simulated {s:.3} vs predicted {t:.3} ({:+.2}%, {} of {SEEDS} seeds predict it separated) [reported; loose band]",
                100.0 * (s / t - 1.0),
                with2.len()
            );
            eprintln!("{msg}");
            if (s / t - 1.0).abs() > 0.35 {
                failures.push(msg);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
