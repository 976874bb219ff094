//! Simulation configuration: raw values as given (`SimConfig`) checked once into `ValidConfig`.
use crate::models::{ALL, Model};
use crate::stats::fn_stats;
use onestep_data::Func;
use onestep_net::{Init, Residual};
use onestep_theory::FnStats;
use serde::Serialize;
use thiserror::Error;

/// Most trials of one run.
pub const MAX_TRIALS: usize = 100_000;
/// Largest step prefactor η₀.
pub const MAX_ETA0: f64 = 1e6;
/// Largest E f(g)² of the activation and of the target: above it, features, labels and their
/// squares leave the range of floating point at the sizes the pipeline runs.
pub const MAX_SECOND_MOMENT: f64 = 1e100;
/// The least value of each count flag (every other count may be 0): the command line's parsers and
/// the Python binding word a negative count with the same rule as [`SimConfig::check`].
pub const COUNT_MINIMUMS: [(&str, usize); 6] = [
    ("d", 1),
    ("width", 1),
    ("n", 2),
    ("n-test", 1),
    ("trials", 1),
    ("seeds", 1),
];

/// The least value of count flag `flag` ([`COUNT_MINIMUMS`]; 0 for the others).
pub fn count_minimum(flag: &str) -> usize {
    COUNT_MINIMUMS
        .iter()
        .find(|(f, _)| *f == flag)
        .map_or(0, |&(_, m)| m)
}

/// Most λ values on one path.
pub const MAX_LAMBDAS: usize = 1000;

/// A configuration value that is not allowed, named by its command-line flag.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A value outside its allowed range.
    #[error("--{flag}: got {value}; allowed: {allowed}")]
    Invalid {
        flag: &'static str,
        value: String,
        allowed: String,
    },
    /// Text that does not parse; `reason` says what is allowed.
    #[error("--{flag}: got {value}; {reason}")]
    Unparsable {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// The matrices of one trial would not fit in memory, held whole or streamed.
    #[error(
        "sizes d={d}, width={width}, n={n}, n-test={n_test} need about {need_gib:.1} GiB ({how}) but the budget is {avail_gib:.1} GiB; {advice}"
    )]
    TooLarge {
        d: usize,
        width: usize,
        n: usize,
        n_test: usize,
        need_gib: f64,
        avail_gib: f64,
        /// "in memory" or "streamed".
        how: &'static str,
        /// What to change.
        advice: String,
    },
    /// A theory error on no flag of its own, with the flags to change.
    #[error("{err}; {hint}", err = .0, hint = theory_hint(.0))]
    Theory(onestep_theory::TheoryError),
}

// By hand rather than `#[from]`, which would also make the theory error the source and print
// its message twice.
impl From<onestep_theory::TheoryError> for ConfigError {
    fn from(e: onestep_theory::TheoryError) -> Self {
        ConfigError::Theory(e)
    }
}

/// Which flags to change after a theory error that is not about one flag's value.
fn theory_hint(e: &onestep_theory::TheoryError) -> &'static str {
    use onestep_theory::TheoryError as T;
    match e {
        T::Singular { what, .. } if what.contains("network") => {
            "lower --eta0 or the --target coefficients"
        }
        T::InvalidParameter { name, .. } if name.starts_with("eta") => "lower --eta0 or --alpha",
        T::NoConvergence { .. } => "change --lambda, --activation or --target",
        T::InvalidSpectrum { .. } => "change --d, --width or --n",
        T::Singular { .. }
        | T::InvalidParameter { .. }
        | T::InvalidFnStats { .. }
        | T::TooFewCoefficients { .. } => "change --activation or --target",
    }
}

/// The theory's parameter names that are also command-line flags (of `onestep theory …`).
const THEORY_FLAGS: [&str; 10] = [
    "phi",
    "psi",
    "lambda",
    "noise",
    "ell",
    "max-ell",
    "alpha-grid",
    "alpha",
    "eta0",
    "n",
];

impl ConfigError {
    /// A theory error as the command line words it: a parameter that is a flag becomes
    /// "--flag: got VALUE; allowed: …".
    pub fn flagged(e: onestep_theory::TheoryError) -> Self {
        match e {
            onestep_theory::TheoryError::InvalidParameter {
                name,
                value,
                allowed,
            } if THEORY_FLAGS.contains(&name) => ConfigError::Invalid {
                flag: name,
                value: onestep_theory::error::short(value),
                allowed: allowed.into(),
            },
            e => ConfigError::Theory(e),
        }
    }
}

