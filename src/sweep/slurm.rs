//! Slurm: which shard an array task runs, the thread count Slurm gives it, and the sbatch array
//! script of a sweep (one array task per shard).
//!
//! `--shard slurm` is shard `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1` of
//! `SLURM_ARRAY_TASK_COUNT`, for a contiguous array (`--array=1-N`, what [`script`] writes).
//! To resubmit a few shards (`--array=2,5`), `--shard slurm/N` is shard `SLURM_ARRAY_TASK_ID` of
//! N; [`script`] writes that form when given `only`.
use super::run::Shard;
use anyhow::{Result, bail};
use std::path::Path;

/// What `--shard` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSpec {
    /// `K/N`.
    Fixed(Shard),
    /// `slurm`: from the array's task id, minimum and count.
    Slurm,
    /// `slurm/N`: shard `SLURM_ARRAY_TASK_ID` of N.
    SlurmOf(usize),
}

impl std::str::FromStr for ShardSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<ShardSpec> {
        match s.split_once('/') {
            None if s == "slurm" => Ok(ShardSpec::Slurm),
            Some(("slurm", n)) => match n.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(ShardSpec::SlurmOf(n)),
                _ => bail!("--shard: got {s:?}; allowed: slurm/N with N ≥ 1 the number of shards"),
            },
            _ => Ok(ShardSpec::Fixed(s.parse()?)),
        }
    }
}

impl ShardSpec {
    /// The shard, reading the Slurm variables through `env` where needed.
    pub fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard> {
        let num = |name: &str| -> Result<usize> {
            let v = env(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "--shard slurm: {name} is not set; run inside a Slurm array job (sbatch --array=1-N), or give --shard K/N"
                )
            })?;
            v.trim().parse().map_err(|_| {
                anyhow::anyhow!("--shard slurm: {name}={v:?} is not a non-negative integer")
            })
        };
        match self {
            ShardSpec::Fixed(s) => Ok(s),
            ShardSpec::SlurmOf(n) => {
                let id = num("SLURM_ARRAY_TASK_ID")?;
                if id == 0 || id > n {
                    bail!(
                        "--shard slurm/{n}: SLURM_ARRAY_TASK_ID={id}; allowed 1..={n} (submit with --array between 1 and {n})"
                    );
                }
                Shard::new(id, n)
            }
            ShardSpec::Slurm => {
                let (id, min, count) = (
                    num("SLURM_ARRAY_TASK_ID")?,
                    num("SLURM_ARRAY_TASK_MIN")?,
                    num("SLURM_ARRAY_TASK_COUNT")?,
                );
                let contiguous = env("SLURM_ARRAY_TASK_MAX")
                    .and_then(|m| m.trim().parse::<usize>().ok())
                    .is_none_or(|max| max + 1 == min + count)
                    && env("SLURM_ARRAY_TASK_STEP").is_none_or(|s| s.trim() == "1");
                if !contiguous {
                    bail!(
                        "--shard slurm: the array is not contiguous (SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_COUNT={count}); to resubmit some shards of N use --shard slurm/N (`onestep sweep slurm-script DIR --shards N --only K,...`)"
                    );
                }
                if id < min || id >= min + count {
                    bail!(
                        "--shard slurm: SLURM_ARRAY_TASK_ID={id} is outside the array {min}..{}",
                        min + count
                    );
                }
                Shard::new(id - min + 1, count)
            }
        }
    }
}

/// The threads of `sweep run`: `--threads` when given, else `SLURM_CPUS_PER_TASK` when set, else 0
/// (all cores).
pub fn threads(flag: Option<usize>, env: &dyn Fn(&str) -> Option<String>) -> Result<usize> {
    if let Some(t) = flag {
        return Ok(t);
    }
    match env("SLURM_CPUS_PER_TASK") {
        Some(v) => v.trim().parse().map_err(|_| {
            anyhow::anyhow!("SLURM_CPUS_PER_TASK={v:?} is not an integer; give --threads")
        }),
        None => Ok(0),
    }
}

