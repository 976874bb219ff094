//! The equivalent models of docs/model.md §5 against the network, the infinite-spike models against
//! the best linear predictor, the λ path at the pipeline level, and bad `--models`/`--lambda`.
//!
//! Sizes are small (d ≤ 128 by default, a few seconds in debug); `ONESTEP_SLOW=1` adds d = 256
//! and 512 to the convergence check.
use onestep_linalg::FaerBackend;
use onestep_metrics::Errors;
use onestep_pipeline::models::{ALL, Model};
use onestep_pipeline::{SimConfig, ValidConfig, run_trial};

const MEM: f64 = 8e9;

fn slow() -> bool {
    std::env::var("ONESTEP_SLOW").is_ok_and(|v| v == "1")
}

fn config(d: usize, alpha: f64, lambdas: &[f64], models: &str, n_test: usize) -> ValidConfig {
    SimConfig {
        d,
        width: d,
        n: 4 * d,
        n_test,
        alpha,
        lambda: lambdas[0],
        extra_lambdas: lambdas[1..].to_vec(),
        models: vec![models.into()],
        ..SimConfig::default()
    }
    .check(MEM)
    .expect("valid config")
}

fn errs(cfg: &ValidConfig, seed: u64) -> std::collections::BTreeMap<String, Errors> {
    let b = FaerBackend::new(2);
    run_trial(&b, cfg, seed, &mut |_| {})
        .expect("trial runs")
        .errors
}

/// At α = 0.2 (one separated spike) every equivalent's train and test errors approach the
/// network's as d grows with n = 4d, N = d: the mean |model − nn| over seeds at the largest size
/// is below a tolerance that shrinks with n, and is smaller than at the smallest size.
#[test]
fn equivalents_approach_the_network_at_alpha_0_2() {
    let sizes: Vec<usize> = if slow() {
        vec![32, 64, 128, 256, 512]
    } else {
        vec![32, 64, 128]
    };
    let seeds = 6u64;
    /// (d, [(model, train gap, test gap)]).
    type GapRow = (usize, Vec<(String, f64, f64)>);
    let mut table: Vec<GapRow> = Vec::new();
    for &d in &sizes {
        let cfg = config(d, 0.2, &[0.1], "spiked,cget,hermite", 4096);
        let mut acc: Vec<(String, f64, f64)> = ["spiked", "cget", "hermite"]
            .iter()
            .map(|m| (m.to_string(), 0.0, 0.0))
            .collect();
        for seed in 0..seeds {
            let e = errs(&cfg, 100 + seed);
            for (m, tr, te) in acc.iter_mut() {
                *tr += (e[m.as_str()].train - e["nn"].train).abs() / seeds as f64;
                *te += (e[m.as_str()].test - e["nn"].test).abs() / seeds as f64;
            }
        }
        table.push((d, acc));
    }
    let report = format!("{table:?}");
    eprintln!("mean |model − nn| (train, test) by d: {report}");
    let (first, last) = (&table[0], &table[table.len() - 1]);
    for (i, (m, tr, te)) in last.1.iter().enumerate() {
        let (tr0, te0) = (first.1[i].1, first.1[i].2);
        // Tolerance ∝ n^{-1/4}: 0.15 at d = 32 (n = 128), 0.106 at d = 128. Observed at d = 128
        // (6 seeds): spiked 0.020/0.022, cget 0.018/0.033, hermite 0.015/0.017 (train/test).
        let tol = 0.15 * (32.0 / last.0 as f64).powf(0.25);
        assert!(
            *tr < tol && *te < tol,
            "{m}: |Δ| train {tr:.4}, test {te:.4} at d = {} exceed {tol:.4}; all: {report}",
            last.0
        );
        assert!(
            tr + te < tr0 + te0,
            "{m}: |Δ| did not shrink from d = {} ({tr0:.4}, {te0:.4}) to d = {} ({tr:.4}, {te:.4}); all: {report}",
            first.0,
            last.0
        );
    }
}

