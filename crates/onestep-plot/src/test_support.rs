//! Shared test fixtures: a well-formedness check for SVG, the demo figure, degenerate panels.

use crate::{Figure, Mark, Panel, Series};

/// Checks the SVG is well-formed enough: one root, every element closed, no NaN/inf.
pub(crate) fn assert_well_formed(svg: &str) {
    assert!(
        svg.starts_with("<svg"),
        "does not start with <svg: {}",
        &svg[..40.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    for bad in ["NaN", "inf"] {
        assert!(!svg.contains(bad), "SVG contains {bad}");
    }
    // Balanced tags: a stack of open element names.
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unterminated tag") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("");
            stack.push(name.to_string());
        }
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    // Text content must not contain raw '&' that is not an entity.
    for (i, _) in svg.match_indices('&') {
        let tail = &svg[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| tail.starts_with(e)),
            "unescaped & at {i}"
        );
    }
}

pub(crate) fn demo_figure() -> Figure {
    let alphas: Vec<f64> = (0..=18).map(|i| f64::from(i) * 0.025).collect();
    let theory: Vec<(f64, f64)> = alphas
        .iter()
        .map(|&a| {
            (
                a,
                0.9 - 0.3 * f64::from(u8::from(a > 0.25))
                    - 0.15 * f64::from(u8::from(a > 1.0 / 3.0)),
            )
        })
        .collect();
    let sim: Vec<(f64, f64)> = theory
        .iter()
        .enumerate()
        .map(|(i, &(a, e))| (a, e + 0.02 * ((i as f64) * 1.7).sin()))
        .collect();
    let err = vec![0.025; sim.len()];
    let lines: Vec<(f64, f64)> = alphas
        .iter()
        .map(|&a| (a, 0.5 + 0.4 * (-8.0 * a).exp()))
        .collect();
    let errors = Panel {
        title: "Test error, target B".into(),
        x_label: "α = log η / log n".into(),
        y_label: "test error".into(),
        series: vec![
            Series::new("NN (mean ± sd)", Mark::Markers, sim)
                .with_yerr(err)
                .with_color(0),
            Series::new("spiked equivalent", Mark::Line, theory.clone()).with_color(0),
            Series::new("conditional Gaussian eq.", Mark::Dashed, lines).with_color(1),
            Series::new(
                "ℓ = 1, 2 levels",
                Mark::Steps,
                vec![(0.0, 0.8), (0.25, 0.55), (1.0 / 3.0, 0.45), (0.45, 0.45)],
            )
            .with_color(2),
            Series::new(
                "theory points",
                Mark::Crosses,
                theory.iter().step_by(3).copied().collect(),
            )
            .with_color(3),
        ],
        vlines: vec![
            (0.25, "α = 1/4".into()),
            (1.0 / 3.0, "α = 1/3".into()),
            (0.375, "α = 3/8".into()),
        ],
        hlines: vec![(0.95, "RF".into()), (0.42, "best linear".into())],
        ..Panel::default()
    };
    let centers: Vec<f64> = (0..40).map(|i| 0.05 + f64::from(i) * 0.1).collect();
    let hist: Vec<(f64, f64)> = centers
        .iter()
        .map(|&c| (c, (1.0 - ((c - 2.0) / 2.0).powi(2)).max(0.0).sqrt() * 0.6))
        .collect();
    let spectrum = Panel {
        title: "Singular values of F, α = 0.3".into(),
        x_label: "singular value".into(),
        y_label: "density".into(),
        series: vec![
            Series::new("F (simulation)", Mark::Bars, hist.clone()),
            Series::new("bulk of F₀", Mark::Line, hist).with_color(6),
            Series::new("spikes", Mark::Crosses, vec![(5.0, 0.05), (7.2, 0.05)]).with_color(1),
        ],
        annotations: vec![(5.0, 0.08, "k=2".into()), (7.2, 0.08, "k=1".into())],
        ..Panel::default()
    };
    let ns: [f64; 6] = [256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0];
    let equivalence = Panel {
        title: "|error(NN) − error(eq.)|".into(),
        x_label: "n".into(),
        y_label: "absolute difference".into(),
        x_log: true,
        y_log: true,
        series: vec![
            Series::new(
                "α = 0.2",
                Mark::Markers,
                ns.iter().map(|&n| (n, 3.0 / n.sqrt())).collect(),
            )
            .with_yerr(ns.iter().map(|&n| 0.5 / n.sqrt()).collect()),
            Series::new(
                "α = 0.3",
                Mark::Markers,
                ns.iter().map(|&n| (n, 1.0 / n.sqrt())).collect(),
            ),
            Series::new(
                "∝ n^(−1/2)",
                Mark::Dotted,
                ns.iter().map(|&n| (n, 2.0 / n.sqrt())).collect(),
            )
            .with_color(6),
        ],
        ..Panel::default()
    };
    let missing = Panel {
        title: "Overlap ⟨β, β*⟩".into(),
        x_label: "n / d".into(),
        y_label: "overlap".into(),
        series: vec![Series::new(
            "simulation",
            Mark::Markers,
            vec![(0.5, 0.2), (1.0, 0.4), (2.0, 0.6), (4.0, 0.75)],
        )],
        note: Some("theory not available yet".into()),
        ..Panel::default()
    };
    Figure {
        title: "onestep demo: errors, spectrum, equivalence, overlap".into(),
        panels: vec![errors, spectrum, equivalence, missing],
        columns: 2,
        caption: Some(
            "Demo of every mark: markers with error bars (simulation), lines and crosses (theory), dashed steps, \
             histogram bars, log–log axes, thresholds, annotations and a note for missing theory."
                .into(),
        ),
    }
}

/// Panels that are empty, all-NaN, degenerate or zoomed far into the data.
pub(crate) fn degenerate_panels() -> Vec<Panel> {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    vec![
        Panel::default(),
        Panel {
            series: vec![Series::new("nothing", Mark::Markers, vec![])],
            ..Panel::default()
        },
        Panel {
            series: vec![
                Series::new(
                    "all nan",
                    Mark::Line,
                    vec![(nan, nan), (inf, 1.0), (1.0, -inf)],
                ),
                Series::new("one point", Mark::Bars, vec![(2.0, 3.0)]),
                Series::new(
                    "gaps",
                    Mark::Steps,
                    vec![(0.0, 1.0), (nan, 2.0), (2.0, 2.0), (3.0, 1.0)],
                ),
                Series::new("err mismatch", Mark::Markers, vec![(0.0, 1.0), (1.0, 2.0)])
                    .with_yerr(vec![nan]),
                Series::new(
                    "huge",
                    Mark::Crosses,
                    vec![(1e300, -1e300), (1e-300, 1e-300)],
                ),
            ],
            vlines: vec![(nan, "nan line".into()), (inf, "".into())],
            hlines: vec![(nan, "h".into())],
            annotations: vec![(nan, 0.0, "lost".into())],
            x_range: Some((nan, 1.0)),
            y_range: Some((1.0, 1.0)),
            ..Panel::default()
        },
        Panel {
            series: vec![Series::new(
                "constant",
                Mark::Line,
                vec![(1.0, 5.0), (1.0, 5.0)],
            )],
            x_log: true,
            y_log: true,
            x_range: Some((-1.0, 10.0)),
            ..Panel::default()
        },
        Panel {
            series: vec![
                Series::new("zoomed", Mark::Line, vec![(0.0, 0.0), (1e6, 1e6)])
                    .with_color(usize::MAX),
            ],
            x_range: Some((0.4, 0.6)),
            y_range: Some((0.6, 0.4)),
            ..Panel::default()
        },
    ]
}
