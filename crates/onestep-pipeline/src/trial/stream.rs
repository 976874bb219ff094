//! The trial of [`super::run_trial`] with the three batches drawn a block of rows at a time and
//! never held whole (docs/performance.md, "Streaming"): memory depends on d·N and N², not on n.
//!
//! Each block's rows are the rows the in-memory trial draws ([`SingleIndex::stream`]), so both
//! runs see the same data. One pass over the step batch accumulates β = Xᵀy/n and the gradient;
//! one pass over the ridge batch accumulates FᵀF, F₀ᵀF₀, Fᵀỹ, F₀ᵀỹ, FᵀT, F₀ᵀT, TᵀT, Tᵀỹ and ỹᵀỹ
//! (T = the columns (X̃β)∘ᵏ, k ≤ 3); the spectrum, the alignments, the ridge fits and the training
//! errors follow from these; one pass over the test set gives the test errors. Ridge is solved by
//! Cholesky at each λ (N³/3 flops) instead of one eigendecomposition with vectors.
use super::{
    KMAX, PathPoint, PipelineError, StageTimer, Trial, by_lambda, checked, mean_component,
    overflow, spectrum_stats, target_model,
};
use crate::ValidConfig;
use crate::models::Model;
use onestep_data::child_seed;
use onestep_linalg::{
    Backend, KrylovParams, LinalgError, Op, SymEigen, krylov, leading_eigenpairs,
    sym_top_by_lanczos,
};
use onestep_metrics::{Errors, beta_overlap, dot};
use onestep_net::{Network, step_size};
use onestep_solvers::SolverError;
use onestep_solvers::spectrum::SpectrumMethod;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;

/// Rows per block of a streamed run unless the configuration says otherwise.
pub const STREAM_ROWS: usize = 4096;

/// Residual tolerance of the Lanczos eigenvectors, relative to the largest eigenvalue.
const LANCZOS_TOL: f64 = 1e-12;

/// Powers (X̃β)∘ᵏ accumulated: k ≤ 3 serves the alignments and every `inf_spike_ℓ`.
const POWERS: usize = 3;

/// The row ranges of `n` rows in blocks of `rows`.
fn blocks(n: usize, rows: usize) -> impl Iterator<Item = Range<usize>> {
    (0..n.div_ceil(rows)).map(move |i| i * rows..((i + 1) * rows).min(n))
}

/// The n × POWERS matrix of t∘ᵏ, k = 1..=POWERS, as columns.
fn power_cols<B: Backend>(b: &B, t: &[f64]) -> B::Mat {
    b.from_cols(
        &(1..=POWERS)
            .map(|k| t.iter().map(|x| x.powi(k as i32)).collect())
            .collect::<Vec<Vec<f64>>>(),
    )
}

/// acc ← acc + m, the accumulator created on first use.
fn add<B: Backend>(b: &B, acc: &mut Option<B::Mat>, m: B::Mat) {
    match acc {
        Some(a) => b.axpy(a, 1.0, &m),
        None => *acc = Some(m),
    }
}

fn add_vec(acc: &mut [f64], v: &[f64]) {
    acc.iter_mut().zip(v).for_each(|(a, v)| *a += v);
}

/// The sums a feature matrix contributes over the ridge batch: its Gram matrix, Fᵀỹ and FᵀT.
struct Sums<B: Backend> {
    gram: Option<B::Mat>,
    fy: Vec<f64>,
    ft: Option<B::Mat>,
}

impl<B: Backend> Sums<B> {
    fn new(width: usize) -> Self {
        Self {
            gram: None,
            fy: vec![0.0; width],
            ft: None,
        }
    }

    fn add(&mut self, b: &B, f: &B::Mat, y: &[f64], tp: &B::Mat) {
        add(b, &mut self.gram, b.gram(f, Op::T));
        add_vec(&mut self.fy, &b.matvec(f, Op::T, y));
        add(b, &mut self.ft, b.matmul(f, Op::T, tp, Op::N, 1.0));
    }
}

