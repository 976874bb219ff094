//! A streamed trial (batches drawn and used a block of rows at a time) reports every number the
//! in-memory trial reports, on the same data: equal to 1e-9 relative. Block sizes that cut the
//! batches unevenly, a λ path, the unpenalised columns of every `inf_spike_ℓ`, both residuals, an
//! activation with and without a mean component, and a width above n.
use onestep_linalg::FaerBackend;
use onestep_pipeline::config::ConfigError;
use onestep_pipeline::{Memory, SimConfig, Trial, ValidConfig, run_trial};

const MEM: f64 = 8e9;

fn base() -> SimConfig {
    SimConfig {
        d: 48,
        width: 40,
        n: 300,
        n_test: 250,
        alpha: 0.3,
        lambda: 0.05,
        extra_lambdas: vec![0.5],
        models: vec!["inf_spike_1,inf_spike_2,inf_spike_3".into()],
        ..SimConfig::default()
    }
}

fn run(cfg: &ValidConfig) -> Trial {
    run_trial(&FaerBackend::new(2), cfg, 3, &mut |_| {}).expect("trial runs")
}

fn close(what: &str, a: f64, b: f64) {
    let tol = 1e-9 * a.abs().max(b.abs()).max(1e-12);
    assert!((a - b).abs() <= tol, "{what}: in memory {a}, streamed {b}");
}

fn same(raw: &SimConfig, rows: usize) {
    let mem = raw.check_with(MEM, Memory::InMemory).expect("valid");
    let st = raw.check_with(MEM, Memory::Stream(rows)).expect("valid");
    // A block never exceeds the larger batch.
    let want = rows.min(raw.n.max(raw.n_test));
    assert_eq!((mem.stream_rows, st.stream_rows), (None, Some(want)));
    let (a, b) = (run(&mem), run(&st));
    let label = |w: &str| format!("{} (rows {rows}, width {}): {w}", raw.activation, raw.width);
    close(&label("eta"), a.eta, b.eta);
    close(&label("⟨β, β*⟩"), a.beta.overlap, b.beta.overlap);
    close(&label("‖β‖²"), a.beta.norm2, b.beta.norm2);
    let (sa, sb) = (&a.spectrum, &b.spectrum);
    assert_eq!(sa.all.len(), sb.all.len(), "{}", label("number of values"));
    for (i, (x, y)) in sa.all.iter().zip(&sb.all).enumerate() {
        // Small values of a rank-deficient Gram matrix are rounding: compare on the scale of s₁.
        let tol = 1e-9 * sa.all[0];
        assert!((x - y).abs() <= tol, "{}: s_{i} {x} vs {y}", label("F"));
    }
    for (i, (x, y)) in sa.all_f0.iter().zip(&sb.all_f0).enumerate() {
        assert!(
            (x - y).abs() <= 1e-9 * sa.all_f0[0],
            "{}: s_{i} {x} vs {y}",
            label("F₀")
        );
    }
    close(&label("bulk edge"), sa.bulk_edge, sb.bulk_edge);
    assert_eq!(sa.spikes_detected, sb.spikes_detected);
    for (j, (ra, rb)) in sa
        .alignment_matrix
        .iter()
        .zip(&sb.alignment_matrix)
        .enumerate()
    {
        for (k, (x, y)) in ra.iter().zip(rb).enumerate() {
            close(
                &label(&format!("alignment u_{} degree {}", j + 1, k + 1)),
                *x,
                *y,
            );
        }
    }
    assert_eq!(sa.alignment_matrix.len(), 3);
    assert_eq!(a.errors_path.len(), 2);
    assert_eq!(
        a.errors_path
            .iter()
            .map(|p| p.errors.keys().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        b.errors_path
            .iter()
            .map(|p| p.errors.keys().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    for (pa, pb) in a.errors_path.iter().zip(&b.errors_path) {
        for (m, ea) in &pa.errors {
            let eb = pb.errors[m];
            let w = |x: &str| label(&format!("{m} at λ = {}: {x}", pa.lambda));
            close(&w("train"), ea.train, eb.train);
            close(
                &w("train_penalised"),
                ea.train_penalised,
                eb.train_penalised,
            );
            close(&w("test"), ea.test, eb.test);
            close(&w("test_clean"), ea.test_clean, eb.test_clean);
        }
    }
    assert_eq!(a.unavailable, b.unavailable);
}

#[test]
fn streamed_equals_in_memory() {
    let raw = base();
    // Blocks cutting inside the 64-row draw blocks, one whole block, and blocks larger than n.
    for rows in [37, 64, 128, 1000] {
        same(&raw, rows);
    }
    same(
        &SimConfig {
            activation: "tanh".into(),
            residual: "full".into(),
            ..base()
        },
        100,
    );
    // Width above n: F has n singular values, FᵀF is rank-deficient.
    same(
        &SimConfig {
            width: 360,
            ..base()
        },
        128,
    );
}

#[test]
fn streaming_refuses_models_that_need_the_whole_design() {
    let raw = SimConfig {
        models: vec!["spiked,inf_spike_1".into()],
        ..base()
    };
    let e = raw.check_with(MEM, Memory::Stream(64)).unwrap_err();
    assert!(
        matches!(e, ConfigError::Invalid { flag: "models", .. }),
        "{e}"
    );
    assert!(e.to_string().contains("spiked"), "{e}");
    // Auto: in memory when it fits, whatever the models.
    assert_eq!(raw.check(MEM).expect("fits").stream_rows, None);
    // Auto streams whenever the models allow it, within any budget the streamed run fits.
    let need = base().memory_bytes();
    let cfg = base().check(MEM).expect("streams");
    assert_eq!(cfg.stream_rows, Some(300));
    let cfg = base().check(need * 0.9).expect("streams");
    assert!(cfg.stream_rows.is_some());
    assert!(cfg.memory_bytes() <= need * 0.9);
    // With a model that needs the whole design and a budget the in-memory run exceeds: refused,
    // naming the model and the two sizes.
    let e = raw.check(need * 0.9).unwrap_err();
    assert!(matches!(e, ConfigError::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().contains("--models none or inf_spike_1"),
        "{e}"
    );
    // Neither fits: one line with the sizes, the estimate and the budget.
    let e = base().check(1e3).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("d=48") && msg.contains("streamed") && msg.contains("budget"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}
