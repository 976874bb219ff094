//! Merging a sweep's cells into one table: one row per cell in plan order, CSV or JSON lines.
//!
//! The columns depend only on the plan, the values only on the cells' results: no times, hosts
//! or thread counts, so two merges of the same plan are byte-identical however the cells were
//! run. Numbers are written as `serde_json` writes them (shortest representation that reads back
//! exactly); a value a cell does not have is an empty CSV field or a JSON `null`.
//!
//! | columns | content |
//! |---|---|
//! | `id` | the cell id |
//! | `d`, `width`, `n`, `n_test`, `alpha`, `eta0`, `lambda`, `lambdas`, `models`, `activation`, `target`, `noise`, `residual`, `init`, `trials`, `seed` | the checked parameters: `lambda` the first λ (the errors are at it), `lambdas` the whole path as a comma list, `models` a comma list (`none` when empty), functions in canonical form |
//! | `eta` | η = η₀·n^α |
//! | `beta_overlap`, `beta_norm2` | ⟨β, β*⟩ and ‖β‖², means over trials |
//! | `spikes_detected`, `bulk_edge` | detected spikes of F and ‖F₀‖_op |
//! | `top_1` … `top_8` | the largest singular values of F |
//! | `alignment_1` … `alignment_3` | \|⟨u_k, GS((X̃β)∘ᵏ)⟩\| |
//! | `err_M_train`, `err_M_train_penalised`, `err_M_test`, `err_M_test_clean` | errors of model M at the first λ: `nn`, `rf`, then every model any cell of the plan selects, in the `--models` list order |
//! | `theory_spike_count`, `theory_beta_inner`, `theory_beta_norm2`, `theory_beta_cosine`, `theory_bulk_edge`, `theory_alignment_1` … `_3` | the theory's predictions |
//! | `theory_M_train`, `theory_M_test`, `theory_M_test_clean` | the theory's errors for `nn` (the network's finite-n theory; empty where it is unavailable), `rf` and every model with a theory (`spiked`, `inf_spike_1..3`, `best_linear`) |
//!
//! Every simulated column from `eta` to `err_…` is followed by its sample standard deviation over
//! the trials, `NAME_sd` (0 for one trial).
//!
//! The numbers of a cell depend on its parameters and, to rounding, on the backend and the thread
//! count (parallel reductions add in another order; tests/pipeline.rs bounds the difference by
//! 1e-9). Merges are byte-identical when every cell ran with the same backend and thread count —
//! any shards, hosts, interruptions or order; [`Merged::settings`] counts the cells of each
//! setting from their manifests, and `onestep sweep merge` warns when there is more than one.
use super::plan::{Plan, PlanCell};
use super::run::{manifest_path, result_path};
use anyhow::{Context, Result, bail};
use onestep_pipeline::models::ALL;
use onestep_pipeline::theory::setting;
use onestep_pipeline::trial::{KMAX, TOP};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The output format, from the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// `.csv` or `.jsonl`.
    pub fn from_path(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl") => Ok(Format::Jsonl),
            _ => bail!(
                "-o: {} must end in .csv or .jsonl (the format is chosen by the extension)",
                path.display()
            ),
        }
    }
}

/// Where a column's value comes from.
#[derive(Clone, Debug)]
enum Source {
    /// A JSON pointer into the plan cell's `config`.
    Config(&'static str),
    /// A list in `config` joined with commas (`none` for an empty one when `empty` is given).
    ConfigList(&'static str, Option<&'static str>),
    /// A JSON pointer into the cell's result.
    Result(String),
}

/// One column of the merged table.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    source: Source,
}

fn col(name: impl Into<String>, source: Source) -> Column {
    Column {
        name: name.into(),
        source,
    }
}

/// A simulated quantity and its `_sd` sibling.
fn with_sd(out: &mut Vec<Column>, name: String, pointer: &str) {
    out.push(col(name.clone(), Source::Result(pointer.to_string())));
    let sd = match pointer.rsplit_once('/') {
        // An array element: the sibling array is NAME_sd.
        Some((array, i)) if i.parse::<usize>().is_ok() => format!("{array}_sd/{i}"),
        _ => format!("{pointer}_sd"),
    };
    out.push(col(format!("{name}_sd"), Source::Result(sd)));
}

