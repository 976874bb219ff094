//! `cargo xtask bench [--quick] [--vs-numpy] [--scaling [--scaling-max D]] [--threads T]
//! [--features LIST]`: backends side by side, the B1 pipeline against NumPy, and the scaling table. `--features nalgebra,openblas` adds those backends'
//! columns (faer is always built).
//!
//! Runs the criterion suite `benches/backends.rs`, gathers the medians this run wrote under
//! `<target>/criterion/<op>/<backend>/<size>/new/`, prints one Markdown table with a column per
//! backend (GFLOP/s where the benchmark declares its flop count) and writes it to
//! `out/bench/bench.md` and `out/bench/bench.json` (each via a temporary file and a rename).
//! With `--vs-numpy` it also times the B1 point of docs/performance.md: the release `onestep simulate`
//! against `benches/numpy_baseline.py` (NumPy/SciPy in `.venv-bench`, created on demand), with
//! the same thread count, and prints both ratios: NumPy / Rust and Rust / floor, the floor being
//! B1's flop count over the best f64 matrix-product rate measured in the same run. B1 runs as
//! faer streamed (the default), faer in memory and (with `--features openblas`) OpenBLAS, alternating with
//! NumPy, three rounds, medians. With `--scaling` it runs `onestep simulate` at d = N = 1024,
//! 2048, 4096, 8192 with n = 4d and at d = N = 8192 with n = 65536 (those up to `--scaling-max`),
//! streamed where a size does not fit in memory, and tabulates wall time, peak RSS and time / floor.
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

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
    flops(d, w, n, nt)
}

/// The same unavoidable work at any sizes.
fn flops(d: usize, w: usize, n: usize, nt: usize) -> f64 {
    let (d, w, n, nt) = (d as f64, w as f64, n as f64, nt as f64);
    2.0 * d * w * (4.0 * n + 2.0 * nt) + 2.0 * n * w * w + 4.0 * w.powi(3) / 3.0
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
    let mut scaling = false;
    let mut scaling_max = 8192usize;
    let mut threads = 2usize;
    let mut features: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--vs-numpy" => vs_numpy = true,
            "--scaling" => scaling = true,
            "--scaling-max" => {
                let v = it
                    .next()
                    .context("--scaling-max needs a dimension, e.g. 4096")?;
                scaling_max = v.parse().with_context(|| {
                    format!("--scaling-max must be a positive integer (got {v})")
                })?;
            }
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
                "unknown option `{other}` for `cargo xtask bench`; allowed: --quick, --vs-numpy, --scaling, --scaling-max D, --threads T, --features LIST"
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
        Some(vs_numpy_run(
            &root,
            &out_dir,
            threads,
            features.as_deref(),
            peak.0,
        )?)
    } else {
        None
    };
    let scale = if scaling {
        scaling_run(
            &root,
            &out_dir,
            threads,
            features.as_deref(),
            scaling_max,
            peak.0,
        )?
    } else {
        Vec::new()
    };
    let mut md = markdown(&rows, b1.as_ref(), threads, &peak);
    md.push_str(&scaling_markdown(&scale, threads));
    println!("{md}");
    write_atomic(&out_dir.join("bench.md"), &md)?;
    write_atomic(
        &out_dir.join("bench.json"),
        &json(&rows, b1.as_ref(), &scale, threads, &peak),
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
    /// (variant, median wall seconds): the default faer run first.
    runs: Vec<(String, f64)>,
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
            "\n## B1 pipeline (d = {d}, N = {w}, n = {n}, n_test = {nt}, α = 0.3, {threads} threads; medians of {REPS} alternating runs)\n\n| | wall time | / floor ({:.2} s) | NumPy / it |\n|---|---|---|---|\n",
            b.floor_s
        );
        for (label, t) in b
            .runs
            .iter()
            .chain([("NumPy/SciPy".to_string(), b.numpy_s)].iter())
        {
            let _ = writeln!(
                md,
                "| {label} | {t:.2} s | {:.2}× | {:.2}× |",
                t / b.floor_s,
                b.numpy_s / t
            );
        }
        let _ = writeln!(
            md,
            "\nTargets: NumPy / onestep ≥ 2.5×, onestep / floor ≤ 1.5×, faer / OpenBLAS ≤ 1.3×.{}",
            match (
                b.runs.first(),
                b.runs.iter().find(|r| r.0.contains("openblas"))
            ) {
                (Some(f), Some(o)) => format!(" faer / OpenBLAS here: {:.2}×.", f.1 / o.1),
                _ => String::new(),
            }
        );
    }
    md
}

