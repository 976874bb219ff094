//! Figure `alignment` (paper Fig. 2): |⟨u_k, GS((X̃β)∘ᵏ)⟩| for k = 1, 2, 3 against α, where
//! u_k is the k-th left singular vector of F (mean component excluded) and GS the Gram–Schmidt
//! of the k-th power against the lower ones; simulation (mean ± sd) and theory: the k-th outlier
//! of the conditional model above the bulk after the step ([`onestep_theory::network_outliers`],
//! docs/theory.md §10.7), against degree k. Without a k-th outlier u_k is a bulk vector and the
//! predicted alignment is 0 (the BBP transition).
//!
//! Two panels: centred ReLU (the sweep of `spike-locations`, shared through the point cache; it
//! has c₃ = 0, so no degree-3 spike) and σ = He₁ + ½He₂ + ⅙He₃, which has all three.
use super::SeriesErr;
use super::*;
use onestep_plot::{Mark, Panel, Series};
use spike_locations::{Sweep, SweepSpec};

/// This figure's registry entry.
pub const INFO: FigureInfo = FigureInfo {
    id: "alignment",
    paper: "Fig. 2",
    description: "|⟨u_k, GS((X̃β)∘ᵏ)⟩| for k = 1, 2, 3 against α, simulation and theory",
    config: include_str!("../../../../configs/alignment.toml"),
};
const ID: &str = INFO.id;
/// σ = He₁ + ½He₂ + ⅙He₃ (docs/figures.md, `spectrum` panel 4).
pub const POLY: &str = "hermite:0,1,0.5,0.16666666666666666";

/// One section of `configs/alignment.toml`: the centred-ReLU sweep and the σ = He₁ + ½He₂ +
/// ⅙He₃ sweep (built in: full d = N = 1024, n = 4d, 12 α in [0, 0.44], 2 seeds; quick d = 256).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    relu: SweepSpec,
    poly: SweepSpec,
}

impl Section for Grid {
    fn check(&self) -> Result<(), String> {
        self.relu.check().map_err(|e| format!("relu: {e}"))?;
        self.poly.check().map_err(|e| format!("poly: {e}"))
    }
}

/// Simulated (mean ± sd) and predicted alignment for k = 1, 2, 3.
struct Curves {
    sim: Vec<SeriesErr>,
    theory: Vec<Vec<(f64, f64)>>,
}

/// Evaluates one sweep; adds its rows (labelled `name`) to `table` and returns its panel, number
/// of points and where theory and simulation part.
fn panel_for<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
    sweep: &Sweep,
    name: &str,
    title: &str,
    table: &mut Table,
) -> Result<(Panel, usize, Option<String>), FigureError> {
    let results = evaluate(ID, b, opts, ctx, &sweep.points())?;
    let act = check(ID, &sweep.cfg, opts)?.act_stats;
    let mut curves = Curves {
        sim: vec![(Vec::new(), Vec::new()); 3],
        theory: vec![Vec::new(); 3],
    };
    let per = sweep.seeds.len();
    let theories = after_step(sweep, opts)?;
    for ((g, &alpha), predicted) in groups(&results, per)
        .into_iter()
        .zip(&sweep.alphas)
        .zip(&theories)
    {
        for k in 1..=3 {
            let row = summarise(g, alpha, k, predicted, &act, &mut curves);
            let mut cells: Vec<Cell> = vec![name.into()];
            cells.extend(row);
            table.push(cells);
        }
    }
    let max_alpha = sweep.alphas.iter().cloned().fold(0.0, f64::max);
    let (panel, gaps) = draw(title, curves, &act, max_alpha);
    Ok((panel, results.len(), gaps))
}

/// The predicted alignments of the k-th outlier after the step with degree k at each α of
/// `sweep` (None: no k-th outlier), one thread per core: each α takes about a second.
fn after_step(sweep: &Sweep, opts: &Options) -> Result<Vec<[Option<f64>; 3]>, FigureError> {
    let cfgs = sweep
        .alphas
        .iter()
        .map(|&a| check(ID, &sweep.at(a), opts))
        .collect::<Result<Vec<_>, _>>()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = cfgs.len().div_ceil(threads).max(1);
    let solved: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = cfgs
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|cfg| {
                            let skip = onestep_pipeline::trial::mean_component(cfg);
                            onestep_pipeline::theory::after_step(cfg).map(|t| {
                                onestep_theory::network::outlier_diagonal(&t.outliers, skip)
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("theory thread"))
            .collect()
    });
    solved
        .into_iter()
        .map(|r| r.map_err(|source| FigureError::Config { figure: ID, source }))
        .collect()
}