/// Names of the error metrics of every model (`onestep_metrics::Errors`).
const METRICS: [&str; 4] = ["train", "train_penalised", "test", "test_clean"];
/// Names of the error metrics of the theory (`onestep_theory::Errors`).
const THEORY_METRICS: [&str; 3] = ["train", "test", "test_clean"];

/// The columns of a merge of `plan`.
pub fn columns(plan: &Plan) -> Result<Vec<Column>> {
    let mut c = vec![col("id", Source::Config(""))];
    for k in ["d", "width", "n", "n_test", "alpha", "eta0", "lambda"] {
        c.push(col(k, Source::Config(pointer_of(k))));
    }
    c.push(col("lambdas", Source::ConfigList("/lambdas", None)));
    c.push(col("models", Source::ConfigList("/models", Some("none"))));
    for k in [
        "activation",
        "target",
        "noise",
        "residual",
        "init",
        "trials",
        "seed",
    ] {
        c.push(col(k, Source::Config(pointer_of(k))));
    }
    with_sd(&mut c, "eta".into(), "/summary/eta");
    with_sd(&mut c, "beta_overlap".into(), "/summary/beta/overlap");
    with_sd(&mut c, "beta_norm2".into(), "/summary/beta/norm2");
    with_sd(
        &mut c,
        "spikes_detected".into(),
        "/summary/spectrum/spikes_detected",
    );
    with_sd(&mut c, "bulk_edge".into(), "/summary/spectrum/bulk_edge");
    for k in 0..TOP {
        with_sd(
            &mut c,
            format!("top_{}", k + 1),
            &format!("/summary/spectrum/top/{k}"),
        );
    }
    for k in 0..KMAX {
        with_sd(
            &mut c,
            format!("alignment_{}", k + 1),
            &format!("/summary/spectrum/alignment/{k}"),
        );
    }
    // nn, rf, and the selected models of any cell, in ALL order.
    let selected: Vec<String> = ALL
        .iter()
        .map(|m| m.name())
        .filter(|name| {
            plan.cells.iter().any(|cell| {
                cell.config["models"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(name)))
            })
        })
        .collect();
    for m in ["nn".to_string(), "rf".to_string()].iter().chain(&selected) {
        for metric in METRICS {
            with_sd(
                &mut c,
                format!("err_{m}_{metric}"),
                &format!("/summary/errors/{m}/{metric}"),
            );
        }
    }
    for (name, p) in [
        ("theory_spike_count", "/summary/theory/spike_count"),
        ("theory_beta_inner", "/summary/theory/beta/inner"),
        ("theory_beta_norm2", "/summary/theory/beta/norm2"),
        ("theory_beta_cosine", "/summary/theory/beta/cosine"),
        ("theory_bulk_edge", "/summary/theory/bulk_edge"),
    ] {
        c.push(col(name, Source::Result(p.into())));
    }
    for k in 0..KMAX {
        c.push(col(
            format!("theory_alignment_{}", k + 1),
            Source::Result(format!("/summary/theory/alignment/{k}")),
        ));
    }
    for m in theory_models(plan)? {
        for metric in THEORY_METRICS {
            c.push(col(
                format!("theory_{m}_{metric}"),
                Source::Result(format!("/summary/theory/errors/{m}/{metric}")),
            ));
        }
    }
    Ok(c)
}

/// `nn` (its finite-n theory), `rf` and the models the theory has a prediction for (asked of the
/// first cell's configuration: whether a model has a theory does not depend on the configuration).
fn theory_models(plan: &Plan) -> Result<Vec<String>> {
    let mut out = vec!["nn".to_string(), "rf".to_string()];
    if let Some(cell) = plan.cells.first() {
        let cfg = cell.check(f64::INFINITY)?;
        let s = setting(&cfg, cfg.lambda);
        out.extend(
            ALL.iter()
                .filter(|m| m.theory(&cfg.model_setting(), &s).is_some())
                .map(|m| m.name()),
        );
    }
    Ok(out)
}

