//! Figure `staircase` (paper Fig. 3 right): the limiting training and test error of the network
//! against α (n, d, N → ∞ with n = 4d, N = d), which is the infinite-spike error with ℓ(α)
//! unpenalised polynomial columns ([`onestep_theory::staircase`], docs/model.md §5 item 4, §6):
//! a staircase dropping at the thresholds (k−1)/(2k) of the degrees with c_k ≠ 0. Two pairs:
//! target B with centred ReLU (drops at 1/4 and 3/8) and a richer pair σ = σ* = He₁ + ½He₂ +
//! ⅙He₃ + ¹⁄₂₄He₄ (c₁..c₄ ≠ 0, drops at 1/4, 1/3, 3/8). A pair with unit energy in every
//! component (σ* = Σ_{k≤4} He_k/√k!) was tried first: its quartic labels are so heavy-tailed that
//! the seed-to-seed spread of the errors at d ≤ 1024 (±2 on a test error of 5) hides every step. Simulated network errors at
//! growing d on top, and the finite-α spiked-equivalent theory at the largest d (dotted), which
//! shows where the finite-n points are heading.
use super::*;
use onestep_plot::{Mark, Panel, Series};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "staircase",
    paper: "Fig. 3 right",
    description: "limiting training and test error against α (staircase) for target B and a richer pair, simulation at growing d on top",
};
const ID: &str = INFO.id;
/// Richer activation: He₁ + ½He₂ + ⅙He₃ + ¹⁄₂₄He₄ (c₁..c₄ ≠ 0).
pub const RICH_ACTIVATION: &str = "hermite:0,1,0.5,0.16666666666666666,0.041666666666666664";
/// Richer target: the same polynomial (components of energy 1, ½, ⅙, ¹⁄₂₄).
pub const RICH_TARGET: &str = RICH_ACTIVATION;
/// Highest number of spikes considered by the theory.
const MAX_ELL: usize = 4;

struct Level {
    d: usize,
    alphas: Vec<f64>,
    seeds: Vec<u64>,
}

fn levels(opts: &Options) -> Vec<Level> {
    if opts.quick {
        let a = vec![0.0, 0.1, 0.2, 0.3, 0.4];
        vec![
            Level {
                d: 64,
                alphas: a.clone(),
                seeds: opts.seed_list(2, 2),
            },
            Level {
                d: 128,
                alphas: a,
                seeds: opts.seed_list(2, 2),
            },
        ]
    } else {
        let a = vec![0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45];
        vec![
            Level {
                d: 512,
                alphas: a.clone(),
                seeds: opts.seed_list(2, 2),
            },
            Level {
                d: 1024,
                alphas: a,
                seeds: opts.seed_list(2, 2),
            },
            Level {
                d: 2048,
                alphas: vec![0.1, 0.2, 0.3, 0.4],
                seeds: opts.seed_list(1, 1),
            },
        ]
    }
}