/// Adds degree k at `alpha` (the seeds `g`) to the curves; returns its table row without the
/// activation name.
fn summarise(
    g: &[PointResult],
    alpha: f64,
    k: usize,
    predicted: &[Option<f64>; 3],
    act: &onestep_theory::FnStats,
    curves: &mut Curves,
) -> Vec<Cell> {
    let (m, s) = mean_sd(
        g.iter()
            .map(|p| p.alignment.get(k - 1).copied().unwrap_or(f64::NAN)),
    );
    let pred = predicted[k - 1];
    // No coefficient: no spike of this degree at all; no k-th outlier: u_k is a bulk vector.
    let t = has_coeff(act, k).then(|| pred.unwrap_or(0.0));
    let separated = pred.is_some();
    push_mean_sd(&mut curves.sim[k - 1], alpha, (m, s));
    if let Some(t) = t {
        curves.theory[k - 1].push((alpha, t));
    }
    vec![
        alpha.into(),
        k.into(),
        g.len().into(),
        m.into(),
        s.into(),
        t.into(),
        separated.into(),
        onestep_theory::threshold(k).into(),
    ]
}

/// The panel: simulation and theory for each degree, thresholds, and a note when c₃ = 0.
/// The panel, and where its theory and simulation part beyond the seed spread (a sentence, or
/// none).
fn draw(
    title: &str,
    mut curves: Curves,
    act: &onestep_theory::FnStats,
    max_alpha: f64,
) -> (Panel, Option<String>) {
    let mut panel = Panel::new(title, "α  (step size η = n^α)", "|⟨u_k, GS((X̃β)∘ᵏ)⟩|");
    panel.y_range = Some((0.0, 1.05));
    let mut gaps = Vec::new();
    for k in 1..=3 {
        let color = [0, 1, 2][k - 1];
        let sim = markers_with_err(
            format!("k={k} simulation"),
            std::mem::take(&mut curves.sim[k - 1]),
            color,
        );
        // Every panel lists the same entries (a degree without theory has an empty curve), so the
        // figure draws one legend under the panels instead of one over each panel's data.
        let theory = std::mem::take(&mut curves.theory[k - 1]);
        // Only where the theory predicts a separated spike (it puts 0 elsewhere by convention).
        let separated: Vec<(f64, f64)> = theory.iter().copied().filter(|p| p.1 > 0.0).collect();
        if let Some((a, y, t)) = largest_gap(&sim, &separated, 0.1) {
            gaps.push(format!(
                "k = {k}: simulation {y:.2} against theory {t:.2} at α = {a}"
            ));
        }
        panel.series.push(sim);
        panel
            .series
            .push(Series::new(format!("k={k} theory"), Mark::Line, theory).with_color(color));
    }
    let gaps = (!gaps.is_empty()).then(|| gaps.join("; "));
    panel.vlines = threshold_lines(act, 2..=4, max_alpha);
    if act.coeff(3).is_none_or(|c| c.abs() <= 1e-12) {
        panel
            .annotations
            .push((0.11, 0.2, "c₃ = 0: no degree-3 spike".into()));
    }
    (panel, gaps)
}

/// Runs the figure: the centred-ReLU and polynomial sweeps, one panel each.
pub fn run<B: Backend>(
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let g: Grid = opts.grid(&INFO)?;
    let relu = g.relu.sweep(opts);
    let mut poly = g.poly.sweep(opts);
    poly.cfg.activation = POLY.into();
    let mut table = alignment_table();
    let (p1, n1, g1) = panel_for(
        b,
        opts,
        ctx,
        &relu,
        "relu-centered",
        &format!("centred ReLU, d = N = {}, n = {}", relu.cfg.d, relu.cfg.n),
        &mut table,
    )?;
    let (p2, n2, g2) = panel_for(
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
    manifest.notes.push("Theory: network_outliers (the outliers of the conditional model above the bulk after the step, docs/theory.md §10.7); with fewer than k outliers u_k is a bulk vector, predicted at alignment 0.".into());
    let mut caption = "Markers: simulation (mean ± sd over seeds); lines: theory (residue of the resolvent at the k-th outlier above the bulk after the step; 0 where there is no k-th outlier). u_k is the k-th largest left singular vector. Dashed: thresholds (k−1)/(2k). σ* = He₁ + He₂/√2.".to_string();
    let parts: Vec<String> = [("left", g1), ("right", g2)]
        .into_iter()
        .filter_map(|(side, g)| Some(format!("{side}: {}", g?)))
        .collect();
    if !parts.is_empty() {
        let gap = format!(
            "Theory and simulation part beyond the seed spread where the spike is separated ({}); docs/theory.md §10.7.",
            parts.join("; ")
        );
        state_gap(&mut caption, &mut manifest.notes, gap);
    }
    let figure = Figure {
        title: "Alignment of the k-th left singular vector of F with the degree-k feature GS((X̃β)∘ᵏ)".into(),
        panels: vec![p1, p2],
        columns: 2,
        caption: Some(caption),
    };
    Ok(FigureData {
        id: ID,
        tables: vec![table],
        figure,
        manifest,
    })
}

/// The columns of the alignment table (one row per activation, α and degree).
fn alignment_table() -> Table {
    Table::new(
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
    )
}
