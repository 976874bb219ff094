//! The summary table `onestep simulate` prints: simulation mean ± sd over the trials beside the
//! theory's prediction, read from the typed [`Trial`]s and [`TheorySummary`].
//!
//! The numbers are those of the JSON `summary` (`onestep::output::summarize`), computed the same
//! way: a quantity is averaged over the trials where it is a finite number, and is missing ("—")
//! when the FIRST trial's is not (JSON writes a non-finite number as null, and the summary takes
//! its shape from the first trial). A vector is summarised column by column over the columns
//! every trial has. The sd is not printed for one trial. A model without theory or without
//! simulated errors gets a footnote with the reason.
use onestep::metrics::{Errors, mean_sd};
use onestep::pipeline::theory::TheorySummary;
use onestep::pipeline::{Trial, ValidConfig};
use std::fmt::{self, Write as _};

#[cfg(test)]
mod tests;

/// How the trials were run, for the first line.
pub struct Run {
    pub backend: &'static str,
    pub threads: usize,
    pub wall_s: f64,
}

/// Mean and sd of one quantity over the trials; `None` where the JSON summary has null.
#[derive(Clone, Copy)]
struct Stat {
    mean: Option<f64>,
    sd: Option<f64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The summary of one value per trial (`None`: the trial lacks it); `None` when the first trial's
/// value is missing or not finite.
fn stat(values: impl IntoIterator<Item = Option<f64>>) -> Option<Stat> {
    let mut values = values.into_iter().map(|v| v.and_then(finite));
    let first = values.next()??;
    let xs: Vec<f64> = std::iter::once(first).chain(values.flatten()).collect();
    let m = mean_sd(&xs);
    Some(Stat {
        mean: finite(m.mean),
        // One value has no spread to show (the JSON's sd is 0).
        sd: finite(m.sd).filter(|_| xs.len() > 1),
    })
}

/// Column-wise [`stat`] of one vector per trial, over the columns every trial has.
fn columns<'a>(rows: impl Iterator<Item = &'a [f64]> + Clone) -> Vec<Option<Stat>> {
    let len = rows.clone().map(<[f64]>::len).min().unwrap_or(0);
    (0..len)
        .map(|i| stat(rows.clone().map(|r| Some(r[i]))))
        .collect()
}

/// Four decimals, or four significant digits in exponent form where that would be long or zero.
fn num(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// "mean ± sd", "mean" when the sd is missing, "—" when the mean is.
fn pm(s: Option<Stat>) -> String {
    match s.map(|s| (s.mean, s.sd)) {
        Some((Some(m), Some(sd))) => format!("{} ± {}", num(m), num(sd)),
        Some((Some(m), None)) => num(m),
        _ => "—".into(),
    }
}

/// The text being built, one line at a time; `width` is that of the name column.
struct Out(String, usize);

impl Out {
    fn line(&mut self, args: fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
    }

    /// One quantity: its name, the simulation column and the theory column.
    fn row(&mut self, name: &str, sim: String, theory: Option<f64>) {
        let theory = theory.map_or("—".into(), num);
        let w = self.1;
        self.line(format_args!("{name:<w$} {sim:>22} {theory:>10}"));
    }

    /// Predicted singular values in the theory column, one decimal ("none" if there are none).
    fn locations(&mut self, name: &str, values: impl Iterator<Item = f64>) {
        let v: Vec<String> = values.map(|v| format!("{v:.1}")).collect();
        let v = if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        };
        let w = self.1;
        self.line(format_args!("{name:<w$} {:>22} {v:>10}", ""));
    }
}

/// The number of outliers of F predicted at these sizes, mean component left out: those above
/// the bulk after the step when it is predicted (`--bulk-edge`), else the spike theory's trusted
/// locations (not ℓ(α), the limit's count, which the JSON keeps as `spike_count`).
fn predicted_spikes(cfg: &ValidConfig, th: &TheorySummary) -> usize {
    match &th.outliers_after {
        Some(after) => after
            .len()
            .saturating_sub(onestep::pipeline::trial::mean_component(cfg)),
        None => th.spike_locations.len(),
    }
}