/// Unchecked simulation parameters (docs/model.md §2).
///
/// | field | meaning | allowed |
/// |---|---|---|
/// | `d` | input dimension | ≥ 1 |
/// | `width` | N, hidden neurons | ≥ 1 |
/// | `n` | size of EACH training batch (step batch and ridge batch) | ≥ 2 |
/// | `n_test` | test points | ≥ 1 |
/// | `alpha` | step exponent, η = η₀·n^α | [0, 1/2) |
/// | `eta0` | step prefactor η₀ | in [0, 1e6] |
/// | `lambda` | ridge penalty in (1/n)‖ỹ − Fa‖² + λ‖a‖² | finite, > 0 |
/// | `extra_lambdas` | further penalties of the λ path after `lambda` (one eigendecomposition per feature matrix serves all) | each finite, > 0 |
/// | `models` | optional models to fit beside `nn` and `rf` (see [`crate::models`]); entries may be comma lists | names, `all`, `none`; non-empty |
/// | `activation`, `target` | function specs (`relu-centered`, `hermite:0,1,…`) | see `onestep_data::Func`; E f(g)² ≤ [`MAX_SECOND_MOMENT`] |
/// | `noise` | label-noise sd σ_ε | in [0, 1e100] |
/// | `residual` | `labels` or `full` | |
/// | `init` | `sphere` or `gaussian` rows of W₀ | |
/// | `trials` | independent repetitions | ≥ 1 |
/// | `seed` | master seed; trial t uses seed + t | seed + trials − 1 < 2^64 |
#[derive(Clone, Debug, Serialize)]
pub struct SimConfig {
    pub d: usize,
    pub width: usize,
    pub n: usize,
    pub n_test: usize,
    pub alpha: f64,
    pub eta0: f64,
    pub lambda: f64,
    pub extra_lambdas: Vec<f64>,
    pub models: Vec<String>,
    pub activation: String,
    pub target: String,
    pub noise: f64,
    pub residual: String,
    pub init: String,
    pub trials: usize,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            d: 256,
            width: 256,
            n: 1024,
            n_test: 8192,
            alpha: 0.3,
            eta0: 1.0,
            lambda: 0.1,
            extra_lambdas: Vec::new(),
            models: vec!["all".into()],
            activation: "relu-centered".into(),
            target: "hermite:0,1,0.7071067811865476".into(),
            noise: 0.1,
            residual: "labels".into(),
            init: "sphere".into(),
            trials: 1,
            seed: 0,
        }
    }
}

/// A checked configuration; computing functions take only this type.
#[derive(Clone, Debug, Serialize)]
pub struct ValidConfig {
    pub d: usize,
    pub width: usize,
    pub n: usize,
    pub n_test: usize,
    pub alpha: f64,
    pub eta0: f64,
    /// The first penalty of the path (`lambdas[0]`); `errors` and the theory use it.
    pub lambda: f64,
    /// The whole λ path, `lambda` first.
    pub lambdas: Vec<f64>,
    /// Optional models to fit, in [`crate::models::ALL`] order.
    #[serde(serialize_with = "model_names")]
    pub models: Vec<Model>,
    #[serde(serialize_with = "display")]
    pub activation: Func,
    #[serde(serialize_with = "display")]
    pub target: Func,
    pub noise: f64,
    #[serde(serialize_with = "residual_name")]
    pub residual: Residual,
    #[serde(serialize_with = "init_name")]
    pub init: Init,
    pub trials: usize,
    pub seed: u64,
    /// Rows per block when the batches are streamed (never held whole), or None: in memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_rows: Option<usize>,
    /// The memory budget the run was checked against, in bytes.
    #[serde(skip)]
    pub memory_budget: f64,
    /// Hermite coefficients and second moment of the activation (theory input).
    #[serde(skip)]
    pub act_stats: FnStats,
    /// Hermite coefficients and second moment of the target (theory input).
    #[serde(skip)]
    pub target_stats: FnStats,
}

fn display<S: serde::Serializer>(f: &Func, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(f)
}
fn model_names<S: serde::Serializer>(m: &[Model], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter().map(|m| m.name()))
}
fn residual_name<S: serde::Serializer>(r: &Residual, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.name())
}
fn init_name<S: serde::Serializer>(i: &Init, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(i.name())
}

