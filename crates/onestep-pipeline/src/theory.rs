//! The one bridge from a checked configuration to the theory's inputs ([`setting`],
//! [`spike_inputs`]) and the theory's predictions for that configuration ([`theory_summary`]).
use crate::ValidConfig;
use crate::config::{ConfigError, check_moment, invalid, unparsable};
use crate::models::{ALL, BEST_LINEAR_RIDGE, equivalent_degrees, hermite_degree, hermite_noise_sd};
use crate::trial::KMAX;
use onestep_theory::TheoryError;
use serde::Serialize;
use std::collections::BTreeMap;

/// The proportional-limit setting of `onestep theory errors|staircase` (φ = n/d, ψ = N/d, λ, σ,
/// σ*, σ_ε), parsed and checked; errors name the flags.
pub fn limit_setting(
    phi: f64,
    psi: f64,
    lambda: f64,
    activation: &str,
    target: &str,
    noise: f64,
) -> Result<onestep_theory::Setting, ConfigError> {
    let parse = |flag, s: &str| {
        s.parse::<onestep_data::Func>()
            .map_err(|e| unparsable(flag, s, e))
    };
    let s = onestep_theory::Setting {
        phi,
        psi,
        lambda,
        noise,
        act: crate::stats::fn_stats(&parse("activation", activation)?),
        target: crate::stats::fn_stats(&parse("target", target)?),
    };
    check_moment("activation", activation, &s.act)?;
    check_moment("target", target, &s.target)?;
    onestep_theory::check(&s).map_err(ConfigError::flagged)?;
    Ok(s)
}

/// The finite-n network theory of `cfg` at its first λ (`onestep theory network`); it is derived
/// for the labels residual only.
pub fn network_theory(cfg: &ValidConfig) -> Result<onestep_theory::NetworkReport, ConfigError> {
    labels_only(cfg, "the finite-n theory")?;
    onestep_theory::network_report(&network_inputs(cfg, cfg.lambda)).map_err(ConfigError::flagged)
}

/// The predicted spectrum of F after the step for `cfg`: the top of its bulk and the outliers
/// above it with their alignments (labels residual; docs/theory.md §10.6–§10.7; 1–2 s).
pub fn after_step(cfg: &ValidConfig) -> Result<onestep_theory::NetworkSpikes, ConfigError> {
    check_after_step(cfg)?;
    onestep_theory::network_outliers(&network_inputs(cfg, cfg.lambda)).map_err(ConfigError::flagged)
}

/// Refuses, before any work, what [`after_step`] is not derived for (the full residual).
pub fn check_after_step(cfg: &ValidConfig) -> Result<(), ConfigError> {
    labels_only(cfg, "the spectrum after the step")
}

/// Refuses the full residual for `what`, which is derived for r = y only.
fn labels_only(cfg: &ValidConfig, what: &str) -> Result<(), ConfigError> {
    if cfg.residual == onestep_net::Residual::Labels {
        return Ok(());
    }
    Err(invalid(
        "residual",
        cfg.residual.name(),
        format!("labels ({what} is derived for r = y only)"),
    ))
}

/// The α grid of `onestep theory staircase --alpha-grid K`: K evenly spaced α in [0, 1/2).
pub fn staircase_alphas(k: usize) -> Result<Vec<f64>, ConfigError> {
    let most = onestep_theory::equivalents::MAX_ALPHA_POINTS;
    if !(1..=most).contains(&k) {
        return Err(invalid(
            "alpha-grid",
            k,
            format!("an integer in 1..={most}"),
        ));
    }
    Ok((0..k).map(|i| 0.5 * i as f64 / k as f64).collect())
}

/// How the equivalent models of this configuration are built (see [`crate::models`]).
#[derive(Clone, Debug, Serialize)]
pub struct EquivalentsInfo {
    /// Spike degrees k of the `spiked` and `cget` models (every k ≤ 8 with c_k ≠ 0).
    pub spike_degrees: Vec<usize>,
    /// Truncation degree ℓ of the `hermite` model (largest separated spike degree, at least 2).
    pub hermite_degree: usize,
    /// Standard deviation of the noise replacing σ's Hermite components of degree > ℓ.
    pub hermite_noise_sd: f64,
    /// c_{>1}: scale of the Gaussian part of the `cget` model.
    pub cget_noise_sd: f64,
    /// Ridge penalty of the fitted `best_linear` least squares (a numerical safeguard; ≈ OLS).
    pub best_linear_ridge: f64,
}

