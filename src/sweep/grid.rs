//! Grid files: a TOML `[base]` of simulate parameters, a `[grid]` of axes whose cartesian product
//! gives the cells, and `[zip]` groups of axes varied together; every error names the file, the
//! line and the key.
//!
//! ```toml
//! [base]          # any simulate flag by its long name, dashes as underscores
//! d = 1024
//! models = "inf_spike_1,inf_spike_2"
//! [grid]          # cartesian product over every listed axis
//! alpha = [0.0, 0.2, 0.3, 0.4]
//! seed = [0, 1, 2]
//! [zip]           # optional: lists of equal length varied together, as ONE axis
//! width = [256, 512]
//! n = [1024, 2048]
//! ```
//!
//! `[zip]` holds one group; several groups are written `[zip.NAME]` (`[zip.sizes]`, `[zip.steps]`).
//! A key appears at most once in the whole file. Keys are [`KEYS`] (the `onestep simulate` flags;
//! `--threads` and `--backend` are options of `onestep sweep run`, not parameters).
//!
//! Cell order: the axes vary like nested loops in the order of [`KEYS`] (a zip group at the place
//! of its first key), the first axis slowest. The order in which the file lists them does not
//! matter.
use anyhow::{Result, bail};
use onestep_pipeline::SimConfig;
use onestep_pipeline::config::parse_lambdas;
use serde::{Deserialize, Serialize};
use std::fmt;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Most cells of one grid.
pub const MAX_CELLS: usize = 100_000;

/// The parameters a grid may set, in cell order: the `onestep simulate` flags, dashes as
/// underscores.
pub const KEYS: [&str; 15] = [
    "d",
    "width",
    "n",
    "n_test",
    "alpha",
    "eta0",
    "lambda",
    "models",
    "activation",
    "target",
    "noise",
    "residual",
    "init",
    "trials",
    "seed",
];

/// Flags of `onestep simulate` that are run options, not parameters.
const RUN_OPTIONS: [(&str, &str); 3] = [
    (
        "threads",
        "onestep sweep run --threads (default SLURM_CPUS_PER_TASK)",
    ),
    ("backend", "onestep sweep run --backend"),
    (
        "json",
        "onestep sweep merge (every cell's JSON is written to DIR/cells/)",
    ),
];

/// One parameter value as the grid file gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param {
    Int(u64),
    Float(f64),
    Str(String),
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Int(v) => write!(f, "{v}"),
            Param::Float(v) => write!(f, "{v:?}"),
            Param::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What a key accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A non-negative integer (sizes, trials, seed).
    Count,
    /// A number (integers accepted).
    Real,
    /// A number, or a string `--lambda` accepts (a path `0.01,0.1,1` or `lo:hi:k`).
    Lambda,
    /// A string.
    Text,
}

fn kind(key: &str) -> Kind {
    match key {
        "d" | "width" | "n" | "n_test" | "trials" | "seed" => Kind::Count,
        "alpha" | "eta0" | "noise" => Kind::Real,
        "lambda" => Kind::Lambda,
        _ => Kind::Text,
    }
}

fn expected(k: Kind) -> &'static str {
    match k {
        Kind::Count => "an integer ≥ 0",
        Kind::Real => "a number",
        Kind::Lambda => "a number, or a string such as \"0.01,0.1,1\" or \"0.01:1:5\" (a λ path)",
        Kind::Text => "a string",
    }
}

/// Where something is in the grid file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

fn loc(text: &str, offset: usize) -> Loc {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Loc { line, col }
}

/// One parameter set once for every cell (`[base]`).
#[derive(Clone, Debug)]
pub struct Fixed {
    pub key: &'static str,
    pub value: Param,
    pub at: Loc,
}

/// One axis: a single `[grid]` key, or a `[zip]` group of keys with lists of equal length.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The keys, in [`KEYS`] order.
    pub keys: Vec<&'static str>,
    /// `values[j][i]`: the i-th value of `keys[j]`.
    pub values: Vec<Vec<Param>>,
    /// Where each key is.
    pub at: Vec<Loc>,
}