fn json(
    rows: &[Row],
    b1: Option<&B1Result>,
    scale: &[ScaleRow],
    threads: usize,
    peak: &(f64, String),
) -> String {
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
        let runs: Vec<serde_json::Value> = b
            .runs
            .iter()
            .map(|(label, t)| {
                serde_json::json!({"run": label, "wall_s": t, "over_floor": t / b.floor_s, "numpy_over_it": b.numpy_s / t})
            })
            .collect();
        let v = serde_json::json!({"numpy_wall_s": b.numpy_s, "floor_s": b.floor_s, "runs": runs});
        let _ = write!(s, ",\n  \"b1\": {v}");
    }
    if !scale.is_empty() {
        let rows: Vec<serde_json::Value> = scale
            .iter()
            .map(|r| {
                serde_json::json!({"d": r.d, "width": r.d, "n": r.n, "n_test": 8192, "streamed_rows": r.streamed, "wall_s": r.wall_s, "peak_rss_bytes": r.peak_rss, "floor_s": r.floor_s})
            })
            .collect();
        let _ = write!(s, ",\n  \"scaling\": {}", serde_json::Value::from(rows));
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
    out_dir: &Path,
    threads: usize,
    features: Option<&str>,
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

    let bin = build_onestep(root, features)?;
    let (ds, ws, ns, nts) = (d.to_string(), w.to_string(), n.to_string(), nt.to_string());
    // The sizes and α shared by both sides; B1 fits NN, RF and the infinite-spike models ℓ = 1, 2
    // (docs/performance.md), so the extra equivalent models `simulate` fits by default are switched off.
    let shared = [
        "--d", &ds, "--width", &ws, "--n", &ns, "--n-test", &nts, "--alpha", "0.3",
    ];
    let t = threads.to_string();
    agree_on_same_data(&bin, &py, out_dir, &shared, &t)?;
    // The default (streamed: B1's models allow it) first, then held in memory, then OpenBLAS.
    let mut variants: Vec<(String, Vec<&str>)> = vec![
        ("onestep faer, streamed (default)".into(), vec![]),
        ("onestep faer, --in-memory".into(), vec!["--in-memory"]),
    ];
    if features.is_some_and(|f| f.split(',').any(|f| f.trim() == "openblas")) {
        variants.push((
            "onestep openblas, streamed".into(),
            vec!["--backend", "openblas"],
        ));
    }
    // Alternating whole-process runs, REPS of each; medians of the pipelines' own wall times.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len() + 1];
    for rep in 0..REPS {
        for (i, (label, extra)) in variants.iter().enumerate() {
            let json = out_dir.join(format!("b1_rust_{i}.json"));
            let mut args = shared.to_vec();
            args.extend(extra);
            simulate_b1_models(&bin, &args, &t, &json).with_context(|| format!("{label} (B1)"))?;
            times[i].push(read_wall(&json)?);
        }
        let numpy_json = out_dir.join("b1_numpy.json");
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
        times[variants.len()].push(read_wall(&numpy_json)?);
        eprintln!("B1 round {}/{REPS} done", rep + 1);
    }
    let numpy_s = median(&times[variants.len()]);
    let runs: Vec<(String, f64)> = variants
        .into_iter()
        .zip(&times)
        .map(|((label, _), t)| (label, median(t)))
        .collect();
    eprintln!(
        "note: the two sides draw their data from different generators; compare {} and {} statistically",
        out_dir.join("b1_rust_0.json").display(),
        out_dir.join("b1_numpy.json").display()
    );
    Ok(B1Result {
        runs,
        numpy_s,
        floor_s,
    })
}

