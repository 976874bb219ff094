//! `cargo xtask reproduce [--quick] [--out DIR] [--configs CDIR] [--shards N] [--threads T]
//! [--seeds K] [--fresh] [IDS...]`: builds the release binary once (`cargo build --release -p
//! onestep`), then runs `onestep figure ID --out DIR --config CDIR/ID.toml` for every figure of
//! docs/figures.md (or the ids given; CDIR is the workspace's `configs/` unless given); with
//! `--shards N`, first N processes `… --shard K/N` side by side, then the drawing run. It prints a
//! summary with wall times and writes DIR/report.md and DIR/report.html ([`crate::report`]).
//! Default DIR: `out/figures`, or `out/figures-quick` with `--quick`.
//! Points are cached under DIR/.cache, so an interrupted reproduction resumes where it stopped.
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Args {
    quick: bool,
    out: Option<PathBuf>,
    configs: Option<PathBuf>,
    shards: usize,
    pass: Vec<String>,
    ids: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        quick: false,
        out: None,
        configs: None,
        shards: 1,
        pass: Vec::new(),
        ids: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--quick" => a.quick = true,
            "--fresh" => a.pass.push(x.clone()),
            "--out" => a.out = Some(it.next().context("--out needs a directory")?.into()),
            "--shards" => {
                let v = it.next().context("--shards needs a count")?;
                a.shards = v
                    .parse()
                    .ok()
                    .filter(|&n: &usize| n >= 1)
                    .with_context(|| format!("--shards: got {v}; allowed: an integer ≥ 1"))?;
            }
            "--configs" => {
                a.configs = Some(it.next().context("--configs needs a directory")?.into());
            }
            "--threads" | "--seeds" | "--seed" | "--backend" => {
                let v = it.next().with_context(|| format!("{x} needs a value"))?;
                a.pass.extend([x.clone(), v.clone()]);
            }
            "-h" | "--help" => {
                println!(
                    "cargo xtask reproduce [--quick] [--out DIR] [--configs CDIR] [--shards N] [--threads T] [--seeds K] [--seed S] [--fresh] [IDS...]\n    CDIR/ID.toml is each figure's grid file (default: the workspace's configs/); --shards N computes each figure's points in N processes side by side (onestep figure --shard K/N), then draws it"
                );
                std::process::exit(0);
            }
            s if s.starts_with('-') => {
                bail!("unknown option {s}; try `cargo xtask reproduce --help`")
            }
            id => a.ids.push(id.to_string()),
        }
    }
    Ok(a)
}

/// Workspace root: the parent of this crate's manifest directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn binary(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    target
        .join("release")
        .join(format!("onestep{}", std::env::consts::EXE_SUFFIX))
}

pub fn run(args: &[String]) -> Result<()> {
    let a = parse(args)?;
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the release binary …");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "onestep"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p onestep failed");
    }
    let bin = binary(&root);
    if !bin.is_file() {
        bail!(
            "built binary not found at {}; is CARGO_TARGET_DIR set differently for this process?",
            bin.display()
        );
    }
    let ids = if a.ids.is_empty() {
        let out = Command::new(&bin)
            .args(["figure", "list", "--ids"])
            .output()
            .context("listing figures")?;
        if !out.status.success() {
            bail!(
                "`onestep figure list --ids` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    } else {
        a.ids.clone()
    };
    let out_dir = a.out.clone().unwrap_or_else(|| {
        root.join(if a.quick {
            "out/figures-quick"
        } else {
            "out/figures"
        })
    });
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let configs = a.configs.clone().unwrap_or_else(|| root.join("configs"));
    for id in &ids {
        let f = configs.join(format!("{id}.toml"));
        if !f.is_file() {
            bail!(
                "no grid file {} for figure `{id}`; copy configs/{id}.toml there or leave out --configs",
                f.display()
            );
        }
    }
    let start = Instant::now();
    let mut rows = Vec::new();
    for id in &ids {
        eprintln!("== {id}");
        let t = Instant::now();
        let figure = || {
            let mut cmd = Command::new(&bin);
            cmd.args(["figure", id, "--out"])
                .arg(&out_dir)
                .arg("--config")
                .arg(configs.join(format!("{id}.toml")))
                .args(&a.pass);
            if a.quick {
                cmd.arg("--quick");
            }
            cmd
        };
        // The shards side by side (one thread each unless --threads says otherwise), then the
        // drawing run, which finds every point in the cache.
        let mut shards_ok = true;
        if a.shards > 1 {
            let one_thread = !a.pass.iter().any(|p| p == "--threads");
            let children: Vec<_> = (1..=a.shards)
                .map(|k| {
                    let mut cmd = figure();
                    cmd.args(["--shard", &format!("{k}/{}", a.shards)]);
                    if one_thread {
                        cmd.args(["--threads", "1"]);
                    }
                    cmd.spawn()
                        .with_context(|| format!("running onestep figure {id} --shard {k}"))
                })
                .collect::<Result<_>>()?;
            for mut c in children {
                shards_ok &= c.wait()?.success();
            }
        }
        let ok = shards_ok
            && figure()
                .status()
                .with_context(|| format!("running onestep figure {id}"))?
                .success();
        rows.push((id.clone(), ok, t.elapsed().as_secs_f64()));
    }
    let total = start.elapsed().as_secs_f64();
    println!("\n{:<16} {:>8} {:>10}", "figure", "status", "wall (s)");
    for (id, ok, s) in &rows {
        println!(
            "{id:<16} {:>8} {s:>10.1}",
            if *ok { "ok" } else { "FAILED" }
        );
    }
    println!("{:<16} {:>8} {total:>10.1}", "total", "");
    let runs: Vec<crate::report::Run> = rows
        .iter()
        .map(|(id, ok, s)| crate::report::Run {
            id: id.clone(),
            ok: *ok,
            wall_s: *s,
        })
        .collect();
    let ([md, html], exceeded) = crate::report::write(&out_dir, &runs, a.quick, total)?;
    println!(
        "outputs in {}; report: {} and {}",
        out_dir.display(),
        md.display(),
        html.display()
    );
    let failed: Vec<&str> = rows.iter().filter(|r| !r.1).map(|r| r.0.as_str()).collect();
    if !failed.is_empty() {
        bail!("figures failed: {}", failed.join(", "));
    }
    if !exceeded.is_empty() {
        bail!(
            "{} stated tolerance(s) not met (the report marks them ✗):\n  {}",
            exceeded.len(),
            exceeded.join("\n  ")
        );
    }
    Ok(())
}
