//! `simulate`: the trials of `onestep simulate`, one at a time with the GIL released, checking for
//! Ctrl-C between trials; returns the CLI's JSON document and every singular value of F and F₀.
use crate::{Runner, bad_input, failed, refused, unsigned};
use numpy::PyArray1;
use onestep::files::memory_limit;
use onestep::linalg::{Backend, on_backend};
use onestep::output::{provenance, simulation_json};
use onestep::pipeline::config::{check_lambdas, parse_lambdas};
use onestep::pipeline::{Memory, SimConfig, run_trial, theory_summary};
use pyo3::prelude::*;
use std::time::Instant;

/// `--lambda`: a number, a sequence of numbers, or the CLI's string syntax (`0.01,0.1,1`,
/// `lo:hi:k`).
fn lambdas(lam: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(s) = lam.extract::<String>() {
        return parse_lambdas(&s).map_err(refused);
    }
    if let Ok(v) = lam.extract::<f64>() {
        return Ok(vec![v]);
    }
    let v: Vec<f64> = lam.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "lam: expected a number, a sequence of numbers, or a string such as \"0.01,0.1,1\" or \"0.01:1:5\"",
        )
    })?;
    if v.is_empty() {
        check_lambdas(&v).map_err(refused)?;
    }
    Ok(v)
}

/// The result of `simulate`: the JSON document (as `onestep simulate --json` writes it) and, per
/// trial, all singular values of F and of F₀ (descending).
type SimResult<'py> = (
    String,
    Vec<Bound<'py, PyArray1<f64>>>,
    Vec<Bound<'py, PyArray1<f64>>>,
);

/// Runs `onestep simulate` with these flags (see `onestep.simulate`).
#[pyfunction]
#[pyo3(signature = (*, d, width, n, n_test, alpha, eta0, lam, activation, target, noise, residual, init, models, trials, seed, threads, backend, stream=None, memory_budget=None))]
#[allow(clippy::too_many_arguments)]
pub fn simulate<'py>(
    py: Python<'py>,
    d: i64,
    width: i64,
    n: i64,
    n_test: i64,
    alpha: f64,
    eta0: f64,
    lam: &Bound<'py, PyAny>,
    activation: String,
    target: String,
    noise: f64,
    residual: String,
    init: String,
    models: String,
    trials: i64,
    seed: i64,
    threads: i64,
    backend: String,
    stream: Option<&Bound<'py, PyAny>>,
    memory_budget: Option<f64>,
) -> PyResult<SimResult<'py>> {
    // The order of the checks is the CLI's, so the first complaint is the same.
    let lambdas = lambdas(lam)?;
    let raw = SimConfig {
        d: unsigned("d", d)?,
        width: unsigned("width", width)?,
        n: unsigned("n", n)?,
        n_test: unsigned("n-test", n_test)?,
        alpha,
        eta0,
        lambda: lambdas.first().copied().unwrap_or(f64::NAN),
        extra_lambdas: lambdas.iter().skip(1).copied().collect(),
        models: vec![models],
        activation,
        target,
        noise,
        residual,
        init,
        trials: unsigned("trials", trials)?,
        seed: u64::try_from(seed).map_err(|_| {
            bad_input(format!(
                "--seed: got {seed}; allowed: an integer in [0, 2^64)"
            ))
        })?,
    };
    let threads = unsigned("threads", threads)?;
    let memory = match stream {
        None => Memory::Auto,
        Some(s) => match s.extract::<bool>() {
            Ok(true) => Memory::Stream(onestep::pipeline::trial::STREAM_ROWS),
            Ok(false) => Memory::InMemory,
            Err(_) => {
                let rows: i64 = s.extract().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(
                        "stream: expected True, False, None or a number of rows ≥ 1",
                    )
                })?;
                if rows < 1 {
                    return Err(bad_input(format!(
                        "--stream: got {rows}; allowed: an integer ≥ 1"
                    )));
                }
                Memory::Stream(unsigned("stream", rows)?)
            }
        },
    };
    let limit = match memory_budget {
        None => memory_limit(),
        Some(g) if g.is_finite() && g > 0.0 => g * (1u64 << 30) as f64,
        Some(g) => {
            return Err(bad_input(format!(
                "--memory-budget: got {g}; allowed: a number > 0 (GiB)"
            )));
        }
    };
    let cfg = raw.check_with(limit, memory).map_err(refused)?;
    let theory = py.detach(|| theory_summary(&cfg)).map_err(refused)?;
    let runner = Runner::new(threads, &backend)?;
    let (name, used_threads) = on_backend!(runner.dispatch.clone(), |b| (b.name(), b.threads()));
    let start = Instant::now();
    let mut out = Vec::with_capacity(cfg.trials);
    for (t, seed) in cfg.trial_seeds().enumerate() {
        let trial = runner.run(py, |d| {
            on_backend!(d.clone(), |b| run_trial(&b, &cfg, seed, &mut |_| {}))
        });
        out.push(trial.map_err(|e| {
            failed(anyhow::Error::new(e).context(format!("trial {t} (seed {seed})")))
        })?);
        // Ctrl-C (or any pending signal handler that raises) stops the run between trials.
        py.check_signals()?;
    }
    let wall = start.elapsed().as_secs_f64();
    theory.finish_trials(&cfg, &mut out);
    let doc = simulation_json(provenance(name, used_threads), &cfg, &theory, &out, wall)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(failed)?;
    let sv = |f: fn(&onestep::pipeline::Trial) -> &Vec<f64>| -> Vec<Bound<'py, PyArray1<f64>>> {
        out.iter().map(|t| PyArray1::from_slice(py, f(t))).collect()
    };
    let all = sv(|t| &t.spectrum.all);
    let all_f0 = sv(|t| &t.spectrum.all_f0);
    Ok((doc, all, all_f0))
}