pub(crate) fn invalid(
    flag: &'static str,
    value: impl ToString,
    allowed: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        flag,
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

pub(crate) fn unparsable(flag: &'static str, value: &str, why: impl ToString) -> ConfigError {
    ConfigError::Unparsable {
        flag,
        value: value.to_string(),
        reason: why.to_string(),
    }
}

/// [`SimConfig::memory_bytes`] of these sizes.
fn memory_bytes(d: usize, width: usize, n: usize, n_test: usize) -> f64 {
    let (d, w, n, t) = (d as f64, width as f64, n as f64, n_test as f64);
    let p = w.min(n);
    8.0 * (3.0 * n * d + t * d + 4.0 * n * w + 3.0 * t * w + 3.0 * w * d + 6.0 * p * p)
}

/// Peak memory of one streamed trial in bytes, blocks of `rows` rows: the weights W₀, W and,
/// during the step, the gradient and one block's gradient (4·N·d); the Gram matrices FᵀF, F₀ᵀF₀,
/// one block's Gram and, at the fits, a factor and the eigensolver's copy (4·N²); one block's
/// design twice (dense and on the backend), pre-activations and the two feature matrices.
fn stream_bytes(d: usize, width: usize, rows: usize) -> f64 {
    let (d, w, r) = (d as f64, width as f64, rows as f64);
    8.0 * (2.0 * w * d + (2.0 * w * d).max(4.0 * w * w) + 2.0 * w * w + r * (2.0 * d + 3.0 * w))
}

/// How a run holds its batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Memory {
    /// Streamed when the models allow it (nn, rf, inf_spike_ℓ only), else in memory when the
    /// estimate fits the budget.
    #[default]
    Auto,
    /// Always streamed, in blocks of this many rows.
    Stream(usize),
    /// Always in memory.
    InMemory,
}

/// The models a streamed run fits besides nn and rf: the others need the whole design.
fn streamable(m: &Model) -> bool {
    matches!(m, Model::InfSpike(_))
}

impl ValidConfig {
    /// The estimated peak memory of one trial in bytes, in memory ([`SimConfig::memory_bytes`])
    /// or streamed, as this run goes.
    pub fn memory_bytes(&self) -> f64 {
        match self.stream_rows {
            Some(rows) => stream_bytes(self.d, self.width, rows),
            None => memory_bytes(self.d, self.width, self.n, self.n_test),
        }
    }

    /// The seed of each trial: trial t uses seed + t (checked not to wrap).
    pub fn trial_seeds(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.trials as u64).map(|t| self.seed + t)
    }

    /// The part of the configuration the models need (see [`crate::models::Setting`]).
    pub fn model_setting(&self) -> crate::models::Setting<'_> {
        crate::models::Setting {
            n: self.n,
            n_test: self.n_test,
            alpha: self.alpha,
            eta0: self.eta0,
            noise: self.noise,
            lambdas: &self.lambdas,
            residual: self.residual,
            act_stats: &self.act_stats,
            target_stats: &self.target_stats,
        }
    }
}

impl SimConfig {
    /// Peak memory of one trial in bytes: the three designs, the pre-activations, the four feature
    /// matrices, the weights, two Gram matrices with eigenvectors, and one equivalent model's
    /// train and test features with its Gram matrix and eigenvectors (they are built one at a time).
    pub fn memory_bytes(&self) -> f64 {
        memory_bytes(self.d, self.width, self.n, self.n_test)
    }

    /// Checks every value; `memory_limit` is the number of bytes the run may use. Streamed when
    /// the models allow it, else in memory ([`Memory::Auto`]).
    pub fn check(&self, memory_limit: f64) -> Result<ValidConfig, ConfigError> {
        self.check_with(memory_limit, Memory::Auto)
    }