/// n_test of the simulations (equal to the `errors` figure's so the target-B points are shared).
pub(crate) fn n_test(opts: &Options) -> usize {
    if opts.quick { 2048 } else { 8192 }
}

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let pairs = [
        (
            "B",
            "target B, centred ReLU",
            "relu-centered",
            TARGET_B,
            true,
        ),
        (
            "rich",
            "richer pair σ = σ* = Σ_{k≤4} He_k/k!",
            RICH_ACTIVATION,
            RICH_TARGET,
            false,
        ),
    ];
    let levels = levels(opts);
    let mut theory_t = Table::new(
        "theory",
        &["pair", "alpha", "ell", "train", "test", "test_clean"],
    );
    let mut sim_t = Table::new(
        "simulation",
        &[
            "pair",
            "d",
            "n",
            "alpha",
            "seeds",
            "train_mean",
            "train_sd",
            "test_mean",
            "test_sd",
            "theory_ell",
            "theory_train",
            "theory_test",
            "spiked_theory_train",
            "spiked_theory_test",
        ],
    );
    let mut panels = Vec::new();
    let mut manifest = Manifest::default();
    let mut total = 0;
    for (key, title, act, target, shared) in pairs {
        let models: &[&str] = if shared { &ERROR_MODELS } else { &[] };
        let base = |d: usize, alpha: f64| {
            let c = SimConfig {
                activation: act.into(),
                target: target.into(),
                ..base_config(d, d, 4 * d, n_test(opts), alpha)
            };
            if models.is_empty() {
                c
            } else {
                with_models(c, models)
            }
        };
        let ref_cfg = check(ID, &base(levels[0].d, 0.0), opts)?;
        let s = onestep_pipeline::theory::setting(&ref_cfg, ref_cfg.lambda);
        let theory_err = |source| FigureError::Theory { figure: ID, source };
        let fine: Vec<f64> = (0..=180).map(|i| 0.45 * i as f64 / 180.0).collect();
        let stairs = onestep_theory::staircase(&s, &fine, MAX_ELL).map_err(theory_err)?;
        for (a, l, e) in &stairs {
            theory_t.push(vec![
                key.into(),
                (*a).into(),
                (*l).into(),
                e.train.into(),
                e.test.into(),
                e.test_clean.into(),
            ]);
        }
        let mut train_panel = Panel::new(
            format!("training, {title}"),
            "α  (step size η = n^α)",
            "training error",
        );
        let mut test_panel = Panel::new(
            format!("test, {title}"),
            "α  (step size η = n^α)",
            "test error (with label noise)",
        );
        train_panel.series.push(
            Series::new(
                "limit n → ∞ (theory)",
                Mark::Line,
                stairs.iter().map(|(a, _, e)| (*a, e.train)).collect(),
            )
            .with_color(6),
        );
        test_panel.series.push(
            Series::new(
                "limit n → ∞ (theory)",
                Mark::Line,
                stairs.iter().map(|(a, _, e)| (*a, e.test)).collect(),
            )
            .with_color(6),
        );

        // Finite-α spiked equivalent at the largest d (dotted): where the finite-n points head.
        let d_max = levels.iter().map(|l| l.d).max().unwrap_or(1);
        let n_max = 4.0 * d_max as f64;
        let spiked: Vec<(f64, Result<onestep_theory::Errors, _>)> = fine
            .iter()
            .step_by(4)
            .map(|&a| (a, onestep_theory::spiked_errors(&s, a, 1.0, n_max)))
            .collect();
        let failed = spiked.iter().filter(|(_, r)| r.is_err()).count();
        if failed > 0 {
            let why = spiked
                .iter()
                .find_map(|(_, r)| r.as_ref().err().map(|e| e.to_string()))
                .unwrap_or_default();
            manifest.notes.push(format!(
                "{key}: finite-α spiked theory failed at {failed} α values: {why}"
            ));
        }
        let ok = |f: fn(&onestep_theory::Errors) -> f64| {
            spiked
                .iter()
                .map(|(a, r)| (*a, r.as_ref().map_or(f64::NAN, f)))
                .collect::<Vec<_>>()
        };
        train_panel.series.push(
            Series::new(
                format!("finite-α spiked equivalent, d = {d_max} (theory)"),
                Mark::Dotted,
                ok(|e| e.train),
            )
            .with_color(6),
        );
        test_panel.series.push(
            Series::new(
                format!("finite-α spiked equivalent, d = {d_max} (theory)"),
                Mark::Dotted,
                ok(|e| e.test),
            )
            .with_color(6),
        );

        for (li, lv) in levels.iter().enumerate() {
            let points: Vec<Point> = lv
                .alphas
                .iter()
                .flat_map(|&a| lv.seeds.iter().map(move |&sd| (a, sd)))
                .map(|(a, sd)| Point::trial(base(lv.d, a), sd))
                .collect();
            let results = evaluate(ID, b, opts, ctx, &points)?;
            total += results.len();
            let (mut tr, mut te) = ((vec![], vec![]), (vec![], vec![]));
            for (g, &a) in groups(&results, lv.seeds.len()).into_iter().zip(&lv.alphas) {
                let nn = |m: &str| {
                    mean_sd(
                        g.iter()
                            .map(|p| p.errors.get("nn").map_or(f64::NAN, |e| e.get(m))),
                    )
                };
                let (trm, trs) = nn("train");
                let (tem, tes) = nn("test");
                let cfg = check(ID, &base(lv.d, a), opts)?;
                let st = onestep_theory::staircase(&s, &[a], MAX_ELL).map_err(theory_err)?;
                let (_, ell, lim) = st[0];
                let sp = onestep_theory::spiked_errors(
                    &onestep_pipeline::theory::setting(&cfg, cfg.lambda),
                    a,
                    cfg.eta0,
                    cfg.n as f64,
                )
                .ok();
                sim_t.push(vec![
                    key.into(),
                    lv.d.into(),
                    cfg.n.into(),
                    a.into(),
                    g.len().into(),
                    trm.into(),
                    trs.into(),
                    tem.into(),
                    tes.into(),
                    ell.into(),
                    lim.train.into(),
                    lim.test.into(),
                    sp.map(|e| e.train).into(),
                    sp.map(|e| e.test).into(),
                ]);
                tr.0.push((a, trm));
                tr.1.push(trs);
                te.0.push((a, tem));
                te.1.push(tes);
            }
            let name = format!("network, d = {}, n = 4d (simulation)", lv.d);
            train_panel.series.push(
                Series::new(name.clone(), Mark::Markers, tr.0)
                    .with_yerr(tr.1)
                    .with_color(li),
            );
            test_panel.series.push(
                Series::new(name, Mark::Markers, te.0)
                    .with_yerr(te.1)
                    .with_color(li),
            );
            manifest.settings.insert(
                format!("{key}.d{}.alphas", lv.d),
                format!("{:?} × seeds {}", lv.alphas, seeds_text(&lv.seeds)),
            );
        }
        for k in 2..=MAX_ELL {
            if ref_cfg.act_stats.coeff(k).is_some_and(|c| c.abs() > 1e-12) {
                train_panel
                    .vlines
                    .push((onestep_theory::threshold(k), threshold_label(k)));
                test_panel
                    .vlines
                    .push((onestep_theory::threshold(k), threshold_label(k)));
            }
        }
        headroom(&mut train_panel, 0.45);
        headroom(&mut test_panel, 0.45);
        panels.push(train_panel);
        panels.push(test_panel);
        manifest
            .configs
            .insert(key.to_string(), base(levels[0].d, 0.0));
    }
    manifest
        .settings
        .insert("sizes".into(), "n = 4d, N = d".into());
    manifest.settings.insert(
        "theory".into(),
        format!("onestep_theory::staircase, max ℓ = {MAX_ELL}, Marchenko–Pastur bulk"),
    );
    manifest.seeds = levels
        .iter()
        .flat_map(|l| l.seeds.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    manifest.points = total;
    let figure = Figure {
        title: "The staircase: limiting ridge errors against α, and the network at growing d".into(),
        panels,
        columns: 2,
        caption: Some("Solid: the proportional limit (infinite-spike model with ℓ(α) unpenalised columns (X̃β)^{∘k}), which drops at the thresholds (k−1)/(2k) (dashed) of the degrees with c_k ≠ 0. Dotted: finite-α spiked-equivalent theory at the largest d. Richer pair: σ = σ* = He₁ + ½He₂ + ⅙He₃ + ¹⁄₂₄He₄. Markers: the network after one step (mean ± sd over seeds), n = 4d, N = d, λ = 0.1, σ_ε = 0.1.".into()),
    };
    Ok(FigureData {
        id: "staircase",
        tables: vec![theory_t, sim_t],
        figure,
        manifest,
    })
}
