//! Two-layer network f(x) = aᵀσ(Wx), its initialisation and ONE gradient step on W (docs/model.md §2).
//!
//! Conventions: no 1/√N prefactor; loss L(W) = (1/2n)‖y − σ(XWᵀ)a‖²; the step adds η·G with
//! G = −∇L(W₀) = (1/n)[(a rᵀ) ⊙ σ′(W₀Xᵀ)]X and η = η₀·n^α. The second layer `a` is held fixed.
use onestep_data::{Func, gaussian_matrix, gaussian_vector, sphere_rows};
use onestep_linalg::{Backend, BackendExt, Op};
use rand::Rng;

/// How the rows of W₀ are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Rows i.i.d. uniform on the unit sphere S^{d−1} (default).
    Sphere,
    /// Rows i.i.d. N(0, I_d/d).
    Gaussian,
}

/// Which residual enters the gradient (docs/model.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residual {
    /// r = y: the initial output is dropped, as in the paper's analysis (default).
    Labels,
    /// r = y − σ(XW₀ᵀ)a: the exact gradient of the squared loss.
    Full,
}

impl Init {
    /// Name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Init::Sphere => "sphere",
            Init::Gaussian => "gaussian",
        }
    }
}

impl Residual {
    /// Name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Residual::Labels => "labels",
            Residual::Full => "full",
        }
    }
}

/// Step size η = η₀·n^α.
pub fn step_size(eta0: f64, alpha: f64, n: usize) -> f64 {
    eta0 * (n as f64).powf(alpha)
}

/// A two-layer network: first layer `w` (N×d) and second layer `a` (length N).
#[derive(Clone, Debug)]
pub struct Network<B: Backend> {
    /// First-layer weights, N×d.
    pub w: B::Mat,
    /// Second-layer weights, length N.
    pub a: Vec<f64>,
}

impl<B: Backend> Network<B> {
    /// W₀ by `init` and a ~ N(0, I_N/N). Draws W₀ first, then a.
    pub fn init<R: Rng + ?Sized>(
        backend: &B,
        rng: &mut R,
        d: usize,
        width: usize,
        init: Init,
    ) -> Self {
        let w = match init {
            Init::Sphere => sphere_rows(rng, width, d),
            Init::Gaussian => {
                let mut g = gaussian_matrix(rng, width, d);
                let s = 1.0 / (d as f64).sqrt();
                g.data.iter_mut().for_each(|v| *v *= s);
                g
            }
        };
        let s = 1.0 / (width as f64).sqrt();
        let a = gaussian_vector(rng, width)
            .into_iter()
            .map(|v| v * s)
            .collect();
        Self {
            w: backend.from_dense(&w),
            a,
        }
    }

    /// Width N.
    pub fn width(&self) -> usize {
        self.a.len()
    }

    /// Pre-activations XWᵀ (n×N).
    pub fn preactivations(&self, backend: &B, x: &B::Mat) -> B::Mat {
        backend.matmul(x, Op::N, &self.w, Op::T, 1.0)
    }

    /// Features σ(XWᵀ) (n×N).
    pub fn features(&self, backend: &B, x: &B::Mat, act: &Func) -> B::Mat {
        let mut h = self.preactivations(backend, x);
        backend.map_inplace(&mut h, &|s: &mut [f64]| act.eval_slice(s));
        h
    }

    /// Outputs f(x) = aᵀσ(Wx) for the rows of x.
    pub fn output(&self, backend: &B, x: &B::Mat, act: &Func) -> Vec<f64> {
        backend.matvec(&self.features(backend, x, act), Op::N, &self.a)
    }

    /// G = −∇L(W) = (1/n)·diag(a)·[σ′(XWᵀ) ⊙ r 1ᵀ]ᵀ·X (N×d), with r chosen by `residual`.
    #[track_caller]
    pub fn gradient(
        &self,
        backend: &B,
        x: &B::Mat,
        y: &[f64],
        act: &Func,
        residual: Residual,
    ) -> B::Mat {
        let (n, _) = backend.shape(x);
        assert_eq!(
            n,
            y.len(),
            "gradient: x has {n} rows, y has length {}",
            y.len()
        );
        let h = self.preactivations(backend, x);
        let r: Vec<f64> = match residual {
            Residual::Labels => y.to_vec(),
            Residual::Full => {
                let f = backend.matvec(
                    &backend.map(&h, &|s: &mut [f64]| act.eval_slice(s)),
                    Op::N,
                    &self.a,
                );
                y.iter().zip(f).map(|(y, f)| y - f).collect()
            }
        };
        let mut d = h;
        backend.map_inplace(&mut d, &|s: &mut [f64]| act.deriv_slice(s));
        backend.scale_rows(&mut d, &r);
        let mut g = backend.matmul(&d, Op::T, x, Op::N, 1.0 / n as f64);
        backend.scale_rows(&mut g, &self.a);
        g
    }

    /// The network after one step W = W₀ + η·G (a unchanged).
    pub fn stepped(&self, backend: &B, g: &B::Mat, eta: f64) -> Self {
        let mut w = self.w.clone();
        backend.axpy(&mut w, eta, g);
        Self {
            w,
            a: self.a.clone(),
        }
    }
}