/// A ridge fit from the accumulated sums: F's coefficients, the unpenalised γ and the errors on
/// the ridge batch.
struct Fit {
    coef: Vec<f64>,
    gamma: Vec<f64>,
    train: f64,
    penalty: f64,
}

/// Ridge on F with the first `q` power columns unpenalised, at penalty λ, from the sums:
/// min (1/n)‖ỹ − Fa − Pγ‖² + λ‖a‖². With A = FᵀF + nλI, C = FᵀP, D = PᵀP:
/// A[u V] = [Fᵀỹ C], γ = (D − CᵀV)⁻¹(Pᵀỹ − Cᵀu), a = u − Vγ; the training error is the
/// expanded square ‖ỹ‖² − 2(aᵀFᵀỹ + γᵀPᵀỹ) + aᵀFᵀFa + 2aᵀCγ + γᵀDγ, over n.
#[allow(clippy::too_many_arguments)]
fn fit<B: Backend>(
    b: &B,
    s: &Sums<B>,
    q: usize,
    pp: &[[f64; POWERS]; POWERS],
    py: &[f64; POWERS],
    yy: f64,
    n: usize,
    lambda: f64,
) -> Result<Fit, SolverError> {
    onestep_solvers::ridge::check_lambda(lambda)?;
    let g = s.gram.as_ref().expect("at least one block");
    let ft = s.ft.as_ref().expect("at least one block");
    let nf = n as f64;
    let mut a = g.clone();
    b.add_diag(&mut a, nf * lambda);
    let c: Vec<Vec<f64>> = (0..q).map(|k| b.col(ft, k)).collect();
    let mut rhs = vec![s.fy.clone()];
    rhs.extend(c.iter().cloned());
    let sol = b.spd_solve(&a, &b.from_cols(&rhs))?;
    let u = b.col(&sol, 0);
    let v: Vec<Vec<f64>> = (1..=q).map(|k| b.col(&sol, k)).collect();
    let gamma = if q == 0 {
        Vec::new()
    } else {
        let schur: Vec<Vec<f64>> = (0..q)
            .map(|i| (0..q).map(|j| pp[i][j] - dot(&c[i], &v[j])).collect())
            .collect();
        let r: Vec<f64> = (0..q).map(|i| py[i] - dot(&c[i], &u)).collect();
        onestep_solvers::ridge::small_spd_solve(schur, r).ok_or(SolverError::DependentColumns(q))?
    };
    let mut coef = u;
    for (vj, gj) in v.iter().zip(&gamma) {
        coef.iter_mut().zip(vj).for_each(|(a, v)| *a -= gj * v);
    }
    let ga = b.matvec(g, Op::N, &coef);
    let cg: Vec<f64> = (0..q).map(|i| dot(&c[i], &coef)).collect();
    let mut sq = yy - 2.0 * (dot(&coef, &s.fy) + dot(&gamma, &py[..q])) + dot(&coef, &ga);
    for i in 0..q {
        sq += 2.0 * cg[i] * gamma[i];
        for j in 0..q {
            sq += gamma[i] * pp[i][j] * gamma[j];
        }
    }
    Ok(Fit {
        penalty: lambda * dot(&coef, &coef),
        coef,
        gamma,
        train: sq.max(0.0) / nf,
    })
}

/// |⟨u_j, g_k⟩| (row j, column k) for the leading left singular vectors u_j = Fv_j/s_j (after the
/// mean component) and g_k = Gram–Schmidt of the powers: with TᵀT = RᵀR, g = T R⁻¹, so
/// ⟨u_j, g_k⟩ = Σ_i (v_jᵀFᵀT)_i (R⁻¹)_ik / s_j.
fn alignment_matrix<B: Backend>(
    b: &B,
    vectors: &B::Mat,
    values: &[f64],
    ft: &B::Mat,
    pp: &[[f64; POWERS]; POWERS],
    skip: usize,
) -> Vec<Vec<f64>> {
    let c = b.to_dense(&b.matmul(vectors, Op::T, ft, Op::N, 1.0));
    let rinv = upper_cholesky_inverse(pp);
    (0..KMAX)
        .map(|row| {
            let j = row + skip;
            let s = values.get(j).map_or(0.0, |v| v.max(0.0).sqrt());
            if s <= 0.0 || j >= c.rows {
                return vec![0.0; KMAX];
            }
            (0..KMAX)
                .map(|k| {
                    (0..POWERS)
                        .map(|i| c.get(j, i) * rinv[i][k])
                        .sum::<f64>()
                        .abs()
                        / s
                })
                .collect()
        })
        .collect()
}

