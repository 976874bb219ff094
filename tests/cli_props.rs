//! Property test over the command line's inputs: flag values drawn from extremes (0, 1, huge,
//! negative, NaN, inf, 1e-300, 1e300, u64::MAX, malformed text) on tiny sizes. Every run either
//! exits 0 with only finite numbers in its JSON (and every missing one explained), or exits
//! non-zero with exactly one line on stderr that names a flag; never a panic, never a file left
//! in the output directory other than the result.
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Values a user might type, ordinary and extreme.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "0.3",
    "-1",
    "-0.1",
    "1e-300",
    "1e300",
    "1e155",
    "NaN",
    "inf",
    "-inf",
    "18446744073709551615",
    "99999999999999999999999",
    "x",
    "",
];

const FUNCTIONS: &[&str] = &[
    "relu",
    "relu-centered",
    "tanh",
    "hermite:0,1",
    "hermite:0,1,0.7",
    "hermite:0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1",
    "hermite:0,1e200",
    "hermite:",
    "hermite:1,x",
    "swish",
];

/// Every number in a JSON tree is finite (serde writes NaN and inf as null; nulls are checked
/// by the caller through the `unavailable` maps).
fn numbers_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        Value::Array(a) => a.iter().all(numbers_finite),
        Value::Object(o) => o.values().all(numbers_finite),
        _ => true,
    }
}

/// Every model of the summary's errors has its train and test error, or a reason.
fn errors_explained(doc: &Value) -> Result<(), String> {
    let s = &doc["summary"];
    let th = &s["theory"];
    for (k, e) in th["errors"].as_object().into_iter().flatten() {
        for q in ["train", "test", "test_clean"] {
            if !e[q].is_number() {
                return Err(format!("theory {k}.{q} is {} without reason", e[q]));
            }
        }
    }
    let first = &doc["trials"][0];
    for (k, e) in first["errors"].as_object().into_iter().flatten() {
        for q in ["train", "test", "test_clean"] {
            if !e[q].is_number() {
                return Err(format!("simulated {k}.{q} is {}", e[q]));
            }
        }
    }
    Ok(())
}

fn check_run(args: &[String], dir: &Path) -> Result<(), String> {
    let json = dir.join("out.json");
    // A failing case, or one being shrunk, may have left its result.
    let _ = std::fs::remove_file(&json);
    let out = Command::new(env!("CARGO_BIN_EXE_onestep"))
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    if err.contains("panicked") || err.contains("internal error") || out.status.code() == Some(70) {
        return Err(format!("panic: {err}"));
    }
    let mut leftovers: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out.json")
        .collect();
    leftovers.sort();
    if !leftovers.is_empty() {
        return Err(format!("left in the output directory: {leftovers:?}"));
    }
    if out.status.success() {
        if args.iter().any(|a| a == "--json") {
            let text = std::fs::read_to_string(&json).map_err(|e| format!("no JSON: {e}"))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if !numbers_finite(&doc) {
                return Err("a non-finite number in the JSON".into());
            }
            if doc.get("summary").is_some() {
                errors_explained(&doc)?;
            }
            let _ = std::fs::remove_file(&json);
        }
        // No number printed as NaN or inf (footnotes, which give reasons in words, aside).
        let stdout = String::from_utf8_lossy(&out.stdout);
        let numbers = stdout
            .lines()
            .filter(|l| !l.starts_with("simulation of ") && !l.starts_with("theory for "));
        for l in numbers {
            if l.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
                .any(|w| ["NaN", "inf", "-inf"].contains(&w))
            {
                return Err(format!("a non-finite number printed: {l}\n{stdout}"));
            }
        }
        Ok(())
    } else {
        if json.exists() {
            return Err("a failed run wrote its JSON".into());
        }
        match lines.as_slice() {
            [l] if l.starts_with("error: ") && l.contains("--") => Ok(()),
            [l] if l.starts_with("error: ") && l.contains("trial") => Ok(()),
            _ => Err(format!("not one line naming a flag: {err}")),
        }
    }
}

/// A tiny simulate run with `flags` overridden.
fn simulate_args(flags: &[(&str, String)], dir: &Path) -> Vec<String> {
    let mut base: Vec<(&str, String)> = vec![
        ("--d", "8".into()),
        ("--width", "8".into()),
        ("--n", "32".into()),
        ("--n-test", "16".into()),
        ("--threads", "1".into()),
    ];
    for (f, v) in flags {
        base.retain(|(g, _)| g != f);
        base.push((f, v.clone()));
    }
    let mut args = vec!["simulate".to_string()];
    for (f, v) in base {
        args.push(f.into());
        args.push(v);
    }
    args.push("--json".into());
    args.push(dir.join("out.json").display().to_string());
    args
}