/// Theory errors at one λ of the path.
#[derive(Clone, Debug, Serialize)]
pub struct TheoryPathPoint {
    /// The ridge penalty λ.
    pub lambda: f64,
    /// Errors by model, as in [`TheorySummary::errors`].
    pub errors: BTreeMap<String, onestep_theory::Errors>,
}

/// The theory's predictions for a configuration (docs/model.md §4, §6).
#[derive(Clone, Debug, Serialize)]
pub struct TheorySummary {
    /// ℓ(α): number of separated spikes, zero Hermite coefficients honoured.
    pub spike_count: usize,
    /// Their degrees.
    pub spike_degrees: Vec<usize>,
    /// Thresholds (k−1)/(2k) for k = 1..=4.
    pub thresholds: Vec<f64>,
    /// Predicted ⟨β, β*⟩, ‖β‖², cos∠ (labels residual).
    pub beta: onestep_theory::Overlap,
    /// Theory errors at the first λ, keyed like the simulated `errors`: `nn` (the finite-n
    /// network theory, docs/theory.md §10: the network's prediction at these n, d, N), `rf`,
    /// `inf_spike_1..3` (proportional limits), `spiked` (finite-α spiked equivalent), and
    /// `best_linear`: the POPULATION best affine predictor c*₀ + c*₁⟨x,β*⟩, whose noiseless risk
    /// is ‖P_{>1}σ*‖² = Eσ*² − c*₀² − c*₁² (the simulated `errors.best_linear` is the fitted
    /// least-squares version).
    pub errors: BTreeMap<String, onestep_theory::Errors>,
    /// The same at every λ of the path; empty (and not written) for one λ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors_path: Vec<TheoryPathPoint>,
    /// Models whose theory could not be computed for this configuration, with the reason.
    pub unavailable: BTreeMap<String, String>,
    /// How the simulated equivalent models are built.
    pub equivalents: EquivalentsInfo,
    /// Predicted bulk edge ‖F₀‖_op (Marchenko–Pastur bulk, docs/model.md §4); None if unavailable.
    pub bulk_edge: Option<f64>,
    /// Predicted largest non-spike singular value of F after the step (the top of its bulk,
    /// `onestep_theory::network_bulk_edge`, docs/theory.md §10.6; compare with
    /// `spectrum.bulk_edge_after`). Null unless asked for (`simulate --bulk-edge`): it takes
    /// 1–2 s.
    pub bulk_edge_after: Option<f64>,
    /// Predicted outliers of F above that bulk, largest first, each with its location and
    /// |⟨û, GS((X̃β)∘ᵏ)⟩| for k = 1, 2, 3 (the conditional model of docs/theory.md §10.7; the
    /// first is the mean component when c₀ ≠ 0; compare with `spectrum.top` and
    /// `spectrum.alignment_matrix`). Null unless asked for, with `bulk_edge_after`.
    pub outliers_after: Option<Vec<onestep_theory::NetworkOutlier>>,
    /// Predicted outlier singular values of F, descending (compare with `spectrum.top`): the
    /// trusted locations (`SpikePrediction::trusted_location`; every finite one on the smoothed
    /// route the pipeline uses).
    pub spike_locations: Vec<f64>,
    /// Predicted |⟨u_k, GS((X̃β)∘ᵏ)⟩| for k = 1, 2, 3, the quantity `spectrum.alignment` measures:
    /// the k-th outlier (mean outlier left out) against degree k, the diagonal of
    /// `alignment_matrix`, or of `outliers_after` once [`TheorySummary::set_after_step`] has run.
    /// Null: no k-th outlier is predicted (u_k is then a bulk vector, alignment 0 in the limit).
    pub alignment: Vec<Option<f64>>,
    /// Predicted |⟨u_j, GS((X̃β)∘ᵏ)⟩| for the first three outliers j (mean outlier left out) and
    /// k = 1, 2, 3, to compare with `spectrum.alignment_matrix` (`SpikeReport::alignment_matrix`).
    pub alignment_matrix: Vec<Vec<f64>>,
    /// The full spike prediction (strengths, locations, alignments per degree).
    pub spikes: Option<onestep_theory::SpikeReport>,
}

