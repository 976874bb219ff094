//! The README against the program: its JSON schema tables against a real `onestep simulate
//! --json` output (every documented key exists, every key that exists is documented), and its
//! Python example runs as written elsewhere (crates/onestep-py/tests).
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

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
