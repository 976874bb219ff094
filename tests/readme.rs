//! The README against the program: its commands run as written (the headline simulation at its
//! own sizes with `ONESTEP_SLOW=1`, its numbers checked; at 1/16 of the sizes otherwise), and its
//! JSON schema tables against a real `onestep simulate --json` output (every documented key
//! exists, every key that exists is documented). Its Python example runs in crates/onestep-py/tests.
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The lines of the README's `sh` blocks.
fn shell_lines() -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in readme().lines() {
        match (inside, l.trim_start().starts_with("```")) {
            (false, true) => inside = l.trim() == "```sh",
            (true, true) => inside = false,
            (true, false) => out.push(l.trim().to_string()),
            _ => {}
        }
    }
    out
}

#[test]
fn the_readme_commands_run_as_written() {
    let slow = std::env::var("ONESTEP_SLOW").is_ok_and(|v| v == "1");
    let lines = shell_lines();
    assert!(!lines.is_empty(), "the README has no sh block");
    let dir = std::env::temp_dir().join(format!("onestep-readme-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for line in &lines {
        if line == "cargo test --workspace --release" {
            continue; // this very test suite
        }
        let args = line
            .strip_prefix("cargo run --release -- ")
            .unwrap_or_else(|| panic!("README command not covered by this test: {line}"));
        let mut args: Vec<String> = args.split_whitespace().map(String::from).collect();
        if !slow {
            // The same command at 1/16 of the sizes.
            for i in 0..args.len().saturating_sub(1) {
                if ["--d", "--width", "--n"].contains(&args[i].as_str()) {
                    let v: usize = args[i + 1].parse().unwrap();
                    args[i + 1] = (v / 16).to_string();
                }
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_onestep"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("NN test"), "{stdout}");
        let doc: Value =
            serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
        if slow {
            // The numbers the README quotes for this command (α = 0.3, d = 2048, 3 trials).
            let s = &doc["summary"];
            let sim = s["errors"]["nn"]["test"].as_f64().unwrap();
            let spiked = s["theory"]["errors"]["spiked"]["test"].as_f64().unwrap();
            let network = s["theory"]["errors"]["nn"]["test"].as_f64().unwrap();
            assert!(
                (sim - 1.13).abs() < 0.05,
                "NN test {sim}, README: about 1.13"
            );
            assert!(
                (spiked - 1.07).abs() < 0.01,
                "spiked theory {spiked}, README: 1.07"
            );
            assert!(
                (network - 1.12).abs() < 0.01,
                "network theory {network}, README: 1.12"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Model keys, written `<model>` in the README.
const MODELS: [&str; 9] = [
    "nn",
    "rf",
    "spiked",
    "cget",
    "hermite",
    "inf_spike_1",
    "inf_spike_2",
    "inf_spike_3",
    "best_linear",
];

/// The first-column keys of the tables under "### JSON output", expanded: `a.{b, c}` gives `a.b`
/// and `a.c`; a note after the key in parentheses is dropped.
fn documented() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("### JSON output")
        .expect("README has a JSON section");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut keys = BTreeSet::new();
    for line in section[..end].lines() {
        // The code spans of the first cell of a table row.
        let Some(cell) = line.strip_prefix("| ").and_then(|l| l.split(" | ").next()) else {
            continue;
        };
        for key in cell.split('`').skip(1).step_by(2) {
            expand(key, &mut keys);
        }
    }
    keys
}

fn expand(key: &str, keys: &mut BTreeSet<String>) {
    {
        match (key.find('{'), key.find('}')) {
            (Some(a), Some(b)) => {
                for alt in key[a + 1..b].split(',') {
                    keys.insert(format!("{}{}{}", &key[..a], alt.trim(), &key[b + 1..]));
                }
            }
            _ => {
                keys.insert(key.to_string());
            }
        }
    }
}

/// Every path to a leaf of `v` (arrays are leaves), model keys written `<model>`, the `_sd`
/// sibling of a key left out.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k.strip_suffix("_sd")
                    .is_some_and(|base| o.contains_key(base))
                {
                    continue;
                }
                let k = if MODELS.contains(&k.as_str()) {
                    "<model>"
                } else {
                    k
                };
                let p = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                paths(x, &p, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// `key` is documented when it, or a documented key that is a prefix of it, is listed.
fn covered(key: &str, docs: &BTreeSet<String>) -> bool {
    docs.iter()
        .any(|d| key == d || key.starts_with(&format!("{d}.")))
}

#[test]
fn the_readme_schema_matches_a_real_output() {
    let dir = std::env::temp_dir().join(format!("onestep-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_onestep"))
        .args([
            "simulate", "--d", "16", "--width", "16", "--n", "64", "--n-test", "32",
        ])
        .args(["--trials", "2", "--lambda", "0.1,1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let docs = documented();
    // The top level.
    let top: BTreeSet<String> = doc.as_object().unwrap().keys().cloned().collect();
    for k in &top {
        assert!(docs.contains(k), "top-level `{k}` is not in the README");
    }
    // The summary: every key documented, every documented key present (with several λ and
    // trials every optional part is there, but per-trial `unavailable`).
    let mut real = BTreeSet::new();
    paths(&doc["summary"], "", &mut real);
    for k in &real {
        assert!(covered(k, &docs), "summary key `{k}` is not in the README");
    }
    let summary_docs = docs
        .iter()
        .filter(|d| !top.contains(*d) && *d != "unavailable");
    for d in summary_docs {
        assert!(
            real.iter()
                .any(|k| k == d || k.starts_with(&format!("{d}."))),
            "the README documents `{d}`, which the output does not have"
        );
    }
    // A trial has the summary's keys but theory, plus its seed.
    let mut trial = BTreeSet::new();
    paths(&doc["trials"][0], "", &mut trial);
    let no_theory: BTreeSet<String> = real
        .iter()
        .filter(|k| !k.starts_with("theory."))
        .cloned()
        .collect();
    let mut expected = no_theory.clone();
    expected.insert("seed".into());
    assert_eq!(trial, expected);
    std::fs::remove_dir_all(dir).unwrap();
}