    /// [`SimConfig::check`], holding the batches as `memory` says.
    pub fn check_with(
        &self,
        memory_limit: f64,
        memory: Memory,
    ) -> Result<ValidConfig, ConfigError> {
        for (flag, v) in [
            ("d", self.d),
            ("width", self.width),
            ("n", self.n),
            ("n-test", self.n_test),
            ("trials", self.trials),
        ] {
            let min = count_minimum(flag);
            if v < min {
                return Err(invalid(flag, v, format!("an integer ≥ {min}")));
            }
        }
        if self.trials > MAX_TRIALS {
            return Err(invalid(
                "trials",
                self.trials,
                format!(
                    "at most {MAX_TRIALS} trials per run; split larger studies with `onestep sweep`"
                ),
            ));
        }
        if self.seed.checked_add(self.trials as u64 - 1).is_none() {
            return Err(invalid(
                "seed",
                self.seed,
                format!(
                    "an integer ≤ 2^64 − {} (trial t uses seed + t, which must not wrap)",
                    self.trials
                ),
            ));
        }
        if !(self.alpha.is_finite() && (0.0..0.5).contains(&self.alpha)) {
            return Err(invalid(
                "alpha",
                self.alpha,
                "a number in [0, 0.5) (the step is η = η₀·n^α)",
            ));
        }
        if !(0.0..=MAX_ETA0).contains(&self.eta0) {
            return Err(invalid(
                "eta0",
                self.eta0,
                format!("a number in [0, {MAX_ETA0:e}] (larger steps overflow the features σ(Wx))"),
            ));
        }
        let lambdas: Vec<f64> = std::iter::once(self.lambda)
            .chain(self.extra_lambdas.iter().copied())
            .collect();
        check_lambdas(&lambdas)?;
        let models = parse_models(&self.models)?;
        if !(0.0..=onestep_theory::equivalents::MAX_NOISE).contains(&self.noise) {
            return Err(invalid(
                "noise",
                self.noise,
                "a number in [0, 1e100] (label-noise standard deviation; squared errors must stay in double precision)",
            ));
        }
        let activation: Func = self
            .activation
            .parse()
            .map_err(|e| unparsable("activation", &self.activation, e))?;
        let target: Func = self
            .target
            .parse()
            .map_err(|e| unparsable("target", &self.target, e))?;
        let act_stats = fn_stats(&activation);
        let target_stats = fn_stats(&target);
        check_moment("activation", &self.activation, &act_stats)?;
        check_moment("target", &self.target, &target_stats)?;
        let residual = match self.residual.as_str() {
            "labels" => Residual::Labels,
            "full" => Residual::Full,
            other => return Err(invalid("residual", other, "labels or full")),
        };
        let init = match self.init.as_str() {
            "sphere" => Init::Sphere,
            "gaussian" => Init::Gaussian,
            other => return Err(invalid("init", other, "sphere or gaussian")),
        };
        let stream_rows = self.memory_mode(memory_limit, memory, &models)?;
        Ok(ValidConfig {
            d: self.d,
            width: self.width,
            n: self.n,
            n_test: self.n_test,
            alpha: self.alpha,
            eta0: self.eta0,
            lambda: self.lambda,
            lambdas,
            models,
            act_stats,
            target_stats,
            activation,
            target,
            noise: self.noise,
            residual,
            init,
            trials: self.trials,
            seed: self.seed,
            stream_rows,
            memory_budget: memory_limit,
        })
    }

    /// Rows per streamed block, or None for a run in memory; an error when neither fits the
    /// budget, or streaming is needed but a model needs the whole design.
    fn memory_mode(
        &self,
        limit: f64,
        memory: Memory,
        models: &[Model],
    ) -> Result<Option<usize>, ConfigError> {
        let gib = (1u64 << 30) as f64;
        let in_memory = self.memory_bytes();
        let rows = match memory {
            Memory::Stream(r) => r,
            _ => crate::trial::STREAM_ROWS,
        }
        .clamp(1, self.n.max(self.n_test));
        let streamed = stream_bytes(self.d, self.width, rows);
        let too_large = |need: f64, how, advice: String| ConfigError::TooLarge {
            d: self.d,
            width: self.width,
            n: self.n,
            n_test: self.n_test,
            need_gib: need / gib,
            avail_gib: limit / gib,
            how,
            advice,
        };
        let reduce = "reduce --d or --width (streamed runs do not grow with --n or --n-test)";
        let fits = |need: f64| need.is_finite() && need <= limit;
        let blocked: Vec<String> = models
            .iter()
            .filter(|m| !streamable(m))
            .map(|m| m.name())
            .collect();
        let stream = match memory {
            Memory::InMemory => false,
            Memory::Stream(_) => true,
            // Streamed is faster (Cholesky instead of eigenvectors, eigenvalues only) and
            // lighter, so it is taken whenever the models allow it.
            Memory::Auto => blocked.is_empty(),
        };
        if !stream {
            return if fits(in_memory) {
                Ok(None)
            } else {
                let advice = match (fits(streamed), memory) {
                    (false, _) => "reduce --n, --n-test, --d or --width".to_string(),
                    (true, Memory::InMemory) => format!(
                        "streamed it needs about {:.1} GiB: drop --in-memory",
                        streamed / gib
                    ),
                    (true, _) => format!(
                        "reduce --n, --n-test, --d or --width, or fit only models that stream (--models none or inf_spike_1,inf_spike_2,inf_spike_3; {} need the whole design), which needs about {:.1} GiB",
                        blocked.join(", "),
                        streamed / gib
                    ),
                };
                Err(too_large(in_memory, "in memory", advice))
            };
        }
        if !blocked.is_empty() {
            return Err(invalid(
                "models",
                blocked.join(","),
                format!(
                    "with --stream: inf_spike_1, inf_spike_2, inf_spike_3 or none (nn and rf are always fitted); {} need the whole design in memory",
                    blocked.join(", ")
                ),
            ));
        }
        if !fits(streamed) {
            return Err(too_large(streamed, "streamed", reduce.to_string()));
        }
        Ok(Some(rows))
    }
}