fn theory_args(cmd: &str, flags: &[(&str, String)], dir: &Path) -> Vec<String> {
    let mut args = vec!["theory".to_string(), cmd.to_string()];
    for (f, v) in flags {
        args.push((*f).into());
        args.push(v.clone());
    }
    if cmd == "spikes" || cmd == "network" {
        for (f, v) in [("--d", "64"), ("--width", "64"), ("--n", "256")] {
            if !flags.iter().any(|(g, _)| *g == f) {
                args.push(f.into());
                args.push(v.into());
            }
        }
    }
    args.push("--json".into());
    args.push(dir.join("out.json").display().to_string());
    args
}

fn value(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(str::to_string)
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("onestep-props-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// 64 cases from a fixed seed by default (seconds, and the same cases on every run);
/// PROPTEST_CASES=N for a longer search and PROPTEST_RNG_SEED=S for other cases.
fn config() -> ProptestConfig {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
    ProptestConfig {
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(1)),
        ..ProptestConfig::with_cases(env("PROPTEST_CASES").map_or(64, |c: u64| c as u32))
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn simulate_never_panics_or_lies(
        flags in proptest::collection::vec(
            prop_oneof![
                value(NUMBERS).prop_map(|v| ("--d", v)),
                value(NUMBERS).prop_map(|v| ("--width", v)),
                value(NUMBERS).prop_map(|v| ("--n", v)),
                value(NUMBERS).prop_map(|v| ("--n-test", v)),
                value(NUMBERS).prop_map(|v| ("--alpha", v)),
                value(NUMBERS).prop_map(|v| ("--eta0", v)),
                value(NUMBERS).prop_map(|v| ("--lambda", v)),
                value(NUMBERS).prop_map(|v| ("--noise", v)),
                value(NUMBERS).prop_map(|v| ("--trials", v)),
                value(NUMBERS).prop_map(|v| ("--seed", v)),
                value(FUNCTIONS).prop_map(|v| ("--activation", v)),
                value(FUNCTIONS).prop_map(|v| ("--target", v)),
            ],
            1..4,
        )
    ) {
        // Sizes that pass the checks stay tiny: keep d, width, n, n-test, trials ≤ 64 or refused.
        let sized = ["--d", "--width", "--n", "--n-test", "--trials"];
        prop_assume!(!flags.iter().any(|(f, v)| sized.contains(f)
            && v.parse::<f64>().is_ok_and(|x| (65.0..1e7).contains(&x))));
        let d = dir("sim");
        let args = simulate_args(&flags, &d);
        if let Err(e) = check_run(&args, &d) {
            prop_assert!(false, "{}: {}", args.join(" "), e);
        }
    }

    #[test]
    fn theory_never_panics_or_lies(
        cmd in proptest::sample::select(&["errors", "staircase", "spikes", "network"][..]),
        flags in proptest::collection::vec(
            prop_oneof![
                value(NUMBERS).prop_map(|v| ("--lambda", v)),
                value(NUMBERS).prop_map(|v| ("--noise", v)),
                value(FUNCTIONS).prop_map(|v| ("--activation", v)),
                value(FUNCTIONS).prop_map(|v| ("--target", v)),
                value(NUMBERS).prop_map(|v| ("--phi", v)),
                value(NUMBERS).prop_map(|v| ("--psi", v)),
                value(NUMBERS).prop_map(|v| ("--ell", v)),
                value(NUMBERS).prop_map(|v| ("--alpha", v)),
                value(NUMBERS).prop_map(|v| ("--eta0", v)),
                value(NUMBERS).prop_map(|v| ("--alpha-grid", v)),
            ],
            1..4,
        )
    ) {
        // Only the flags each command has.
        let has = |f: &str| match cmd {
            "errors" => ["--lambda", "--noise", "--activation", "--target", "--phi", "--psi", "--ell"].contains(&f),
            "staircase" => ["--lambda", "--noise", "--activation", "--target", "--phi", "--psi", "--alpha-grid"].contains(&f),
            "spikes" => ["--noise", "--activation", "--target", "--alpha", "--eta0"].contains(&f),
            _ => ["--lambda", "--noise", "--activation", "--target", "--alpha", "--eta0"].contains(&f),
        };
        let flags: Vec<(&str, String)> = flags.into_iter().filter(|(f, _)| has(f)).collect();
        // A large α grid is allowed and slow; keep it small when it passes.
        prop_assume!(!flags.iter().any(|(f, v)| *f == "--alpha-grid"
            && v.parse::<f64>().is_ok_and(|x| (50.0..1e6).contains(&x))));
        let d = dir("theory");
        let args = theory_args(cmd, &flags, &d);
        if let Err(e) = check_run(&args, &d) {
            prop_assert!(false, "{}: {}", args.join(" "), e);
        }
    }
}
