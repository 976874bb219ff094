//! The summary table: aligned columns, no NaN or inf printed, a reason for every missing model,
//! no "± 0" for one trial, and the numbers of the JSON summary (`onestep::output::summarize`).
use super::{Run, render};
use onestep::linalg::FaerBackend;
use onestep::output::summarize;
use onestep::pipeline::theory::TheorySummary;
use onestep::pipeline::{SimConfig, Trial, ValidConfig, run_trial, theory_summary};
use serde_json::Value;

const RUN: Run = Run {
    backend: "faer",
    threads: 1,
    wall_s: 0.25,
};

/// The properties every table has; returns it.
fn check(cfg: &ValidConfig, trials: &[Trial], th: &TheorySummary) -> String {
    let text = render(cfg, trials, th, &RUN);
    for w in text.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
        assert!(
            !(w.contains("NaN") || w == "inf" || w == "-inf"),
            "{w} printed:\n{text}"
        );
    }
    // Every row between the header and the first note or λ path has the same width.
    let notes = ["(", "λ path", "theory for ", "simulation of "];
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !notes.iter().any(|n| l.starts_with(n)))
        .collect();
    let width = rows[0].chars().count();
    for r in &rows {
        assert_eq!(r.chars().count(), width, "misaligned row {r:?} in\n{text}");
    }
    if trials.len() == 1 {
        assert!(
            !text.contains('±') || text.contains("(mean ± sd)"),
            "{text}"
        );
        assert!(!text.contains("± 0.0000"), "{text}");
    }
    // The NN's simulated test error is the JSON summary's.
    let values: Vec<Value> = trials
        .iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    let summary = summarize(&values);
    let nn = rows.iter().find(|r| r.starts_with("NN test ")).unwrap();
    match summary["errors"]["nn"]["test"].as_f64() {
        Some(v) => assert!(nn.contains(&super::num(v)), "{nn} vs {v}"),
        None => assert!(nn.contains('—'), "{nn}"),
    }
    text
}

fn setup(
    models: &str,
    lambdas: &[f64],
    f: impl FnOnce(&mut SimConfig),
) -> (ValidConfig, Vec<Trial>, TheorySummary) {
    let mut raw = SimConfig {
        d: 32,
        width: 32,
        n: 128,
        n_test: 256,
        lambda: lambdas[0],
        extra_lambdas: lambdas[1..].to_vec(),
        models: vec![models.into()],
        trials: 3,
        ..SimConfig::default()
    };
    f(&mut raw);
    let cfg = raw.check(f64::INFINITY).unwrap();
    let b = FaerBackend::new(1);
    let mut trials: Vec<Trial> = (0..cfg.trials as u64)
        .map(|s| run_trial(&b, &cfg, s, &mut |_| {}).unwrap())
        .collect();
    let th = theory_summary(&cfg).unwrap();
    th.finish_trials(&cfg, &mut trials);
    (cfg, trials, th)
}

#[test]
fn real_runs() {
    let (cfg, trials, th) = setup("all", &[0.01, 0.1, 1.0], |_| {});
    let text = check(&cfg, &trials, &th);
    assert!(
        text.contains("cond. Gaussian equiv. test (noiseless)"),
        "{text}"
    );
    let (cfg, trials, th) = setup("none", &[0.1], |c| {
        c.trials = 1;
        c.activation = "relu".into();
        c.residual = "full".into();
    });
    let text = check(&cfg, &trials, &th);
    assert!(text.contains("theory for nn unavailable"), "{text}");
    assert!(
        !text.contains("spike degrees") && !text.contains("best linear"),
        "{text}"
    );
    let (cfg, trials, th) = setup("spiked,inf_spike_3,best_linear", &[0.1, 1.0], |c| {
        c.trials = 2;
        c.alpha = 0.0;
        c.activation = "tanh".into();
    });
    check(&cfg, &trials, &th);
}

#[test]
fn missing_and_non_finite_values() {
    let (cfg, base, th0) = setup("all", &[0.01, 0.1, 1.0], |_| {});
    type Edit = fn(&mut Vec<Trial>, &mut TheorySummary);
    let edits: &[Edit] = &[
        |t, _| t[0].beta.overlap = f64::NAN,
        |t, _| t[1].beta.norm2 = f64::INFINITY,
        |t, _| {
            t[0].beta.overlap = 1e308;
            t[1].beta.overlap = 1e308;
            t[0].beta.norm2 = 1e200;
            t[1].beta.norm2 = -1e200;
        },
        |t, _| t[0].spectrum.bulk_edge = f64::NAN,
        |t, _| t[0].spectrum.alignment[2] = f64::NAN,
        |t, _| t[1].spectrum.alignment[0] = f64::NAN,
        |t, _| t[0].spectrum.alignment.truncate(1),
        |t, _| {
            t[1].spectrum.top.truncate(2);
            t[0].spectrum.top[1] = f64::NAN;
        },
        |t, _| {
            t[0].errors.remove("cget");
            t[1].errors.remove("rf");
            t[0].errors.get_mut("nn").unwrap().test = f64::NAN;
            t[2].errors.get_mut("hermite").unwrap().train = f64::NAN;
        },
        |t, _| {
            t[1].errors_path.truncate(2);
            t[2].errors_path.clear();
            t[0].errors_path[1].errors.remove("rf");
            t[1].errors_path[0].lambda = f64::NAN;
            t[0].errors_path[0].errors.get_mut("nn").unwrap().train = f64::NAN;
        },
        |t, _| {
            for t in t.iter_mut().skip(1) {
                t.errors_path.truncate(1);
            }
        },
        |t, _| t[0].errors_path.clear(),
        |_, th| {
            th.beta.inner = f64::NAN;
            th.bulk_edge = None;
            th.spike_locations.push(f64::NAN);
            th.alignment = vec![None, Some(f64::INFINITY)];
            th.errors.remove("spiked");
            th.errors.remove("nn");
            th.errors.get_mut("rf").unwrap().test = f64::NAN;
            th.unavailable.insert("cget".into(), "no theory".into());
            th.unavailable
                .insert("best_linear".into(), "also none".into());
            th.equivalents.spike_degrees.clear();
        },
        |_, th| {
            th.spike_locations.clear();
            th.bulk_edge = Some(f64::NAN);
            th.equivalents.spike_degrees = vec![3];
        },
    ];
    for edit in edits {
        let (mut trials, mut th) = (base.clone(), th0.clone());
        edit(&mut trials, &mut th);
        check(&cfg, &trials, &th);
    }
}

#[test]
fn a_model_without_simulated_errors_gets_its_reason() {
    let (cfg, mut trials, th) = setup("all", &[0.1], |_| {});
    for t in trials.iter_mut().take(2) {
        t.errors.remove("inf_spike_3");
        t.unavailable.insert(
            "inf_spike_3".into(),
            "cannot be fitted at this size: why".into(),
        );
    }
    let text = check(&cfg, &trials, &th);
    assert!(
        text.contains("simulation of inf_spike_3 unavailable in 2 of 3 trials: cannot be fitted at this size: why"),
        "{text}"
    );
}