/// `onestep simulate ARGS` with B1's models and `threads`, its JSON to `json`, stdout dropped.
fn simulate_b1_models(bin: &Path, args: &[&str], threads: &str, json: &Path) -> Result<()> {
    let status = Command::new(bin)
        .arg("simulate")
        .args(args)
        .args(["--models", "inf_spike_1,inf_spike_2", "--threads", threads])
        .arg("--json")
        .arg(json)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    if !status.success() {
        bail!("failed ({status})");
    }
    Ok(())
}

/// Largest relative difference allowed between onestep and NumPy on the same data.
const AGREE: f64 = 1e-8;

/// Runs B1 once with `--dump-data`, the NumPy baseline on that data, and fails unless every
/// error (nn, rf, inf_spike_1, inf_spike_2: train, test, test_clean), the leading singular
/// values, the bulk edge and the three alignments agree to [`AGREE`] relative.
fn agree_on_same_data(
    bin: &Path,
    py: &Path,
    out_dir: &Path,
    shared: &[&str],
    threads: &str,
) -> Result<()> {
    let data = out_dir.join("b1-data");
    let (rust_json, numpy_json) = (
        out_dir.join("b1_check_rust.json"),
        out_dir.join("b1_check_numpy.json"),
    );
    let data_dir = data.to_string_lossy().into_owned();
    let mut args = shared.to_vec();
    args.extend(["--in-memory", "--dump-data", &data_dir]);
    simulate_b1_models(bin, &args, threads, &rust_json)
        .context("onestep simulate --dump-data (B1)")?;
    let status = Command::new(py)
        .arg(workspace_root()?.join("benches/numpy_baseline.py"))
        .args(shared)
        .arg("--data")
        .arg(&data)
        .arg("--json")
        .arg(&numpy_json)
        .env("OPENBLAS_NUM_THREADS", threads)
        .stdout(std::process::Stdio::null())
        .status()?;
    let _ = std::fs::remove_dir_all(&data);
    if !status.success() {
        bail!("the NumPy baseline on the dumped data failed ({status})");
    }
    let read = |p: &Path| -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&std::fs::read_to_string(p)?)?)
    };
    let (r, np) = (read(&rust_json)?, read(&numpy_json)?);
    let trial = &r["trials"][0];
    let mut pairs: Vec<(String, f64, f64)> = Vec::new();
    for m in ["nn", "rf", "inf_spike_1", "inf_spike_2"] {
        for k in ["train", "test", "test_clean"] {
            pairs.push((
                format!("{m} {k}"),
                trial["errors"][m][k].as_f64().unwrap_or(f64::NAN),
                np["errors"][m][k].as_f64().unwrap_or(f64::NAN),
            ));
        }
    }
    let nums = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array().map_or(Vec::new(), |a| {
            a.iter().filter_map(|x| x.as_f64()).collect()
        })
    };
    for (what, rk, nk) in [
        ("s", "top", "spectrum_top"),
        ("alignment", "alignment", "alignment"),
    ] {
        let (a, b) = (nums(&trial["spectrum"][rk]), nums(&np[nk]));
        if a.len() != b.len() || a.is_empty() {
            bail!(
                "B1 check: {what}: onestep has {} values, NumPy {}",
                a.len(),
                b.len()
            );
        }
        pairs.extend(
            a.iter()
                .zip(&b)
                .enumerate()
                .map(|(i, (x, y))| (format!("{what}[{i}]"), *x, *y)),
        );
    }
    pairs.push((
        "bulk edge".into(),
        trial["spectrum"]["bulk_edge"].as_f64().unwrap_or(f64::NAN),
        np["bulk_edge"].as_f64().unwrap_or(f64::NAN),
    ));
    let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
    let worst = pairs
        .iter()
        .map(|(w, a, b)| (w, a, b, rel(*a, *b)))
        .max_by(|x, y| x.3.total_cmp(&y.3).then(std::cmp::Ordering::Less))
        .expect("pairs");
    if worst.3.is_nan() || worst.3 > AGREE {
        bail!(
            "onestep and NumPy disagree on the same data: {} is {} against {} (relative {:.1e} > {AGREE:e})",
            worst.0,
            worst.1,
            worst.2,
            worst.3
        );
    }
    eprintln!(
        "B1 on the same data: {} numbers agree, worst {} at {:.1e} relative (≤ {AGREE:e})",
        pairs.len(),
        worst.0,
        worst.3
    );
    Ok(())
}