impl Axis {
    /// Number of points on the axis.
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    /// Whether the axis has no points (never true for a parsed grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed grid file.
#[derive(Clone, Debug)]
pub struct Grid {
    /// The file name as given (for messages).
    pub file: String,
    /// The file's content.
    pub text: String,
    /// `[base]`, in [`KEYS`] order.
    pub base: Vec<Fixed>,
    /// The axes in cell order (first slowest).
    pub axes: Vec<Axis>,
}

/// One cell of the expanded grid: the values of the varied keys and the whole configuration.
#[derive(Clone, Debug)]
pub struct CellSpec {
    /// Varied keys and their values in this cell, in [`KEYS`] order.
    pub params: Vec<(&'static str, Param)>,
    /// Every parameter (defaults of `onestep simulate` where the grid is silent).
    pub config: SimConfig,
}

impl CellSpec {
    /// `alpha = 0.2, seed = 1` (or `the only cell` for a grid without axes).
    pub fn describe(&self) -> String {
        if self.params.is_empty() {
            return "the only cell".into();
        }
        self.params
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn unknown_key_hint(key: &str) -> String {
    if let Some((_, where_)) = RUN_OPTIONS.iter().find(|(k, _)| *k == key) {
        return format!("`{key}` is a run option, not a grid parameter: use {where_}");
    }
    let underscored = key.replace('-', "_");
    if KEYS.contains(&underscored.as_str()) {
        return format!("write `{underscored}` (dashes as underscores)");
    }
    format!(
        "{}allowed keys: {}",
        onestep_data::suggest::did_you_mean(key, KEYS),
        KEYS.join(", ")
    )
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn at(&self, offset: usize) -> String {
        let l = loc(self.text, offset);
        format!("{}:{}:{}", self.file, l.line, l.col)
    }

    fn key(&self, table: &str, k: &Spanned<std::borrow::Cow<'_, str>>) -> Result<&'static str> {
        let name = k.get_ref().as_ref();
        match KEYS.iter().find(|x| **x == name) {
            Some(x) => Ok(x),
            None => bail!(
                "{}: unknown key `{name}` in [{table}]; {}",
                self.at(k.span().start),
                unknown_key_hint(name)
            ),
        }
    }

    fn value(&self, key: &str, v: &Spanned<DeValue<'_>>, what: &str) -> Result<Param> {
        let k = kind(key);
        let bad = || {
            anyhow::anyhow!(
                "{}: key `{key}`{what}: expected {}, got {}",
                self.at(v.span().start),
                expected(k),
                describe_value(v.get_ref())
            )
        };
        let p = match (k, v.get_ref()) {
            (Kind::Count, DeValue::Integer(i)) => {
                Param::Int(u64::from_str_radix(i.as_str(), i.radix()).map_err(|_| bad())?)
            }
            (Kind::Real | Kind::Lambda, DeValue::Integer(i)) => {
                Param::Float(i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| bad())? as f64)
            }
            (Kind::Real | Kind::Lambda, DeValue::Float(x)) => {
                Param::Float(x.as_str().parse::<f64>().map_err(|_| bad())?)
            }
            (Kind::Lambda, DeValue::String(s)) => {
                parse_lambdas(s).map_err(|e| {
                    anyhow::anyhow!("{}: key `{key}`{what}: {e}", self.at(v.span().start))
                })?;
                Param::Str(s.to_string())
            }
            (Kind::Text, DeValue::String(s)) => Param::Str(s.to_string()),
            _ => return Err(bad()),
        };
        Ok(p)
    }

    fn list(&self, table: &str, key: &str, v: &Spanned<DeValue<'_>>) -> Result<Vec<Param>> {
        let DeValue::Array(items) = v.get_ref() else {
            bail!(
                "{}: key `{key}` in [{table}]: expected a list of values (put a single value under [base]), got {}",
                self.at(v.span().start),
                describe_value(v.get_ref())
            );
        };
        if items.is_empty() {
            bail!(
                "{}: key `{key}` in [{table}]: an empty list gives no cells",
                self.at(v.span().start)
            );
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(key, item, &format!(" (item {})", i + 1)))
            .collect()
    }
}

fn describe_value(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("the string {s:?}"),
        DeValue::Integer(i) => format!("the integer {i}"),
        DeValue::Float(x) => format!("the number {x}"),
        DeValue::Boolean(b) => format!("the boolean {b}"),
        DeValue::Datetime(d) => format!("the date {d}"),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// Parses a grid file's content; `file` names it in messages.
pub fn parse(file: &str, text: &str) -> Result<Grid> {
    let p = Parser { file, text };
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().map_or_else(|| file.to_string(), |s| p.at(s.start));
        anyhow::anyhow!("{at}: invalid TOML: {}", e.message())
    })?;
    // Where every key was first set, to refuse a second setting.
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    let mut note = |key: &'static str, offset: usize| -> Result<()> {
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            let l = loc(text, *first);
            bail!(
                "{}: key `{key}` is already set at line {}; a key appears once in [base], [grid] and [zip] together",
                p.at(offset),
                l.line
            );
        }
        seen.push((key, offset));
        Ok(())
    };
    let mut base = Vec::new();
    let mut axes: Vec<(usize, Axis)> = Vec::new();
    for (name, value) in doc.get_ref().iter() {
        let table = name.get_ref().as_ref();
        let entries = match value.get_ref() {
            DeValue::Table(t) if ["base", "grid", "zip"].contains(&table) => t,
            _ if ["base", "grid", "zip"].contains(&table) => bail!(
                "{}: `{table}` must be a table: write [{table}] on its own line",
                p.at(name.span().start)
            ),
            _ => {
                let hint =
                    if KEYS.contains(&table) || KEYS.contains(&table.replace('-', "_").as_str()) {
                        format!("put `{table}` under [base] (one value) or [grid] (a list)")
                    } else {
                        "the tables are [base], [grid] and [zip]".into()
                    };
                bail!(
                    "{}: unknown key `{table}` at the top level; {hint}",
                    p.at(name.span().start)
                );
            }
        };
        match table {
            "base" => {
                for (k, v) in entries.iter() {
                    let key = p.key("base", k)?;
                    note(key, k.span().start)?;
                    let value = p.value(key, v, " in [base]")?;
                    base.push(Fixed {
                        key,
                        value,
                        at: loc(text, k.span().start),
                    });
                }
            }
            "grid" => {
                for (k, v) in entries.iter() {
                    let key = p.key("grid", k)?;
                    note(key, k.span().start)?;
                    let values = p.list("grid", key, v)?;
                    axes.push((
                        rank(key),
                        Axis {
                            keys: vec![key],
                            values: vec![values],
                            at: vec![loc(text, k.span().start)],
                        },
                    ));
                }
            }
            _ => {
                let all_tables = entries
                    .iter()
                    .all(|(_, v)| matches!(v.get_ref(), DeValue::Table(_)));
                let groups: Vec<(String, &DeTable<'_>)> = if all_tables && !entries.is_empty() {
                    entries
                        .iter()
                        .filter_map(|(k, v)| match v.get_ref() {
                            DeValue::Table(t) => Some((format!("zip.{}", k.get_ref()), t)),
                            _ => None,
                        })
                        .collect()
                } else {
                    vec![("zip".to_string(), entries)]
                };
                for (group, t) in groups {
                    let mut members = Vec::new();
                    for (k, v) in t.iter() {
                        if matches!(v.get_ref(), DeValue::Table(_)) {
                            bail!(
                                "{}: [{group}] mixes lists and tables; write one group as [zip] or several as [zip.NAME]",
                                p.at(k.span().start)
                            );
                        }
                        let key = p.key(&group, k)?;
                        note(key, k.span().start)?;
                        let values = p.list(&group, key, v)?;
                        members.push((key, values, k.span().start));
                    }
                    if members.is_empty() {
                        continue;
                    }
                    members.sort_by_key(|m| rank(m.0));
                    let n0 = members[0].1.len();
                    if let Some(m) = members.iter().find(|m| m.1.len() != n0) {
                        bail!(
                            "{}: key `{}` in [{group}] has {} values but `{}` has {}; the lists of a zip group have equal lengths",
                            p.at(m.2),
                            m.0,
                            m.1.len(),
                            members[0].0,
                            n0
                        );
                    }
                    axes.push((
                        rank(members[0].0),
                        Axis {
                            keys: members.iter().map(|m| m.0).collect(),
                            at: members.iter().map(|m| loc(text, m.2)).collect(),
                            values: members.into_iter().map(|m| m.1).collect(),
                        },
                    ));
                }
            }
        }
    }
    base.sort_by_key(|f| rank(f.key));
    axes.sort_by_key(|a| a.0);
    let cells = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.1.len()))
        .filter(|&n| n <= MAX_CELLS);
    if cells.is_none() {
        let lens: Vec<String> = axes.iter().map(|a| a.1.len().to_string()).collect();
        bail!(
            "{file}: the grid has more than {MAX_CELLS} cells (axes of {} values); split it into several grid files",
            lens.join(" × ")
        );
    }
    Ok(Grid {
        file: file.to_string(),
        text: text.to_string(),
        base,
        axes: axes.into_iter().map(|a| a.1).collect(),
    })
}

