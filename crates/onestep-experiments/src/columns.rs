//! The data dictionary of the figure CSVs: what every column means, written once here, copied
//! into each manifest (`columns`) and listed in docs/figures.md (a test keeps the two in step).
//!
//! A column means the same in every CSV unless [`FIGURE_COLUMNS`] gives a figure its own meaning.
//! In every CSV: `_mean` / `_sd` are the mean and sample standard deviation over the seeds (the
//! `seeds` column counts them), `NaN` is "not applicable at this row", and 0/1 columns are flags.

/// Columns with one meaning in every figure.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "activation",
        "the activation σ, as `--activation` writes it",
    ),
    (
        "target",
        "the target: A (σ* = He₁) or B (σ* = He₁ + He₂/√2)",
    ),
    (
        "pair",
        "the (σ, σ*) pair: B = centred ReLU with target B; rich = σ = σ* = Σ_{k≤4} He_k/k!",
    ),
    ("alpha", "the step exponent α in η = η₀·n^α"),
    ("eta", "the step size η = η₀·n^α"),
    (
        "d",
        "the input dimension d (N = d unless the figure says otherwise)",
    ),
    ("n", "the size n of each training batch"),
    ("n_over_d", "the ratio n/d"),
    ("seeds", "the number of seeds averaged at this row"),
    (
        "model",
        "the model: nn (the network), rf (random features), spiked, cget (conditional Gaussian equivalent), hermite, inf_spike_1/2 (infinite-spike models ℓ = 1, 2), best_linear",
    ),
    ("k", "the polynomial degree k of the direction (X̃β)∘ᵏ"),
    (
        "degree",
        "the spike degree k (the outlier driven by c_k He_k)",
    ),
    (
        "threshold",
        "the threshold (k−1)/(2k): the degree-k spike separates from the bulk for α above it",
    ),
    ("ell", "ℓ(α), the number of separated spikes at this α"),
    (
        "theory_ell",
        "ℓ(α), the number of separated spikes the theory predicts",
    ),
    (
        "train",
        "the theory's training error (1/n)‖ỹ − ŷ‖², penalty not included",
    ),
    (
        "test",
        "the theory's test error E(y − f̂(x))², label noise included",
    ),
    (
        "test_clean",
        "the theory's noiseless risk E(σ*(⟨x,β*⟩) − f̂(x))² = test − σ_ε²",
    ),
    ("train_mean", "simulated training error, mean over seeds"),
    ("train_sd", "simulated training error, sd over seeds"),
    (
        "test_mean",
        "simulated test error (label noise included), mean over seeds",
    ),
    ("test_sd", "simulated test error, sd over seeds"),
    (
        "test_clean_mean",
        "simulated noiseless risk, mean over seeds",
    ),
    ("test_clean_sd", "simulated noiseless risk, sd over seeds"),
    (
        "theory_train",
        "the theory's training error for this row's model",
    ),
    (
        "theory_test",
        "the theory's test error for this row's model",
    ),
    (
        "theory_test_clean",
        "the theory's noiseless risk for this row's model",
    ),
    (
        "theory_model",
        "which theory fills theory_*: finite-α spiked equivalent, RF limit, infinite-spike limit ℓ, population best linear",
    ),
    (
        "spiked_theory_train",
        "the finite-α spiked-equivalent theory's training error at this d",
    ),
    (
        "spiked_theory_test",
        "the finite-α spiked-equivalent theory's test error at this d",
    ),
    ("inner_mean", "simulated ⟨β, β*⟩, mean over seeds"),
    ("inner_sd", "simulated ⟨β, β*⟩, sd over seeds"),
    ("cosine_mean", "simulated cos∠(β, β*), mean over seeds"),
    ("cosine_sd", "simulated cos∠(β, β*), sd over seeds"),
    ("norm2_mean", "simulated ‖β‖², mean over seeds"),
    ("norm2_sd", "simulated ‖β‖², sd over seeds"),
    ("theory_inner", "predicted ⟨β, β*⟩"),
    ("theory_cosine", "predicted cos∠(β, β*)"),
    ("theory_norm2", "predicted ‖β‖²"),
    (
        "panel",
        "the panel: 1–3 centred ReLU at α = 0, 0.2, 0.3; 4 σ = He₁ + ½He₂ + ⅙He₃ at α = 0.36",
    ),
    ("bin_lo", "lower edge of the histogram bin (singular value)"),
    ("bin_hi", "upper edge of the histogram bin"),
    (
        "count_f",
        "singular values of F (after the step) in the bin",
    ),
    (
        "count_f0",
        "singular values of F₀ (before the step) in the bin",
    ),
    (
        "rank",
        "rank of the simulated outlier among the singular values of F, 1 = largest",
    ),
    (
        "sim_singular_value",
        "the simulated outlier singular value of F",
    ),
    (
        "theory_location",
        "the predicted location of the degree-k outlier",
    ),
    ("theory_strength", "the predicted spike strength θ_k"),
    ("strength", "the predicted spike strength θ_k"),
    (
        "location",
        "the predicted outlier location (NaN: not separated)",
    ),
    (
        "plotted",
        "1 if the predicted location is drawn (trusted: finite; on the Taylor route also at most 2θ_k for k ≥ 4), else 0",
    ),
    ("alignment", "the predicted alignment |⟨u_k, GS((X̃β)∘ᵏ)⟩|"),
    (
        "sim_f0_norm",
        "simulated ‖F₀‖_op, the bulk edge before the step",
    ),
    ("f0_norm_mean", "simulated ‖F₀‖_op, mean over seeds"),
    ("f0_norm_sd", "simulated ‖F₀‖_op, sd over seeds"),
    (
        "theory_bulk_edge",
        "the predicted bulk edge ‖F₀‖_op (Marchenko–Pastur)",
    ),
    (
        "bulk_edge",
        "the predicted bulk edge ‖F₀‖_op (Marchenko–Pastur)",
    ),
    (
        "sim_spikes_detected",
        "simulated singular values of F above ‖F₀‖(1 + margin)",
    ),
    (
        "spikes_detected_mean",
        "simulated singular values of F above ‖F₀‖(1 + margin), mean over seeds",
    ),
    ("sim_mean", "the simulated value, mean over seeds"),
    ("sim_sd", "the simulated value, sd over seeds"),
    ("theory", "the predicted value"),
    (
        "theory_separated",
        "1 if the theory predicts a k-th outlier of F above its bulk after the step (else u_k is a bulk vector and its alignment is predicted 0)",
    ),
    (
        "metric",
        "which error is compared: train, test or test_clean",
    ),
    (
        "abs_diff_mean",
        "|error(nn) − error(model)| per seed on the same data, mean over seeds",
    ),
    ("abs_diff_sd", "the same, sd over seeds"),
    ("nn_mean", "the network's error, mean over seeds"),
    ("model_mean", "the model's error, mean over seeds"),
    (
        "network_theory",
        "the finite-n theory of the network's error at this n, d, N (docs/theory.md §10)",
    ),
    (
        "spiked_theory",
        "the finite-α spiked-equivalent theory's error at this n, d, N",
    ),
    (
        "abs_gap",
        "|network_theory − spiked_theory|: the network–equivalent gap the theory predicts",
    ),
];