/// The whole table, newline-terminated.
pub fn render(cfg: &ValidConfig, trials: &[Trial], th: &TheorySummary, run: &Run) -> String {
    let mut models: Vec<(String, String)> =
        vec![("nn".into(), "NN".into()), ("rf".into(), "RF".into())];
    models.extend(cfg.models.iter().map(|&m| (m.name(), m.label())));
    // Wide enough for the longest row name, "LABEL test (noiseless)".
    let longest = models
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    let w = 36.max(longest + " test (noiseless)".len());
    let mut o = Out(String::new(), w);
    let lambdas: Vec<String> = cfg.lambdas.iter().map(|l| l.to_string()).collect();
    o.line(format_args!(
        "onestep simulate  d={} N={} n={} n_test={} α={} η₀={} λ={} σ={} σ*={} σ_ε={} residual={} trials={} ({}, {} threads, {:.2} s)",
        cfg.d,
        cfg.width,
        cfg.n,
        cfg.n_test,
        cfg.alpha,
        cfg.eta0,
        lambdas.join(","),
        cfg.activation,
        cfg.target,
        cfg.noise,
        cfg.residual.name(),
        cfg.trials,
        run.backend,
        run.threads,
        run.wall_s
    ));
    o.line(format_args!(
        "{:<w$} {:>22} {:>10}",
        "quantity", "simulation (mean ± sd)", "theory"
    ));
    let over = |f: fn(&Trial) -> f64| stat(trials.iter().map(|t| Some(f(t))));
    o.row(
        "⟨β,β*⟩",
        pm(over(|t| t.beta.overlap)),
        finite(th.beta.inner),
    );
    o.row("‖β‖²", pm(over(|t| t.beta.norm2)), finite(th.beta.norm2));
    o.row(
        "spikes detected",
        pm(over(|t| t.spectrum.spikes_detected as f64)),
        Some(predicted_spikes(cfg, th) as f64),
    );
    o.row(
        "bulk edge ‖F₀‖",
        pm(over(|t| t.spectrum.bulk_edge)),
        th.bulk_edge.and_then(finite),
    );
    o.row(
        "top of F's bulk after the step",
        pm(stat(trials.iter().map(|t| t.spectrum.bulk_edge_after))),
        th.bulk_edge_after.and_then(finite),
    );
    let top: Vec<String> = columns(trials.iter().map(|t| t.spectrum.top.as_slice()))
        .iter()
        .take(4)
        .filter_map(|c| c.and_then(|c| c.mean))
        .map(|v| format!("{v:.1}"))
        .collect();
    o.row("top singular values of F", top.join(", "), None);
    o.locations(
        "predicted outliers of F",
        th.spike_locations.iter().filter_map(|&v| finite(v)),
    );
    if let Some(after) = &th.outliers_after {
        o.locations("outliers after the step", after.iter().map(|o| o.location));
    }
    let alignment = columns(trials.iter().map(|t| t.spectrum.alignment.as_slice()));
    // The summary has sds for the alignments only if it has them for every column.
    let sds = alignment.iter().all(Option::is_some);
    // No k-th outlier predicted: u_k is a bulk vector, alignment 0 in the limit.
    let bulk_vector = (th.spikes.is_some() || th.outliers_after.is_some()).then_some(0.0);
    for k in 0..3 {
        let c = alignment.get(k).copied().flatten().map(|c| Stat {
            sd: c.sd.filter(|_| sds),
            ..c
        });
        o.row(
            &format!("alignment k={}", k + 1),
            pm(c),
            th.alignment
                .get(k)
                .copied()
                .flatten()
                .or(bulk_vector)
                .and_then(finite),
        );
    }
    for (model, label) in &models {
        // Theory and simulation share the model keys (the NN's is the finite-n network theory).
        let theory = th.errors.get(model);
        let sim =
            |f: fn(&Errors) -> f64| pm(stat(trials.iter().map(|t| t.errors.get(model).map(f))));
        for (kname, sim, theory) in [
            ("train", sim(|e| e.train), theory.map(|e| e.train)),
            ("test", sim(|e| e.test), theory.map(|e| e.test)),
            (
                "test (noiseless)",
                sim(|e| e.test_clean),
                theory.map(|e| e.test_clean),
            ),
        ] {
            o.row(&format!("{label} {kname}"), sim, theory.and_then(finite));
        }
    }
    path_table(&mut o, trials, &models, &cfg.lambdas, th);
    // How the selected equivalent models are built (nothing for models not asked for).
    let eq = &th.equivalents;
    let has = |k: &str| cfg.models.iter().any(|m| m.name() == k);
    let mut how = Vec::new();
    if has("spiked") || has("cget") {
        let degrees: Vec<String> = eq.spike_degrees.iter().map(usize::to_string).collect();
        how.push(format!("spiked/cget spike degrees [{}]", degrees.join(",")));
    }
    if has("hermite") {
        how.push(format!(
            "Hermite model truncated at degree {}",
            eq.hermite_degree
        ));
    }
    if has("best_linear") {
        how.push(
            "best linear: fitted least squares, theory column = population ‖P_>1 σ*‖² + σ_ε²"
                .into(),
        );
    }
    if !how.is_empty() {
        o.line(format_args!("({})", how.join("; ")));
    }
    // Theory notes for the models in the table (and the spikes), not for the others.
    let shown = |k: &str| k == "spikes" || models.iter().any(|(m, _)| m == k);
    for (k, v) in th.unavailable.iter().filter(|(k, _)| shown(k)) {
        o.line(format_args!("theory for {k} unavailable: {v}"));
    }
    // A model without simulated errors in some trial: its reason (the first trial's) and where.
    for (model, _) in &models {
        let missing: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.unavailable.contains_key(model))
            .collect();
        if let Some(first) = missing.first() {
            o.line(format_args!(
                "simulation of {model} unavailable in {} of {} trials: {}",
                missing.len(),
                trials.len(),
                first.unavailable[model]
            ));
        }
    }
    o.line(format_args!(
        "(NN theory column: the finite-n network theory, docs/theory.md §10; test errors include the label noise)"
    ));
    o.0
}