fn rank(key: &str) -> usize {
    KEYS.iter().position(|k| *k == key).unwrap_or(KEYS.len())
}

/// Sets `key` to `value` in `cfg` (types were checked when parsing).
fn apply(cfg: &mut SimConfig, key: &str, value: &Param) -> Result<()> {
    let count = || match value {
        Param::Int(v) => {
            usize::try_from(*v).map_err(|_| anyhow::anyhow!("{key}: {v} is too large"))
        }
        other => bail!("{key}: expected an integer, got {other}"),
    };
    let real = || match value {
        Param::Float(v) => Ok(*v),
        Param::Int(v) => Ok(*v as f64),
        other => bail!("{key}: expected a number, got {other}"),
    };
    let text = || match value {
        Param::Str(s) => Ok(s.clone()),
        other => bail!("{key}: expected a string, got {other}"),
    };
    match key {
        "d" => cfg.d = count()?,
        "width" => cfg.width = count()?,
        "n" => cfg.n = count()?,
        "n_test" => cfg.n_test = count()?,
        "trials" => cfg.trials = count()?,
        "seed" => {
            cfg.seed = match value {
                Param::Int(v) => *v,
                other => bail!("seed: expected an integer, got {other}"),
            }
        }
        "alpha" => cfg.alpha = real()?,
        "eta0" => cfg.eta0 = real()?,
        "noise" => cfg.noise = real()?,
        "lambda" => {
            let path = match value {
                Param::Str(s) => parse_lambdas(s)?,
                _ => vec![real()?],
            };
            cfg.lambda = path.first().copied().unwrap_or(f64::NAN);
            cfg.extra_lambdas = path.iter().skip(1).copied().collect();
        }
        "models" => cfg.models = vec![text()?],
        "activation" => cfg.activation = text()?,
        "target" => cfg.target = text()?,
        "residual" => cfg.residual = text()?,
        "init" => cfg.init = text()?,
        other => bail!("unknown key `{other}`"),
    }
    Ok(())
}

