//! `theory errors|staircase|spikes` as `onestep theory` computes them, and the finite-n network
//! theory (`onestep_theory::network_errors` on `onestep_pipeline::theory::network_inputs`).
//! Results cross as the CLI's JSON (exact: shortest round-trip floats) or as NumPy arrays.
use crate::{refused, unsigned};
use numpy::PyArray1;
use onestep::pipeline::theory::{limit_setting, network_theory, staircase_alphas};
use onestep::pipeline::{ConfigError, SimConfig};
use pyo3::prelude::*;
use serde_json::json;

/// `onestep theory errors`: the JSON document less its provenance (`setting`, `ell`, `errors`).
#[pyfunction]
#[pyo3(signature = (*, phi, psi, lam, activation, target, noise, ell))]
#[allow(clippy::too_many_arguments)]
pub fn theory_errors(
    py: Python<'_>,
    phi: f64,
    psi: f64,
    lam: f64,
    activation: &str,
    target: &str,
    noise: f64,
    ell: i64,
) -> PyResult<String> {
    let ell = unsigned("ell", ell)?;
    let s = limit_setting(phi, psi, lam, activation, target, noise).map_err(refused)?;
    let e = py
        .detach(|| onestep::theory::errors(&s, ell))
        .map_err(|e| refused(ConfigError::flagged(e)))?;
    Ok(json!({"setting": s, "ell": ell, "errors": e}).to_string())
}

/// Columns of `onestep theory staircase`'s points: α, ℓ, train, test, test_clean.
type Staircase<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// `onestep theory staircase`: the limiting errors over `alpha_grid` evenly spaced α in [0, 1/2)
/// for ℓ = 0..=`max_ell`, as columns.
#[pyfunction]
#[pyo3(signature = (*, phi, psi, lam, activation, target, noise, alpha_grid, max_ell))]
#[allow(clippy::too_many_arguments)]
pub fn theory_staircase<'py>(
    py: Python<'py>,
    phi: f64,
    psi: f64,
    lam: f64,
    activation: &str,
    target: &str,
    noise: f64,
    alpha_grid: i64,
    max_ell: i64,
) -> PyResult<Staircase<'py>> {
    let grid = unsigned("alpha-grid", alpha_grid)?;
    let max_ell = unsigned("max-ell", max_ell)?;
    let s = limit_setting(phi, psi, lam, activation, target, noise).map_err(refused)?;
    let alphas = staircase_alphas(grid).map_err(refused)?;
    let rows = py
        .detach(|| onestep::theory::staircase(&s, &alphas, max_ell))
        .map_err(|e| refused(ConfigError::flagged(e)))?;
    let col = |f: &dyn Fn(&(f64, usize, onestep::theory::Errors)) -> f64| {
        PyArray1::from_vec(py, rows.iter().map(f).collect())
    };
    let ells = PyArray1::from_vec(py, rows.iter().map(|r| r.1 as i64).collect());
    Ok((
        col(&|r| r.0),
        ells,
        col(&|r| r.2.train),
        col(&|r| r.2.test),
        col(&|r| r.2.test_clean),
    ))
}

/// A `SimConfig` of the spike and network theories, checked as `onestep theory spikes` checks it
/// (the same checks as `simulate`, without the memory bound).
#[allow(clippy::too_many_arguments)]
fn theory_config(
    d: i64,
    width: i64,
    n: i64,
    alpha: f64,
    eta0: f64,
    lambda: Option<f64>,
    activation: String,
    target: String,
    noise: f64,
    residual: Option<String>,
) -> PyResult<onestep::pipeline::ValidConfig> {
    let base = SimConfig::default();
    SimConfig {
        d: unsigned("d", d)?,
        width: unsigned("width", width)?,
        n: unsigned("n", n)?,
        alpha,
        eta0,
        lambda: lambda.unwrap_or(base.lambda),
        activation,
        target,
        noise,
        residual: residual.unwrap_or(base.residual.clone()),
        ..base
    }
    .check(f64::INFINITY)
    .map_err(refused)
}

/// `onestep theory spikes`: the JSON document less its provenance (`config`, `spikes`).
#[pyfunction]
#[pyo3(signature = (*, d, width, n, alpha, eta0, activation, target, noise))]
#[allow(clippy::too_many_arguments)]
pub fn theory_spikes(
    py: Python<'_>,
    d: i64,
    width: i64,
    n: i64,
    alpha: f64,
    eta0: f64,
    activation: String,
    target: String,
    noise: f64,
) -> PyResult<String> {
    let cfg = theory_config(
        d, width, n, alpha, eta0, None, activation, target, noise, None,
    )?;
    let r = py
        .detach(|| onestep::pipeline::theory::spike_report(&cfg))
        .map_err(|e| refused(ConfigError::flagged(e)))?;
    Ok(json!({"config": cfg, "spikes": r}).to_string())
}

/// `onestep theory network`: the finite-n network theory (docs/theory.md §10), the theory
/// `simulate` reports as `summary.theory.errors.nn`. Returns the JSON document less its
/// provenance (`config`, `errors`, `report`).
#[pyfunction]
#[pyo3(signature = (*, d, width, n, alpha, eta0, lam, activation, target, noise, residual))]
#[allow(clippy::too_many_arguments)]
pub fn theory_network(
    py: Python<'_>,
    d: i64,
    width: i64,
    n: i64,
    alpha: f64,
    eta0: f64,
    lam: f64,
    activation: String,
    target: String,
    noise: f64,
    residual: String,
) -> PyResult<String> {
    let cfg = theory_config(
        d,
        width,
        n,
        alpha,
        eta0,
        Some(lam),
        activation,
        target,
        noise,
        Some(residual),
    )?;
    let r = py.detach(|| network_theory(&cfg)).map_err(refused)?;
    Ok(json!({"config": cfg, "errors": r.errors, "report": r}).to_string())
}

/// `onestep theory network --bulk-edge`'s spectrum after the step as JSON {"bulk_edge",
/// "outliers"} (docs/theory.md §10.6–§10.7; 1–2 s).
#[pyfunction]
#[pyo3(signature = (*, d, width, n, alpha, eta0, activation, target, noise))]
#[allow(clippy::too_many_arguments)]
pub fn theory_after_step(
    py: Python<'_>,
    d: i64,
    width: i64,
    n: i64,
    alpha: f64,
    eta0: f64,
    activation: String,
    target: String,
    noise: f64,
) -> PyResult<String> {
    let cfg = theory_config(
        d, width, n, alpha, eta0, None, activation, target, noise, None,
    )?;
    let s = py
        .detach(|| onestep::pipeline::theory::after_step(&cfg))
        .map_err(refused)?;
    Ok(json!(s).to_string())
}