/// The λ path, when there are several λ: test (train) error of every model at each λ.
fn path_table(
    o: &mut Out,
    trials: &[Trial],
    models: &[(String, String)],
    lambdas: &[f64],
    th: &TheorySummary,
) {
    // A trial with one λ writes no path; the summary has one only if the first trial's is there.
    if trials.first().is_none_or(|t| t.errors_path.is_empty()) {
        return;
    }
    let len = trials
        .iter()
        .map(|t| t.errors_path.len())
        .filter(|&l| l > 0)
        .min()
        .unwrap_or(0)
        .min(lambdas.len());
    if len <= 1 {
        return;
    }
    let header: Vec<String> = models.iter().map(|(m, _)| format!("{m:>20}")).collect();
    let cell = |te: Option<f64>, tr: Option<f64>| match (te, tr) {
        (Some(te), Some(tr)) => format!("{:>20}", format!("{} ({})", num(te), num(tr))),
        _ => format!("{:>20}", "—"),
    };
    o.line(format_args!(
        "λ path: test error (train) by model, simulation mean over trials"
    ));
    o.line(format_args!("{:>10} {}", "λ", header.join(" ")));
    for (i, lambda) in lambdas.iter().enumerate().take(len) {
        let mean = |f: &dyn Fn(&Trial) -> Option<f64>| stat(trials.iter().map(f))?.mean;
        let cells: Vec<String> = models
            .iter()
            .map(|(m, _)| {
                let err =
                    |f: fn(&Errors) -> f64| mean(&|t| t.errors_path.get(i)?.errors.get(m).map(f));
                cell(err(|e| e.test), err(|e| e.train))
            })
            .collect();
        o.line(format_args!("{lambda:>10.4e} {}", cells.join(" ")));
    }
    if th.errors_path.len() < len {
        return;
    }
    o.line(format_args!("λ path: theory, test error (train) by model"));
    o.line(format_args!("{:>10} {}", "λ", header.join(" ")));
    for (lambda, point) in lambdas.iter().zip(&th.errors_path).take(len) {
        let cells: Vec<String> = models
            .iter()
            .map(|(m, _)| {
                let e = point.errors.get(m);
                cell(
                    e.map(|e| e.test).and_then(finite),
                    e.map(|e| e.train).and_then(finite),
                )
            })
            .collect();
        o.line(format_args!("{lambda:>10.4e} {}", cells.join(" ")));
    }
}
