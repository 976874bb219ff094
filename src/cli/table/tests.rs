//! The typed table against the one the CLI printed before: that code, kept here verbatim as the
//! oracle, read the JSON summary (`onestep::output::summarize`) back by key. Both must give the
//! same text on real trials and on trials with missing and non-finite values.
use super::{Run, render};
use onestep::linalg::FaerBackend;
use onestep::output::summarize;
use onestep::pipeline::theory::TheorySummary;
use onestep::pipeline::{SimConfig, Trial, ValidConfig, run_trial, theory_summary};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt::Write as _;

thread_local! {
    static OUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The old code printed with `println!`; here it writes to `OUT`.
macro_rules! println {
    ($($t:tt)*) => {
        OUT.with(|o| writeln!(o.borrow_mut(), $($t)*).unwrap())
    };
}

/// The old table of `trials`, through the JSON summary as `simulate` builds it.
fn old_render(cfg: &ValidConfig, trials: &[Trial], th: &TheorySummary, run: &Run) -> String {
    let values: Vec<Value> = trials
        .iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    let mut summary = summarize(&values);
    summary["theory"] = serde_json::to_value(th).unwrap();
    OUT.with(|o| o.borrow_mut().clear());
    print_table(cfg, &summary, run.wall_s, run.backend, run.threads);
    OUT.with(|o| o.take())
}

// ---- verbatim from src/main.rs before the table was typed ----

fn pm(v: &Value, key: &str) -> String {
    match (
        v.get(key).and_then(Value::as_f64),
        v.get(format!("{key}_sd")).and_then(Value::as_f64),
    ) {
        (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
        (Some(m), None) => format!("{m:.4}"),
        _ => "—".into(),
    }
}

fn print_table(cfg: &ValidConfig, s: &Value, wall: f64, backend: &str, threads: usize) {
    println!(
        "onestep simulate  d={} N={} n={} n_test={} α={} η₀={} λ={} σ={} σ*={} σ_ε={} residual={} trials={} ({backend}, {threads} threads, {wall:.2} s)",
        cfg.d,
        cfg.width,
        cfg.n,
        cfg.n_test,
        cfg.alpha,
        cfg.eta0,
        cfg.lambdas
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(","),
        cfg.activation,
        cfg.target,
        cfg.noise,
        cfg.residual.name(),
        cfg.trials
    );
    let th = &s["theory"];
    println!(
        "{:<36} {:>22} {:>10}",
        "quantity", "simulation (mean ± sd)", "theory"
    );
    let row = |name: &str, sim: String, theory: Option<f64>| {
        println!(
            "{name:<36} {sim:>22} {:>10}",
            theory.map_or("—".into(), |t| format!("{t:.4}"))
        )
    };
    row(
        "⟨β,β*⟩",
        pm(&s["beta"], "overlap"),
        th["beta"]["inner"].as_f64(),
    );
    row(
        "‖β‖²",
        pm(&s["beta"], "norm2"),
        th["beta"]["norm2"].as_f64(),
    );
    row(
        "spikes detected",
        pm(&s["spectrum"], "spikes_detected"),
        th["spike_count"].as_f64(),
    );
    row(
        "bulk edge ‖F₀‖",
        pm(&s["spectrum"], "bulk_edge"),
        th["bulk_edge"].as_f64(),
    );
    let top: Vec<String> = s["spectrum"]["top"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(4)
                .filter_map(Value::as_f64)
                .map(|v| format!("{v:.1}"))
                .collect()
        })
        .unwrap_or_default();
    row("top singular values of F", top.join(", "), None);
    let predicted: Vec<String> = th["spike_locations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|v| format!("{v:.1}"))
                .collect()
        })
        .unwrap_or_default();
    println!(
        "{:<36} {:>22} {:>10}",
        "predicted outliers of F",
        "",
        if predicted.is_empty() {
            "none".to_string()
        } else {
            predicted.join(", ")
        }
    );
    for k in 0..3 {
        let a = &s["spectrum"]["alignment"];
        let sd = &s["spectrum"]["alignment_sd"];
        row(
            &format!("alignment k={}", k + 1),
            format!(
                "{:.4} ± {:.4}",
                a[k].as_f64().unwrap_or(f64::NAN),
                sd[k].as_f64().unwrap_or(f64::NAN)
            ),
            th["alignment"][k].as_f64(),
        );
    }
    let mut models: Vec<(String, String)> =
        vec![("nn".into(), "NN".into()), ("rf".into(), "RF".into())];
    let labels = [
        ("spiked", "spiked equivalent"),
        ("cget", "cond. Gaussian equiv."),
        ("hermite", "Hermite-ℓ model"),
        ("best_linear", "best linear (fitted)"),
    ];
    for m in &cfg.models {
        let key = m.name();
        let label = labels.iter().find(|(k, _)| *k == key).map_or_else(
            || key.replace("inf_spike_", "infinite spike ℓ="),
            |(_, l)| l.to_string(),
        );
        models.push((key, label));
    }
    for (model, label) in &models {
        let e = &s["errors"][model.as_str()];
        let t = &th["errors"][model.as_str()];
        for (k, kname) in [
            ("train", "train"),
            ("test", "test"),
            ("test_clean", "test (noiseless)"),
        ] {
            row(&format!("{label} {kname}"), pm(e, k), t[k].as_f64());
        }
    }
    if let Some(path) = s["errors_path"].as_array().filter(|p| p.len() > 1) {
        println!("λ path: test error (train) by model, simulation mean over trials");
        let header: Vec<String> = models.iter().map(|(m, _)| format!("{m:>20}")).collect();
        println!("{:>10} {}", "λ", header.join(" "));
        for p in path {
            let cells: Vec<String> = models
                .iter()
                .map(|(m, _)| {
                    let e = &p["errors"][m.as_str()];
                    match (e["test"].as_f64(), e["train"].as_f64()) {
                        (Some(te), Some(tr)) => format!("{:>20}", format!("{te:.4} ({tr:.4})")),
                        _ => format!("{:>20}", "—"),
                    }
                })
                .collect();
            println!(
                "{:>10.4e} {}",
                p["lambda"].as_f64().unwrap_or(f64::NAN),
                cells.join(" ")
            );
        }
    }
    let eq = &th["equivalents"];
    println!(
        "(spiked/cget spike degrees {}; Hermite model ℓ = {}; best linear: fitted least squares, theory column = population ‖P_>1 σ*‖² + σ_ε²)",
        eq["spike_degrees"], eq["hermite_degree"]
    );
    if let Some(u) = th["unavailable"].as_object().filter(|u| !u.is_empty()) {
        for (k, v) in u {
            println!("theory for {k} unavailable: {}", v.as_str().unwrap_or(""));
        }
    }
    println!(
        "(NN theory column: the finite-n network theory, docs/theory.md §10; test errors include the label noise)"
    );
}

