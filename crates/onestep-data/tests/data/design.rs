//! Tests for random designs: thread-count independence, moments, sphere rows, single-index sampling, errors.

use onestep_data::{
    DataError, Func, SingleIndex, child_seed, gaussian_matrix, gaussian_vector, sphere_rows,
    unit_vector,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn same_seed_same_bits_for_any_thread_count() {
    let (p1, p3) = (pool(1), pool(3));
    // 203 rows: three full 64-row blocks and a partial one.
    let a = p1.install(|| gaussian_matrix(&mut rng(7), 203, 13));
    let b = p3.install(|| gaussian_matrix(&mut rng(7), 203, 13));
    assert_eq!((a.rows, a.cols), (203, 13));
    assert_eq!(bits(&a.data), bits(&b.data));
    let c = gaussian_matrix(&mut rng(8), 203, 13);
    assert_ne!(bits(&a.data), bits(&c.data), "different seeds must differ");

    let va = p1.install(|| gaussian_vector(&mut rng(9), 10_000));
    let vb = p3.install(|| gaussian_vector(&mut rng(9), 10_000));
    assert_eq!(bits(&va), bits(&vb));

    let sa = p1.install(|| sphere_rows(&mut rng(10), 150, 9));
    let sb = p3.install(|| sphere_rows(&mut rng(10), 150, 9));
    assert_eq!(bits(&sa.data), bits(&sb.data));

    let model = SingleIndex::new(
        vec![0.6, 0.0, -0.8],
        Func::Hermite(vec![0.0, 1.0, 0.5]),
        0.1,
    )
    .unwrap();
    let xa = p1.install(|| model.sample(&mut rng(11), 500));
    let xb = p3.install(|| model.sample(&mut rng(11), 500));
    assert_eq!(bits(&xa.x.data), bits(&xb.x.data));
    assert_eq!(bits(&xa.y), bits(&xb.y));
    assert_eq!(bits(&xa.y_clean), bits(&xb.y_clean));
}

#[test]
fn each_draw_consumes_exactly_one_word() {
    let mut r1 = rng(3);
    let _ = gaussian_matrix(&mut r1, 70, 5);
    let _ = gaussian_vector(&mut r1, 0);
    let mut r2 = rng(3);
    r2.next_u64();
    r2.next_u64();
    assert_eq!(r1.next_u64(), r2.next_u64());
    // Empty shapes are fine.
    let e = gaussian_matrix(&mut rng(1), 0, 4);
    assert_eq!((e.rows, e.cols, e.data.len()), (0, 4, 0));
    let e = gaussian_matrix(&mut rng(1), 4, 0);
    assert_eq!((e.rows, e.cols, e.data.len()), (4, 0, 0));
    assert!(sphere_rows(&mut rng(1), 3, 0).data.is_empty());
    assert!(unit_vector(&mut rng(1), 0).is_empty());
}

#[test]
fn gaussian_matrix_moments_are_standard_normal() {
    let n = 200 * 100;
    let m = gaussian_matrix(&mut rng(42), 200, 100);
    let mean = m.data.iter().sum::<f64>() / n as f64;
    let var = m.data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let m4 = m.data.iter().map(|x| x.powi(4)).sum::<f64>() / n as f64;
    let se = 1.0 / (n as f64).sqrt();
    // 5 standard errors: sd(x) = 1, sd(x²) = √2, sd(x⁴) = √96.
    assert!(mean.abs() < 5.0 * se, "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * 2f64.sqrt() * se, "variance {var}");
    assert!(
        (m4 - 3.0).abs() < 5.0 * 96f64.sqrt() * se,
        "fourth moment {m4}"
    );
    // Blocks are not copies of one another: the first rows of blocks 0 and 1 differ.
    assert_ne!(m.row(0), m.row(64));
    // Columns uncorrelated: sample correlation of columns 0 and 1.
    let c01 = (0..200).map(|i| m.get(i, 0) * m.get(i, 1)).sum::<f64>() / 200.0;
    assert!(c01.abs() < 5.0 / 200f64.sqrt(), "column correlation {c01}");
}

#[test]
fn sphere_rows_and_unit_vectors_have_unit_norm() {
    let s = sphere_rows(&mut rng(5), 130, 17);
    for i in 0..s.rows {
        let norm: f64 = s.row(i).iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-14, "row {i} norm {norm}");
    }
    // Uniform on the sphere: E[w_j²] = 1/d; mean of first coordinate squared over 130 rows.
    let d = 17.0;
    let m: f64 = (0..s.rows).map(|i| s.get(i, 0).powi(2)).sum::<f64>() / s.rows as f64;
    assert!((m - 1.0 / d).abs() < 0.05, "E w_0² = {m}, want {}", 1.0 / d);
    let u = unit_vector(&mut rng(6), 1000);
    assert!((u.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-13);
}

#[test]
fn single_index_sample_matches_model() {
    let d = 40;
    let link: Func = "tanh".parse().unwrap();
    let model = SingleIndex::random(&mut rng(12), d, link.clone(), 0.3).unwrap();
    assert_eq!(model.dim(), d);
    let s = model.sample(&mut rng(13), 300);
    assert_eq!((s.x.rows, s.x.cols), (300, d));
    for i in [0, 77, 299] {
        let proj: f64 =
            s.x.row(i)
                .iter()
                .zip(&model.beta_star)
                .map(|(a, b)| a * b)
                .sum();
        assert!((s.y_clean[i] - link.eval(proj)).abs() < 1e-12);
    }
    // Noise: y − y_clean has variance σ_ε² = 0.09.
    let r: Vec<f64> = s.y.iter().zip(&s.y_clean).map(|(a, b)| a - b).collect();
    let v = r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64;
    assert!(
        (v - 0.09).abs() < 5.0 * 0.09 * (2.0f64 / 300.0).sqrt(),
        "noise variance {v}"
    );
    // Noise-free model: the same X and y_clean (ε is drawn regardless), and y = y_clean.
    let clean = SingleIndex {
        noise: 0.0,
        ..model.clone()
    };
    let s0 = clean.sample(&mut rng(13), 300);
    assert_eq!(bits(&s0.x.data), bits(&s.x.data));
    assert_eq!(bits(&s0.y), bits(&s0.y_clean));
    assert_eq!(bits(&s0.y_clean), bits(&s.y_clean));
}

#[test]
fn single_index_rejects_bad_inputs_with_advice() {
    let lin = Func::Hermite(vec![0.0, 1.0]);
    let e = SingleIndex::new(vec![1.0], lin.clone(), -0.1).unwrap_err();
    assert_eq!(e, DataError::InvalidNoise { noise: -0.1 });
    assert!(e.to_string().contains("≥ 0"));
    assert!(matches!(
        SingleIndex::new(vec![1.0], lin.clone(), f64::NAN),
        Err(DataError::InvalidNoise { .. })
    ));
    assert!(matches!(
        SingleIndex::new(vec![], lin.clone(), 0.0),
        Err(DataError::InvalidDirection { .. })
    ));
    assert!(matches!(
        SingleIndex::new(vec![0.0, 0.0], lin.clone(), 0.0),
        Err(DataError::InvalidDirection { .. })
    ));
    let e = SingleIndex::new(vec![1.0, f64::INFINITY], lin.clone(), 0.0).unwrap_err();
    assert!(e.to_string().contains("index 1"), "{e}");
    assert!(SingleIndex::random(&mut rng(1), 0, lin, 0.1).is_err());
}

#[test]
fn child_seeds_are_stable_and_distinct() {
    assert_eq!(child_seed(1, "data"), child_seed(1, "data"));
    let labels = ["data", "init", "test", "ridge", ""];
    let mut seen = std::collections::HashSet::new();
    for seed in [0u64, 1, 2, u64::MAX] {
        for l in labels {
            assert!(
                seen.insert(child_seed(seed, l)),
                "collision at ({seed}, {l})"
            );
        }
    }
    // The children drive visibly different streams.
    let a = gaussian_vector(&mut rng(child_seed(5, "data")), 8);
    let b = gaussian_vector(&mut rng(child_seed(5, "init")), 8);
    assert_ne!(bits(&a), bits(&b));
}

/// Row ranges of a stream, cut anywhere (inside a 64-row block and inside a 4096-entry noise
/// chunk), are exactly the rows of the whole sample.
#[test]
fn stream_row_ranges_equal_the_whole_sample() {
    let model = SingleIndex::new(
        vec![0.6, -0.8, 0.0],
        Func::Hermite(vec![0.0, 1.0, 0.5]),
        0.3,
    )
    .unwrap();
    let n = 9000;
    let whole = model.sample(&mut rng(5), n);
    let stream = model.stream(&mut rng(5), n);
    assert_eq!(stream.len(), n);
    let cuts = [0, 1, 63, 64, 130, 4095, 4097, 8191, 8200, n];
    for w in cuts.windows(2) {
        let part = stream.rows(w[0]..w[1]);
        assert_eq!(part.x.data, whole.x.data[w[0] * 3..w[1] * 3]);
        assert_eq!(part.y, whole.y[w[0]..w[1]]);
        assert_eq!(part.y_clean, whole.y_clean[w[0]..w[1]]);
    }
    // And the generator is left where `sample` leaves it.
    let (mut a, mut b) = (rng(5), rng(5));
    let _ = model.sample(&mut a, 10);
    let _ = model.stream(&mut b, 10);
    assert_eq!(a.next_u64(), b.next_u64());
}