impl TheorySummary {
    /// Adds the spectrum after the step ([`after_step`]) of `cfg`: the top of its bulk, the
    /// outliers above it, and `alignment` from them.
    pub fn set_after_step(&mut self, cfg: &ValidConfig, after: onestep_theory::NetworkSpikes) {
        let skip = crate::trial::mean_component(cfg);
        self.alignment = onestep_theory::network::outlier_diagonal(&after.outliers, skip).to_vec();
        self.bulk_edge_after = Some(after.bulk_edge);
        self.outliers_after = Some(after.outliers);
    }

    /// Fills what the trials of `cfg` measure against this theory's count of outliers:
    /// `spectrum.bulk_edge_after` below the predicted outliers (those after the step when
    /// [`TheorySummary::set_after_step`] has run, then also `spectrum.spikes_detected` above that
    /// bulk, [`crate::trial::SpectrumStats::use_bulk_after`]; else the spike theory's trusted
    /// locations). Call it once per run, before writing the trials.
    pub fn finish_trials(&self, cfg: &ValidConfig, trials: &mut [crate::Trial]) {
        let exclude = crate::trial::mean_component(cfg);
        for t in trials {
            let s = &mut t.spectrum;
            match (&self.outliers_after, self.bulk_edge_after) {
                (Some(after), Some(edge)) => s.use_bulk_after(cfg, after.len(), edge),
                _ if self.spikes.is_some() => {
                    s.bulk_edge_after = s.all.get(exclude + self.spike_locations.len()).copied();
                }
                _ => s.bulk_edge_after = None,
            }
        }
    }
}

/// The proportional-limit setting of `cfg` at penalty `lambda`: φ = n/d, ψ = N/d and the
/// functions' Hermite statistics.
pub fn setting(cfg: &ValidConfig, lambda: f64) -> onestep_theory::Setting {
    onestep_theory::Setting {
        phi: cfg.n as f64 / cfg.d as f64,
        psi: cfg.width as f64 / cfg.d as f64,
        lambda,
        noise: cfg.noise,
        act: cfg.act_stats.clone(),
        target: cfg.target_stats.clone(),
    }
}

/// Inputs of the finite-n network theory for `cfg` at penalty `lambda` (docs/theory.md §10).
pub fn network_inputs(cfg: &ValidConfig, lambda: f64) -> onestep_theory::NetworkInputs {
    onestep_theory::NetworkInputs::new(
        cfg.n,
        cfg.d,
        cfg.width,
        cfg.alpha,
        cfg.eta0,
        lambda,
        cfg.noise,
        cfg.act_stats.clone(),
        crate::stats::gauss_smoothing(&cfg.activation),
        cfg.target_stats.clone(),
    )
}

/// Spike predictions for `cfg` on the Marchenko–Pastur bulk (labels residual).
pub fn spike_report(cfg: &ValidConfig) -> Result<onestep_theory::SpikeReport, TheoryError> {
    onestep_theory::predict_spikes(
        &spike_inputs(cfg),
        onestep_theory::Spectrum::MarchenkoPastur,
    )
}

/// Inputs of the spike theory for `cfg`: limiting ‖β‖², Gaussian second layer, step noise, and
/// σ's coefficients at larger scales for the smoothed spike functions.
pub fn spike_inputs(cfg: &ValidConfig) -> onestep_theory::SpikeInputs {
    let mut inp = onestep_theory::SpikeInputs::new(
        cfg.n,
        cfg.d,
        cfg.width,
        cfg.alpha,
        cfg.eta0,
        cfg.noise,
        cfg.act_stats.clone(),
        cfg.target_stats.clone(),
    );
    inp.act_scaled = Some(crate::stats::scaled_coeffs(&cfg.activation));
    inp
}