// ---- end of the old code ----

fn check(cfg: &ValidConfig, trials: &[Trial], th: &TheorySummary) {
    let run = Run {
        backend: "faer",
        threads: 1,
        wall_s: 0.25,
    };
    let (new, old) = (
        render(cfg, trials, th, &run),
        old_render(cfg, trials, th, &run),
    );
    assert_eq!(new, old, "typed table:\n{new}\nold table:\n{old}");
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
    let trials = (0..cfg.trials as u64)
        .map(|s| run_trial(&b, &cfg, s, &mut |_| {}).unwrap())
        .collect();
    let th = theory_summary(&cfg).unwrap();
    (cfg, trials, th)
}

#[test]
fn real_runs_print_as_before() {
    let (cfg, trials, th) = setup("all", &[0.01, 0.1, 1.0], |_| {});
    check(&cfg, &trials, &th);
    let (cfg, trials, th) = setup("none", &[0.1], |c| {
        c.trials = 1;
        c.activation = "relu".into();
        c.residual = "full".into();
    });
    check(&cfg, &trials, &th);
    let (cfg, trials, th) = setup("spiked,inf_spike_3,best_linear", &[0.1, 1.0], |c| {
        c.trials = 2;
        c.alpha = 0.0;
        c.activation = "tanh".into();
    });
    check(&cfg, &trials, &th);
}

#[test]
fn missing_and_non_finite_values_print_as_before() {
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
