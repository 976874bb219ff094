//! The `onestep` command line: `simulate`, `theory errors`, `theory staircase`.
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use onestep::linalg::Backend;
use onestep::output::{available_memory, check_writable, provenance, summarize, write_atomic};
use onestep::pipeline::{
    SimConfig, Trial, ValidConfig, run_trial, stats::fn_stats, theory_summary,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;

mod figure_cmd;

#[derive(Parser)]
#[command(
    name = "onestep",
    version,
    args_override_self = true,
    about = "Non-linear feature learning after one gradient step: simulation and theory side by side"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate the network: one gradient step, ridge on the updated features, spectra and errors.
    Simulate(SimArgs),
    /// Theory only (no simulation).
    #[command(subcommand)]
    Theory(TheoryCmd),
    /// Draw a figure of docs/figures.md (CSV + SVG + PNG + manifest); `onestep figure list` for the ids.
    Figure(figure_cmd::FigureArgs),
}

/// The functions and the label noise, shared by every command.
#[derive(Args)]
struct FnArgs {
    /// Activation: relu, relu-centered, tanh, erf, sigmoid, softplus, gelu, linear, or hermite:c0,c1,...
    #[arg(long, default_value = "relu-centered")]
    activation: String,
    /// Target link σ*, same syntax as --activation.
    #[arg(long, default_value = "hermite:0,1,0.7071067811865476")]
    target: String,
    /// Label-noise standard deviation σ_ε.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    noise: f64,
}

#[derive(Args)]
struct SimArgs {
    /// Input dimension d.
    #[arg(long, default_value_t = 256)]
    d: usize,
    /// Width N (hidden neurons).
    #[arg(long, default_value_t = 256)]
    width: usize,
    /// Size n of EACH training batch (gradient batch and ridge batch).
    #[arg(long, default_value_t = 1024)]
    n: usize,
    /// Number of test points.
    #[arg(long, default_value_t = 8192)]
    n_test: usize,
    /// Step exponent α in η = η₀·n^α, in [0, 0.5).
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    alpha: f64,
    /// Step prefactor η₀.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    eta0: f64,
    /// Ridge penalty λ in (1/n)‖ỹ − Fa‖² + λ‖a‖², or a λ path: a comma list (0.01,0.1,1) or
    /// lo:hi:k for k log-spaced values (0.01:1:5). One eigendecomposition per feature matrix serves
    /// the whole path; `errors` holds the first λ, `errors_path` every λ.
    #[arg(long, default_value = "0.1", allow_negative_numbers = true)]
    lambda: String,
    /// Models fitted beside nn and rf (always fitted): comma list of spiked, cget, hermite,
    /// inf_spike_1, inf_spike_2, inf_spike_3, best_linear; or all, none.
    #[arg(long, default_value = "all")]
    models: String,
    #[command(flatten)]
    f: FnArgs,
    /// Residual in the gradient: labels (r = y) or full (r = y − f₀(x)).
    #[arg(long, default_value = "labels")]
    residual: String,
    /// Rows of W₀: sphere (uniform on the unit sphere) or gaussian (N(0, I/d)).
    #[arg(long, default_value = "sphere")]
    init: String,
    /// Independent trials (trial t uses seed + t).
    #[arg(long, default_value_t = 1)]
    trials: usize,
    /// Master seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct Common {
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Linear-algebra backend: faer (default), nalgebra or openblas (build with `--features nalgebra` / `--features openblas`).
    #[arg(long, default_value = "faer")]
    backend: String,
    /// Write the full result as JSON to this path (atomically).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum TheoryCmd {
    /// Limiting train/test errors of ridge for the RF baseline (--ell 0) or the infinite-spike model ℓ.
    Errors(TheoryArgs),
    /// Limiting errors over an α grid: the staircase.
    Staircase(StaircaseArgs),
    /// Spikes after the step: ℓ(α), thresholds, strengths, outlier locations and alignments.
    Spikes(SpikesArgs),
}

