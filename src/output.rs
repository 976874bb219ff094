//! The JSON documents of runs: mean ± sd summaries of JSON trees, run provenance, and the one JSON
//! document of a simulation run (`onestep simulate --json` and Python's
//! `Simulation.to_json()`).
use onestep_pipeline::theory::TheorySummary;
use onestep_pipeline::{Trial, ValidConfig};
use serde_json::{Map, Value};

/// Mean ± sd over a list of JSON trees of identical shape: every number becomes its mean, with a
/// sibling `<key>_sd`; arrays of numbers become arrays of means with a sibling array of sds.
pub fn summarize(trees: &[Value]) -> Value {
    summarize_inner(trees).0
}

fn stats(xs: &[f64]) -> (f64, f64) {
    let m = onestep_metrics::mean_sd(xs);
    (m.mean, m.sd)
}

fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Returns (mean tree, optional sd tree).
fn summarize_inner(trees: &[Value]) -> (Value, Option<Value>) {
    match trees.first() {
        Some(Value::Number(_)) => {
            let xs: Vec<f64> = trees.iter().filter_map(Value::as_f64).collect();
            let (m, s) = stats(&xs);
            (num(m), Some(num(s)))
        }
        Some(Value::Array(first)) => {
            let len = trees
                .iter()
                .filter_map(Value::as_array)
                .map(Vec::len)
                .min()
                .unwrap_or(0)
                .min(first.len());
            let cols: Vec<(Value, Option<Value>)> = (0..len)
                .map(|i| summarize_inner(&trees.iter().map(|t| t[i].clone()).collect::<Vec<_>>()))
                .collect();
            let sd = if cols.iter().all(|c| c.1.is_some()) {
                Some(Value::Array(
                    cols.iter()
                        .map(|c| c.1.clone().unwrap_or(Value::Null))
                        .collect(),
                ))
            } else {
                None
            };
            (Value::Array(cols.into_iter().map(|c| c.0).collect()), sd)
        }
        Some(Value::Object(first)) => {
            let mut out = Map::new();
            for key in first.keys() {
                let sub: Vec<Value> = trees
                    .iter()
                    .map(|t| t.get(key).cloned().unwrap_or(Value::Null))
                    .collect();
                let (m, s) = summarize_inner(&sub);
                out.insert(key.clone(), m);
                if let Some(s) = s {
                    out.insert(format!("{key}_sd"), s);
                }
            }
            (Value::Object(out), None)
        }
        Some(other) => (other.clone(), None),
        None => (Value::Null, None),
    }
}

/// The JSON document of a simulation run, as `onestep simulate --json` writes it and the Python
/// package's `Simulation.to_json()` returns it: `provenance` (as given, usually [`provenance`],
/// with `memory`: the estimated peak of one trial, the limit and the measured peak RSS; and
/// `stage_seconds`: each trial's wall seconds by stage),
/// `config`, `seeds`, `wall_time_s`, `summary` (mean ± sd over trials, [`summarize`], with the
/// theory under `summary.theory`) and `trials` (each trial unaveraged).
pub fn simulation_json(
    provenance: Value,
    cfg: &ValidConfig,
    theory: &TheorySummary,
    trials: &[Trial],
    wall_time_s: f64,
) -> serde_json::Result<Value> {
    let trial_values = trials
        .iter()
        .map(serde_json::to_value)
        .collect::<serde_json::Result<Vec<Value>>>()?;
    let mut summary = summarize(&trial_values);
    // A mean of seeds means nothing; they are listed under `seeds`.
    if let Some(o) = summary.as_object_mut() {
        o.remove("seed");
        o.remove("seed_sd");
    }
    summary["theory"] = serde_json::to_value(theory)?;
    let mut provenance = provenance;
    provenance["memory"] = serde_json::json!({
        "estimated_peak_bytes": cfg.memory_bytes(),
        "limit_bytes": cfg.memory_budget,
        "streamed_rows": cfg.stream_rows,
        "peak_rss_bytes": crate::files::peak_rss_bytes(),
    });
    provenance["stage_seconds"] = trials
        .iter()
        .map(|t| {
            t.stage_seconds
                .iter()
                .map(|(s, v)| (s.clone(), Value::from(*v)))
                .collect()
        })
        .collect::<Vec<Map<String, Value>>>()
        .into();
    Ok(serde_json::json!({
        "provenance": provenance,
        "config": cfg,
        "seeds": trials.iter().map(|t| t.seed).collect::<Vec<_>>(),
        "wall_time_s": wall_time_s,
        "summary": summary,
        "trials": trial_values,
    }))
}

/// Provenance recorded in every output: version, git revision, command line, host facts.
pub fn provenance(backend: &str, threads: usize) -> Value {
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    serde_json::json!({
        "onestep_version": env!("CARGO_PKG_VERSION"),
        "git_revision": git,
        "command": std::env::args().collect::<Vec<_>>(),
        "backend": backend,
        "threads": threads,
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summarize_means_and_sds() {
        let t = vec![
            json!({"a": 1.0, "b": [1.0, 2.0], "c": {"d": 3.0}, "s": "x"}),
            json!({"a": 3.0, "b": [3.0, 4.0], "c": {"d": 5.0}, "s": "x"}),
        ];
        let s = summarize(&t);
        assert_eq!(s["a"], json!(2.0));
        assert!((s["a_sd"].as_f64().unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(s["b"], json!([2.0, 3.0]));
        assert_eq!(s["c"]["d"], json!(4.0));
        assert_eq!(s["s"], json!("x"));
    }
}