/// Target B (σ* = He₁ + He₂/√2, ‖P_{>1}σ*‖² = 1): the infinite-spike ℓ = 1 model is a (ridge-)
/// linear predictor plus random features that learn no non-linear part at n = 4d, so its noiseless
/// risk never falls below the best linear predictor's ‖P_{>1}σ*‖² beyond its fluctuation, at any λ
/// of a path. ℓ = 2 has the quadratic column (X̃β)^{∘2}: the theory puts it below 1 at a good λ
/// (0.968 at λ = 1, 0.985 at λ = 0.1, φ = 4, ψ = 1), but only by ~3%, and simulation at d = 256
/// sits ~5% above the theory (1.018 ± 0.032 at λ = 1 over 6 seeds; docs/model.md §7 has 1.015 at
/// d = 2048, λ = 0.1), so in simulation we assert the robust part: ℓ = 2 is far below ℓ = 1 at
/// every λ, and the theory's ℓ = 2 beats the best linear predictor at the best λ of the path.
/// (Without an intercept column t² = ‖β‖²(He₂(u) + 1) drags a mean offset along, which is why
/// the margin is small: at λ → ∞ the theory's ℓ = 2 risk is 1.039.)
#[test]
fn inf_spike_1_never_beats_best_linear_but_inf_spike_2_does() {
    let lambdas = [1e-2, 0.1, 1.0, 10.0];
    let d = if slow() { 512 } else { 256 };
    let cfg = config(
        d,
        0.3,
        &lambdas,
        "inf_spike_1,inf_spike_2,best_linear",
        8192,
    );
    let b = FaerBackend::new(2);
    let seeds = 6u64;
    // clean[m][i][s]: noiseless risk of model m at λ_i for seed s.
    let mut clean = vec![vec![Vec::new(); lambdas.len()]; 2];
    let mut fitted_linear = Vec::new();
    for seed in 0..seeds {
        let t = run_trial(&b, &cfg, 200 + seed, &mut |_| {}).expect("trial runs");
        assert_eq!(t.errors_path.len(), lambdas.len());
        for (i, p) in t.errors_path.iter().enumerate() {
            clean[0][i].push(p.errors["inf_spike_1"].test_clean);
            clean[1][i].push(p.errors["inf_spike_2"].test_clean);
        }
        fitted_linear.push(t.errors["best_linear"].test_clean);
    }
    let best_linear = 1.0; // ‖P_{>1}σ*‖² for target B
    let stats = |xs: &[f64]| onestep_metrics::mean_sd(xs);
    let report = format!(
        "λ {lambdas:?}; ℓ=1 {:?}; ℓ=2 {:?}; fitted OLS {:?}",
        clean[0].iter().map(|v| stats(v)).collect::<Vec<_>>(),
        clean[1].iter().map(|v| stats(v)).collect::<Vec<_>>(),
        stats(&fitted_linear)
    );
    eprintln!("{report}");
    for (i, v) in clean[0].iter().enumerate() {
        let s = stats(v);
        // Fluctuation: three standard errors of the mean over seeds (each seed has its own
        // batches and test set, so the spread includes the test-set error).
        let fluct = 3.0 * s.sd / (seeds as f64).sqrt();
        assert!(
            s.mean > best_linear - fluct,
            "ℓ = 1 beats the best linear predictor at λ = {}: {:.4} < 1 − {fluct:.4}; {report}",
            lambdas[i],
            s.mean
        );
    }
    for (i, (v1, v2)) in clean[0].iter().zip(&clean[1]).enumerate() {
        let (s1, s2) = (stats(v1), stats(v2));
        let gap = 3.0 * (s1.sd + s2.sd) / (seeds as f64).sqrt();
        assert!(
            s2.mean + 0.15 < s1.mean - gap,
            "ℓ = 2 not clearly below ℓ = 1 at λ = {}: {:.4} vs {:.4} (3 se {gap:.4}); {report}",
            lambdas[i],
            s2.mean,
            s1.mean
        );
    }
    let theory = onestep_pipeline::theory_summary(&cfg).expect("theory");
    let best2 = theory
        .errors_path
        .iter()
        .map(|p| p.errors["inf_spike_2"].test_clean)
        .fold(f64::INFINITY, f64::min);
    let best1 = theory
        .errors_path
        .iter()
        .map(|p| p.errors["inf_spike_1"].test_clean)
        .fold(f64::INFINITY, f64::min);
    assert!(
        best2 < best_linear - 0.01 && best1 > best_linear + 0.1,
        "theory: best ℓ = 2 risk {best2:.4}, best ℓ = 1 risk {best1:.4}, best linear {best_linear}"
    );
}

