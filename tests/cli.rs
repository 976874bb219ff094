//! End-to-end: the `onestep` binary on bad input (one line, non-zero exit, no file written) and a
//! small valid run whose JSON carries the documented schema.
use std::path::PathBuf;
use std::process::Command;

fn onestep(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_onestep"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onestep-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SMALL: [&str; 10] = [
    "simulate", "--d", "32", "--width", "32", "--n", "128", "--n-test", "256", "--trials",
];

#[test]
fn bad_inputs_fail_with_one_line_naming_the_flag_and_write_nothing() {
    let dir = tmp("bad");
    let json = dir.join("out.json");
    let cases: &[(&[&str], &str)] = &[
        (&["--lambda", "-0.1"], "--lambda"),
        (&["--lambda", "NaN"], "--lambda"),
        (&["--lambda", "0"], "--lambda"),
        (&["--alpha", "0.5"], "--alpha"),
        (&["--alpha", "-0.1"], "--alpha"),
        (&["--d", "0"], "--d"),
        (&["--width", "0"], "--width"),
        (&["--n", "0"], "--n"),
        (&["--n-test", "0"], "--n-test"),
        (&["--activation", "swish"], "--activation"),
        (&["--target", "hermite:1,x,2"], "--target"),
        (&["--target", "hermite:"], "--target"),
        (&["--noise", "-1"], "--noise"),
        (&["--residual", "both"], "--residual"),
        (&["--init", "uniform"], "--init"),
        (&["--d", "-1"], "--d: got -1; allowed: an integer ≥ 1"),
        (&["--trials", "-3"], "--trials: got -3"),
        (&["--seed", "-1"], "--seed: got -1"),
        (&["--seed", "18446744073709551615", "--trials", "2"], "wrap"),
        (&["--eta0", "1e300"], "--eta0"),
        (&["--noise", "1e300"], "--noise"),
        (&["--activation", "hermite:0,1e200"], "--activation"),
        (
            &["--d", "1000000", "--width", "1000000", "--n", "1000000"],
            "reduce",
        ),
    ];
    for (extra, needle) in cases {
        let mut args: Vec<&str> = SMALL.to_vec();
        args.push("1");
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--json", json.to_str().unwrap()]);
        let (ok, _, err) = onestep(&args);
        assert!(!ok, "{extra:?} was accepted");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{extra:?}: expected one line, got {err:?}");
        assert!(
            lines[0].contains(needle),
            "{extra:?}: message {:?} does not mention {needle}",
            lines[0]
        );
        assert!(
            !err.contains("panicked") && !err.contains("internal error"),
            "{extra:?} panicked: {err}"
        );
        assert!(!json.exists(), "{extra:?} wrote a JSON file");
    }
    let (ok, _, err) = onestep(&["simulate", "--json", "/nonexistent-dir/x.json"]);
    assert!(!ok && err.contains("--json"), "{err}");
    let (ok, _, err) = onestep(&["theory", "errors", "--lambda", "0"]);
    assert!(!ok && err.contains("lambda"), "{err}");
    for (args, needle) in [
        (&["theory", "staircase", "--ell", "3"][..], "'--ell'"),
        (&["theory", "errors", "--noise", "-1"], "--noise: got -1"),
        (
            &["theory", "errors", "--phi", "1e-300"],
            "--phi: got 1e-300",
        ),
        (
            &["theory", "errors", "--ell", "18446744073709551615"],
            "--ell: got",
        ),
        (
            &["theory", "network", "--lambda", "1e-300"],
            "--lambda: got 1e-300",
        ),
        (
            &[
                "figure",
                "errors",
                "--out",
                "x",
                "--seeds",
                "18446744073709551615",
            ],
            "--seeds: got",
        ),
    ] {
        let (ok, _, err) = onestep(args);
        assert!(
            !ok && err.lines().count() == 1 && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

/// The memory guard counts `ulimit -v`: a run that would fail to allocate is refused up front.
#[test]
fn the_memory_guard_honours_ulimit() {
    let bin = env!("CARGO_BIN_EXE_onestep");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 700000 && exec {bin} simulate --d 1024 --width 1024 --n 4096 --n-test 8192"
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.starts_with("error: sizes d=1024") && err.contains("the budget is"),
        "{err}"
    );
}

/// Two figure runs into one folder: the second is refused at once, the first completes.
#[test]
fn a_figure_folder_is_locked_while_a_run_writes_it() {
    let dir = tmp("lock");
    let bin = env!("CARGO_BIN_EXE_onestep");
    let first = Command::new(bin)
        .args(["figure", "errors", "--quick", "--threads", "1", "--out"])
        .arg(&dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first run to take the lock (it writes its pid into the lock file).
    let lock = dir.join(".onestep.lock");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |s| s.trim() != first.id().to_string()) {
        assert!(
            t0.elapsed().as_secs() < 30,
            "the first run never locked {}",
            dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (ok, _, err) = onestep(&[
        "figure",
        "staircase",
        "--quick",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !ok && err.contains("in use by another onestep run"),
        "{err}"
    );
    assert!(dir.join("errors.csv").exists() && !dir.join("staircase.csv").exists());
}

#[test]
fn small_run_writes_the_documented_schema() {
    let dir = tmp("ok");
    let json = dir.join("run.json");
    let mut args: Vec<&str> = SMALL.to_vec();
    args.extend_from_slice(&["2", "--json", json.to_str().unwrap()]);
    let (ok, stdout, err) = onestep(&args);
    assert!(ok, "{err}");
    assert!(stdout.contains("NN test"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    // The memory estimate, kept beside the measured peak (on a terminal it is printed too).
    let m = &v["provenance"]["memory"];
    for k in ["estimated_peak_bytes", "limit_bytes", "peak_rss_bytes"] {
        assert!(m[k].as_f64().is_some_and(|b| b > 0.0), "{k}: {m}");
    }
    let s = &v["summary"];
    for path in [
        "/beta/overlap",
        "/beta/norm2",
        "/spectrum/bulk_edge",
        "/spectrum/spikes_detected",
        "/theory/spike_count",
    ] {
        assert!(
            s.pointer(path)
                .and_then(|x| x.as_f64())
                .is_some_and(f64::is_finite),
            "summary{path} missing or not finite"
        );
    }
    assert!(
        s.pointer("/spectrum/top")
            .and_then(|x| x.as_array())
            .is_some_and(|a| a.len() >= 8)
    );
    assert_eq!(
        s.pointer("/spectrum/alignment")
            .and_then(|x| x.as_array())
            .map(Vec::len),
        Some(3)
    );
    for model in ["nn", "rf"] {
        for k in ["train", "test", "test_clean"] {
            assert!(
                s["errors"][model][k].as_f64().is_some_and(f64::is_finite),
                "errors.{model}.{k}"
            );
            assert!(
                s["errors"][model][format!("{k}_sd")].as_f64().is_some(),
                "errors.{model}.{k}_sd"
            );
        }
    }
    assert_eq!(v["trials"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["seeds"], serde_json::json!([0, 1]));
    assert_eq!(v["provenance"]["backend"], "faer");
    assert_eq!(v["config"]["residual"], "labels");
    // No temporary files left next to the output.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn theory_commands_print_errors() {
    let (ok, out, err) = onestep(&["theory", "errors", "--ell", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("train") && out.contains("test_clean"), "{out}");
    let (ok, out, err) = onestep(&[
        "theory",
        "staircase",
        "--alpha-grid",
        "10",
        "--max-ell",
        "3",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 11, "{out}");
    let (ok, out, err) = onestep(&[
        "theory", "spikes", "--d", "512", "--width", "512", "--n", "2048", "--alpha", "0.3",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("ℓ(α) = 2") && out.contains("bulk edge"),
        "{out}"
    );
    let (ok, _, err) = onestep(&["theory", "spikes", "--alpha", "0.7"]);
    assert!(!ok && err.contains("--alpha"), "{err}");
    // A step so large (E σ*² = 24!) that float64 cannot resolve the network theory's low-rank
    // system: one line naming what to lower; with a smaller step the same inputs work, and the
    // large errors print in exponent form.
    let he24 = format!("hermite:{}1", "0,".repeat(24));
    let net = |eta0: &str| {
        onestep(&[
            "theory",
            "network",
            "--target",
            &he24,
            "--activation",
            "hermite:0,1",
            "--d",
            "64",
            "--width",
            "64",
            "--n",
            "256",
            "--eta0",
            eta0,
        ])
    };
    let (ok, _, err) = net("1");
    assert!(
        !ok && err.lines().count() == 1 && err.contains("lower --eta0"),
        "{err}"
    );
    let (ok, out, err) = net("1e-6");
    assert!(ok, "{err}");
    assert!(out.contains("e23"), "{out}");
}

/// A closed stdout (`| head -1`) neither panics nor loses the JSON, for simulate and theory.
#[test]
fn closed_stdout_still_writes_the_json_and_does_not_panic() {
    use std::process::Stdio;
    let dir = tmp("pipe");
    for (name, args) in [
        (
            "sim.json",
            vec![
                "simulate", "--d", "16", "--width", "16", "--n", "64", "--n-test", "64",
                "--models", "none", "--json",
            ],
        ),
        (
            "stair.json",
            vec!["theory", "staircase", "--alpha-grid", "2000", "--json"],
        ),
    ] {
        let path = dir.join(name);
        let mut child = Command::new(env!("CARGO_BIN_EXE_onestep"))
            .args(&args)
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary runs");
        drop(child.stdout.take()); // the reader goes away before anything is printed
        let out = child.wait_with_output().expect("binary ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal error"),
            "{name}: {stderr}"
        );
        assert!(path.is_file(), "{name} was not written: {stderr}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--bulk-edge` adds the predicted top of F's bulk after the step, beside the measured one, and
/// the outliers above it.
#[test]
fn bulk_edge_flag_reports_the_bulk_after_the_step() {
    let dir = tmp("bulk-edge");
    let sim = dir.join("sim.json");
    let sizes = ["--d", "64", "--width", "64", "--n", "256", "--alpha", "0.4"];
    let mut args = vec!["simulate", "--n-test", "64", "--models", "none"];
    args.extend(sizes);
    args.extend(["--bulk-edge", "--json", sim.to_str().unwrap()]);
    let (ok, out, err) = onestep(&args);
    assert!(
        ok && out.contains("top of F's bulk after the step"),
        "{err}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sim).unwrap()).unwrap();
    let (th, measured) = (
        j["summary"]["theory"]["bulk_edge_after"].as_f64().unwrap(),
        j["summary"]["spectrum"]["bulk_edge_after"]
            .as_f64()
            .unwrap(),
    );
    // d = 64: the Tracy–Widom allowance 2N^{-2/3} is 12%.
    assert!((measured / th - 1.0).abs() < 0.12, "{measured} vs {th}");
    // Two outliers above it (degrees 1 and 2 at α = 0.4), each aligned with its own degree, and
    // the measured edge counted below them.
    let outliers = j["summary"]["theory"]["outliers_after"].clone();
    assert_eq!(outliers.as_array().map(Vec::len), Some(2), "{outliers}");
    assert!(outliers[1]["location"].as_f64().unwrap() > th, "{outliers}");
    assert!(
        outliers[1]["alignment"][1].as_f64().unwrap() > 0.3,
        "{outliers}"
    );
    assert_eq!(
        j["trials"][0]["spectrum"]["top"][2].as_f64(),
        j["trials"][0]["spectrum"]["bulk_edge_after"].as_f64()
    );
    assert!(out.contains("outliers after the step"), "{out}");
    // Spikes are counted above the bulk after the step, not above ‖F₀‖ (the bulk widens).
    let spectrum = &j["trials"][0]["spectrum"];
    let f0 = spectrum["bulk_edge"].as_f64().unwrap();
    assert!(th > f0, "{th} vs {f0}");
    assert_eq!(spectrum["detection_edge"].as_f64(), Some(th));
    let above = |edge: f64| {
        let cut = edge * (1.0 + spectrum["margin"].as_f64().unwrap());
        let top = spectrum["top"].as_array().unwrap();
        top.iter().filter(|s| s.as_f64().unwrap() > cut).count()
    };
    assert_eq!(spectrum["spikes_detected"].as_u64(), Some(above(th) as u64));
    assert!(
        above(f0) > above(th),
        "the widened bulk is not above ‖F₀‖ here"
    );
    // theory.alignment predicts what spectrum.alignment measures: the k-th outlier against degree
    // k, here from the outliers after the step (no third: null).
    let alignment = &j["summary"]["theory"]["alignment"];
    for k in 0..2 {
        assert_eq!(alignment[k], outliers[k]["alignment"][k], "{alignment}");
    }
    assert!(alignment[2].is_null(), "{alignment}");
    let net = dir.join("net.json");
    let mut args = vec!["theory", "network"];
    args.extend(sizes);
    args.extend(["--bulk-edge", "--json", net.to_str().unwrap()]);
    let (ok, out, err) = onestep(&args);
    assert!(ok && out.contains("bulk_edge"), "{err}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    assert_eq!(j["bulk_edge_after"].as_f64(), Some(th));
    assert_eq!(j["outliers_after"], outliers);
    // Without the flag the prediction is null and the measurement is still there.
    let mut args = vec!["simulate", "--n-test", "64", "--models", "none"];
    args.extend(sizes);
    args.extend(["--json", sim.to_str().unwrap()]);
    let (ok, _, err) = onestep(&args);
    assert!(ok, "{err}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sim).unwrap()).unwrap();
    assert!(j["summary"]["theory"]["bulk_edge_after"].is_null());
    assert!(j["summary"]["theory"]["outliers_after"].is_null());
    let spectrum = &j["trials"][0]["spectrum"];
    assert_eq!(spectrum["detection_edge"], spectrum["bulk_edge"]);
    // Without it, from the diagonal of the joint prediction on F₀'s bulk (docs/theory.md §9.2).
    let (alignment, matrix) = (
        &j["summary"]["theory"]["alignment"],
        &j["summary"]["theory"]["alignment_matrix"],
    );
    for k in 0..3 {
        assert_eq!(alignment[k], matrix[k][k], "{alignment} vs {matrix}");
    }
    assert!(
        j["summary"]["spectrum"]["bulk_edge_after"]
            .as_f64()
            .is_some()
    );
}
