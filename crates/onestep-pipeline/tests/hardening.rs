//! The pipeline on inputs at the edge: a model that cannot be fitted at a tiny size is skipped
//! with its reason (the rest of the trial stands), features that overflow name the flags
//! responsible, values that would overflow or wrap are refused with the flag's rule.
use onestep_linalg::FaerBackend;
use onestep_pipeline::trial::PipelineError;
use onestep_pipeline::{SimConfig, run_trial};

#[test]
fn an_unfittable_model_is_skipped_with_its_reason() {
    let cfg = SimConfig {
        d: 1,
        width: 1,
        n: 2,
        n_test: 1,
        ..SimConfig::default()
    }
    .check(f64::INFINITY)
    .unwrap();
    let t = run_trial(&FaerBackend::new(1), &cfg, 0, &mut |_| {}).expect("the trial stands");
    let why = &t.unavailable["inf_spike_3"];
    assert!(
        why.starts_with("cannot be fitted at this size: ") && why.contains("linearly dependent"),
        "{why}"
    );
    assert!(!t.errors.contains_key("inf_spike_3"));
    for k in ["nn", "rf", "best_linear"] {
        let e = &t.errors[k];
        assert!(e.train.is_finite() && e.test.is_finite(), "{k}: {e:?}");
    }
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["unavailable"]["inf_spike_3"], serde_json::json!(why));
}

#[test]
fn overflowing_features_name_the_flags() {
    // A cubic activation at weights moved by η₀ = 1e6 with σ_ε = 1e100: σ(Wx) ≈ 1e318.
    let cfg = SimConfig {
        d: 8,
        width: 8,
        n: 32,
        n_test: 8,
        eta0: 1e6,
        noise: 1e100,
        activation: "hermite:0,0,0,1".into(),
        models: vec!["none".into()],
        ..SimConfig::default()
    }
    .check(f64::INFINITY)
    .unwrap();
    let e = run_trial(&FaerBackend::new(1), &cfg, 0, &mut |_| {}).unwrap_err();
    assert!(matches!(e, PipelineError::Overflow(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("--eta0") && m.contains("--noise") && m.contains("after the step"),
        "{m}"
    );
}

#[test]
fn values_that_overflow_or_wrap_are_refused() {
    let check = |f: fn(&mut SimConfig)| {
        let mut c = SimConfig::default();
        f(&mut c);
        c.check(f64::INFINITY).unwrap_err().to_string()
    };
    let e = check(|c| {
        c.seed = u64::MAX;
        c.trials = 2;
    });
    assert!(
        e.starts_with("--seed: got 18446744073709551615") && e.contains("wrap"),
        "{e}"
    );
    let last = SimConfig {
        seed: u64::MAX - 1,
        trials: 2,
        ..SimConfig::default()
    }
    .check(f64::INFINITY)
    .unwrap();
    assert_eq!(
        last.trial_seeds().collect::<Vec<_>>(),
        vec![u64::MAX - 1, u64::MAX]
    );
    for (e, flag) in [
        (check(|c| c.eta0 = 1e7), "--eta0"),
        (check(|c| c.noise = 1e101), "--noise"),
        (
            check(|c| c.activation = "hermite:0,1e60".into()),
            "--activation",
        ),
        (check(|c| c.target = "hermite:0,1e60".into()), "--target"),
    ] {
        assert!(e.starts_with(&format!("{flag}: got ")), "{e}");
    }
    assert!(check(|c| c.activation = "hermite:0,1e60".into()).contains("E f(g)²"));
}