/// The λ path at the pipeline level: a run with several λ records, at each λ, exactly the errors
/// of a run with that λ alone (same eigendecompositions, same streams), `errors` equals the first
/// entry, and choosing fewer models leaves the others' numbers unchanged.
#[test]
fn lambda_path_matches_single_runs_and_models_are_independent() {
    let lambdas = [0.3, 0.01, 1.0];
    let path_cfg = config(32, 0.3, &lambdas, "all", 512);
    let b = FaerBackend::new(2);
    let t = run_trial(&b, &path_cfg, 7, &mut |_| {}).unwrap();
    assert_eq!(t.errors_path.len(), 3);
    assert_eq!(t.errors, t.errors_path[0].errors);
    let keys: Vec<&String> = t.errors.keys().collect();
    let mut want: Vec<String> = ALL
        .iter()
        .map(|m| m.name())
        .chain(["nn".into(), "rf".into()])
        .collect();
    want.sort();
    assert_eq!(keys, want.iter().collect::<Vec<_>>());
    for (i, &l) in lambdas.iter().enumerate() {
        let single = errs(&config(32, 0.3, &[l], "all", 512), 7);
        for (k, e) in &single {
            let p = t.errors_path[i].errors[k];
            for (a, b) in [
                (p.train, e.train),
                (p.train_penalised, e.train_penalised),
                (p.test, e.test),
                (p.test_clean, e.test_clean),
            ] {
                assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                    "{k} at λ = {l}: path {a} vs single {b}"
                );
            }
        }
    }
    // Held in memory like the run with every model (a run whose models all stream is streamed
    // by default: the same numbers to rounding, not bit for bit).
    let mut few_cfg = config(32, 0.3, &[0.3], "none", 512);
    few_cfg.stream_rows = None;
    let few = errs(&few_cfg, 7);
    assert_eq!(few.keys().collect::<Vec<_>>(), ["nn", "rf"]);
    assert_eq!((few["nn"], few["rf"]), (t.errors["nn"], t.errors["rf"]));
    let one = errs(&config(32, 0.3, &[0.3], "cget", 512), 7);
    assert_eq!(one["cget"], t.errors["cget"]);
    assert!(path_cfg.models.contains(&Model::Hermite));
}

/// Bad `--models` and `--lambda` values are refused by `SimConfig::check` with one line naming
/// the flag, the value and what is allowed.
#[test]
fn bad_models_and_lambdas_are_refused() {
    let base = SimConfig::default();
    let cases: Vec<(SimConfig, &str, &str)> = vec![
        (
            SimConfig {
                models: vec!["spiky".into()],
                ..base.clone()
            },
            "--models",
            "spiky",
        ),
        (
            SimConfig {
                models: vec![],
                ..base.clone()
            },
            "--models",
            "allowed",
        ),
        (
            SimConfig {
                models: vec!["spiked,,cget".into()],
                ..base.clone()
            },
            "--models",
            "allowed",
        ),
        (
            SimConfig {
                extra_lambdas: vec![f64::NAN],
                ..base.clone()
            },
            "--lambda",
            "NaN",
        ),
        (
            SimConfig {
                extra_lambdas: vec![0.1, 0.0],
                ..base.clone()
            },
            "--lambda",
            "got 0",
        ),
        (
            SimConfig {
                lambda: -1.0,
                ..base.clone()
            },
            "--lambda",
            "-1",
        ),
    ];
    for (cfg, flag, value) in cases {
        let e = cfg.check(MEM).unwrap_err().to_string();
        assert!(
            e.starts_with(flag) && e.contains(value) && e.contains("allowed") && !e.contains('\n'),
            "{e}"
        );
    }
    for spec in ["", "x", "1:2", "0.1,,1", "0:1:3"] {
        let e = onestep_pipeline::config::parse_lambdas(spec)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--lambda") && e.contains("allowed") && !e.contains('\n'),
            "{e}"
        );
    }
}
