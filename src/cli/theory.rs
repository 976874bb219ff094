//! `onestep theory errors|staircase|spikes|network`: the theory's predictions alone, no
//! simulation; a table on stdout and, with `--json`, the result with its provenance.
use super::FnArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use onestep::files::{check_writable, write_atomic};
use onestep::output::provenance;
use onestep::pipeline::theory::{limit_setting, network_theory, staircase_alphas};
use onestep::pipeline::{ConfigError, SimConfig};
use onestep::theory::error::short;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand)]
pub enum TheoryCmd {
    /// Limiting train/test errors of ridge for the RF baseline (--ell 0) or the infinite-spike model ℓ.
    Errors(ErrorsArgs),
    /// Limiting errors over an α grid: the staircase.
    Staircase(StaircaseArgs),
    /// Spikes after the step: ℓ(α), thresholds, strengths, outlier locations and alignments.
    Spikes(SpikesArgs),
    /// The network's train/test errors at these finite n, d, N (finite-n theory, docs/theory.md §10).
    Network(NetworkArgs),
}

/// The sizes, the step and the functions of `theory spikes` and `theory network`.
#[derive(Args)]
pub struct StepArgs {
    /// Input dimension d.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 2048)]
    d: usize,
    /// Width N.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 2048)]
    width: usize,
    /// Size n of EACH training batch.
    #[arg(long, value_parser = super::count::<2>, allow_negative_numbers = true, default_value_t = 8192)]
    n: usize,
    /// Step exponent α in η = η₀·n^α.
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    alpha: f64,
    /// Step prefactor η₀.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    eta0: f64,
    #[command(flatten)]
    f: FnArgs,
}

impl StepArgs {
    /// The simulation configuration these flags describe (other fields at their defaults).
    fn config(self) -> SimConfig {
        SimConfig {
            d: self.d,
            width: self.width,
            n: self.n,
            alpha: self.alpha,
            eta0: self.eta0,
            activation: self.f.activation,
            target: self.f.target,
            noise: self.f.noise,
            ..SimConfig::default()
        }
    }
}

#[derive(Args)]
pub struct NetworkArgs {
    #[command(flatten)]
    step: StepArgs,
    /// Ridge penalty λ.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lambda: f64,
    /// Residual in the gradient: only labels (r = y) has a finite-n theory.
    #[arg(long, default_value = "labels")]
    residual: String,
    /// Also predict F's spectrum after the step: the top of its bulk (`bulk_edge_after`) and the
    /// outliers above it with their alignments (`outliers_after`); 1–2 s more.
    #[arg(long)]
    bulk_edge: bool,
    /// Write the result as JSON to this path.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
pub struct SpikesArgs {
    #[command(flatten)]
    step: StepArgs,
    /// Write the result as JSON to this path.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
pub struct TheoryArgs {
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
    /// Write the result as JSON to this path.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
pub struct ErrorsArgs {
    #[command(flatten)]
    base: TheoryArgs,
    /// Number of unpenalised polynomial columns (X̃β)∘ᵏ, k ≤ ℓ; 0 is the RF baseline.
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true, default_value_t = 0)]
    ell: usize,
}

#[derive(Args)]
pub struct StaircaseArgs {
    #[command(flatten)]
    base: TheoryArgs,
    /// Number of evenly spaced α in [0, 1/2) (1 to 100000).
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true, default_value_t = 50)]
    alpha_grid: usize,
    /// Highest number of spikes considered.
    #[arg(long, value_parser = super::count::<0>, allow_negative_numbers = true, default_value_t = 4)]
    max_ell: usize,
}

pub fn run(cmd: TheoryCmd) -> Result<()> {
    match cmd {
        TheoryCmd::Errors(a) => errors(a),
        TheoryCmd::Staircase(a) => staircase(a),
        TheoryCmd::Spikes(a) => spikes(a),
        TheoryCmd::Network(a) => network(a),
    }
}

