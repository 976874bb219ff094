//! Criterion benchmarks of the backend operations, every compiled-in backend head to head.
//!
//! Benchmark ids are `<operation>/<backend>/<size>` so `cargo xtask bench` can lay the backends
//! side by side. Sizes 256…2048 (add 4096 with `ONESTEP_BENCH_LARGE=1`); the pipeline-shaped
//! cases (top-k at n = 8192, N = 2048; Gram and conversions of an 8192 × 2048 feature matrix)
//! run once per backend. Threads: `ONESTEP_BENCH_THREADS` (default 2, both cores here).
//! Every backend compiled in runs, in `BackendKind::ALL` order; nothing here lists them.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use onestep_linalg::conformance::pseudo_random;
use onestep_linalg::{Backend, BackendKind, Dispatch, Op, on_backend};
use onestep_solvers::spectrum::{SpectrumMethod, top_singular_with};
use std::hint::black_box;
use std::time::Duration;
// The facade links the BLAS/LAPACK provider of the `openblas` backend.
#[cfg(feature = "openblas")]
use onestep as _;

fn sizes() -> Vec<usize> {
    let mut s = vec![256, 512, 1024, 2048];
    if std::env::var("ONESTEP_BENCH_LARGE").is_ok_and(|v| v == "1") {
        s.push(4096);
    }
    s
}

