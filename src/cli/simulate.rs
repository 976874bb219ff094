//! `onestep simulate`: trials of the pipeline on one backend, the summary table on stdout and the
//! full result (config, seeds, summary, trials, provenance) as JSON.
use super::{Common, FnArgs, backend, table};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use onestep::files::{check_writable, memory_limit, write_atomic};
use onestep::linalg::{Backend, on_backend};
use onestep::output::{provenance, simulation_json};
use onestep::pipeline::{Memory, SimConfig, Trial, ValidConfig, run_trial, theory_summary};
use std::time::Instant;

#[derive(Args)]
pub struct SimArgs {
    /// Input dimension d.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 256)]
    d: usize,
    /// Width N (hidden neurons).
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 256)]
    width: usize,
    /// Size n of EACH training batch (gradient batch and ridge batch).
    #[arg(long, value_parser = super::count::<2>, allow_negative_numbers = true, default_value_t = 1024)]
    n: usize,
    /// Number of test points.
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 8192)]
    n_test: usize,
    /// Step exponent α in η = η₀·n^α, in [0, 0.5).
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    alpha: f64,
    /// Step prefactor η₀.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    eta0: f64,
    /// Ridge penalty λ in (1/n)‖ỹ − Fa‖² + λ‖a‖², or a λ path: a comma list (0.01,0.1,1) or
    /// lo:hi:k for k log-spaced values (0.01:1:5). In memory one eigendecomposition per feature
    /// matrix serves the whole path (streamed, one Cholesky per λ); `errors` holds the first λ,
    /// `errors_path` every λ.
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
    #[arg(long, value_parser = super::count::<1>, allow_negative_numbers = true, default_value_t = 1)]
    trials: usize,
    /// Master seed.
    #[arg(long, value_parser = super::seed, allow_negative_numbers = true, default_value_t = 0)]
    seed: u64,
    /// Stream the batches: draw and use them a block of rows at a time (rows per block
    /// optional, default 4096), so memory depends on d·N and N², not on n; the same numbers as
    /// in memory. Fits nn, rf and inf_spike_ℓ only. Without --stream or --in-memory a run is
    /// streamed whenever its models allow it.
    #[arg(long, value_name = "ROWS", num_args = 0..=1, value_parser = super::count::<1>, conflicts_with = "in_memory")]
    stream: Option<Option<usize>>,
    /// Hold the batches in memory (refused when that exceeds --memory-budget).
    #[arg(long)]
    in_memory: bool,
    /// Memory the run may use, in GiB [default: 90% of the memory available now].
    #[arg(long, value_name = "GIB", value_parser = super::positive_f64, allow_negative_numbers = true)]
    memory_budget: Option<f64>,
    /// Also write the drawn data of the trial (one trial; held whole while written) as NumPy .npy files into
    /// this directory: beta_star, x_step, y_step, w0, a, x_ridge, y_ridge, x_test, y_test,
    /// y_test_clean, so that another implementation can run on the same numbers.
    #[arg(long, value_name = "DIR")]
    dump_data: Option<std::path::PathBuf>,
    /// Also predict F's spectrum after the step: the top of its bulk (theory.bulk_edge_after,
    /// beside the measured spectrum.bulk_edge_after) and the outliers above it with their
    /// alignments (theory.outliers_after); 1–2 s more; labels residual only.
    #[arg(long)]
    bulk_edge: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: SimArgs) -> Result<()> {
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
    let limit = a
        .memory_budget
        .map_or_else(memory_limit, |g| g * (1u64 << 30) as f64);
    let memory = match (a.stream, a.in_memory) {
        (Some(rows), _) => Memory::Stream(rows.unwrap_or(onestep::pipeline::trial::STREAM_ROWS)),
        (None, true) => Memory::InMemory,
        (None, false) => Memory::Auto,
    };
    let cfg = raw.check_with(limit, memory)?;
    if cfg.d.max(cfg.width) <= super::KEEP_FREED_BLOCKS_UP_TO {
        super::keep_freed_blocks();
    }
    if a.dump_data.is_some() && cfg.trials != 1 {
        anyhow::bail!(
            "--dump-data writes the data of one trial: use --trials 1 (got --trials {})",
            cfg.trials
        );
    }
    if let Some(p) = &a.common.json {
        check_writable("--json", p)?;
    }
    if a.bulk_edge {
        onestep::pipeline::theory::check_after_step(&cfg)?;
    }
    let d = backend::dispatch(a.common.threads, &a.common.backend)?;
    // For a person watching, once every input is accepted and before the heavy work (scripts keep
    // stderr to one line on failure); the JSON's provenance keeps it beside the measured peak.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let gib = |b: f64| b / (1u64 << 30) as f64;
        eprintln!(
            "estimated peak memory of one trial: {:.2} GiB {} (budget {:.1} GiB)",
            gib(cfg.memory_bytes()),
            cfg.stream_rows.map_or("in memory".to_string(), |r| format!(
                "streamed in blocks of {r} rows"
            )),
            gib(limit)
        );
    }
    let start = Instant::now();
    // The theory (single-threaded) runs beside the trials, in the gaps their parallel products
    // leave; it has no output of its own.
    let (trials, theory) = onestep::pipeline::trial::concurrently(
        true,
        || {
            on_backend!(d.clone(), |b| run_trials(&b, &cfg).map(|t| (
                t,
                b.name(),
                b.threads(),
                start.elapsed().as_secs_f64()
            )))
        },
        || -> Result<_> {
            let mut theory = theory_summary(&cfg)?;
            if a.bulk_edge {
                theory.set_after_step(&cfg, onestep::pipeline::theory::after_step(&cfg)?);
            }
            Ok(theory)
        },
    );
    let (theory, (mut trials, name, threads, wall)) = (theory?, trials?);
    theory.finish_trials(&cfg, &mut trials);
    if let Some(dir) = &a.dump_data {
        let data = on_backend!(d, |b| onestep::pipeline::trial_data(&b, &cfg, cfg.seed));
        onestep::npy::dump_trial(dir, &data)?;
        eprintln!("wrote the data of seed {} to {}", cfg.seed, dir.display());
    }
    let run = table::Run {
        backend: name,
        threads,
        wall_s: wall,
    };
    // The file first: a closed stdout (`| head`) must not lose the result.
    if let Some(p) = &a.common.json {
        let out = simulation_json(provenance(name, threads), &cfg, &theory, &trials, wall)?;
        write_atomic(p, serde_json::to_string_pretty(&out)?.as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    print!("{}", table::render(&cfg, &trials, &theory, &run));
    Ok(())
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
    for (t, seed) in cfg.trial_seeds().enumerate() {
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