/// Theory errors at penalty `lambda`, and the models whose theory is unavailable.
fn theory_errors_at(
    cfg: &ValidConfig,
    lambda: f64,
) -> (
    BTreeMap<String, onestep_theory::Errors>,
    BTreeMap<String, String>,
) {
    let s = setting(cfg, lambda);
    let (mut errors, mut unavailable) = (BTreeMap::new(), BTreeMap::new());
    let rf = onestep_theory::errors(&s, 0).map_err(|e| e.to_string());
    let nn = if cfg.residual == onestep_net::Residual::Labels {
        onestep_theory::network_errors(&network_inputs(cfg, lambda)).map_err(|e| e.to_string())
    } else {
        Err("the finite-n network theory is derived for the labels residual only".into())
    };
    let ms = cfg.model_setting();
    let models = ALL.iter().map(|m| {
        let r = m.theory(&ms, &s).unwrap_or_else(|| {
            Err("no theory is implemented for this model (it is simulated only)".into())
        });
        (m.name(), r)
    });
    let fixed = [("nn".to_string(), nn), ("rf".to_string(), rf)];
    for (name, r) in fixed.into_iter().chain(models) {
        match r {
            Ok(e) if !(e.train.is_finite() && e.test.is_finite() && e.test_clean.is_finite()) => {
                unavailable.insert(
                    name,
                    format!(
                        "the theory's errors are not finite numbers here (train {}, test {})",
                        e.train, e.test
                    ),
                );
            }
            Ok(e) => {
                errors.insert(name, e);
            }
            Err(e) => {
                unavailable.insert(name, e);
            }
        }
    }
    (errors, unavailable)
}

/// Theory for `cfg` (labels residual; values for `full` are reported but not derived for it).
pub fn theory_summary(cfg: &ValidConfig) -> Result<TheorySummary, TheoryError> {
    let degrees =
        onestep_theory::spike_degrees(cfg.alpha, &cfg.act_stats, crate::stats::HERMITE_KMAX);
    let (errors, unavailable) = theory_errors_at(cfg, cfg.lambda);
    let errors_path = if cfg.lambdas.len() > 1 {
        cfg.lambdas
            .iter()
            .map(|&lambda| TheoryPathPoint {
                lambda,
                errors: theory_errors_at(cfg, lambda).0,
            })
            .collect()
    } else {
        Vec::new()
    };
    let hermite = hermite_degree(cfg.alpha, &cfg.act_stats);
    let mut unavailable = unavailable;
    let spikes = if cfg.residual == onestep_net::Residual::Labels {
        spike_report(cfg)
            .map_err(|e| unavailable.insert("spikes".into(), e.to_string()))
            .ok()
    } else {
        unavailable.insert(
            "spikes".into(),
            "spike locations are derived for the labels residual only".into(),
        );
        None
    };
    let mut spike_locations: Vec<f64> = spikes
        .iter()
        .flat_map(|r| r.spikes.iter().filter_map(|p| p.trusted_location()))
        .collect();
    spike_locations.sort_by(|a, b| b.total_cmp(a));
    let alignment_matrix: Vec<Vec<f64>> = spikes
        .as_ref()
        .map(|r| r.alignment_matrix.iter().take(KMAX).cloned().collect())
        .unwrap_or_default();
    let alignment = (0..KMAX)
        .map(|k| alignment_matrix.get(k).map(|row| row[k]))
        .collect();
    Ok(TheorySummary {
        bulk_edge: spikes.as_ref().map(|r| r.bulk_edge),
        bulk_edge_after: None,
        outliers_after: None,
        alignment_matrix,
        spike_locations,
        alignment,
        spikes,
        spike_count: degrees.len(),
        spike_degrees: degrees,
        thresholds: (1..=4).map(onestep_theory::threshold).collect(),
        beta: onestep_theory::overlap(&cfg.target_stats, cfg.noise, cfg.n as f64 / cfg.d as f64)?,
        errors,
        errors_path,
        unavailable,
        equivalents: EquivalentsInfo {
            spike_degrees: equivalent_degrees(&cfg.act_stats),
            hermite_degree: hermite,
            hermite_noise_sd: hermite_noise_sd(&cfg.act_stats, hermite),
            cget_noise_sd: cfg.act_stats.nonlinear_energy().sqrt(),
            best_linear_ridge: BEST_LINEAR_RIDGE,
        },
    })
}
