//! Every figure of docs/figures.md in `--quick` mode through the library API: the data carries the
//! theory values it plots, and theory and simulation agree where the theory is trusted (with
//! tolerances set by the seed spread at these small sizes). Also: the point cache is used.
use onestep::experiments::{
    self as figures, Ctx, FigureData, NoCache, Options, PointCache, PointResult, ProgressEvent,
};
use onestep::linalg::FaerBackend;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

fn run(id: &str) -> FigureData {
    let b = FaerBackend::new(0);
    let mut progress = |_: &ProgressEvent<'_>| {};
    let mut ctx = Ctx::new(&NoCache, &mut progress);
    figures::run(id, &b, &Options::new(true), &mut ctx)
        .unwrap_or_else(|e| panic!("figure {id}: {e}"))
}

/// Each figure once per test binary.
fn fig(id: &'static str) -> &'static FigureData {
    static ALL: OnceLock<HashMap<&'static str, FigureData>> = OnceLock::new();
    ALL.get_or_init(|| figures::FIGURES.iter().map(|f| (f.id, run(f.id))).collect())
        .get(id)
        .expect("registered figure")
}

fn rows(t: &figures::Table, col: &str, value: &str) -> Vec<usize> {
    t.text_column(col)
        .iter()
        .enumerate()
        .filter(|(_, v)| v.as_str() == value)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn every_figure_has_tables_with_theory_a_picture_and_a_manifest() {
    for f in figures::FIGURES {
        let d = fig(f.id);
        assert!(!d.tables.is_empty(), "{}: no tables", f.id);
        assert!(
            d.tables.iter().all(|t| !t.rows.is_empty()),
            "{}: an empty table",
            f.id
        );
        let svg = d.figure.to_svg();
        assert!(
            svg.starts_with("<svg") && svg.len() > 2000,
            "{}: SVG too small",
            f.id
        );
        assert!(
            d.manifest.points > 0 && !d.manifest.seeds.is_empty(),
            "{}: manifest lacks points/seeds",
            f.id
        );
        // Every figure carries theory.
        let theory_cols: Vec<&String> = d
            .tables
            .iter()
            .flat_map(|t| t.columns.iter())
            .filter(|c| {
                c.contains("theory")
                    || ["location", "bulk_edge", "train", "test"].contains(&c.as_str())
            })
            .collect();
        assert!(!theory_cols.is_empty(), "{}: no theory column", f.id);
        assert_eq!(d.csv_names().len(), d.tables.len());
        // The data dictionary covers every column.
        for t in &d.tables {
            for c in &t.columns {
                assert!(
                    figures::columns::meaning(f.id, c).is_some(),
                    "{}: column `{c}` of table {} is not in onestep_experiments::columns",
                    f.id,
                    t.name
                );
            }
        }
    }
    // …and docs/figures.md lists every entry of the dictionary.
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/figures.md")).unwrap();
    for (c, _) in figures::columns::COLUMNS {
        assert!(
            docs.contains(&format!("| `{c}` |")),
            "docs/figures.md lacks column `{c}`"
        );
    }
}

#[test]
fn overlap_matches_theory() {
    let t = &fig("overlap").tables[0];
    let (m, n, k, th) = (
        t.column("inner_mean"),
        t.column("n"),
        t.column("seeds"),
        t.column("theory_inner"),
    );
    let (nm, ns, nt) = (
        t.column("norm2_mean"),
        t.column("norm2_sd"),
        t.column("theory_norm2"),
    );
    for i in 0..t.rows.len() {
        // ⟨β,β*⟩ = (1/n)Σ y_i z_i: standard error √(Var(yz)/(n·seeds)), Var(yz) = 7.01 for
        // target B and 2.01 for A (see tests/pipeline.rs); 4 standard errors.
        let tol = 4.0 * (7.01 / (n[i] * k[i])).sqrt();
        assert!(
            (m[i] - th[i]).abs() < tol,
            "row {i}: ⟨β,β*⟩ {} vs theory {} (tol {tol})",
            m[i],
            th[i]
        );
        let tol = 4.0 * ns[i] / k[i].sqrt() + 0.1 * nt[i];
        assert!(
            (nm[i] - nt[i]).abs() < tol,
            "row {i}: ‖β‖² {} vs theory {} (tol {tol})",
            nm[i],
            nt[i]
        );
    }
}

#[test]
fn bulk_edge_and_degree_one_spike_match_theory() {
    let d = fig("spike-locations");
    let sim = d.table("simulation").unwrap();
    let th = d.table("theory").unwrap();
    let alphas = sim.column("alpha");
    let sv1 = sim.column("sv1_mean");
    let detected = sim.column("spikes_detected_mean");
    let edge = sim.column("theory_bulk_edge");
    let (ta, tk, tl) = (
        th.column("alpha"),
        th.column("degree"),
        th.column("location"),
    );
    let mut checked = 0;
    for i in 0..alphas.len() {
        // Bulk edge: the largest singular value when nothing is separated.
        if detected[i] == 0.0 {
            let rel = sv1[i] / edge[i] - 1.0;
            assert!(
                rel.abs() < 0.06,
                "α={}: top singular value {} vs predicted bulk edge {} ({rel:+.3})",
                alphas[i],
                sv1[i],
                edge[i]
            );
        }
        // Degree-1 outlier, clearly separated and below the α where degree 2 overtakes it.
        if (0.16..=0.4).contains(&alphas[i]) {
            let loc = (0..ta.len())
                .find(|&j| ta[j] == alphas[i] && tk[j] == 1.0)
                .map(|j| tl[j])
                .expect("degree-1 row");
            let rel = sv1[i] / loc - 1.0;
            assert!(
                rel.abs() < 0.06,
                "α={}: top singular value {} vs predicted degree-1 outlier {loc} ({rel:+.3})",
                alphas[i],
                sv1[i]
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "too few α checked: {checked}");
}

#[test]
fn degree_one_alignment_matches_theory_when_separated() {
    let t = &fig("alignment").tables[0];
    let (a, k, m, s, th) = (
        t.column("alpha"),
        t.column("k"),
        t.column("sim_mean"),
        t.column("sim_sd"),
        t.column("theory"),
    );
    let relu = rows(t, "activation", "relu-centered");
    let mut checked = 0;
    for &i in &relu {
        if k[i] == 1.0 && a[i] >= 0.24 {
            assert!(
                (m[i] - th[i]).abs() < 0.06 + 3.0 * s[i],
                "α={}: alignment {} ± {} vs theory {}",
                a[i],
                m[i],
                s[i],
                th[i]
            );
            checked += 1;
        }
        // No degree-3 spike for centred ReLU: theory NaN, simulation small.
        if k[i] == 3.0 {
            assert!(th[i].is_nan());
            assert!(
                m[i] < 0.3,
                "α={}: k=3 alignment {} for centred ReLU",
                a[i],
                m[i]
            );
        }
    }
    assert!(checked >= 4);
}

#[test]
fn staircase_theory_is_a_staircase_and_rf_level_matches() {
    let d = fig("staircase");
    let th = d.table("theory").unwrap();
    for pair in ["B", "rich"] {
        let idx = rows(th, "pair", pair);
        let (a, ell, test) = (th.column("alpha"), th.column("ell"), th.column("test"));
        let drops: Vec<f64> = idx
            .windows(2)
            .filter(|w| ell[w[1]] > ell[w[0]])
            .map(|w| a[w[1]])
            .collect();
        for w in idx.windows(2) {
            assert!(
                test[w[1]] <= test[w[0]] + 1e-9,
                "{pair}: theory test error rises at α={}",
                a[w[1]]
            );
            if ell[w[1]] == ell[w[0]] {
                assert_eq!(
                    test[w[1]], test[w[0]],
                    "{pair}: not flat inside an interval"
                );
            }
        }
        // ℓ rises right after 0 (degree 1), 1/4, (1/3 for the rich pair) and 3/8.
        let expect: &[f64] = if pair == "B" {
            &[0.0, 0.25, 0.375]
        } else {
            &[0.0, 0.25, 1.0 / 3.0, 0.375]
        };
        assert_eq!(drops.len(), expect.len(), "{pair}: ℓ rises at {drops:?}");
        for (x, e) in drops.iter().zip(expect) {
            assert!(
                x > e && x - e < 0.01,
                "{pair}: ℓ rises at {x}, threshold {e}"
            );
        }
    }
    let sim = d.table("simulation").unwrap();
    assert!(sim.column("theory_test").iter().all(|v| v.is_finite()));
}

#[test]
fn errors_figure_rf_and_infinite_spike_match_their_limits() {
    let t = &fig("errors").tables[0];
    let (m, s, k, th) = (
        t.column("test_mean"),
        t.column("test_sd"),
        t.column("seeds"),
        t.column("theory_test"),
    );
    let models = t.text_column("model");
    let mut checked = 0;
    for i in 0..t.rows.len() {
        if ["rf", "inf_spike_1", "inf_spike_2"].contains(&models[i].as_str()) {
            let tol = 0.12 * th[i] + 3.0 * s[i] / k[i].sqrt();
            assert!(
                (m[i] - th[i]).abs() < tol,
                "row {i} ({}): test {} vs limit {} (tol {tol})",
                models[i],
                m[i],
                th[i]
            );
            checked += 1;
        }
    }
    // If the models are missing, the picture says so instead.
    let notes: String = fig("errors")
        .figure
        .panels
        .iter()
        .filter_map(|p| p.note.clone())
        .collect();
    assert!(
        checked > 0 || notes.contains("not simulated yet"),
        "no rf/inf_spike rows and no note"
    );
}

#[test]
fn equivalence_differences_are_finite_and_cover_both_alphas() {
    let t = &fig("equivalence").tables[0];
    assert!(
        t.column("abs_diff_mean")
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0)
    );
    let a = t.column("alpha");
    assert!(a.contains(&0.2) && a.contains(&0.3));
    // The theory's gap: finite at every α, metric and size from the smallest to the largest d.
    let th = &fig("equivalence").tables[1];
    assert_eq!(th.name, "theory");
    let gap = th.column("abs_gap");
    assert!(!gap.is_empty() && gap.iter().all(|v| v.is_finite() && *v >= 0.0));
    let range = |v: Vec<f64>| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        (lo, v.iter().copied().fold(0.0, f64::max))
    };
    assert_eq!(range(th.column("d")), range(t.column("d")));
}

/// A cache in memory.
struct Mem(RefCell<HashMap<String, PointResult>>);
impl PointCache for Mem {
    fn load(&self, key: &str) -> Option<PointResult> {
        self.0.borrow().get(key).cloned()
    }
    fn store(&self, key: &str, value: &PointResult) {
        self.0.borrow_mut().insert(key.to_string(), value.clone());
    }
}

/// Every figure run as three shards into one cache, then drawn from it: nothing is computed
/// twice or left out, and the tables equal a one-process run's.
#[test]
fn a_figure_computed_in_shards_equals_one_run() {
    let b = FaerBackend::new(0);
    let opts = Options::new(true);
    for f in figures::FIGURES {
        let cache = Mem(RefCell::new(HashMap::new()));
        let (mut computed, mut left) = (0, 0);
        for k in 1..=3 {
            let mut p = |_: &ProgressEvent<'_>| {};
            let mut ctx = Ctx::new(&cache, &mut p);
            ctx.shard = Some((k, 3));
            figures::run(f.id, &b, &opts, &mut ctx)
                .unwrap_or_else(|e| panic!("{} shard {k}/3: {e}", f.id));
            computed += ctx.computed;
            left += ctx.left;
        }
        let mut p = |_: &ProgressEvent<'_>| {};
        let mut ctx = Ctx::new(&cache, &mut p);
        let drawn = figures::run(f.id, &b, &opts, &mut ctx).unwrap();
        assert_eq!(ctx.computed, 0, "{}: the shards computed every point", f.id);
        assert_eq!(computed, ctx.cached, "{}: each point once", f.id);
        assert!(left > 0, "{}: the shards split the points", f.id);
        let one = fig(f.id);
        for (a, b) in drawn.tables.iter().zip(&one.tables) {
            assert_eq!(a.to_csv(), b.to_csv(), "{} {}", f.id, a.name);
        }
    }
}

/// A cache that counts; a second run of a figure computes nothing.
#[test]
fn points_come_from_the_cache_on_the_second_run() {
    let cache = Mem(RefCell::new(HashMap::new()));
    let b = FaerBackend::new(0);
    let opts = Options {
        seeds: Some(1),
        ..Options::new(true)
    };
    let mut p = |_: &ProgressEvent<'_>| {};
    let mut ctx = Ctx::new(&cache, &mut p);
    let first = figures::run("overlap", &b, &opts, &mut ctx).unwrap();
    assert!(first.manifest.points_computed > 0);
    let mut p = |_: &ProgressEvent<'_>| {};
    let mut ctx = Ctx::new(&cache, &mut p);
    let second = figures::run("overlap", &b, &opts, &mut ctx).unwrap();
    assert_eq!(second.manifest.points_computed, 0);
    assert_eq!(second.manifest.points_cached, first.manifest.points);
    assert_eq!(first.tables, second.tables);
}

/// A grid file replaces the built-in one (sizes and axes change, the manifest names the file),
/// and a wrong key or an empty axis is refused naming the file, the line and the key.
#[test]
fn a_grid_file_sets_the_sizes_and_its_mistakes_are_named() {
    let b = FaerBackend::new(0);
    let with = |text: &str| {
        let opts = Options {
            config: Some(figures::ConfigFile {
                path: "my.toml".into(),
                text: text.into(),
            }),
            ..Options::new(true)
        };
        let mut progress = |_: &ProgressEvent<'_>| {};
        let mut ctx = Ctx::new(&NoCache, &mut progress);
        figures::run("errors", &b, &opts, &mut ctx)
    };
    let grid = "[full]\nd = 32\nn_test = 64\nalphas = [0.0, 0.3]\nseeds = 1\n\n\
                [quick]\nd = 24\nn_test = 64\nalphas = [0.1, 0.3]\nseeds = 1\n";
    let data = with(grid).unwrap();
    let t = &data.tables[0];
    let mut alphas = t.column("alpha");
    alphas.dedup();
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    assert_eq!(alphas, [0.1, 0.3]);
    assert!(t.column("d").iter().all(|&d| d == 24.0));
    assert_eq!(data.manifest.grid.file, "my.toml");
    assert_eq!(data.manifest.grid.section, "quick");

    let e = with(&grid.replace("seeds = 1\n\n", "seedz = 1\n\n"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("my.toml:5 ") && e.contains("`seedz`"), "{e}");
    let e = with(&grid.replace("[0.0, 0.3]", "[]"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "my.toml: [full]: `alphas` is empty; give at least one value"
    );
}
