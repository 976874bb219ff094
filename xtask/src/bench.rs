//! `cargo xtask bench [--quick] [--vs-numpy] [--threads T] [--features LIST]`: backends side by
//! side, and the B1 pipeline against NumPy. `--features nalgebra,openblas` adds those backends'
//! columns (faer is always built).
//!
//! Runs the criterion suite `benches/backends.rs`, gathers the medians this run wrote under
//! `<target>/criterion/<op>/<backend>/<size>/new/`, prints one Markdown table with a column per
//! backend (GFLOP/s where the benchmark declares its flop count) and writes it to
//! `out/bench/bench.md` and `out/bench/bench.json` (each via a temporary file and a rename).
//! With `--vs-numpy` it also times the B1 point of docs/performance.md: the release `onestep simulate`
//! against `benches/numpy_baseline.py` (NumPy/SciPy in `.venv-bench`, created on demand), with
//! the same thread count, and prints both ratios: NumPy / Rust and Rust / floor, the floor being
//! B1's flop count over the best f64 matrix-product rate measured in the same run.
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// B1 sizes (docs/performance.md).
const B1: (usize, usize, usize, usize) = (1024, 1024, 4096, 8192);
/// The operations whose rate is this machine's floor: square and tall-skinny f64 products.
const FLOOR_OPS: [&str; 2] = ["matmul", "matmul_tall"];

/// The best f64 matrix-product rate this run measured (flop/s), and where: the fastest of
/// [`FLOOR_OPS`] over every size and compiled backend.
fn measured_peak(rows: &[Row]) -> Option<(f64, String)> {
    rows.iter()
        .filter(|r| FLOOR_OPS.contains(&r.op.as_str()))
        .filter_map(|r| {
            Some((
                r.flops? / r.median_s,
                format!("{} {} {}", r.op, r.backend, r.size),
            ))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// B1's unavoidable work in flops (docs/performance.md): six matrix products (X·W₀ᵀ, the
/// gradient, X̃·Wᵀ, X̃·W₀ᵀ, X_test·Wᵀ, X_test·W₀ᵀ: 2dN(4n + 2n_test)), two symmetric N × N Gram
/// matrices of n × N features (nN² each) and one N × N symmetric eigendecomposition (≈ 4N³/3).
fn b1_flops() -> f64 {
    let (d, w, n, nt) = B1;
    2.0 * (d * w) as f64 * (4 * n + 2 * nt) as f64
        + 2.0 * (n * w * w) as f64
        + 4.0 * (w as f64).powi(3) / 3.0
}

struct Row {
    op: String,
    backend: String,
    size: String,
    median_s: f64,
    flops: Option<f64>,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut vs_numpy = false;
    let mut threads = 2usize;
    let mut features: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--vs-numpy" => vs_numpy = true,
            "--threads" => {
                let v = it.next().context("--threads needs a value")?;
                threads = v
                    .parse()
                    .with_context(|| format!("--threads must be a positive integer (got {v})"))?;
            }
            "--features" => {
                features = Some(
                    it.next()
                        .context("--features needs a list, e.g. nalgebra")?
                        .clone(),
                );
            }
            other => bail!(
                "unknown option `{other}` for `cargo xtask bench`; allowed: --quick, --vs-numpy, --threads T, --features LIST"
            ),
        }
    }
    let root = workspace_root()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out_dir = root.join("out/bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let start = SystemTime::now();
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root)
        .args(["bench", "--bench", "backends"]);
    if let Some(f) = &features {
        cmd.args(["--features", f]);
    }
    cmd.arg("--")
        .env("ONESTEP_BENCH_THREADS", threads.to_string());
    if quick {
        cmd.arg("--quick");
    }
    eprintln!("running {cmd:?}");
    let status = cmd.status().context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench --bench backends failed ({status})");
    }
    let rows = collect(&target.join("criterion"), start)?;
    if rows.is_empty() {
        bail!(
            "criterion wrote no results under {}",
            target.join("criterion").display()
        );
    }

    let peak = measured_peak(&rows).context(
        "this run measured no matrix product (matmul, matmul_tall); the floor needs one",
    )?;
    let b1 = if vs_numpy {
        Some(vs_numpy_run(&root, &target, &out_dir, threads, peak.0)?)
    } else {
        None
    };
    let md = markdown(&rows, b1.as_ref(), threads, &peak);
    println!("{md}");
    write_atomic(&out_dir.join("bench.md"), &md)?;
    write_atomic(
        &out_dir.join("bench.json"),
        &json(&rows, b1.as_ref(), threads, &peak),
    )?;
    eprintln!(
        "wrote {} and {}",
        out_dir.join("bench.md").display(),
        out_dir.join("bench.json").display()
    );
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(dir
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf())
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// The string value of `"key":"..."` in a flat JSON text (criterion ids hold no escapes).
fn json_str(text: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let rest = text[text.find(&pat)? + pat.len()..].trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// The number following `"key":` (first occurrence after `from`).
fn json_num(text: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\":");
    let rest = text[text.find(&pat)? + pat.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn collect(dir: &Path, since: SystemTime) -> Result<Vec<Row>> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let mut rows = Vec::new();
    for bj in files {
        let fresh = std::fs::metadata(&bj)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if !fresh {
            continue;
        }
        let meta = std::fs::read_to_string(&bj)?;
        let est = std::fs::read_to_string(bj.with_file_name("estimates.json"))?;
        let median = est
            .find("\"median\"")
            .and_then(|i| json_num(&est[i..], "point_estimate"));
        let (Some(op), Some(backend), Some(median)) = (
            json_str(&meta, "group_id"),
            json_str(&meta, "function_id"),
            median,
        ) else {
            continue;
        };
        let size = json_str(&meta, "value_str").unwrap_or_default();
        let flops = meta
            .find("\"Elements\"")
            .and_then(|i| json_num(&meta[i..], "Elements"));
        rows.push(Row {
            op,
            backend,
            size,
            median_s: median * 1e-9,
            flops,
        });
    }
    rows.sort_by(|a, b| {
        (a.op.as_str(), size_key(&a.size), a.backend.as_str()).cmp(&(
            b.op.as_str(),
            size_key(&b.size),
            b.backend.as_str(),
        ))
    });
    Ok(rows)
}

fn size_key(s: &str) -> (usize, &str) {
    (s.parse().unwrap_or(usize::MAX), s)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.file_name().is_some_and(|n| n == "benchmark.json")
            && p.parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "new")
        {
            out.push(p);
        }
    }
    Ok(())
}

fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

struct B1Result {
    rust_s: f64,
    numpy_s: f64,
    floor_s: f64,
}

fn markdown(rows: &[Row], b1: Option<&B1Result>, threads: usize, peak: &(f64, String)) -> String {
    let mut backends: Vec<&str> = rows.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    backends.sort_unstable();
    backends.dedup();
    let mut keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.op.as_str(), r.size.as_str()))
        .collect();
    keys.dedup();
    let mut md = format!(
        "# Backend benchmarks ({threads} threads, criterion medians)\n\n| operation | size |"
    );
    for b in &backends {
        let _ = write!(md, " {b} |");
    }
    md.push_str("\n|---|---|");
    md.push_str(&"---|".repeat(backends.len()));
    md.push('\n');
    for (op, size) in keys {
        let _ = write!(md, "| {op} | {size} |");
        for b in &backends {
            match rows
                .iter()
                .find(|r| r.op == op && r.size == size && r.backend == *b)
            {
                Some(r) => match r.flops {
                    Some(f) => {
                        let _ = write!(
                            md,
                            " {} ({:.1} GFLOP/s) |",
                            fmt_time(r.median_s),
                            f / r.median_s / 1e9
                        );
                    }
                    None => {
                        let _ = write!(md, " {} |", fmt_time(r.median_s));
                    }
                },
                None => md.push_str(" – |"),
            }
        }
        md.push('\n');
    }
    md.push_str("\nFlop counts: matmul 2n³; matmul_tall (4n × n)·(n × n) 8n³; gram of a 4n × n matrix 4n³ (symmetric half); spd_solve n³/3 (Cholesky); eigensolvers: time only.\n");
    let _ = writeln!(
        md,
        "\nFloor rate: **{:.1} GFLOP/s**, the best f64 product measured in this run ({}).",
        peak.0 / 1e9,
        peak.1
    );
    if let Some(b) = b1 {
        let (d, w, n, nt) = B1;
        let _ = write!(
            md,
            "\n## B1 pipeline (d = {d}, N = {w}, n = {n}, n_test = {nt}, α = 0.3, {threads} threads)\n\n| | wall time | vs floor ({:.2} s) |\n|---|---|---|\n| onestep (faer) | {:.2} s | {:.2}× |\n| NumPy/SciPy | {:.2} s | {:.2}× |\n\nNumPy / onestep = **{:.2}×** (target ≥ 2.5×); onestep / floor = **{:.2}×** (target ≤ 1.5×).\n",
            b.floor_s,
            b.rust_s,
            b.rust_s / b.floor_s,
            b.numpy_s,
            b.numpy_s / b.floor_s,
            b.numpy_s / b.rust_s,
            b.rust_s / b.floor_s
        );
    }
    md
}

