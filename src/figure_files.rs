//! The output directory of `onestep figure ID --out DIR` (and of Python's `onestep.figure`):
//! DIR/ID.csv (or DIR/ID-TABLE.csv for several tables), DIR/ID.svg, DIR/ID.png and
//! DIR/ID.manifest.json, each written atomically, and the point cache DIR/.cache/points/ (one
//! small JSON file per computed point, keyed by a hash of its configuration and seed, shared by
//! the figures that use the same point), so an interrupted run restarts where it stopped.
//!
//! The directory is locked while it is open ([`crate::files::lock_dir`]): a second run into the
//! same DIR is refused at once instead of mixing its files with the first one's; shard runs
//! (`--shard K/N`, which only add points to the cache) share it with each other.
use crate::files::{DirLock, lock_dir, remove_stale_temporaries, write_atomic};
use crate::output::provenance;
use anyhow::{Context, Result};
use onestep_experiments::{ConfigFile, FigureData, Options, PointCache, PointResult};
use serde_json::json;
use std::path::{Path, PathBuf};

/// What a figure CSV's empty cells hold, as its manifest says.
pub const CSV_MISSING: &str = "NaN: not applicable at this row (a model or quantity the row does not have), or a theory that is unavailable there (see notes)";

/// Reads the grid file of `--config FILE` (its keys are checked when the figure runs).
pub fn read_grid(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "--config: cannot read {}; give a TOML grid file (start from configs/ID.toml)",
            path.display()
        )
    })?;
    Ok(ConfigFile {
        path: path.display().to_string(),
        text,
    })
}

/// Points cached as JSON files in one directory.
struct DirCache {
    dir: PathBuf,
    fresh: bool,
}

impl PointCache for DirCache {
    fn load(&self, key: &str) -> Option<PointResult> {
        if self.fresh {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(format!("{key}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn store(&self, key: &str, value: &PointResult) {
        let path = self.dir.join(format!("{key}.json"));
        let res = serde_json::to_vec(value)
            .map_err(anyhow::Error::from)
            .and_then(|b| write_atomic(&path, &b));
        if let Err(e) = res {
            eprintln!("warning: could not cache {}: {e:#}", path.display());
        }
    }
}

/// An open, locked figure output directory.
pub struct FigureDir {
    out: PathBuf,
    cache: DirCache,
    /// Stale temporaries of dead runs removed on opening.
    pub removed_temporaries: usize,
    _lock: DirLock,
}

/// The files one figure wrote.
pub struct Written {
    /// Names inside the directory, manifest last.
    pub files: Vec<String>,
    /// The manifest's text (the content of DIR/ID.manifest.json).
    pub manifest: String,
}

impl FigureDir {
    /// Creates `out` and its cache if missing, takes the lock (shared for a `shard`, which only
    /// adds points to the cache), removes the temporaries of dead runs; `fresh`: cached points
    /// are ignored (and overwritten).
    pub fn open(out: &Path, fresh: bool, shard: bool) -> Result<Self> {
        let dir = out.join(".cache").join("points");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock = lock_dir("--out", out, shard)?;
        let removed = remove_stale_temporaries(out)?.len() + remove_stale_temporaries(&dir)?.len();
        Ok(Self {
            out: out.to_path_buf(),
            cache: DirCache { dir, fresh },
            removed_temporaries: removed,
            _lock: lock,
        })
    }

    /// The point cache.
    pub fn cache(&self) -> &dyn PointCache {
        &self.cache
    }

    /// Writes the figure's tables, SVG, PNG and manifest; `wall` is the run's wall time.
    pub fn write(
        &self,
        data: &FigureData,
        opts: &Options,
        backend: &str,
        threads: usize,
        wall: f64,
    ) -> Result<Written> {
        let id = data.id;
        let mut files = Vec::new();
        let mut put = |name: String, bytes: &[u8]| -> Result<()> {
            write_atomic(&self.out.join(&name), bytes)?;
            files.push(name);
            Ok(())
        };
        for (t, name) in data.tables.iter().zip(data.csv_names()) {
            put(name, t.to_csv().as_bytes())?;
        }
        put(format!("{id}.svg"), data.figure.to_svg().as_bytes())?;
        let png = data
            .figure
            .to_png(2.0)
            .with_context(|| format!("rendering {id}.png"))?;
        put(format!("{id}.png"), &png)?;
        // The data dictionary of each CSV (onestep_experiments::columns).
        let columns: serde_json::Map<String, serde_json::Value> = data
            .tables
            .iter()
            .zip(data.csv_names())
            .map(|(t, name)| {
                let cols: serde_json::Map<String, serde_json::Value> = t
                    .columns
                    .iter()
                    .map(|c| {
                        let m = onestep_experiments::columns::meaning(id, c);
                        (c.clone(), m.map_or(serde_json::Value::Null, Into::into))
                    })
                    .collect();
                (name, cols.into())
            })
            .collect();
        let name = format!("{id}.manifest.json");
        files.push(name.clone());
        let manifest = serde_json::to_string_pretty(&json!({
            "columns": columns,
            "figure": data.manifest,
            "provenance": provenance(backend, threads),
            "options": opts,
            "wall_time_s": wall,
            "files": &files[..files.len() - 1],
            "csv_missing_values": CSV_MISSING,
        }))?;
        write_atomic(&self.out.join(&name), manifest.as_bytes())?;
        Ok(Written { files, manifest })
    }
}