fn pointer_of(key: &'static str) -> &'static str {
    match key {
        "d" => "/d",
        "width" => "/width",
        "n" => "/n",
        "n_test" => "/n_test",
        "alpha" => "/alpha",
        "eta0" => "/eta0",
        "lambda" => "/lambda",
        "activation" => "/activation",
        "target" => "/target",
        "noise" => "/noise",
        "residual" => "/residual",
        "init" => "/init",
        "trials" => "/trials",
        _ => "/seed",
    }
}

fn value_of(column: &Column, cell: &PlanCell, result: &Value) -> Value {
    match &column.source {
        Source::Config("") => Value::String(cell.id.clone()),
        Source::Config(p) => cell.config.pointer(p).cloned().unwrap_or(Value::Null),
        Source::ConfigList(p, empty) => {
            let items: Vec<String> = cell
                .config
                .pointer(p)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            match (items.is_empty(), empty) {
                (true, Some(e)) => Value::String(e.to_string()),
                _ => Value::String(items.join(",")),
            }
        }
        Source::Result(p) => result.pointer(p).cloned().unwrap_or(Value::Null),
    }
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_name(s: &str) -> String {
    csv_field(&Value::String(s.to_string()))
}

/// A merged table.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The file's content.
    pub text: String,
    /// Rows written.
    pub rows: usize,
    /// (index, id, parameters) of the cells left out (only with `allow_partial`).
    pub missing: Vec<(usize, String, String)>,
    /// How many merged cells ran with each backend and thread count (`faer, 4 threads`), from
    /// their manifests (`unknown` without one).
    pub settings: BTreeMap<String, usize>,
}

fn setting_of(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(manifest_path(dir, id))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .map_or_else(
            || "unknown".to_string(),
            |m| {
                format!(
                    "{}, {} threads",
                    m["backend"].as_str().unwrap_or("?"),
                    m["threads"]
                )
            },
        )
}

/// Merges the finished cells of `plan` in `dir`. Unless `allow_partial`, every cell must be
/// finished; the error names the missing ones.
pub fn merge(dir: &Path, plan: &Plan, format: Format, allow_partial: bool) -> Result<Merged> {
    let missing: Vec<(usize, String, String)> = plan
        .cells
        .iter()
        .filter(|c| !result_path(dir, &c.id).is_file())
        .map(|c| (c.index, c.id.clone(), c.describe()))
        .collect();
    if !missing.is_empty() && !allow_partial {
        let shown: Vec<String> = missing
            .iter()
            .take(10)
            .map(|(i, id, p)| format!("cell {} {id} ({p})", i + 1))
            .collect();
        let more = missing.len().saturating_sub(shown.len());
        bail!(
            "{} of {} cells are not finished: {}{}; run `onestep sweep run {}` (see `onestep sweep status`), or merge what there is with --allow-partial",
            missing.len(),
            plan.cells.len(),
            shown.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            },
            dir.display()
        );
    }
    let columns = columns(plan)?;
    let mut text = String::new();
    if format == Format::Csv {
        let header: Vec<String> = columns.iter().map(|c| csv_name(&c.name)).collect();
        text.push_str(&header.join(","));
        text.push('\n');
    }
    let mut rows = 0;
    let mut settings = BTreeMap::new();
    for cell in &plan.cells {
        let path = result_path(dir, &cell.id);
        if !path.is_file() {
            continue;
        }
        *settings.entry(setting_of(dir, &cell.id)).or_insert(0) += 1;
        let result: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?;
        let values: Vec<Value> = columns.iter().map(|c| value_of(c, cell, &result)).collect();
        match format {
            Format::Csv => {
                let fields: Vec<String> = values.iter().map(csv_field).collect();
                text.push_str(&fields.join(","));
            }
            Format::Jsonl => {
                // Keys in column order (a serde_json map would sort them).
                let fields: Vec<String> = columns
                    .iter()
                    .zip(&values)
                    .map(|(c, v)| format!("{}:{v}", Value::String(c.name.clone())))
                    .collect();
                text.push('{');
                text.push_str(&fields.join(","));
                text.push('}');
            }
        }
        text.push('\n');
        rows += 1;
    }
    Ok(Merged {
        text,
        rows,
        missing,
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field(&Value::Null), "");
        assert_eq!(csv_field(&serde_json::json!(0.25)), "0.25");
        assert_eq!(csv_field(&serde_json::json!("a,b")), "\"a,b\"");
        assert_eq!(
            csv_field(&serde_json::json!("say \"x\"")),
            "\"say \"\"x\"\"\""
        );
        assert!(Format::from_path(Path::new("a.tsv")).is_err());
        assert_eq!(
            Format::from_path(Path::new("a.jsonl")).unwrap(),
            Format::Jsonl
        );
    }
}