/// What goes into an array script.
#[derive(Clone, Debug)]
pub struct ScriptOptions<'a> {
    /// The `onestep` binary (absolute).
    pub exe: &'a Path,
    /// The sweep or figure directory (absolute); task logs go to `DIR/logs/`.
    pub dir: &'a Path,
    /// What each task runs after the binary, before `--shard slurm`: `sweep run DIR …` or
    /// `figure ID --out DIR …`.
    pub command: &'a [String],
    /// The script's first comment: what is split, and how.
    pub what: &'a str,
    /// Number of shards N (array tasks 1..=N).
    pub shards: usize,
    /// At most this many tasks at once (`%M`).
    pub throttle: Option<usize>,
    /// Only these shards (a resubmission): `--array=K1,K2`, run with `--shard slurm/N`.
    pub only: Option<&'a [usize]>,
    /// Extra `#SBATCH` lines.
    pub extra: &'a [String],
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The sbatch array script: one task per shard, logs in `DIR/logs/`, each task running
/// `EXE COMMAND --shard slurm`.
pub fn script(o: &ScriptOptions<'_>) -> Result<String> {
    if o.shards == 0 {
        bail!("--shards: got 0; allowed: an integer ≥ 1 (one array task per shard)");
    }
    if o.throttle == Some(0) {
        bail!("--throttle: got 0; allowed: an integer ≥ 1 (tasks running at once)");
    }
    let dir = o.dir.to_str().filter(|d| !d.contains(char::is_whitespace));
    let Some(dir_s) = dir else {
        bail!(
            "{}: #SBATCH --output cannot hold a path with spaces or non-UTF-8 names; use another directory",
            o.dir.display()
        );
    };
    for e in o.extra {
        if !e.starts_with("#SBATCH ") || e.contains('\n') {
            bail!(
                "--extra: got {e:?}; allowed: one line starting with `#SBATCH ` (e.g. '#SBATCH --time=01:00:00')"
            );
        }
    }
    let (array, shard) = match o.only {
        Some(ks) => {
            if ks.is_empty() {
                bail!("--only: no shards given");
            }
            if let Some(k) = ks.iter().find(|&&k| k == 0 || k > o.shards) {
                bail!("--only: shard {k} is not in 1..={}", o.shards);
            }
            let list: Vec<String> = ks.iter().map(usize::to_string).collect();
            (list.join(","), format!("slurm/{}", o.shards))
        }
        None => (format!("1-{}", o.shards), "slurm".to_string()),
    };
    let throttle = o.throttle.map_or(String::new(), |m| format!("%{m}"));
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!("# onestep {}\n", o.what));
    s.push_str(
        "# Submit with `sbatch THIS_FILE`; a task that is rerun skips what is already finished.\n",
    );
    s.push_str(&format!(
        "#SBATCH --job-name=onestep-{}\n",
        o.command.first().map_or("run", String::as_str)
    ));
    s.push_str(&format!("#SBATCH --array={array}{throttle}\n"));
    s.push_str(&format!("#SBATCH --output={dir_s}/logs/%A_%a.out\n"));
    for e in o.extra {
        s.push_str(e);
        s.push('\n');
    }
    s.push_str("set -euo pipefail\n");
    let mut cmd = format!("exec {}", quote(&o.exe.to_string_lossy()));
    for a in o.command {
        cmd.push(' ');
        cmd.push_str(&quote(a));
    }
    cmd.push_str(&format!(" --shard {shard}"));
    s.push_str(&cmd);
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn shard_from_the_slurm_array() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        let s: ShardSpec = "slurm".parse().unwrap();
        assert_eq!(s.resolve(&e).unwrap(), Shard::new(3, 4).unwrap());
        let s: ShardSpec = "slurm/8".parse().unwrap();
        assert_eq!(s.resolve(&e).unwrap(), Shard::new(3, 8).unwrap());
        let sparse = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "2"),
            ("SLURM_ARRAY_TASK_MAX", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        let err = ShardSpec::Slurm.resolve(&sparse).unwrap_err().to_string();
        assert!(err.contains("slurm/N"), "{err}");
        let err = ShardSpec::Slurm.resolve(&env(&[])).unwrap_err().to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_ID is not set"), "{err}");
        assert_eq!(
            "2/4".parse::<ShardSpec>().unwrap(),
            ShardSpec::Fixed(Shard::new(2, 4).unwrap())
        );
        assert!("slurm/0".parse::<ShardSpec>().is_err());
        assert_eq!(
            threads(None, &env(&[("SLURM_CPUS_PER_TASK", "6")])).unwrap(),
            6
        );
        assert_eq!(
            threads(Some(2), &env(&[("SLURM_CPUS_PER_TASK", "6")])).unwrap(),
            2
        );
        assert_eq!(threads(None, &env(&[])).unwrap(), 0);
    }

    #[test]
    fn array_script() {
        let extra = vec!["#SBATCH --time=01:00:00".to_string()];
        let command = ["sweep", "run", "/scratch/sw"].map(String::from);
        let o = ScriptOptions {
            exe: Path::new("/opt/bin/onestep"),
            dir: Path::new("/scratch/sw"),
            command: &command,
            what: "sweep: 40 cells",
            shards: 8,
            throttle: Some(3),
            only: None,
            extra: &extra,
        };
        let s = script(&o).unwrap();
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=1-8%3\n"));
        assert!(s.contains("#SBATCH --time=01:00:00\n"));
        assert!(s.contains("#SBATCH --output=/scratch/sw/logs/%A_%a.out\n"));
        assert!(s.ends_with("exec /opt/bin/onestep sweep run /scratch/sw --shard slurm\n"));
        let only = [2, 5];
        let s = script(&ScriptOptions {
            only: Some(&only),
            throttle: None,
            ..o.clone()
        })
        .unwrap();
        assert!(s.contains("#SBATCH --array=2,5\n"));
        assert!(s.contains("--shard slurm/8\n"));
        let bad = vec!["--time=1".to_string()];
        assert!(
            script(&ScriptOptions {
                extra: &bad,
                ..o.clone()
            })
            .is_err()
        );
        assert!(
            script(&ScriptOptions {
                shards: 0,
                ..o.clone()
            })
            .is_err()
        );
        assert!(
            script(&ScriptOptions {
                only: Some(&[9]),
                ..o.clone()
            })
            .is_err()
        );
    }
}
