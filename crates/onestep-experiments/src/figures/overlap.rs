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
    config: include_str!("../../../../configs/overlap.toml"),
};
const ID: &str = INFO.id;

/// One section of `configs/overlap.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    d: usize,
    n_over_d: Vec<f64>,
    seeds: usize,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        nonempty("n_over_d", &self.n_over_d)?;
        if let Some(r) = self.n_over_d.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
            return Err(format!("`n_over_d` has {r}; allowed: finite ratios > 0"));
        }
        seeds_ok("seeds", self.seeds)
    }
}

/// Runs the figure: β-only points against n/d for targets A and B, simulation beside the limits.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let Grid { d, n_over_d, seeds } = opts.grid(&INFO)?;
    let seeds = opts.seed_list(seeds);
    let targets = [("A", TARGET_A), ("B", TARGET_B)];
    let mut table = overlap_table();
    let mut panels = empty_panels(d);
    let mut manifest = Manifest::default();
    let mut total = 0;
    for (ti, (tname, spec)) in targets.into_iter().enumerate() {
        let base = SimConfig {
            target: spec.into(),
            ..base_config(d, d, d, 1, 0.0)
        };
        let results = evaluate(ID, b, opts, ctx, &beta_points(&base, &n_over_d, &seeds))?;
        total += results.len();
        let target_stats = check(ID, &base, opts)?.target_stats;
        let mut curves = Curves::default();
        for (g, &r) in groups(&results, seeds.len()).into_iter().zip(&n_over_d) {
            let n = n_at(r, d);
            let th = onestep_theory::overlap(&target_stats, base.noise, n as f64 / d as f64)
                .map_err(theory_error(ID))?;
            table.push(curves.add(g, tname, d, n, &th));
        }
        // Both targets have c*₁ = 1, so their ⟨β,β*⟩ theory lines coincide: the second is dotted
        // over the first's solid line, so both stay visible.
        let mark = if ti == 0 { Mark::Line } else { Mark::Dotted };
        curves.draw(tname, 2 * ti, mark, &mut panels);
        manifest.configs.insert(format!("target {tname}"), base);
    }
    // The range follows the data, error bars included (a fixed top clipped them at small n/d).
    describe(
        &mut manifest,
        [
            ("n_over_d", serde_json::json!(n_over_d)),
            ("d", d.to_string().into()),
            ("targets", format!("A = {TARGET_A}, B = {TARGET_B}").into()),
        ],
        seeds.clone(),
        total,
    );
    let figure = Figure {
        title: "Overlap of β = Xᵀy/n with the target direction β* against n/d".into(),
        panels: panels.into(),
        columns: 3,
        caption: Some(format!(
            "Markers: simulation (mean ± sd over {} seeds); lines: theory ⟨β,β*⟩ → c*₁, ‖β‖² → c*₁² + (Eσ*² + σ_ε²)·d/n, cos∠ = ⟨β,β*⟩/‖β‖. Target A: σ* = He₁; B: σ* = He₁ + He₂/√2; σ_ε = 0.1.",
            seeds.len()
        )),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![table],
        figure,
        manifest,
    })
}

/// n at the ratio n/d = `r` (at least 2).
fn n_at(r: f64, d: usize) -> usize {
    ((r * d as f64).round() as usize).max(2)
}

/// β-only points, ratio-major (every seed at the first n/d, then the next, …).
fn beta_points(base: &SimConfig, ratios: &[f64], seeds: &[u64]) -> Vec<Point> {
    ratios
        .iter()
        .flat_map(|&r| {
            let cfg = SimConfig {
                n: n_at(r, base.d),
                ..base.clone()
            };
            seeds.iter().map(move |&s| Point {
                cfg: cfg.clone(),
                seed: s,
                kind: PointKind::BetaOnly,
            })
        })
        .collect()
}

/// The columns of the overlap table (one row per target and n).
fn overlap_table() -> Table {
    Table::new(
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
    )
}

/// The three panels, without data: ⟨β,β*⟩, cos∠ and ‖β‖², against n/d on a log axis.
fn empty_panels(d: usize) -> [Panel; 3] {
    let panel = |title: &str, y: &str, y_log: bool| {
        let mut p = Panel::new(format!("{title}, d = {d}"), "n / d", y);
        p.x_log = true;
        p.y_log = y_log;
        p
    };
    [
        panel("⟨β, β*⟩", "⟨β, β*⟩", false),
        panel("cos∠(β, β*)", "cos∠(β, β*)", false),
        panel("‖β‖²", "‖β‖²", true),
    ]
}

/// One target's curves against n/d: simulation (mean ± sd) and theory.
#[derive(Default)]
struct Curves {
    inner: SeriesErr,
    cosine: SeriesErr,
    norm: SeriesErr,
    t_inner: Vec<(f64, f64)>,
    t_cos: Vec<(f64, f64)>,
    t_norm: Vec<(f64, f64)>,
}

impl Curves {
    /// Adds the seeds `g` at n and the theory `th`; returns their table row.
    fn add(
        &mut self,
        g: &[PointResult],
        tname: &str,
        d: usize,
        n: usize,
        th: &onestep_theory::Overlap,
    ) -> Vec<Cell> {
        let phi = n as f64 / d as f64;
        let (im, is) = mean_sd(g.iter().map(|p| p.beta_inner));
        let (cm, cs) = mean_sd(g.iter().map(|p| p.beta_inner / p.beta_norm2.sqrt()));
        let (nm, ns) = mean_sd(g.iter().map(|p| p.beta_norm2));
        push_mean_sd(&mut self.inner, phi, (im, is));
        push_mean_sd(&mut self.cosine, phi, (cm, cs));
        push_mean_sd(&mut self.norm, phi, (nm, ns));
        self.t_inner.push((phi, th.inner));
        self.t_cos.push((phi, th.cosine));
        self.t_norm.push((phi, th.norm2));
        vec![
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
        ]
    }

    /// Adds target `tname`'s series to the three panels in palette colour `c`, its theory
    /// drawn as `theory`; every panel gets the same four names, so the legend is shared.
    fn draw(self, tname: &str, c: usize, theory: Mark, panels: &mut [Panel; 3]) {
        let curves = [
            (self.t_inner, self.inner),
            (self.t_cos, self.cosine),
            (self.t_norm, self.norm),
        ];
        for (p, (th, sim)) in panels.iter_mut().zip(curves) {
            p.series
                .push(Series::new(format!("target {tname} (theory)"), theory, th).with_color(c));
            p.series.push(markers_with_err(
                format!("target {tname} (simulation)"),
                sim,
                c,
            ));
        }
    }
}
