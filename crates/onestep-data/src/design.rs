//! Random designs and single-index targets, bit-reproducible for any rayon thread count (docs/model.md §2).
//!
//! RNG discipline: each function draws a fixed number of `u64`s from the caller's generator
//! (one per matrix or vector), and expands each into per-block ChaCha8 streams. Blocks have a
//! fixed size ([`BLOCK_ROWS`] rows of a matrix, [`VECTOR_BLOCK`] entries of a vector), so the
//! numbers depend on (seed, shape) only, never on how rayon schedules the blocks.

use onestep_linalg::Dense;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::ops::Range;

use crate::error::DataError;
use crate::function::Func;

/// Rows of a matrix filled from one ChaCha8 stream.
pub const BLOCK_ROWS: usize = 64;
/// Entries of a vector filled from one ChaCha8 stream.
pub const VECTOR_BLOCK: usize = 4096;

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective avalanche on u64.
#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of block b: the (b+1)-th output of a SplitMix64 generator started at `base`.
#[inline]
fn mix(base: u64, block: u64) -> u64 {
    splitmix64(base.wrapping_add(block.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Fills `data` with entries [offset, offset + len) of the N(0, 1) sequence whose chunk b of
/// `chunk` entries comes from `ChaCha8Rng::seed_from_u64(mix(base, b))`; chunks in parallel.
/// A chunk cut by the range is drawn from its start and the entries before the range discarded,
/// so any range gives the same numbers as the whole sequence.
fn fill_normal(base: u64, data: &mut [f64], chunk: usize, offset: usize) {
    if data.is_empty() || chunk == 0 {
        return;
    }
    // Pieces of `data` that lie in one chunk each: the first one may start inside its chunk.
    let head = (chunk - offset % chunk).min(data.len());
    let (first, rest) = data.split_at_mut(head);
    let first_chunk = offset / chunk;
    let fill = |b: usize, skip: usize, block: &mut [f64]| {
        let mut r = ChaCha8Rng::seed_from_u64(mix(base, b as u64));
        for _ in 0..skip {
            let _: f64 = r.sample(StandardNormal);
        }
        block.iter_mut().for_each(|v| *v = r.sample(StandardNormal));
    };
    rayon::join(
        || fill(first_chunk, offset % chunk, first),
        || {
            rest.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(b, block)| fill(first_chunk + 1 + b, 0, block));
        },
    );
}

/// `rows × cols` matrix of i.i.d. N(0, 1) entries.
///
/// Draws exactly one `u64` (`base`) from `rng`; rows [64b, 64b+64) come from
/// `ChaCha8Rng::seed_from_u64(mix(base, b))`, filled row-major, blocks in parallel with rayon.
/// The result is bit-identical for any number of threads.
pub fn gaussian_matrix<R: Rng + ?Sized>(rng: &mut R, rows: usize, cols: usize) -> Dense {
    gaussian_rows(rng.next_u64(), 0..rows, cols)
}

/// Rows `rows` of the matrix [`gaussian_matrix`] draws from a generator whose first `u64` is
/// `base`: any row range of the same matrix, with the same numbers.
pub fn gaussian_rows(base: u64, rows: Range<usize>, cols: usize) -> Dense {
    let mut data = vec![0.0; rows.len() * cols];
    fill_normal(base, &mut data, BLOCK_ROWS * cols, rows.start * cols);
    Dense::from_vec(rows.len(), cols, data)
}

/// Vector of `len` i.i.d. N(0, 1) entries; draws one `u64` from `rng`, blocks of [`VECTOR_BLOCK`].
pub fn gaussian_vector<R: Rng + ?Sized>(rng: &mut R, len: usize) -> Vec<f64> {
    gaussian_entries(rng.next_u64(), 0..len)
}

/// Entries `range` of the vector [`gaussian_vector`] draws from a generator whose first `u64` is `base`.
pub fn gaussian_entries(base: u64, range: Range<usize>) -> Vec<f64> {
    let mut data = vec![0.0; range.len()];
    fill_normal(base, &mut data, VECTOR_BLOCK, range.start);
    data
}

/// Scales `v` to unit Euclidean norm (left alone if its norm is 0, which has probability 0).
fn normalise(v: &mut [f64]) {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// `rows × cols` matrix whose rows are i.i.d. uniform on the unit sphere S^{cols−1}
/// (normalised rows of [`gaussian_matrix`]; the default W₀ of docs/model.md §2).
pub fn sphere_rows<R: Rng + ?Sized>(rng: &mut R, rows: usize, cols: usize) -> Dense {
    let mut m = gaussian_matrix(rng, rows, cols);
    if cols > 0 {
        m.data.par_chunks_mut(cols).for_each(normalise);
    }
    m
}

/// A uniform random point on S^{d−1} (normalised [`gaussian_vector`]); empty for d = 0.
pub fn unit_vector<R: Rng + ?Sized>(rng: &mut R, d: usize) -> Vec<f64> {
    let mut v = gaussian_vector(rng, d);
    normalise(&mut v);
    v
}

/// Child seed for a named stream ("data", "init", "test", …) of a run seeded with `seed`:
/// SplitMix64(seed ⊕ SplitMix64(FNV-1a(label))). Different labels give unrelated streams;
/// the same (seed, label) always gives the same child.
pub fn child_seed(seed: u64, label: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325; // FNV-1a offset basis
    for &b in label.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    splitmix64(seed ^ splitmix64(h))
}

/// Single-index model y = σ*(⟨x, β*⟩) + σ_ε ε with x ~ N(0, I_d), ε ~ N(0, 1) (docs/model.md §2).
///
/// | field | meaning |
/// |---|---|
/// | `beta_star` | target direction β* ∈ ℝ^d (unit norm in the paper's setting; not enforced) |
/// | `link` | target link σ* |
/// | `noise` | label-noise standard deviation σ_ε ≥ 0 |
#[derive(Clone, Debug)]
pub struct SingleIndex {
    pub beta_star: Vec<f64>,
    pub link: Func,
    pub noise: f64,
}

/// n samples of a [`SingleIndex`] model.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Inputs, n × d, i.i.d. N(0, 1) entries.
    pub x: Dense,
    /// Noisy labels y_i = σ*(⟨x_i, β*⟩) + σ_ε ε_i.
    pub y: Vec<f64>,
    /// Clean labels σ*(⟨x_i, β*⟩).
    pub y_clean: Vec<f64>,
}

impl SingleIndex {
    /// Checked constructor: β* must be non-empty, finite and non-zero; σ_ε finite and ≥ 0.
    pub fn new(beta_star: Vec<f64>, link: Func, noise: f64) -> Result<Self, DataError> {
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(DataError::InvalidNoise { noise });
        }
        if beta_star.is_empty() {
            return Err(DataError::InvalidDirection {
                reason: "is empty (dimension d = 0)".into(),
            });
        }
        if let Some(i) = beta_star.iter().position(|b| !b.is_finite()) {
            return Err(DataError::InvalidDirection {
                reason: format!("has a non-finite entry at index {i} ({})", beta_star[i]),
            });
        }
        if beta_star.iter().all(|&b| b == 0.0) {
            return Err(DataError::InvalidDirection {
                reason: "is the zero vector".into(),
            });
        }
        Ok(Self {
            beta_star,
            link,
            noise,
        })
    }

    /// Model with β* uniform on S^{d−1} (drawn with [`unit_vector`]); errors as [`SingleIndex::new`].
    pub fn random<R: Rng + ?Sized>(
        rng: &mut R,
        d: usize,
        link: Func,
        noise: f64,
    ) -> Result<Self, DataError> {
        let beta = unit_vector(rng, d);
        Self::new(beta, link, noise)
    }

    /// Input dimension d = len(β*).
    pub fn dim(&self) -> usize {
        self.beta_star.len()
    }

    /// Draws n samples: X with [`gaussian_matrix`] (n × d), then ε with [`gaussian_vector`]
    /// (always drawn, even when σ_ε = 0, so the stream does not depend on the noise level).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> Sample {
        self.stream(rng, n).rows(0..n)
    }

    /// The n samples [`SingleIndex::sample`] would draw from `rng`, to be drawn a range of rows
    /// at a time ([`SampleStream::rows`]) without holding them all. Draws from `rng` what
    /// `sample` draws.
    pub fn stream<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> SampleStream<'_> {
        SampleStream {
            model: self,
            x_base: rng.next_u64(),
            eps_base: rng.next_u64(),
            n,
        }
    }
}

