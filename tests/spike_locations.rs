//! Outlier locations of the simulated F against `predict_spikes` (Marchenko–Pastur bulk, no
//! realised inputs) at d = N = 1024, n = 4096, centred ReLU, target B, σ_ε = 0.1, 3 seeds,
//! α ∈ {0.3, 0.35, 0.4} (docs/theory.md §9.5 has the full d = 512…4096 table).
//!
//! Asserted, on the mean over seeds, with SE the standard error of that mean:
//! - bulk edge ‖F₀‖ within 2% (observed −0.4%);
//! - degree-1 outlier within 3% + 2·SE (observed +0.9 … +1.3%);
//! - degree-2 outlier with the step-noise spike functions within 6% + 2·SE (observed −5.1 … +2.2%;
//!   at d = 2048 and 4096 the gap is −7.2 … −1.5%, so 6% is the accuracy reached, not a
//!   guarantee for larger α);
//! - the step-noise functions are closer to the simulation than plain u^k on average
//!   (plain: −8.8 … −5.7% at d = 1024, −13.5 … −8.1% at d = 2048/4096).
use onestep::experiments::simulate::spike_report;
use onestep::experiments::{SimConfig, run_trial};
use onestep::linalg::FaerBackend;
use onestep::metrics::mean_sd;
use onestep::theory::{Spectrum, SpikeInputs, SpikeReport, predict_spikes};

fn location(r: &SpikeReport, k: usize) -> f64 {
    r.spikes
        .iter()
        .find(|s| s.degree == k)
        .and_then(|s| s.trusted_location())
        .unwrap_or_else(|| panic!("degree-{k} spike predicted separated"))
}

fn alignment(r: &SpikeReport, k: usize) -> f64 {
    r.spikes
        .iter()
        .find(|s| s.degree == k)
        .and_then(|s| s.alignment)
        .unwrap_or_else(|| panic!("degree-{k} alignment predicted"))
}

#[test]
fn bulk_edge_and_degree_one_and_two_outliers_at_d1024() {
    let b = FaerBackend::new(0);
    let seeds = 3u64;
    let (mut gaps_noise, mut gaps_plain) = (0.0, 0.0);
    let mut report = String::new();
    for alpha in [0.3, 0.35, 0.4] {
        let cfg = SimConfig {
            d: 1024,
            width: 1024,
            n: 4096,
            n_test: 256,
            alpha,
            models: vec!["none".into()],
            ..SimConfig::default()
        }
        .check(f64::INFINITY)
        .unwrap();
        let th = spike_report(&cfg).unwrap();
        let mut plain = SpikeInputs::new(
            cfg.n,
            cfg.d,
            cfg.width,
            alpha,
            cfg.eta0,
            cfg.noise,
            cfg.act_stats.clone(),
            cfg.target_stats.clone(),
        );
        plain.step_noise = false;
        let th_plain = predict_spikes(&plain, Spectrum::MarchenkoPastur).unwrap();
        let runs: Vec<_> = (0..seeds)
            .map(|s| run_trial(&b, &cfg, 200 + s, &mut |_| {}).unwrap())
            .collect();
        let stat = |f: &dyn Fn(&onestep::experiments::Trial) -> f64| {
            let m = mean_sd(&runs.iter().map(f).collect::<Vec<_>>());
            (m.mean, m.sd / (seeds as f64).sqrt())
        };
        let (edge, _) = stat(&|t| t.spectrum.bulk_edge);
        let (s1, se1) = stat(&|t| t.spectrum.top[0]);
        let (s2, se2) = stat(&|t| t.spectrum.top[1]);
        let (l1, l2, l2p) = (location(&th, 1), location(&th, 2), location(&th_plain, 2));
        let (a1, sea1) = stat(&|t| t.spectrum.alignment[0]);
        let (a2, sea2) = stat(&|t| t.spectrum.alignment[1]);
        let (p1, p2) = (alignment(&th, 1), alignment(&th, 2));
        report.push_str(&format!(
            "α={alpha}: alignment k=1 {a1:.3} ± {sea1:.3} vs {p1:.3}; k=2 {a2:.3} ± {sea2:.3} vs {p2:.3} plain {:.3}\n", alignment(&th_plain, 2)
        ));
        assert!(
            (a1 - p1).abs() <= 0.02 + 2.0 * sea1,
            "degree-1 alignment off\n{report}"
        );
        let rel = |sim: f64, pred: f64| sim / pred - 1.0;
        report.push_str(&format!(
            "α={alpha}: edge {edge:.2} vs {:.2} ({:+.2}%); k=1 {s1:.1} ± {se1:.1} vs {l1:.1} ({:+.2}%); k=2 {s2:.1} ± {se2:.1} vs {l2:.1} ({:+.2}%), plain {l2p:.1} ({:+.2}%)\n",
            th.bulk_edge,
            100.0 * rel(edge, th.bulk_edge),
            100.0 * rel(s1, l1),
            100.0 * rel(s2, l2),
            100.0 * rel(s2, l2p),
        ));
        assert!(
            rel(edge, th.bulk_edge).abs() <= 0.02,
            "bulk edge off by more than 2%\n{report}"
        );
        assert!(
            rel(s1, l1).abs() <= 0.03 + 2.0 * se1 / l1,
            "degree-1 outlier off\n{report}"
        );
        assert!(
            rel(s2, l2).abs() <= 0.06 + 2.0 * se2 / l2,
            "degree-2 outlier off\n{report}"
        );
        gaps_noise += rel(s2, l2).abs();
        gaps_plain += rel(s2, l2p).abs();
    }
    eprintln!("{report}");
    assert!(
        gaps_noise < gaps_plain,
        "step-noise spike functions no closer than plain u^k\n{report}"
    );
}