/// R⁻¹ for the upper Cholesky factor R of TᵀT = RᵀR; a direction of zero norm gets a zero column,
/// as the in-memory Gram–Schmidt leaves a zero vector.
#[allow(clippy::needless_range_loop)]
fn upper_cholesky_inverse(pp: &[[f64; POWERS]; POWERS]) -> [[f64; POWERS]; POWERS] {
    let mut r = [[0.0; POWERS]; POWERS];
    for j in 0..POWERS {
        for i in 0..=j {
            let s = pp[i][j] - (0..i).map(|k| r[k][i] * r[k][j]).sum::<f64>();
            r[i][j] = if i == j {
                s.max(0.0).sqrt()
            } else if r[i][i] > 0.0 {
                s / r[i][i]
            } else {
                0.0
            };
        }
    }
    let mut inv = [[0.0; POWERS]; POWERS];
    for j in 0..POWERS {
        for i in (0..=j).rev() {
            let want = f64::from(u8::from(i == j));
            let s = want - (i + 1..=j).map(|k| r[i][k] * inv[k][j]).sum::<f64>();
            inv[i][j] = if r[i][i] > 0.0 { s / r[i][i] } else { 0.0 };
        }
    }
    inv
}

/// `f()` and `g()`, on two threads when `parallel` (a panic in either is resumed here).
pub fn concurrently<T: Send, U: Send>(
    parallel: bool,
    f: impl FnOnce() -> T + Send,
    g: impl FnOnce() -> U + Send,
) -> (T, U) {
    if !parallel {
        return (f(), g());
    }
    std::thread::scope(|s| {
        let h = s.spawn(g);
        let t = f();
        (t, h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

/// The `k` leading eigenpairs of FᵀF (`g`): block Lanczos to a residual of LANCZOS_TOL·s₁², so
/// that the alignment of a vector at the bulk edge (small gap) matches the full
/// decomposition's; the full decomposition for small N, or when Lanczos does not resolve a
/// cluster in its iterations.
fn top_vectors<B: Backend>(
    b: &B,
    cfg: &ValidConfig,
    g: &B::Mat,
    k: usize,
) -> Result<(SymEigen<B::Mat>, SpectrumMethod), PipelineError> {
    if !sym_top_by_lanczos(cfg.width, k) {
        let e = b.sym_eigen_top(g, k).map_err(SolverError::from)?;
        return Ok((e, SpectrumMethod::GramEigen));
    }
    let params = KrylovParams {
        tol: LANCZOS_TOL,
        ..KrylovParams::default()
    };
    match krylov::sym_top(b, g, k, &params) {
        Ok(t) => Ok((
            SymEigen {
                values: t.values,
                vectors: t.vectors,
            },
            SpectrumMethod::GramKrylov,
        )),
        Err(LinalgError::NoConvergence { .. }) => {
            let full = b.sym_eigen(g).map_err(SolverError::from)?;
            Ok((leading_eigenpairs(b, full, k), SpectrumMethod::GramEigen))
        }
        Err(e) => Err(SolverError::from(e).into()),
    }
}

/// Runs trial `seed` streamed in blocks of `rows` rows; the same streams, stages and outputs as
/// [`super::run_trial`] (models `nn`, `rf`, `inf_spike_ℓ`; the configuration check refuses others).
pub(super) fn run<B: Backend>(
    b: &B,
    cfg: &ValidConfig,
    seed: u64,
    rows: usize,
    timer: &RefCell<StageTimer>,
    stage: &mut dyn FnMut(&'static str),
) -> Result<Trial, PipelineError> {
    let rng = |name: &str| ChaCha8Rng::seed_from_u64(child_seed(seed, name));
    let act = &cfg.activation;
    let (n, nt) = (cfg.n, cfg.n_test);
    stage("data");
    let model = target_model(cfg, seed);
    let step = model.stream(&mut rng("step"), n);
    let net0 = Network::init(b, &mut rng("init"), cfg.d, cfg.width, cfg.init);

    stage("gradient step");
    let mut beta = vec![0.0; cfg.d];
    let mut grad = b.zeros(cfg.width, cfg.d);
    for r in blocks(n, rows) {
        let s = step.rows(r.clone());
        let x = b.from_dense(&s.x);
        drop(s.x);
        add_vec(&mut beta, &b.matvec(&x, Op::T, &s.y));
        // Each block's gradient is its own mean; weight it by its share of the batch.
        let g = net0.gradient(b, &x, &s.y, act, cfg.residual);
        b.axpy(&mut grad, r.len() as f64 / n as f64, &g);
    }
    beta.iter_mut().for_each(|v| *v /= n as f64);
    let eta = step_size(cfg.eta0, cfg.alpha, n);
    let net = net0.stepped(b, &grad, eta);

    stage("features");
    let ridge = model.stream(&mut rng("ridge"), n);
    let (mut sf, mut sf0) = (Sums::<B>::new(cfg.width), Sums::<B>::new(cfg.width));
    let mut pp = [[0.0; POWERS]; POWERS];
    let mut py = [0.0; POWERS];
    let mut yy = 0.0;
    for r in blocks(n, rows) {
        let s = ridge.rows(r);
        let x = b.from_dense(&s.x);
        drop(s.x);
        let t = b.matvec(&x, Op::N, &beta);
        let tp = power_cols(b, &t);
        sf.add(b, &net.features(b, &x, act), &s.y, &tp);
        sf0.add(b, &net0.features(b, &x, act), &s.y, &tp);
        for (i, &ti) in t.iter().enumerate() {
            let p = [ti, ti * ti, ti * ti * ti];
            for a in 0..POWERS {
                py[a] += p[a] * s.y[i];
                for c in 0..POWERS {
                    pp[a][c] += p[a] * p[c];
                }
            }
            yy += s.y[i] * s.y[i];
        }
    }

    stage("spectra");
    let gf = sf.gram.as_ref().expect("n ≥ 1");
    let gf0 = sf0.gram.as_ref().expect("n ≥ 1");
    let values = |g: &B::Mat, after: bool| match b.sym_eigenvalues(g) {
        // FᵀF has rank ≤ n: F has min(n, N) singular values, as in memory.
        Ok(v) => Ok(v
            .iter()
            .take(n)
            .map(|l| l.max(0.0).sqrt())
            .collect::<Vec<f64>>()),
        Err(LinalgError::NonFinite { .. }) => Err(overflow(cfg, eta, after)),
        Err(e) => Err(SolverError::from(e).into()),
    };
    let skip = mean_component(cfg);
    // F₀'s eigenvalues beside F's eigenvalues and leading vectors: the two decompositions are
    // independent, and each uses a core better than both share one (B1: 0.24 → 0.11 s for the
    // two eigenvalue computations).
    let (after, all_f0) = concurrently(
        b.threads() > 1,
        || -> Result<_, PipelineError> {
            let all = values(gf, true)?;
            Ok((all, top_vectors(b, cfg, gf, KMAX + skip)?))
        },
        || values(gf0, false),
    );
    let (all, (top, method)) = after?;
    let all_f0 = all_f0?;
    let ft = sf.ft.as_ref().expect("n ≥ 1");
    let alignment = alignment_matrix(b, &top.vectors, &top.values, ft, &pp, skip);
    let spectrum = spectrum_stats(cfg, all, all_f0, alignment, method);

    stage("ridge");
    // Every fit at every λ: (model, on F after the step?, unpenalised power columns).
    let mut models: Vec<(String, bool, usize)> =
        vec![("nn".into(), true, 0), ("rf".into(), false, 0)];
    models.extend(cfg.models.iter().map(|m| match m {
        Model::InfSpike(l) => (m.name(), false, *l),
        other => unreachable!(
            "the configuration check refuses {} with streaming",
            other.name()
        ),
    }));
    let mut fits: Vec<(String, Result<Vec<Fit>, SolverError>)> = Vec::new();
    for (name, after, q) in &models {
        timer.borrow_mut().next(&format!("ridge {name}"));
        let s = if *after { &sf } else { &sf0 };
        let path = cfg
            .lambdas
            .iter()
            .map(|&l| fit(b, s, *q, &pp, &py, yy, n, l))
            .collect();
        fits.push((name.clone(), path));
    }
    drop((sf, sf0));

    stage("test");
    // Test predictions of every fit, block by block: F_t·[coefficients] (one product per
    // feature matrix) plus the unpenalised powers.
    let test = model.stream(&mut rng("test"), nt);
    let ok: Vec<usize> = (0..fits.len()).filter(|&i| fits[i].1.is_ok()).collect();
    let cols = |after: bool| -> Vec<(usize, usize)> {
        ok.iter()
            .filter(|&&i| models[i].1 == after)
            .flat_map(|&i| (0..cfg.lambdas.len()).map(move |l| (i, l)))
            .collect()
    };
    let (cols_f, cols_f0) = (cols(true), cols(false));
    let coef_mat = |cs: &[(usize, usize)]| {
        b.from_cols(
            &cs.iter()
                .map(|&(i, l)| fits[i].1.as_ref().expect("ok")[l].coef.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (af, af0) = (coef_mat(&cols_f), coef_mat(&cols_f0));
    // Squared errors against ỹ_test and the clean labels, by (fit, λ).
    let mut sse: BTreeMap<(usize, usize), (f64, f64)> = BTreeMap::new();
    for r in blocks(nt, rows) {
        let s = test.rows(r);
        let x = b.from_dense(&s.x);
        drop(s.x);
        let t = b.matvec(&x, Op::N, &beta);
        for (feats, cs, a) in [(&net, &cols_f, &af), (&net0, &cols_f0, &af0)] {
            if cs.is_empty() {
                continue;
            }
            let pred = b.matmul(&feats.features(b, &x, act), Op::N, a, Op::N, 1.0);
            for (c, &(i, l)) in cs.iter().enumerate() {
                let p = b.col(&pred, c);
                let gamma = &fits[i].1.as_ref().expect("ok")[l].gamma;
                let e = sse.entry((i, l)).or_insert((0.0, 0.0));
                for (j, &tj) in t.iter().enumerate() {
                    let mut pj = p[j];
                    let mut pw = 1.0;
                    for g in gamma {
                        pw *= tj;
                        pj += g * pw;
                    }
                    e.0 += (s.y[j] - pj).powi(2);
                    e.1 += (s.y_clean[j] - pj).powi(2);
                }
            }
        }
    }

    let mut per_model: Vec<(String, Vec<Errors>)> = Vec::new();
    let mut unavailable = BTreeMap::new();
    for (i, (name, path)) in fits.into_iter().enumerate() {
        let errs = path.map(|p| {
            p.iter()
                .enumerate()
                .map(|(l, f)| {
                    let (e, ec) = sse[&(i, l)];
                    Errors {
                        train: f.train,
                        train_penalised: f.train + f.penalty,
                        test: e / nt as f64,
                        test_clean: ec / nt as f64,
                    }
                })
                .collect()
        });
        // nn and rf have no fallback: their failure ends the trial, as in memory.
        match (i < 2, errs) {
            (true, Err(e)) => return Err(e.into()),
            (true, Ok(e)) => per_model.push((name, e)),
            (false, errs) => match checked(&name, errs) {
                Ok(e) => per_model.push((name, e)),
                Err(why) => {
                    unavailable.insert(name, why);
                }
            },
        }
    }
    let (errors, errors_path): (BTreeMap<String, Errors>, Vec<PathPoint>) =
        by_lambda(&cfg.lambdas, &per_model);
    Ok(Trial {
        seed,
        eta,
        beta: beta_overlap(&beta, &model.beta_star),
        spectrum,
        errors,
        errors_path,
        unavailable,
        stage_seconds: Vec::new(),
    })
}