#[derive(Args)]
struct SpikesArgs {
    /// Input dimension d.
    #[arg(long, default_value_t = 2048)]
    d: usize,
    /// Width N.
    #[arg(long, default_value_t = 2048)]
    width: usize,
    /// Batch size n.
    #[arg(long, default_value_t = 8192)]
    n: usize,
    /// Step exponent α in η = η₀·n^α.
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    alpha: f64,
    /// Step prefactor η₀.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    eta0: f64,
    #[command(flatten)]
    f: FnArgs,
    /// Write the result as JSON to this path.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct TheoryArgs {
    /// φ = n/d.
    #[arg(long, default_value_t = 4.0)]
    phi: f64,
    /// ψ = N/d.
    #[arg(long, default_value_t = 1.0)]
    psi: f64,
    /// Ridge penalty λ.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lambda: f64,
    #[command(flatten)]
    f: FnArgs,
    /// Number of unpenalised polynomial columns (X̃β)^{∘k}, k ≤ ℓ; 0 is the RF baseline.
    #[arg(long, default_value_t = 0)]
    ell: usize,
    /// Write the result as JSON to this path.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct StaircaseArgs {
    #[command(flatten)]
    base: TheoryArgs,
    /// Number of evenly spaced α in [0, 1/2).
    #[arg(long, default_value_t = 50)]
    alpha_grid: usize,
    /// Highest number of spikes considered.
    #[arg(long, default_value_t = 4)]
    max_ell: usize,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line: clap's first line plus where to look, not a multi-line usage dump.
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            bail!("{first} (see --help)");
        }
        Err(e) => {
            e.print()?;
            return Ok(());
        }
    };
    match cli.cmd {
        Cmd::Simulate(a) => simulate(a),
        Cmd::Theory(TheoryCmd::Errors(a)) => theory_errors(a),
        Cmd::Theory(TheoryCmd::Staircase(a)) => theory_staircase(a),
        Cmd::Theory(TheoryCmd::Spikes(a)) => theory_spikes(a),
        Cmd::Figure(a) => figure_cmd::run(a),
    }
}

/// Builds the global thread pool and dispatches on the backend: the one place a backend is chosen.
fn with_backend<T>(
    common: &Common,
    f: impl FnOnce(&dyn Fn() -> Dispatch) -> Result<T>,
) -> Result<T> {
    if common.threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(common.threads)
            .build_global()
            .context("building the thread pool")?;
    }
    let t = common.threads;
    match common.backend.as_str() {
        #[cfg(feature = "faer")]
        "faer" => f(&|| Dispatch::Faer(onestep::linalg::FaerBackend::new(t))),
        #[cfg(feature = "nalgebra")]
        "nalgebra" => f(&|| Dispatch::Nalgebra(onestep::linalg::NalgebraBackend::new(t))),
        #[cfg(feature = "openblas")]
        "openblas" => {
            let core = onestep::linalg::OpenBlasBackend::new(t).core_name();
            if core == "Prescott" {
                eprintln!(
                    "warning: OpenBLAS chose its generic Prescott kernels (it does not recognise this CPU); set OPENBLAS_CORETYPE=Haswell (AVX2) or SkylakeX (AVX-512) for its fast ones"
                );
            }
            f(&|| Dispatch::OpenBlas(onestep::linalg::OpenBlasBackend::new(t)))
        }
        #[allow(unreachable_patterns)] // reachable only when a feature is off
        b @ ("faer" | "nalgebra" | "openblas") => {
            bail!("--backend {b} was not compiled in; rebuild with `--features {b}`")
        }
        other => bail!(
            "--backend: got {other}; allowed: faer, nalgebra, openblas (each behind its cargo feature)"
        ),
    }
}

/// A backend chosen at run time.
enum Dispatch {
    #[cfg(feature = "faer")]
    Faer(onestep::linalg::FaerBackend),
    #[cfg(feature = "nalgebra")]
    Nalgebra(onestep::linalg::NalgebraBackend),
    #[cfg(feature = "openblas")]
    OpenBlas(onestep::linalg::OpenBlasBackend),
}

/// Runs `$body` with `$b` bound to the backend inside a [`Dispatch`] (monomorphised per backend).
macro_rules! on_backend {
    ($d:expr, |$b:ident| $body:expr) => {
        match $d {
            #[cfg(feature = "faer")]
            Dispatch::Faer($b) => $body,
            #[cfg(feature = "nalgebra")]
            Dispatch::Nalgebra($b) => $body,
            #[cfg(feature = "openblas")]
            Dispatch::OpenBlas($b) => $body,
        }
    };
}
pub(crate) use on_backend;