/// Whole-process rounds of each B1 variant (alternating).
const REPS: usize = 3;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Builds the release `onestep` binary with `features` and returns its path.
fn build_onestep(root: &Path, features: Option<&str>) -> Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "--release", "--bin", "onestep"]);
    if let Some(f) = features {
        cmd.args(["--features", f]);
    }
    if !cmd.status().context("building onestep")?.success() {
        bail!("cargo build --release --bin onestep failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/onestep"))
}

/// The scaling table in Markdown (empty without rows).
fn scaling_markdown(rows: &[ScaleRow], threads: usize) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n## Scaling (d = N, n_test = 8192, α = 0.3, models as B1, {threads} threads)\n\n| d = N | n | memory | wall time | peak RSS | / floor |\n|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} s | {:.2} GiB | {:.2}× |",
            r.d,
            r.n,
            r.streamed
                .map_or("in memory".into(), |b| format!("streamed ({b} rows)")),
            r.wall_s,
            r.peak_rss / (1u64 << 30) as f64,
            r.wall_s / r.floor_s
        );
    }
    md
}

/// One row of the scaling table.
struct ScaleRow {
    d: usize,
    n: usize,
    streamed: Option<u64>,
    wall_s: f64,
    peak_rss: f64,
    floor_s: f64,
}

/// The sizes of `--scaling`: d = N with n = 4d, then d = N = 8192 with n = 65536 (streamed);
/// n_test = 8192 throughout; none above `max_d`.
fn scaling_sizes(max_d: usize) -> Vec<(usize, usize)> {
    [
        (1024, 4096),
        (2048, 8192),
        (4096, 16384),
        (8192, 32768),
        (8192, 65536),
    ]
    .into_iter()
    .filter(|&(d, _)| d <= max_d)
    .collect()
}

/// `simulate` at each size of [`scaling_sizes`] (models as B1; streamed when it does not fit
/// in memory): wall time, peak RSS, and time over the floor at the measured rate.
fn scaling_run(
    root: &Path,
    out_dir: &Path,
    threads: usize,
    features: Option<&str>,
    max_d: usize,
    peak: f64,
) -> Result<Vec<ScaleRow>> {
    let bin = build_onestep(root, features)?;
    let mut rows = Vec::new();
    for (d, n) in scaling_sizes(max_d) {
        let nt = 8192;
        let json = out_dir.join(format!("scaling_d{d}_n{n}.json"));
        eprintln!("scaling: d = N = {d}, n = {n}, n_test = {nt} ...");
        let (ds, ns, nts) = (d.to_string(), n.to_string(), nt.to_string());
        let args = [
            "--d", &ds, "--width", &ds, "--n", &ns, "--n-test", &nts, "--alpha", "0.3",
        ];
        simulate_b1_models(&bin, &args, &threads.to_string(), &json)
            .with_context(|| format!("onestep simulate at d = {d}, n = {n}"))?;
        let text = std::fs::read_to_string(&json)?;
        let v: serde_json::Value = serde_json::from_str(&text)?;
        let mem = &v["provenance"]["memory"];
        rows.push(ScaleRow {
            d,
            n,
            streamed: mem["streamed_rows"].as_u64(),
            wall_s: v["wall_time_s"].as_f64().context("no wall_time_s")?,
            peak_rss: mem["peak_rss_bytes"].as_f64().unwrap_or(f64::NAN),
            floor_s: flops(d, d, n, nt) / peak,
        });
    }
    Ok(rows)
}
