//! Figure `overlap` (paper Prop. 3.1): ⟨β,β*⟩, cos∠(β,β*) and ‖β‖² of β = Xᵀy/n against n/d
//! for targets A and B, simulation (mean ± sd) against the limits ⟨β,β*⟩ → c*₁,
//! ‖β‖² → c*₁² + (Eσ*² + σ_ε²)d/n ([`onestep_theory::overlap`], docs/model.md §4). Only β is
//! computed per point (same random streams as a full trial, so the same β).
use super::*;
use onestep_plot::{Mark, Panel, Series};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "overlap",
    paper: "Prop. 3.1",
    description: "⟨β,β*⟩, cos∠(β,β*) and ‖β‖² against n/d, simulation and theory",
};
const ID: &str = INFO.id;

pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let d = if opts.quick { 128 } else { 1024 };
    let ratios = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
    let seeds = opts.seed_list(5, 4);
    let targets = [("A", TARGET_A), ("B", TARGET_B)];
    let mut table = Table::new(
        "overlap",
        &[
            "target",
            "d",
            "n",
            "n_over_d",
            "seeds",
            "inner_mean",
            "inner_sd",
            "cosine_mean",
            "cosine_sd",
            "norm2_mean",
            "norm2_sd",
            "theory_inner",
            "theory_cosine",
            "theory_norm2",
        ],
    );
    let mut p_inner = Panel::new(
        format!("⟨β, β*⟩ and cos∠(β, β*), d = {d}"),
        "n / d",
        "overlap",
    );
    p_inner.x_log = true;
    let mut p_norm = Panel::new(format!("‖β‖², d = {d}"), "n / d", "‖β‖²");
    p_norm.x_log = true;
    p_norm.y_log = true;
    let mut manifest = Manifest::default();
    let mut total = 0;
    for (ti, (tname, spec)) in targets.into_iter().enumerate() {
        let base = SimConfig {
            target: spec.into(),
            ..base_config(d, d, d, 1, 0.0)
        };
        let points: Vec<Point> = ratios
            .iter()
            .flat_map(|&r| {
                let n = ((r * d as f64).round() as usize).max(2);
                let cfg = SimConfig { n, ..base.clone() };
                seeds.iter().map(move |&s| Point {
                    cfg: cfg.clone(),
                    seed: s,
                    kind: PointKind::BetaOnly,
                })
            })
            .collect();
        let results = evaluate(ID, b, opts, ctx, &points)?;
        total += results.len();
        let target_stats = check(ID, &base, opts)?.target_stats;
        let (mut inner, mut cosine, mut norm) =
            ((vec![], vec![]), (vec![], vec![]), (vec![], vec![]));
        let (mut t_inner, mut t_cos, mut t_norm) = (vec![], vec![], vec![]);
        for (g, &r) in groups(&results, seeds.len()).into_iter().zip(&ratios) {
            let n = ((r * d as f64).round() as usize).max(2);
            let phi = n as f64 / d as f64;
            let th = onestep_theory::overlap(&target_stats, base.noise, phi).map_err(|source| {
                FigureError::Theory {
                    figure: "overlap",
                    source,
                }
            })?;
            let (im, is) = mean_sd(g.iter().map(|p| p.beta_inner));
            let (cm, cs) = mean_sd(g.iter().map(|p| p.beta_inner / p.beta_norm2.sqrt()));
            let (nm, ns) = mean_sd(g.iter().map(|p| p.beta_norm2));
            table.push(vec![
                tname.into(),
                d.into(),
                n.into(),
                phi.into(),
                g.len().into(),
                im.into(),
                is.into(),
                cm.into(),
                cs.into(),
                nm.into(),
                ns.into(),
                th.inner.into(),
                th.cosine.into(),
                th.norm2.into(),
            ]);
            inner.0.push((phi, im));
            inner.1.push(is);
            cosine.0.push((phi, cm));
            cosine.1.push(cs);
            norm.0.push((phi, nm));
            norm.1.push(ns);
            t_inner.push((phi, th.inner));
            t_cos.push((phi, th.cosine));
            t_norm.push((phi, th.norm2));
        }
        let c = 2 * ti;
        p_inner.series.push(
            Series::new(
                format!("⟨β,β*⟩, target {tname} (theory)"),
                Mark::Line,
                t_inner,
            )
            .with_color(c),
        );
        p_inner.series.push(
            Series::new(
                format!("⟨β,β*⟩, target {tname} (simulation)"),
                Mark::Markers,
                inner.0,
            )
            .with_yerr(inner.1)
            .with_color(c),
        );
        p_inner.series.push(
            Series::new(
                format!("cos∠, target {tname} (theory)"),
                Mark::Dashed,
                t_cos,
            )
            .with_color(c + 1),
        );
        p_inner.series.push(
            Series::new(
                format!("cos∠, target {tname} (simulation)"),
                Mark::Markers,
                cosine.0,
            )
            .with_yerr(cosine.1)
            .with_color(c + 1),
        );
        p_norm.series.push(
            Series::new(format!("target {tname} (theory)"), Mark::Line, t_norm).with_color(c),
        );
        p_norm.series.push(
            Series::new(
                format!("target {tname} (simulation)"),
                Mark::Markers,
                norm.0,
            )
            .with_yerr(norm.1)
            .with_color(c),
        );
        manifest.configs.insert(format!("target {tname}"), base);
    }
    p_inner.y_range = Some((0.0, 1.15));
    manifest
        .settings
        .insert("n_over_d".into(), format!("{ratios:?}"));
    manifest.settings.insert("d".into(), d.to_string());
    manifest
        .settings
        .insert("targets".into(), format!("A = {TARGET_A}, B = {TARGET_B}"));
    manifest.seeds = seeds.clone();
    manifest.points = total;
    let figure = Figure {
        title: "Overlap of β = Xᵀy/n with the target direction β* against n/d".into(),
        panels: vec![p_inner, p_norm],
        columns: 2,
        caption: Some(format!(
            "Markers: simulation (mean ± sd over {} seeds); lines: theory ⟨β,β*⟩ → c*₁, ‖β‖² → c*₁² + (Eσ*² + σ_ε²)·d/n, cos∠ = ⟨β,β*⟩/‖β‖. Target A: σ* = He₁; B: σ* = He₁ + He₂/√2; σ_ε = 0.1.",
            seeds.len()
        )),
    };
    Ok(FigureData {
        id: "overlap",
        tables: vec![table],
        figure,
        manifest,
    })
}