/// E f(g)² of the function `spec` (flag `flag`) must be finite and at most [`MAX_SECOND_MOMENT`].
pub(crate) fn check_moment(
    flag: &'static str,
    spec: &str,
    stats: &FnStats,
) -> Result<(), ConfigError> {
    let m = stats.second_moment;
    if m.is_finite() && m <= MAX_SECOND_MOMENT {
        return Ok(());
    }
    Err(invalid(
        flag,
        spec,
        format!(
            "a function with E f(g)² ≤ {MAX_SECOND_MOMENT:e} for g ~ N(0,1) (this one has {}); use smaller coefficients or a lower degree",
            onestep_theory::error::short(m)
        ),
    ))
}

fn allowed_models() -> String {
    let names: Vec<String> = ALL.iter().map(|m| m.name()).collect();
    format!(
        "a comma list of {}, all, none (nn and rf are always fitted)",
        names.join(", ")
    )
}

/// Parses `--models` entries (each may itself be a comma list): names from [`ALL`], `all`,
/// `none`, and `nn`/`rf` (accepted, always fitted). Returns the selected models in [`ALL`] order.
pub fn parse_models(entries: &[String]) -> Result<Vec<Model>, ConfigError> {
    let known: Vec<String> = ALL.iter().map(|m| m.name()).collect();
    let bad = |v: &str| ConfigError::Unparsable {
        flag: "models",
        value: format!("{v:?}"),
        reason: format!(
            "{}allowed: {}",
            onestep_data::suggest::did_you_mean(v, known.iter().map(String::as_str)),
            allowed_models()
        ),
    };
    let names: Vec<&str> = entries
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .collect();
    if names.is_empty() || names.iter().any(|s| s.is_empty()) {
        return Err(bad(&entries.join(",")));
    }
    if names.contains(&"all") && names.contains(&"none") {
        return Err(ConfigError::Invalid {
            flag: "models",
            value: format!("{:?}", entries.join(",")),
            allowed: "`all` or `none`, not both (nn and rf are always fitted)".into(),
        });
    }
    let mut out = Vec::new();
    for name in names {
        match name {
            "all" => out.extend(ALL),
            "none" | "nn" | "rf" => {}
            other => out.push(
                *ALL.iter()
                    .find(|m| m.name() == other)
                    .ok_or_else(|| bad(other))?,
            ),
        }
    }
    out.sort();
    out.dedup();
    Ok(ALL.iter().copied().filter(|m| out.contains(m)).collect())
}

