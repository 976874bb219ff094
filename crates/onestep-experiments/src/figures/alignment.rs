//! Figure `alignment` (paper Fig. 2): |⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1, 2, 3 against α, where
//! u_k is the k-th left singular vector of F (mean component excluded) and GS the Gram–Schmidt
//! of the k-th power against the lower ones; simulation (mean ± sd) and theory
//! ([`onestep_theory::predict_spikes`], MP bulk). Below its threshold a spike has no predicted
//! outlier and its predicted alignment is 0 (the BBP transition).
//!
//! Two panels: centred ReLU (the sweep of `spike-locations`, shared through the point cache; it
//! has c₃ = 0, so no degree-3 spike) and σ = He₁ + ½He₂ + ⅙He₃, which has all three.
use super::SeriesErr;
use super::*;
use onestep_plot::{Mark, Panel, Series};
use spike_locations::{Sweep, relu_sweep};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "alignment",
    paper: "Fig. 2",
    description: "|⟨u_k, GS((X̃β)^{∘k})⟩| for k = 1, 2, 3 against α, simulation and theory",
};
const ID: &str = INFO.id;
/// σ = He₁ + ½He₂ + ⅙He₃ (docs/figures.md, `spectrum` panel 4).
pub const POLY: &str = "hermite:0,1,0.5,0.16666666666666666";

fn poly_sweep(opts: &Options) -> Sweep {
    let cfg = |d: usize, n_test: usize| SimConfig {
        activation: POLY.into(),
        ..base_config(d, d, 4 * d, n_test, 0.0)
    };
    if opts.quick {
        Sweep {
            cfg: cfg(256, 256),
            alphas: grid(0.0, 0.04, 12),
            seeds: opts.seed_list(2, 2),
        }
    } else {
        Sweep {
            cfg: cfg(1024, 1024),
            alphas: grid(0.0, 0.04, 12),
            seeds: opts.seed_list(2, 2),
        }
    }
}

fn panel_for<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
    sweep: &Sweep,
    name: &str,
    title: &str,
    table: &mut Table,
) -> Result<(Panel, usize), FigureError> {
    let results = evaluate(ID, b, opts, ctx, &sweep.points())?;
    let per = sweep.seeds.len();
    let act = check(ID, &sweep.cfg, opts)?.act_stats;
    let mut panel = Panel::new(title, "α  (step size η = n^α)", "|⟨u_k, GS((X̃β)^{∘k})⟩|");
    panel.y_range = Some((0.0, 1.6));
    let mut sim: Vec<SeriesErr> = vec![(Vec::new(), Vec::new()); 3];
    let mut theory: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 3];
    for (g, &alpha) in groups(&results, per).into_iter().zip(&sweep.alphas) {
        let rep = sweep.theory(ID, alpha, opts)?;
        for k in 1..=3 {
            let (m, s) = mean_sd(
                g.iter()
                    .map(|p| p.alignment.get(k - 1).copied().unwrap_or(f64::NAN)),
            );
            let has_coeff = act.coeff(k).is_some_and(|c| c.abs() > 1e-12);
            let pred = rep.spikes.iter().find(|sp| sp.degree == k);
            // No coefficient: no spike of this degree at all; not separated: alignment 0 in the limit.
            let t = if has_coeff {
                Some(pred.and_then(|sp| sp.alignment).unwrap_or(0.0))
            } else {
                None
            };
            let separated = pred.is_some_and(|sp| sp.location.is_some());
            table.push(vec![
                name.into(),
                alpha.into(),
                k.into(),
                g.len().into(),
                m.into(),
                s.into(),
                t.into(),
                separated.into(),
                onestep_theory::threshold(k).into(),
            ]);
            sim[k - 1].0.push((alpha, m));
            sim[k - 1].1.push(s);
            if let Some(t) = t {
                theory[k - 1].push((alpha, t));
            }
        }
    }
    for k in 1..=3 {
        let color = [0, 1, 2][k - 1];
        let (pts, err) = std::mem::take(&mut sim[k - 1]);
        panel.series.push(
            Series::new(format!("k={k} simulation"), Mark::Markers, pts)
                .with_yerr(err)
                .with_color(color),
        );
        if theory[k - 1].is_empty() {
            continue;
        }
        panel.series.push(
            Series::new(
                format!("k={k} theory"),
                Mark::Line,
                std::mem::take(&mut theory[k - 1]),
            )
            .with_color(color),
        );
    }
    let max_alpha = sweep.alphas.iter().cloned().fold(0.0, f64::max);
    for k in 2..=4 {
        let t = onestep_theory::threshold(k);
        if act.coeff(k).is_some_and(|c| c.abs() > 1e-12) && t <= max_alpha + 1e-9 {
            panel.vlines.push((t, threshold_label(k)));
        }
    }
    if act.coeff(3).is_none_or(|c| c.abs() <= 1e-12) {
        panel
            .annotations
            .push((0.11, 0.2, "c₃ = 0: no degree-3 spike".into()));
    }
    Ok((panel, results.len()))
}

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let relu = relu_sweep(opts);
    let poly = poly_sweep(opts);
    let mut table = Table::new(
        "alignment",
        &[
            "activation",
            "alpha",
            "k",
            "seeds",
            "sim_mean",
            "sim_sd",
            "theory",
            "theory_separated",
            "threshold",
        ],
    );
    let (p1, n1) = panel_for(
        b,
        opts,
        ctx,
        &relu,
        "relu-centered",
        &format!("centred ReLU, d = N = {}, n = {}", relu.cfg.d, relu.cfg.n),
        &mut table,
    )?;
    let (p2, n2) = panel_for(
        b,
        opts,
        ctx,
        &poly,
        "poly",
        &format!(
            "σ = He₁ + ½He₂ + ⅙He₃, d = N = {}, n = {}",
            poly.cfg.d, poly.cfg.n
        ),
        &mut table,
    )?;
    let mut manifest = Manifest::default();
    poly.settings(&mut manifest, "poly");
    relu.settings(&mut manifest, "relu");
    manifest.points = n1 + n2;
    manifest.notes.push("Theory: predict_spikes (MP bulk); a degree whose spike is not separated at this n is predicted at alignment 0.".into());
    let figure = Figure {
        title: "Alignment of the k-th left singular vector of F with the degree-k feature GS((X̃β)^{∘k})".into(),
        panels: vec![p1, p2],
        columns: 2,
        caption: Some("Markers: simulation (mean ± sd over seeds); lines: theory (BBP residue on the Marchenko–Pastur bulk; 0 where the spike is not separated). u_k is the k-th largest left singular vector. Dashed: thresholds (k−1)/(2k). σ* = He₁ + He₂/√2.".into()),
    };
    Ok(FigureData {
        id: "alignment",
        tables: vec![table],
        figure,
        manifest,
    })
}