fn simulate(a: SimArgs) -> Result<()> {
    let lambdas = onestep::pipeline::config::parse_lambdas(&a.lambda)?;
    let raw = SimConfig {
        d: a.d,
        width: a.width,
        n: a.n,
        n_test: a.n_test,
        alpha: a.alpha,
        eta0: a.eta0,
        lambda: lambdas.first().copied().unwrap_or(f64::NAN),
        extra_lambdas: lambdas.iter().skip(1).copied().collect(),
        models: vec![a.models],
        activation: a.f.activation,
        target: a.f.target,
        noise: a.f.noise,
        residual: a.residual,
        init: a.init,
        trials: a.trials,
        seed: a.seed,
    };
    let cfg = raw.check(0.9 * available_memory())?;
    if let Some(p) = &a.common.json {
        check_writable("--json", p)?;
    }
    let theory = theory_summary(&cfg)?;
    with_backend(&a.common, |make| {
        let start = Instant::now();
        let (trials, name, threads) =
            on_backend!(make(), |b| (run_trials(&b, &cfg)?, b.name(), b.threads()));
        let wall = start.elapsed().as_secs_f64();
        let trial_values: Vec<Value> = trials
            .iter()
            .map(|t| serde_json::to_value(t).expect("trial serialises"))
            .collect();
        let mut summary = summarize(&trial_values);
        summary["theory"] = serde_json::to_value(&theory)?;
        print_table(&cfg, &summary, wall, name, threads);
        if let Some(p) = &a.common.json {
            let out = json!({
                "provenance": provenance(name, threads),
                "config": cfg,
                "seeds": trials.iter().map(|t| t.seed).collect::<Vec<_>>(),
                "wall_time_s": wall,
                "summary": summary,
                "trials": trial_values,
            });
            write_atomic(p, serde_json::to_string_pretty(&out)?.as_bytes())?;
            eprintln!("wrote {}", p.display());
        }
        Ok(())
    })
}

const STAGES: [&str; 6] = [
    "data",
    "gradient step",
    "features",
    "spectra",
    "ridge",
    "test",
];