/// Parses `--lambda`: a comma list `0.01,0.1,1`, or `lo:hi:k` for k log-spaced values from lo to
/// hi inclusive (`0.01:1:5` = 0.01, 0.0316, 0.1, 0.316, 1), or a mix of both separated by commas.
/// Only the syntax is checked here; the values are checked by [`check_lambdas`].
pub fn parse_lambdas(spec: &str) -> Result<Vec<f64>, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        flag: "lambda",
        value: format!("{spec:?}"),
        allowed: format!(
            "{why}; give a comma list of penalties > 0 (0.01,0.1,1) or lo:hi:k for k log-spaced values (0.01:1:5)"
        ),
    };
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| bad(&format!("{:?} is not a number", s.trim())))
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let fields: Vec<&str> = part.split(':').collect();
        match fields.as_slice() {
            [v] if v.trim().is_empty() => return Err(bad("empty entry")),
            [v] => out.push(num(v)?),
            [lo, hi, k] => {
                let (lo, hi) = (num(lo)?, num(hi)?);
                let k: usize = k.trim().parse().map_err(|_| {
                    bad(&format!(
                        "the count {:?} in lo:hi:k is not an integer ≥ 1",
                        k.trim()
                    ))
                })?;
                if k == 0 || k > MAX_LAMBDAS {
                    return Err(bad(&format!(
                        "the count in lo:hi:k must be in 1..={MAX_LAMBDAS} (got {k})"
                    )));
                }
                if !(lo > 0.0 && hi > 0.0 && lo.is_finite() && hi.is_finite()) {
                    return Err(bad("a log-spaced range needs finite lo > 0 and hi > 0"));
                }
                if k == 1 {
                    out.push(lo);
                } else {
                    // lo·(hi/lo)^{i/(k−1)}, endpoints exact.
                    out.extend((0..k).map(|i| {
                        if i + 1 == k {
                            hi
                        } else {
                            lo * (hi / lo).powf(i as f64 / (k - 1) as f64)
                        }
                    }));
                }
            }
            _ => return Err(bad(&format!("{part:?} is neither a number nor lo:hi:k"))),
        }
    }
    if out.len() > MAX_LAMBDAS {
        return Err(bad(&format!("at most {MAX_LAMBDAS} values")));
    }
    Ok(out)
}

/// Checks a λ path: non-empty, every value finite and > 0.
pub fn check_lambdas(lambdas: &[f64]) -> Result<(), ConfigError> {
    let allowed = "finite penalties > 0 (the ridge penalty in (1/n)‖ỹ − Fa‖² + λ‖a‖²); e.g. --lambda 0.1 or 0.01,0.1,1 or 0.01:1:5";
    if lambdas.is_empty() {
        return Err(ConfigError::Invalid {
            flag: "lambda",
            value: "an empty list".into(),
            allowed: allowed.into(),
        });
    }
    if let Some(l) = lambdas.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
        return Err(ConfigError::Invalid {
            flag: "lambda",
            value: l.to_string(),
            allowed: allowed.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_syntax() {
        assert_eq!(parse_lambdas("0.1").unwrap(), vec![0.1]);
        assert_eq!(parse_lambdas("0.01, 0.1,1").unwrap(), vec![0.01, 0.1, 1.0]);
        let r = parse_lambdas("0.01:1:5").unwrap();
        assert_eq!((r[0], r[2], r[4]), (0.01, 0.1, 1.0));
        let want = [0.01, 0.0316227766, 0.1, 0.316227766, 1.0];
        assert!(
            r.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9),
            "{r:?}"
        );
        assert_eq!(parse_lambdas("1:1:1").unwrap(), vec![1.0]);
        for bad in [
            "", "a", "0.1,", "0.01:1", "0.01:1:0", "0:1:3", "0.1:1:x", "1:2:3:4",
        ] {
            let e = parse_lambdas(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("--lambda") && e.contains("allowed"),
                "{bad}: {e}"
            );
        }
        for bad in [
            vec![],
            vec![0.1, f64::NAN],
            vec![0.0],
            vec![-1.0],
            vec![f64::INFINITY],
        ] {
            let e = check_lambdas(&bad).unwrap_err().to_string();
            assert!(
                e.starts_with("--lambda") && e.contains("> 0"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn all_with_none_and_huge_trial_counts_are_refused() {
        let e = parse_models(&["all,none".into()]).unwrap_err().to_string();
        assert!(e.starts_with("--models") && e.contains("not both"), "{e}");
        for trials in [MAX_TRIALS + 1, usize::MAX] {
            let c = SimConfig {
                trials,
                ..SimConfig::default()
            };
            let e = c.check(f64::INFINITY).unwrap_err().to_string();
            assert!(e.starts_with("--trials") && e.contains("sweep"), "{e}");
        }
    }

    #[test]
    fn model_names() {
        assert_eq!(parse_models(&["all".into()]).unwrap(), ALL.to_vec());
        assert_eq!(
            parse_models(&["best_linear,spiked".into(), "nn".into()]).unwrap(),
            vec![Model::Spiked, Model::BestLinear]
        );
        assert!(parse_models(&["none".into()]).unwrap().is_empty());
        for bad in ["spiky", "", "spiked,", "inf_spike_4"] {
            let e = parse_models(&[bad.into()]).unwrap_err().to_string();
            assert!(
                e.starts_with("--models") && e.contains("inf_spike_2"),
                "{bad}: {e}"
            );
        }
    }
}