fn json(rows: &[Row], b1: Option<&B1Result>, threads: usize, peak: &(f64, String)) -> String {
    let mut s = format!(
        "{{\n  \"threads\": {threads},\n  \"floor_gflops\": {:.4},\n  \"floor_measured_on\": \"{}\",\n  \"b1_flops\": {:e},\n  \"results\": [\n",
        peak.0 / 1e9,
        peak.1,
        b1_flops()
    );
    for (i, r) in rows.iter().enumerate() {
        let gf = r.flops.map_or("null".to_string(), |f| {
            format!("{:.4}", f / r.median_s / 1e9)
        });
        let _ = writeln!(
            s,
            "    {{\"op\": \"{}\", \"backend\": \"{}\", \"size\": \"{}\", \"median_s\": {:e}, \"gflops\": {gf}}}{}",
            r.op,
            r.backend,
            r.size,
            r.median_s,
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    s.push_str("  ]");
    if let Some(b) = b1 {
        let _ = write!(
            s,
            ",\n  \"b1\": {{\"rust_wall_s\": {}, \"numpy_wall_s\": {}, \"floor_s\": {}, \"numpy_over_rust\": {}, \"rust_over_floor\": {}}}",
            b.rust_s,
            b.numpy_s,
            b.floor_s,
            b.numpy_s / b.rust_s,
            b.rust_s / b.floor_s
        );
    }
    s.push_str("\n}\n");
    s
}

fn read_wall(path: &Path) -> Result<f64> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    json_num(&text, "wall_time_s").with_context(|| format!("no wall_time_s in {}", path.display()))
}

fn vs_numpy_run(
    root: &Path,
    target: &Path,
    out_dir: &Path,
    threads: usize,
    peak: f64,
) -> Result<B1Result> {
    let (d, w, n, nt) = B1;
    let floor_s = b1_flops() / peak;

    // NumPy environment, on demand.
    let venv = root.join(".venv-bench");
    let py = venv.join("bin/python");
    if !py.exists() {
        eprintln!(
            "creating {} and installing numpy, scipy (pip) ...",
            venv.display()
        );
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .context("running python3 -m venv")?;
        if !ok.success() {
            bail!(
                "python3 -m venv {} failed; install python3-venv or create it by hand",
                venv.display()
            );
        }
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "numpy", "scipy"])
            .status()
            .context("running pip")?;
        if !ok.success() {
            bail!(
                "pip install numpy scipy failed (no network?); --vs-numpy needs them in {}",
                venv.display()
            );
        }
    }

    // Rust side: the release binary.
    let ok = Command::new(cargo())
        .current_dir(root)
        .args(["build", "--release", "--bin", "onestep"])
        .status()
        .context("building onestep")?;
    if !ok.success() {
        bail!("cargo build --release --bin onestep failed");
    }
    let bin = target.join("release/onestep");
    let rust_json = out_dir.join("b1_rust.json");
    let t0 = Instant::now();
    // The sizes and α shared by both sides; B1 fits NN, RF and the infinite-spike models ℓ = 1, 2
    // (docs/performance.md), so the extra equivalent models `simulate` fits by default are switched off.
    let (ds, ws, ns, nts) = (d.to_string(), w.to_string(), n.to_string(), nt.to_string());
    let shared = [
        "--d", &ds, "--width", &ws, "--n", &ns, "--n-test", &nts, "--alpha", "0.3",
    ];
    let status = Command::new(&bin)
        .arg("simulate")
        .args(shared)
        .args([
            "--models",
            "inf_spike_1,inf_spike_2",
            "--trials",
            "1",
            "--threads",
            &threads.to_string(),
            "--json",
        ])
        .arg(&rust_json)
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    let rust_outer = t0.elapsed().as_secs_f64();
    if !status.success() {
        bail!("onestep simulate (B1) failed ({status})");
    }
    let rust_s = read_wall(&rust_json).unwrap_or(rust_outer);

    let numpy_json = out_dir.join("b1_numpy.json");
    let t = threads.to_string();
    let status = Command::new(&py)
        .arg(root.join("benches/numpy_baseline.py"))
        .args(shared)
        .arg("--json")
        .arg(&numpy_json)
        .env("OPENBLAS_NUM_THREADS", &t)
        .env("OMP_NUM_THREADS", &t)
        .env("MKL_NUM_THREADS", &t)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running benches/numpy_baseline.py")?;
    if !status.success() {
        bail!("the NumPy baseline failed ({status})");
    }
    let numpy_s = read_wall(&numpy_json)?;
    eprintln!(
        "B1: onestep {rust_s:.2} s (process {rust_outer:.2} s), NumPy {numpy_s:.2} s, floor {floor_s:.2} s: NumPy/onestep = {:.2}x, onestep/floor = {:.2}x",
        numpy_s / rust_s,
        rust_s / floor_s
    );
    eprintln!(
        "note: the two sides draw their data from different generators; compare {} and {} statistically",
        rust_json.display(),
        numpy_json.display()
    );
    Ok(B1Result {
        rust_s,
        numpy_s,
        floor_s,
    })
}
