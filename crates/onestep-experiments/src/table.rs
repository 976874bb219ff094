//! What a figure produces: CSV [`Table`]s of [`Cell`]s, the [`Manifest`] fields it contributes,
//! and [`FigureData`], the bundle of tables, picture and manifest.
use crate::options::GridUsed;
use onestep_pipeline::SimConfig;
use onestep_plot::Figure;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A cell of a [`Table`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Num(f64),
    Text(String),
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Num(v as f64)
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Num(v as f64)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Num(if v { 1.0 } else { 0.0 })
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        Cell::Num(v.unwrap_or(f64::NAN))
    }
}

/// A rectangular table written as CSV; numbers that are not available are NaN (written `NaN`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Short name; the file is `ID.csv` for a figure with one table, `ID-NAME.csv` otherwise.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with the given columns.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        Self {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; panics if its length differs from the number of columns.
    #[track_caller]
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "table {}: row of {} cells for {} columns",
            self.name,
            row.len(),
            self.columns.len()
        );
        self.rows.push(row);
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The numbers of a column (NaN for text cells); empty if there is no such column.
    pub fn column(&self, name: &str) -> Vec<f64> {
        let Some(i) = self.col(name) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .map(|r| if let Cell::Num(v) = r[i] { v } else { f64::NAN })
            .collect()
    }

    /// The text of a column (numbers formatted); empty if there is no such column.
    pub fn text_column(&self, name: &str) -> Vec<String> {
        let Some(i) = self.col(name) else {
            return Vec::new();
        };
        self.rows.iter().map(|r| cell_text(&r[i])).collect()
    }

    /// The table as CSV (header line, then one line per row).
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        let quote = |t: &str| {
            if t.contains([',', '"', '\n']) {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t.to_string()
            }
        };
        let _ = writeln!(
            s,
            "{}",
            self.columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(",")
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{}",
                r.iter()
                    .map(|c| quote(&cell_text(c)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        s
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Num(v) if v.is_nan() => "NaN".into(),
        Cell::Num(v) => format!("{v}"),
        Cell::Text(t) => t.clone(),
    }
}

/// Manifest fields a figure contributes (the binary adds provenance, wall time and files).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Manifest {
    pub id: String,
    pub paper: String,
    pub description: String,
    pub quick: bool,
    /// Settings: sizes and functions as text, grids as lists of numbers.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The configuration of every sweep (with its α or n grid in `settings`).
    pub configs: BTreeMap<String, SimConfig>,
    /// Seeds used at each point.
    pub seeds: Vec<u64>,
    /// Points in the sweep, how many were computed now and how many came from the cache.
    pub points: usize,
    pub points_computed: usize,
    pub points_cached: usize,
    /// Seconds spent computing points now (cached ones excluded).
    pub compute_seconds: f64,
    /// Caveats: missing theory or models, disagreements, what was left out and why.
    pub notes: Vec<String>,
    /// The grid file the sizes, axes and seeds came from (a path, or `configs/ID.toml (built
    /// in)`), the section used (`full` or `quick`) and the file's text.
    pub grid: GridUsed,
}

/// What a figure produces.
#[derive(Clone, Debug)]
pub struct FigureData {
    pub id: &'static str,
    pub tables: Vec<Table>,
    pub figure: Figure,
    pub manifest: Manifest,
}

impl FigureData {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// File name of each table: `ID.csv` when there is one table, `ID-NAME.csv` otherwise.
    pub fn csv_names(&self) -> Vec<String> {
        if self.tables.len() == 1 {
            vec![format!("{}.csv", self.id)]
        } else {
            self.tables
                .iter()
                .map(|t| format!("{}-{}.csv", self.id, t.name))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_nan() {
        let mut t = Table::new("t", &["a", "b"]);
        t.push(vec![1.5.into(), "x,y".into()]);
        t.push(vec![f64::NAN.into(), "z".into()]);
        assert_eq!(t.to_csv(), "a,b\n1.5,\"x,y\"\nNaN,z\n");
        assert_eq!(t.column("a")[0], 1.5);
        assert!(t.column("a")[1].is_nan());
    }
}
