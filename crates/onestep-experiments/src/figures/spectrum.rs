//! Figure `spectrum` (paper Fig. 1/2): histograms of all singular values of F after the step at
//! α = 0 (bulk only), 0.2 (one spike), 0.3 (two spikes) for centred ReLU, and α = 0.36 for
//! σ = He₁ + ½He₂ + ⅙He₃ (three spikes); the histogram of F₀ (before the step) overlaid; the
//! predicted bulk edge and outlier locations ([`onestep_theory::predict_spikes`], MP bulk); the
//! separated singular values annotated with the degree they are matched to.
use super::*;
use onestep_plot::{Mark, Panel, Series};
use spike_locations::spike_theory;

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "spectrum",
    paper: "Fig. 1/2",
    description: "histograms of the singular values of F at α = 0, 0.2, 0.3 (centred ReLU) and α = 0.36 (σ = He₁ + ½He₂ + ⅙He₃), bulk of F₀ overlaid, spikes annotated with their degree",
};
const ID: &str = INFO.id;

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let (d, n_test, bins) = if opts.quick {
        (512, 256, 50)
    } else {
        (2048, 256, 80)
    };
    let seed = opts.seed_list(1, 1)[0];
    let relu = base_config(d, d, d, n_test, 0.0);
    let poly = SimConfig {
        activation: alignment::POLY.into(),
        ..relu.clone()
    };
    let cases = [
        ("σ = centred ReLU, α = 0", relu.clone(), 0.0),
        ("σ = centred ReLU, α = 0.2", relu.clone(), 0.2),
        ("σ = centred ReLU, α = 0.3", relu.clone(), 0.3),
        ("σ = He₁ + ½He₂ + ⅙He₃, α = 0.36", poly.clone(), 0.36),
    ];
    let points: Vec<Point> = cases
        .iter()
        .map(|(_, c, a)| Point {
            cfg: SimConfig {
                alpha: *a,
                ..c.clone()
            },
            seed,
            kind: PointKind::TrialWithSpectrum,
        })
        .collect();
    let results = evaluate(ID, b, opts, ctx, &points)?;

    let mut hist = Table::new(
        "histogram",
        &[
            "panel",
            "activation",
            "alpha",
            "bin_lo",
            "bin_hi",
            "count_f",
            "count_f0",
        ],
    );
    let mut spikes = Table::new(
        "spikes",
        &[
            "panel",
            "activation",
            "alpha",
            "rank",
            "sim_singular_value",
            "degree",
            "theory_location",
            "theory_strength",
            "sim_f0_norm",
            "theory_bulk_edge",
            "sim_spikes_detected",
            "theory_ell",
        ],
    );
    let mut panels = Vec::new();
    let mut notes = Vec::new();
    for (i, ((title, base, alpha), r)) in cases.iter().zip(&results).enumerate() {
        let cfg = check(
            ID,
            &SimConfig {
                alpha: *alpha,
                ..base.clone()
            },
            opts,
        )?;
        let rep = spike_theory(ID, &cfg)?;
        let all = r.all.clone().unwrap_or_default();
        let all0 = r.all_f0.clone().unwrap_or_default();
        let hi = all.iter().chain(&all0).cloned().fold(0.0, f64::max) * 1.03;
        // Bins: `bins` across the bulk of F₀, continued at the same width up to the largest value.
        let width = (r.bulk_edge.max(1e-12) * 1.05) / bins as f64;
        let nb = ((hi / width).ceil() as usize).max(1);
        let count = |xs: &[f64]| {
            let mut c = vec![0usize; nb];
            for &x in xs {
                c[((x / width) as usize).min(nb - 1)] += 1;
            }
            c
        };
        let (cf, cf0) = (count(&all), count(&all0));
        let mut bars = Vec::new();
        let mut steps = Vec::new();
        for j in 0..nb {
            let lo = j as f64 * width;
            hist.push(vec![
                (i + 1).into(),
                cfg.activation.to_string().into(),
                (*alpha).into(),
                lo.into(),
                (lo + width).into(),
                cf[j].into(),
                cf0[j].into(),
            ]);
            if cf[j] > 0 {
                bars.push((lo + width / 2.0, cf[j] as f64));
            }
            steps.push((lo, if cf0[j] > 0 { cf0[j] as f64 } else { f64::NAN }));
        }
        steps.push((nb as f64 * width, f64::NAN));
        let mut panel = Panel::new(*title, "singular value of F", "count");
        panel.y_log = true;
        let ymax = cf.iter().chain(&cf0).copied().max().unwrap_or(1) as f64;
        panel.y_range = Some((0.6, ymax * 4.0));
        panel
            .series
            .push(Series::new("F after the step (simulation)", Mark::Bars, bars).with_color(0));
        panel
            .series
            .push(Series::new("F₀ before the step (simulation)", Mark::Steps, steps).with_color(1));

        // Theory: bulk edge and the drawable outlier locations, matched in order to the separated values.
        panel
            .vlines
            .push((rep.bulk_edge, "bulk edge (theory)".into()));
        let mut preds: Vec<(usize, f64, f64)> = rep
            .spikes
            .iter()
            .filter(|sp| sp.trusted_location().is_some())
            .map(|sp| (sp.degree, sp.location.unwrap_or(f64::NAN), sp.strength))
            .collect();
        preds.sort_by(|a, b| b.1.total_cmp(&a.1));
        let separated: Vec<f64> = all.iter().copied().take(r.spikes_detected).collect();
        let crosses: Vec<(f64, f64)> = preds.iter().map(|p| (p.1, 1.6)).collect();
        if !crosses.is_empty() {
            panel.series.push(
                Series::new("predicted outlier (theory)", Mark::Crosses, crosses).with_color(6),
            );
        }
        for (rank, sv) in separated.iter().enumerate() {
            let pred = preds.get(rank);
            if let Some(p) = pred {
                panel
                    .annotations
                    .push((*sv, 3.0 + 3.0 * (rank % 2) as f64, format!("k={}", p.0)));
            }
            spikes.push(vec![
                (i + 1).into(),
                cfg.activation.to_string().into(),
                (*alpha).into(),
                (rank + 1).into(),
                (*sv).into(),
                pred.map_or(f64::NAN, |p| p.0 as f64).into(),
                pred.map(|p| p.1).into(),
                pred.map(|p| p.2).into(),
                r.bulk_edge.into(),
                rep.bulk_edge.into(),
                r.spikes_detected.into(),
                rep.ell.into(),
            ]);
        }
        for p in preds.iter().skip(separated.len()) {
            spikes.push(vec![
                (i + 1).into(),
                cfg.activation.to_string().into(),
                (*alpha).into(),
                f64::NAN.into(),
                f64::NAN.into(),
                p.0.into(),
                p.1.into(),
                p.2.into(),
                r.bulk_edge.into(),
                rep.bulk_edge.into(),
                r.spikes_detected.into(),
                rep.ell.into(),
            ]);
            notes.push(format!("panel {}: theory predicts an outlier of degree {} at {:.1} that the simulation does not separate", i + 1, p.0, p.1));
        }
        if separated.len() > preds.len() {
            notes.push(format!("panel {}: {} singular values above ‖F₀‖(1 + margin) but only {} predicted outliers; the extra ones are unlabelled", i + 1, separated.len(), preds.len()));
        }
        if separated.is_empty() && preds.is_empty() {
            spikes.push(vec![
                (i + 1).into(),
                cfg.activation.to_string().into(),
                (*alpha).into(),
                f64::NAN.into(),
                f64::NAN.into(),
                f64::NAN.into(),
                f64::NAN.into(),
                f64::NAN.into(),
                r.bulk_edge.into(),
                rep.bulk_edge.into(),
                r.spikes_detected.into(),
                rep.ell.into(),
            ]);
        }
        panels.push(panel);
    }
    let mut manifest = Manifest::default();
    manifest.configs.insert("relu".into(), relu);
    manifest.configs.insert("poly".into(), poly);
    manifest
        .settings
        .insert("sizes".into(), format!("d = N = n = {d}"));
    manifest.settings.insert(
        "panels".into(),
        "centred ReLU at α = 0, 0.2, 0.3; σ = He₁ + ½He₂ + ⅙He₃ at α = 0.36".into(),
    );
    manifest.seeds = vec![seed];
    manifest.points = results.len();
    manifest.notes = notes;
    let figure = Figure {
        title: format!("Singular values of the feature matrix F after one step (d = N = n = {d})"),
        panels,
        columns: 2,
        caption: Some("Bars: histogram of all singular values of F after the step (log count). Dashed outline: F₀ before the step. Spikes are labelled with the degree k of the polynomial feature they carry (matched in order to the theory's predicted outliers, crosses). Dashed vertical line: predicted bulk edge (Marchenko–Pastur bulk). σ* = He₁ + He₂/√2.".into()),
    };
    Ok(FigureData {
        id: "spectrum",
        tables: vec![hist, spikes],
        figure,
        manifest,
    })
}