fn run_trials<B: Backend>(b: &B, cfg: &ValidConfig) -> Result<Vec<Trial>> {
    let bar = ProgressBar::new((cfg.trials * STAGES.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} stages  trial {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut out = Vec::with_capacity(cfg.trials);
    for t in 0..cfg.trials {
        let seed = cfg.seed.wrapping_add(t as u64);
        let mut stage = |s: &'static str| {
            bar.set_message(format!("{}/{}: {s}", t + 1, cfg.trials));
            if s != "data" {
                bar.inc(1);
            }
        };
        out.push(
            run_trial(b, cfg, seed, &mut stage)
                .with_context(|| format!("trial {t} (seed {seed})"))?,
        );
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn pm(v: &Value, key: &str) -> String {
    match (
        v.get(key).and_then(Value::as_f64),
        v.get(format!("{key}_sd")).and_then(Value::as_f64),
    ) {
        (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
        (Some(m), None) => format!("{m:.4}"),
        _ => "—".into(),
    }
}

fn print_table(cfg: &ValidConfig, s: &Value, wall: f64, backend: &str, threads: usize) {
    println!(
        "onestep simulate  d={} N={} n={} n_test={} α={} η₀={} λ={} σ={} σ*={} σ_ε={} residual={} trials={} ({backend}, {threads} threads, {wall:.2} s)",
        cfg.d,
        cfg.width,
        cfg.n,
        cfg.n_test,
        cfg.alpha,
        cfg.eta0,
        cfg.lambdas
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(","),
        cfg.activation,
        cfg.target,
        cfg.noise,
        cfg.residual.name(),
        cfg.trials
    );
    let th = &s["theory"];
    println!(
        "{:<36} {:>22} {:>10}",
        "quantity", "simulation (mean ± sd)", "theory"
    );
    let row = |name: &str, sim: String, theory: Option<f64>| {
        println!(
            "{name:<36} {sim:>22} {:>10}",
            theory.map_or("—".into(), |t| format!("{t:.4}"))
        )
    };
    row(
        "⟨β,β*⟩",
        pm(&s["beta"], "overlap"),
        th["beta"]["inner"].as_f64(),
    );
    row(
        "‖β‖²",
        pm(&s["beta"], "norm2"),
        th["beta"]["norm2"].as_f64(),
    );
    row(
        "spikes detected",
        pm(&s["spectrum"], "spikes_detected"),
        th["spike_count"].as_f64(),
    );
    row(
        "bulk edge ‖F₀‖",
        pm(&s["spectrum"], "bulk_edge"),
        th["bulk_edge"].as_f64(),
    );
    let top: Vec<String> = s["spectrum"]["top"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(4)
                .filter_map(Value::as_f64)
                .map(|v| format!("{v:.1}"))
                .collect()
        })
        .unwrap_or_default();
    row("top singular values of F", top.join(", "), None);
    let predicted: Vec<String> = th["spike_locations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|v| format!("{v:.1}"))
                .collect()
        })
        .unwrap_or_default();
    println!(
        "{:<36} {:>22} {:>10}",
        "predicted outliers of F",
        "",
        if predicted.is_empty() {
            "none".to_string()
        } else {
            predicted.join(", ")
        }
    );
    for k in 0..3 {
        let a = &s["spectrum"]["alignment"];
        let sd = &s["spectrum"]["alignment_sd"];
        row(
            &format!("alignment k={}", k + 1),
            format!(
                "{:.4} ± {:.4}",
                a[k].as_f64().unwrap_or(f64::NAN),
                sd[k].as_f64().unwrap_or(f64::NAN)
            ),
            th["alignment"][k].as_f64(),
        );
    }
    let mut models: Vec<(String, String)> =
        vec![("nn".into(), "NN".into()), ("rf".into(), "RF".into())];
    let labels = [
        ("spiked", "spiked equivalent"),
        ("cget", "cond. Gaussian equiv."),
        ("hermite", "Hermite-ℓ model"),
        ("best_linear", "best linear (fitted)"),
    ];
    for m in &cfg.models {
        let key = m.name();
        let label = labels.iter().find(|(k, _)| *k == key).map_or_else(
            || key.replace("inf_spike_", "infinite spike ℓ="),
            |(_, l)| l.to_string(),
        );
        models.push((key, label));
    }
    for (model, label) in &models {
        let e = &s["errors"][model.as_str()];
        let t = if model == "nn" {
            &th["errors"]["spiked"]
        } else {
            &th["errors"][model.as_str()]
        };
        for (k, kname) in [
            ("train", "train"),
            ("test", "test"),
            ("test_clean", "test (noiseless)"),
        ] {
            row(&format!("{label} {kname}"), pm(e, k), t[k].as_f64());
        }
    }
    if let Some(path) = s["errors_path"].as_array().filter(|p| p.len() > 1) {
        println!("λ path: test error (train) by model, simulation mean over trials");
        let header: Vec<String> = models.iter().map(|(m, _)| format!("{m:>20}")).collect();
        println!("{:>10} {}", "λ", header.join(" "));
        for p in path {
            let cells: Vec<String> = models
                .iter()
                .map(|(m, _)| {
                    let e = &p["errors"][m.as_str()];
                    match (e["test"].as_f64(), e["train"].as_f64()) {
                        (Some(te), Some(tr)) => format!("{:>20}", format!("{te:.4} ({tr:.4})")),
                        _ => format!("{:>20}", "—"),
                    }
                })
                .collect();
            println!(
                "{:>10.4e} {}",
                p["lambda"].as_f64().unwrap_or(f64::NAN),
                cells.join(" ")
            );
        }
    }
    let eq = &th["equivalents"];
    println!(
        "(spiked/cget spike degrees {}; Hermite model ℓ = {}; best linear: fitted least squares, theory column = population ‖P_>1 σ*‖² + σ_ε²)",
        eq["spike_degrees"], eq["hermite_degree"]
    );
    if let Some(u) = th["unavailable"].as_object().filter(|u| !u.is_empty()) {
        for (k, v) in u {
            println!("theory for {k} unavailable: {}", v.as_str().unwrap_or(""));
        }
    }
    println!(
        "(NN theory column: finite-α spiked equivalent, docs/model.md §6.1 item 6; test errors include the label noise)"
    );
}

fn theory_setting(a: &TheoryArgs) -> Result<onestep::theory::Setting> {
    let parse = |flag: &str, s: &str| -> Result<onestep::data::Func> {
        s.parse()
            .map_err(|e| anyhow::anyhow!("--{flag}: got {s}; {e}"))
    };
    let s = onestep::theory::Setting {
        phi: a.phi,
        psi: a.psi,
        lambda: a.lambda,
        noise: a.f.noise,
        act: fn_stats(&parse("activation", &a.f.activation)?),
        target: fn_stats(&parse("target", &a.f.target)?),
    };
    onestep::theory::check(&s)?;
    if let Some(p) = &a.json {
        check_writable("--json", p)?;
    }
    Ok(s)
}

fn write_json(path: &Option<PathBuf>, v: Value) -> Result<()> {
    if let Some(p) = path {
        write_atomic(p, serde_json::to_string_pretty(&v)?.as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

fn theory_errors(a: TheoryArgs) -> Result<()> {
    let s = theory_setting(&a)?;
    let e = onestep::theory::errors(&s, a.ell)?;
    println!(
        "ell={} phi={} psi={} lambda={} activation={} target={} noise={}",
        a.ell, a.phi, a.psi, a.lambda, a.f.activation, a.f.target, a.f.noise
    );
    println!(
        "train      {:.6}\ntest       {:.6}\ntest_clean {:.6}",
        e.train, e.test, e.test_clean
    );
    write_json(
        &a.json,
        json!({"provenance": provenance("none", 1), "setting": s, "ell": a.ell, "errors": e}),
    )
}

fn theory_staircase(a: StaircaseArgs) -> Result<()> {
    let s = theory_setting(&a.base)?;
    if a.alpha_grid == 0 {
        bail!("--alpha-grid: got 0; allowed: an integer ≥ 1");
    }
    let alphas: Vec<f64> = (0..a.alpha_grid)
        .map(|i| 0.5 * i as f64 / a.alpha_grid as f64)
        .collect();
    let start = Instant::now();
    let rows = onestep::theory::staircase(&s, &alphas, a.max_ell)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:>8} {:>4} {:>10} {:>10} {:>10}",
        "alpha", "ell", "train", "test", "test_clean"
    );
    for (al, l, e) in &rows {
        println!(
            "{al:>8.4} {l:>4} {:>10.6} {:>10.6} {:>10.6}",
            e.train, e.test, e.test_clean
        );
    }
    eprintln!("computed {} points in {:.3} ms", rows.len(), secs * 1e3);
    let pts: Vec<Value> = rows.iter().map(|(al, l, e)| json!({"alpha": al, "ell": l, "train": e.train, "test": e.test, "test_clean": e.test_clean})).collect();
    write_json(
        &a.base.json,
        json!({"provenance": provenance("none", 1), "setting": s, "max_ell": a.max_ell, "points": pts, "seconds": secs}),
    )
}

fn theory_spikes(a: SpikesArgs) -> Result<()> {
    // The same checks as `simulate` (sizes, α range, functions), without the memory bound.
    let cfg = SimConfig {
        d: a.d,
        width: a.width,
        n: a.n,
        alpha: a.alpha,
        eta0: a.eta0,
        activation: a.f.activation,
        target: a.f.target,
        noise: a.f.noise,
        ..SimConfig::default()
    }
    .check(f64::INFINITY)?;
    if let Some(p) = &a.json {
        check_writable("--json", p)?;
    }
    let r = onestep::pipeline::theory::spike_report(&cfg)?;
    println!(
        "d={} N={} n={} α={} η₀={} η={:.4} σ={} σ*={} σ_ε={}  ‖β‖²={:.4}",
        cfg.d,
        cfg.width,
        cfg.n,
        cfg.alpha,
        cfg.eta0,
        r.eta,
        cfg.activation,
        cfg.target,
        cfg.noise,
        r.beta_norm2
    );
    println!("ℓ(α) = {}  (spike degrees {:?})", r.ell, r.degrees);
    let th: Vec<String> = r
        .thresholds
        .iter()
        .map(|(k, t)| format!("k={k}: {t:.4}"))
        .collect();
    println!("thresholds (k−1)/(2k): {}", th.join(", "));
    println!("bulk edge ‖F₀‖ (predicted): {:.4}", r.bulk_edge);
    println!(
        "spike functions: {} (step noise γ = {:.4}; docs/theory.md §9.5)",
        r.mean_model, r.step_noise_gamma
    );
    if let Some(m) = r.mean_outlier {
        println!("mean component c₀·11ᵀ outlier (not a spike): {m:.4}");
    }
    println!(
        "{:>6} {:>14} {:>14} {:>10}",
        "degree", "strength θ_k", "location", "alignment"
    );
    let opt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
    for p in &r.spikes {
        let loc = match (p.location, p.trusted_location()) {
            (Some(l), None) => format!("{l:.4} (untrusted)"),
            (l, _) => opt(l),
        };
        println!(
            "{:>6} {:>14.4} {:>14} {:>10}",
            p.degree,
            p.strength,
            loc,
            opt(p.alignment)
        );
    }
    println!(
        "(locations are singular values of F = σ(X̃Wᵀ); '—': not separated from the bulk at this n)"
    );
    write_json(
        &a.json,
        json!({"provenance": provenance("none", 1), "config": cfg, "spikes": r}),
    )
}