fn setting(a: &TheoryArgs) -> Result<onestep::theory::Setting> {
    let s = limit_setting(
        a.phi,
        a.psi,
        a.lambda,
        &a.f.activation,
        &a.f.target,
        a.f.noise,
    )?;
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

fn errors(e: ErrorsArgs) -> Result<()> {
    let (a, ell) = (e.base, e.ell);
    let s = setting(&a)?;
    let e = onestep::theory::errors(&s, ell).map_err(ConfigError::flagged)?;
    // The file first: a closed stdout must not lose the result.
    write_json(
        &a.json,
        json!({"provenance": provenance("none", 1), "setting": s, "ell": ell, "errors": e}),
    )?;
    println!(
        "ell={} phi={} psi={} lambda={} activation={} target={} noise={}",
        ell,
        short(a.phi),
        short(a.psi),
        short(a.lambda),
        a.f.activation,
        a.f.target,
        short(a.f.noise)
    );
    print_errors(e.train, e.test, e.test_clean);
    Ok(())
}

fn staircase(a: StaircaseArgs) -> Result<()> {
    let s = setting(&a.base)?;
    let alphas = staircase_alphas(a.alpha_grid)?;
    let start = Instant::now();
    let rows = onestep::theory::staircase(&s, &alphas, a.max_ell).map_err(ConfigError::flagged)?;
    // ℓ counts the spikes; these are their degrees (for tanh, c₂ = 0: ℓ = 2 is degrees 1 and 3).
    let degrees = |alpha: f64| onestep::theory::spike_degrees(alpha, &s.act, a.max_ell);
    let secs = start.elapsed().as_secs_f64();
    // The file first: a closed stdout must not lose the result.
    let pts: Vec<Value> = rows
        .iter()
        .map(|(al, l, e)| {
            json!({"alpha": al, "ell": l, "degrees": degrees(*al), "train": e.train, "test": e.test, "test_clean": e.test_clean})
        })
        .collect();
    write_json(
        &a.base.json,
        json!({"provenance": provenance("none", 1), "setting": s, "max_ell": a.max_ell, "points": pts, "seconds": secs}),
    )?;
    println!(
        "{:>8} {:>4} {:>8} {:>10} {:>10} {:>10}",
        "alpha", "ell", "degrees", "train", "test", "test_clean"
    );
    for (al, l, e) in &rows {
        let ks: Vec<String> = degrees(*al).iter().map(usize::to_string).collect();
        println!(
            "{al:>8.4} {l:>4} {:>8} {:>10.6} {:>10.6} {:>10.6}",
            if ks.is_empty() {
                "-".into()
            } else {
                ks.join(",")
            },
            e.train,
            e.test,
            e.test_clean
        );
    }
    eprintln!("computed {} points in {:.3} ms", rows.len(), secs * 1e3);
    Ok(())
}

fn spikes(a: SpikesArgs) -> Result<()> {
    // The same checks as `simulate` (sizes, α range, functions), without the memory bound.
    let cfg = a.step.config().check(f64::INFINITY)?;
    if let Some(p) = &a.json {
        check_writable("--json", p)?;
    }
    let r = onestep::pipeline::theory::spike_report(&cfg).map_err(ConfigError::flagged)?;
    // The file first: a closed stdout must not lose the result.
    write_json(
        &a.json,
        json!({"provenance": provenance("none", 1), "config": cfg, "spikes": r}),
    )?;
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
    Ok(())
}

fn network(a: NetworkArgs) -> Result<()> {
    // The same checks as `simulate` (sizes, α, λ, functions), without the memory bound.
    let cfg = SimConfig {
        lambda: a.lambda,
        residual: a.residual,
        ..a.step.config()
    }
    .check(f64::INFINITY)?;
    if cfg.residual != onestep::net::Residual::Labels {
        // Refused before the --json probe, as network_theory would refuse it.
        network_theory(&cfg)?;
    }
    if let Some(p) = &a.json {
        check_writable("--json", p)?;
    }
    let start = Instant::now();
    let r = network_theory(&cfg)?;
    let after = a
        .bulk_edge
        .then(|| onestep::pipeline::theory::after_step(&cfg))
        .transpose()?;
    let e = r.errors;
    let mut out =
        json!({"provenance": provenance("none", 1), "config": cfg, "errors": e, "report": r});
    if let Some(s) = &after {
        out["bulk_edge_after"] = json!(s.bulk_edge);
        out["outliers_after"] = json!(s.outliers);
    }
    // The file first: a closed stdout must not lose the result.
    write_json(&a.json, out)?;
    println!(
        "d={} N={} n={} α={} η₀={} λ={} σ={} σ*={} σ_ε={}  ({:.2} s)",
        cfg.d,
        cfg.width,
        cfg.n,
        cfg.alpha,
        cfg.eta0,
        cfg.lambda,
        cfg.activation,
        cfg.target,
        cfg.noise,
        start.elapsed().as_secs_f64()
    );
    print_errors(e.train, e.test, e.test_clean);
    if let Some(s) = &after {
        println!(
            "{:<10} {:.4}  (top of F's bulk after the step)",
            "bulk_edge", s.bulk_edge
        );
        for o in &s.outliers {
            let [a1, a2, a3] = o.alignment;
            println!(
                "{:<10} {:.4}  (outlier; |⟨û, GS(t^k)⟩| k = 1, 2, 3: {a1:.3} {a2:.3} {a3:.3})",
                "outlier", o.location
            );
        }
    }
    Ok(())
}

/// The three errors, six decimals, or exponent form where that would be long or zero.
fn print_errors(train: f64, test: f64, test_clean: f64) {
    for (k, v) in [("train", train), ("test", test), ("test_clean", test_clean)] {
        if v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
            println!("{k:<10} {v:.6e}");
        } else {
            println!("{k:<10} {v:.6}");
        }
    }
}