fn threads() -> usize {
    std::env::var("ONESTEP_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// Symmetric positive definite test matrix: AᵀA/n + I.
fn spd<B: Backend>(b: &B, n: usize) -> B::Mat {
    let a = b.from_dense(&pseudo_random(n, n, 3));
    let mut g = b.matmul(&a, Op::T, &a, Op::N, 1.0 / n as f64);
    b.add_diag(&mut g, 1.0);
    g
}

/// Feature-like matrix of the pipeline: n × p bulk (entries in [-1, 1]) plus two rank-one
/// spikes at 3 and 1.5 times the bulk edge.
#[allow(clippy::needless_range_loop)]
fn features<B: Backend>(b: &B, n: usize, p: usize) -> B::Mat {
    let mut f = pseudo_random(n, p, 7);
    let edge = ((n as f64).sqrt() + (p as f64).sqrt()) / 3f64.sqrt();
    for (s, theta) in [(0u64, 3.0), (1, 1.5)] {
        let (a, c) = (
            pseudo_random(n, 1, 8 + s).data,
            pseudo_random(p, 1, 18 + s).data,
        );
        let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nc = c.iter().map(|x| x * x).sum::<f64>().sqrt();
        for i in 0..n {
            for j in 0..p {
                *f.get_mut(i, j) += theta * edge * a[i] / na * c[j] / nc;
            }
        }
    }
    b.from_dense(&f)
}

fn suite<B: Backend>(c: &mut Criterion, b: &B) {
    let name = b.name();
    let cube = |n: usize| (n * n * n) as u64;
    let sizes = sizes();

    let mut g = c.benchmark_group("matmul");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &n in &sizes {
        let (x, y) = (
            b.from_dense(&pseudo_random(n, n, 1)),
            b.from_dense(&pseudo_random(n, n, 2)),
        );
        g.throughput(Throughput::Elements(2 * cube(n)));
        g.bench_with_input(BenchmarkId::new(name, n), &n, |bench, _| {
            bench.iter(|| black_box(b.matmul(&x, Op::N, &y, Op::N, 1.0)))
        });
    }
    g.finish();

    // The pipeline's tall-skinny product: (4n × n)·(n × n), as X̃·Wᵀ with n = 4d samples.
    let mut g = c.benchmark_group("matmul_tall");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &n in &sizes {
        let (x, y) = (
            b.from_dense(&pseudo_random(4 * n, n, 1)),
            b.from_dense(&pseudo_random(n, n, 2)),
        );
        g.throughput(Throughput::Elements(8 * cube(n)));
        g.bench_with_input(BenchmarkId::new(name, n), &n, |bench, _| {
            bench.iter(|| black_box(b.matmul(&x, Op::N, &y, Op::T, 1.0)))
        });
    }
    g.finish();

    // Gram of a 4n × n matrix (feature-matrix shape): n·(4n)·n useful flops (symmetric half).
    let mut g = c.benchmark_group("gram");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &n in &sizes {
        let x = b.from_dense(&pseudo_random(4 * n, n, 1));
        g.throughput(Throughput::Elements(4 * cube(n)));
        g.bench_with_input(BenchmarkId::new(name, n), &n, |bench, _| {
            bench.iter(|| black_box(b.gram(&x, Op::T)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("spd_solve");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &n in &sizes {
        let (a, r) = (spd(b, n), b.from_dense(&pseudo_random(n, 1, 4)));
        g.throughput(Throughput::Elements(cube(n) / 3));
        g.bench_with_input(BenchmarkId::new(name, n), &n, |bench, _| {
            bench.iter(|| black_box(b.spd_solve(&a, &r).expect("spd")))
        });
    }
    g.finish();

    for (op, vectors) in [("sym_eigen", true), ("sym_eigenvalues", false)] {
        let mut g = c.benchmark_group(op);
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(2));
        for &n in &sizes {
            let a = spd(b, n);
            g.bench_with_input(BenchmarkId::new(name, n), &n, |bench, _| {
                bench.iter(|| {
                    if vectors {
                        black_box(b.sym_eigen(&a).expect("eig").values.len())
                    } else {
                        black_box(b.sym_eigenvalues(&a).expect("eig").len())
                    }
                })
            });
        }
        g.finish();
    }

    // Pipeline shapes: F is n × N = 8192 × 2048.
    let (n, p) = (8192, 2048);
    let f = features(b, n, p);
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(2));
    // Top 8 singular values and vectors: Gram matrix + block Lanczos (the automatic choice at
    // this size) and block Lanczos on F itself.
    for (id, method) in [
        ("topk_gram_krylov_k8_8192x2048", SpectrumMethod::GramKrylov),
        ("topk_krylov_k8_8192x2048", SpectrumMethod::Krylov),
    ] {
        g.bench_function(BenchmarkId::new(name, id), |bench| {
            bench.iter(|| black_box(top_singular_with(b, &f, 8, method).expect("top-k").values))
        });
    }
    g.bench_function(BenchmarkId::new(name, "gram_8192x2048"), |bench| {
        bench.iter(|| black_box(b.gram(&f, Op::T)))
    });
    g.bench_function(
        BenchmarkId::new(name, "gram_as_matmul_8192x2048"),
        |bench| bench.iter(|| black_box(b.matmul(&f, Op::T, &f, Op::N, 1.0))),
    );
    let d = b.to_dense(&f);
    g.bench_function(BenchmarkId::new(name, "from_dense_8192x2048"), |bench| {
        bench.iter(|| black_box(b.from_dense(&d)))
    });
    g.bench_function(BenchmarkId::new(name, "to_dense_8192x2048"), |bench| {
        bench.iter(|| black_box(b.to_dense(&f)))
    });
    let mut m = f.clone();
    g.bench_function(BenchmarkId::new(name, "map_relu_8192x2048"), |bench| {
        bench.iter(|| {
            b.map_inplace(&mut m, &|s: &mut [f64]| {
                s.iter_mut().for_each(|v| *v = v.max(0.0) - 0.1)
            })
        })
    });
    let scale: Vec<f64> = (0..n).map(|i| 1.0 + 1e-9 * i as f64).collect();
    g.bench_function(BenchmarkId::new(name, "scale_rows_8192x2048"), |bench| {
        bench.iter(|| b.scale_rows(&mut m, &scale))
    });
    if std::env::var("ONESTEP_BENCH_TOPK_GRAM").is_ok_and(|v| v == "1") {
        g.bench_function(BenchmarkId::new(name, "topk_gram_k8_8192x2048"), |bench| {
            bench.iter(|| {
                black_box(
                    top_singular_with(b, &f, 8, SpectrumMethod::GramEigen)
                        .expect("gram")
                        .values,
                )
            })
        });
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    let t = threads();
    for kind in BackendKind::compiled() {
        let d = Dispatch::new(kind, t).expect("a compiled-in backend");
        on_backend!(d, |b| suite(c, &b));
    }
}

criterion_group!(benches, all);
criterion_main!(benches);