/// The samples of one [`SingleIndex::stream`] call, drawn by row ranges.
#[derive(Clone, Debug)]
pub struct SampleStream<'a> {
    model: &'a SingleIndex,
    x_base: u64,
    eps_base: u64,
    n: usize,
}

impl SampleStream<'_> {
    /// Number of samples n.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when n = 0.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Samples `rows` (within 0..n): the same numbers as those rows of the whole sample.
    #[track_caller]
    pub fn rows(&self, rows: Range<usize>) -> Sample {
        assert!(
            rows.start <= rows.end && rows.end <= self.n,
            "rows {rows:?} outside 0..{}",
            self.n
        );
        let m = self.model;
        let d = m.dim();
        let x = gaussian_rows(self.x_base, rows.clone(), d);
        let eps = gaussian_entries(self.eps_base, rows);
        let mut y_clean = vec![0.0; x.rows];
        if d > 0 {
            y_clean
                .par_iter_mut()
                .zip(x.data.par_chunks(d))
                .for_each(|(yc, row)| {
                    *yc = row.iter().zip(&m.beta_star).map(|(a, b)| a * b).sum();
                });
        }
        m.link.eval_slice(&mut y_clean);
        let y = y_clean
            .iter()
            .zip(&eps)
            .map(|(c, e)| c + m.noise * e)
            .collect();
        Sample { x, y, y_clean }
    }
}