/// Columns whose meaning is the figure's own: (figure id, column, meaning).
pub const FIGURE_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "alignment",
        "sim_mean",
        "simulated alignment |⟨u_k, GS((X̃β)∘ᵏ)⟩| of the k-th left singular vector of F, mean over seeds",
    ),
    ("alignment", "sim_sd", "the same, sd over seeds"),
    (
        "alignment",
        "theory",
        "the predicted alignment of the k-th outlier with degree k (0 where there is no k-th outlier)",
    ),
];

/// Columns `svK_mean` / `svK_sd`: the K-th largest singular value of F.
fn numbered(column: &str) -> Option<String> {
    let rest = column.strip_prefix("sv")?;
    let (k, stat) = rest.split_once('_')?;
    k.parse::<usize>().ok()?;
    let what = match stat {
        "mean" => "mean",
        "sd" => "sd",
        _ => return None,
    };
    Some(format!(
        "the {k}-th largest singular value of F after the step, {what} over seeds"
    ))
}

/// What `column` of a CSV of figure `id` means; None for a column the dictionary lacks.
pub fn meaning(id: &str, column: &str) -> Option<String> {
    FIGURE_COLUMNS
        .iter()
        .find(|(f, c, _)| *f == id && *c == column)
        .map(|(_, _, m)| m.to_string())
        .or_else(|| {
            COLUMNS
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, m)| m.to_string())
        })
        .or_else(|| numbered(column))
}