impl Grid {
    /// Number of cells (product of the axis lengths).
    pub fn len(&self) -> usize {
        self.axes.iter().map(Axis::len).product()
    }

    /// Whether the grid has no cells (never true for a parsed grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where `key` is set in the file (`[base]`, `[grid]` or `[zip]`).
    pub fn location(&self, key: &str) -> Option<Loc> {
        self.base
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.at)
            .or_else(|| {
                self.axes
                    .iter()
                    .find_map(|a| a.keys.iter().position(|k| *k == key).map(|j| a.at[j]))
            })
    }

    /// The varied keys, in cell order.
    pub fn varied(&self) -> Vec<&'static str> {
        self.axes
            .iter()
            .flat_map(|a| a.keys.iter().copied())
            .collect()
    }

    /// Every cell, in cell order: the axes vary like nested loops, the first slowest.
    pub fn cells(&self) -> Result<Vec<CellSpec>> {
        let mut base = SimConfig::default();
        for f in &self.base {
            apply(&mut base, f.key, &f.value)?;
        }
        let total = self.len();
        let mut out = Vec::with_capacity(total);
        for i in 0..total {
            // Mixed-radix digits of i, the last axis fastest.
            let mut rest = i;
            let mut picks = vec![0; self.axes.len()];
            for (a, axis) in self.axes.iter().enumerate().rev() {
                picks[a] = rest % axis.len();
                rest /= axis.len();
            }
            let mut config = base.clone();
            let mut params = Vec::new();
            for (axis, &pick) in self.axes.iter().zip(&picks) {
                for (key, values) in axis.keys.iter().zip(&axis.values) {
                    apply(&mut config, key, &values[pick])?;
                    params.push((*key, values[pick].clone()));
                }
            }
            params.sort_by_key(|(k, _)| rank(k));
            out.push(CellSpec { params, config });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_beyond_the_cell_bound_are_refused() {
        let axis_of = |k: &str, len: usize| format!("{k} = [{}]\n", vec!["1"; len].join(", "));
        let axis = |k: &str| axis_of(k, 40);
        let text = format!(
            "[grid]\n{}{}{}{}",
            axis("d"),
            axis("width"),
            axis("n"),
            axis("n_test")
        );
        let e = parse("big.toml", &text).unwrap_err().to_string();
        assert!(
            e.contains("more than 100000 cells") && e.contains("40 × 40"),
            "{e}"
        );
        // 10 axes of 100 values overflow a usize product (1e20 > 2^64); still one clear error.
        let all: String = [
            "d", "width", "n", "n_test", "trials", "seed", "alpha", "eta0", "noise", "lambda",
        ]
        .iter()
        .map(|k| axis_of(k, 100))
        .collect();
        let e = parse("huge.toml", &format!("[grid]\n{all}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn product_order_and_zip() {
        let g = parse(
            "g.toml",
            "[grid]\nseed = [0, 1]\nalpha = [0.1, 0.2, 0.3]\n[zip]\nn = [64, 128]\nwidth = [16, 32]\n[base]\nd = 16\n",
        )
        .unwrap();
        assert_eq!(g.varied(), vec!["width", "n", "alpha", "seed"]);
        let cells = g.cells().unwrap();
        assert_eq!(cells.len(), 12);
        assert_eq!(
            cells[0].describe(),
            "width = 16, n = 64, alpha = 0.1, seed = 0"
        );
        assert_eq!(
            cells[1].describe(),
            "width = 16, n = 64, alpha = 0.1, seed = 1"
        );
        assert_eq!(
            cells[11].describe(),
            "width = 32, n = 128, alpha = 0.3, seed = 1"
        );
        assert!(cells.iter().all(|c| c.config.d == 16));
        assert_eq!(cells[6].config.width, 32);
        assert_eq!(cells[6].config.n, 128);
    }

    #[test]
    fn lambda_path_and_integers_as_numbers() {
        let g = parse("g.toml", "[base]\nlambda = \"0.01:1:3\"\nalpha = 0\n").unwrap();
        let c = &g.cells().unwrap()[0].config;
        assert_eq!(c.lambda, 0.01);
        assert_eq!(c.extra_lambdas.len(), 2);
        assert_eq!(c.alpha, 0.0);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let cases = [
            (
                "[base]\nd = 16\nwidht = 3\n",
                "g.toml:3:1: unknown key `widht`",
                "did you mean `width`",
            ),
            (
                "[base]\nn-test = 3\n",
                "g.toml:2:1: unknown key `n-test`",
                "n_test",
            ),
            (
                "[base]\nthreads = 3\n",
                "g.toml:2:1: unknown key `threads`",
                "run option",
            ),
            (
                "[base]\nd = \"big\"\n",
                "g.toml:2:5: key `d` in [base]",
                "the string \"big\"",
            ),
            (
                "[base]\nd = -3\n",
                "g.toml:2:5: key `d` in [base]",
                "integer ≥ 0",
            ),
            (
                "[grid]\nalpha = [0.1, \"x\"]\n",
                "g.toml:2:15: key `alpha` (item 2)",
                "a number",
            ),
            (
                "[grid]\nalpha = 0.1\n",
                "g.toml:2:9: key `alpha` in [grid]",
                "list",
            ),
            (
                "[grid]\nalpha = []\n",
                "g.toml:2:9: key `alpha` in [grid]",
                "empty",
            ),
            (
                "[base]\nalpha = 0.1\n[grid]\nalpha = [0.2]\n",
                "g.toml:4:1: key `alpha`",
                "line 2",
            ),
            (
                "[zip]\nn = [1, 2]\nd = [1]\n",
                "g.toml:2:1: key `n` in [zip]",
                "equal lengths",
            ),
            (
                "d = 3\n",
                "g.toml:1:1: unknown key `d` at the top level",
                "under [base]",
            ),
            ("[base]\nd = \n", "g.toml:2:", "invalid TOML"),
            (
                "[base]\nlambda = \"0.1:x\"\n",
                "g.toml:2:10: key `lambda`",
                "--lambda",
            ),
        ];
        for (text, start, also) in cases {
            let e = parse("g.toml", text).unwrap_err().to_string();
            assert!(e.starts_with(start), "{text:?}: {e}");
            assert!(e.contains(also), "{text:?}: {e}");
        }
    }
}
