"""NumPy/SciPy baseline of the B1 pipeline (docs/performance.md), written the way a careful user would.

One trial of: three Gaussian batches (gradient step, ridge, test); the one-step update of W0;
F, F0 and their test counterparts; all singular values of F and F0 (eigvalsh of the Gram
matrices); the top 3 left singular vectors of F and their alignments with Gram-Schmidt of the
powers of X beta; ridge (cho_factor/cho_solve) for NN, RF and the infinite-spike models l = 1, 2;
train/test/clean errors. Conventions as in docs/model.md: x ~ N(0, I_d), rows of W0 on the unit
sphere, a ~ N(0, I/N), eta = eta0 * n^alpha, ridge (1/n)|y - F a|^2 + lambda |a|^2, centred
ReLU, target B = He1 + He2/sqrt(2). Thread count: set OPENBLAS_NUM_THREADS before starting.
The data come from NumPy's generator, not the Rust one (the timing is comparable, the numbers
agree only statistically), unless --data DIR names the arrays `onestep simulate --dump-data DIR`
wrote: then every number is computed on the Rust run's data and must agree with its JSON.

Usage: python numpy_baseline.py --d 1024 --width 1024 --n 4096 --n-test 8192 --alpha 0.3
       [--data DIR] [--json PATH]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.linalg as sl


def relu_c(z):
    return np.maximum(z, 0.0) - 1.0 / np.sqrt(2.0 * np.pi)


def target_b(z):
    return z + (z * z - 1.0) / np.sqrt(2.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=1024)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--n-test", type=int, default=8192)
    p.add_argument("--alpha", type=float, default=0.3)
    p.add_argument("--eta0", type=float, default=1.0)
    p.add_argument("--lambda", dest="lam", type=float, default=0.1)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="directory of .npy arrays from onestep simulate --dump-data")
    p.add_argument("--json")
    a = p.parse_args()
    d, N, n, nt = a.d, a.width, a.n, a.n_test

    loaded = None
    if a.data:
        loaded = {k: np.load(os.path.join(a.data, k + ".npy")) for k in (
            "x_step", "y_step", "w0", "a", "x_ridge", "y_ridge", "x_test", "y_test", "y_test_clean")}
        if loaded["x_step"].shape != (n, d) or loaded["w0"].shape != (N, d):
            sys.exit(f"--data {a.data}: shapes {loaded['x_step'].shape}, {loaded['w0'].shape} are not n x d, N x d")
    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    if loaded:
        W0, av = loaded["w0"], loaded["a"]
    else:
        beta_star = rng.standard_normal(d)
        beta_star /= np.linalg.norm(beta_star)
        W0 = rng.standard_normal((N, d))
        W0 /= np.linalg.norm(W0, axis=1, keepdims=True)
        av = rng.standard_normal(N) / np.sqrt(N)

    def sample(m, batch):
        if loaded:
            if batch == "test":
                return loaded["x_test"], loaded["y_test"], loaded["y_test_clean"]
            return loaded["x_" + batch], loaded["y_" + batch], None
        X = rng.standard_normal((m, d))
        yc = target_b(X @ beta_star)
        return X, yc + a.noise * rng.standard_normal(m), yc

    # Gradient step (labels residual).
    X, y, _ = sample(n, "step")
    beta = X.T @ y / n
    H = X @ W0.T
    D = (H > 0.0) * y[:, None]
    G = (D.T @ X) / n * av[:, None]
    del H, D
    eta = a.eta0 * n ** a.alpha
    W = W0 + eta * G
    del X, G

    # Features and spectra.
    Xr, yr, _ = sample(n, "ridge")
    F = relu_c(Xr @ W.T)
    F0 = relu_c(Xr @ W0.T)
    t = Xr @ beta
    del Xr
    GF = F.T @ F  # NumPy uses syrk for A.T @ A
    GF0 = F0.T @ F0
    sv = np.sqrt(np.clip(sl.eigvalsh(GF), 0.0, None))[::-1]
    sv0 = np.sqrt(np.clip(sl.eigvalsh(GF0), 0.0, None))[::-1]
    # The centred ReLU has no mean component (E σ(g) = 0), so u_1..u_3 against the
    # orthonormalised t, t², t³, each with its own degree.
    w3, V3 = sl.eigh(GF, subset_by_index=[N - 3, N - 1])
    U = F @ V3[:, ::-1]
    U /= np.linalg.norm(U, axis=0, keepdims=True)
    Q, _ = np.linalg.qr(np.stack([t ** k for k in (1, 2, 3)], axis=1))
    align = np.abs(np.sum(U * Q, axis=0))

    # Test batch.
    Xt, yt, ytc = sample(nt, "test")
    Ft = relu_c(Xt @ W.T)
    F0t = relu_c(Xt @ W0.T)
    tt = Xt @ beta
    del Xt

    def errs(pred_tr, pred_te):
        return {
            "train": float(np.mean((yr - pred_tr) ** 2)),
            "test": float(np.mean((yt - pred_te) ** 2)),
            "test_clean": float(np.mean((ytc - pred_te) ** 2)),
        }

    def ridge(gram, Fm, Fmt):
        c = sl.cho_factor(gram + n * a.lam * np.eye(gram.shape[0]), lower=True)
        ah = sl.cho_solve(c, Fm.T @ yr)
        return errs(Fm @ ah, Fmt @ ah)

    out = {"nn": ridge(GF, F, Ft), "rf": ridge(GF0, F0, F0t)}
    for ell in (1, 2):
        P = np.stack([t ** k for k in range(1, ell + 1)], axis=1)
        Pt = np.stack([tt ** k for k in range(1, ell + 1)], axis=1)
        M = np.block([[GF0 + n * a.lam * np.eye(N), F0.T @ P], [P.T @ F0, P.T @ P]])
        c = sl.cho_factor(M, lower=True)
        Z, Zt = np.hstack([F0, P]), np.hstack([F0t, Pt])
        ah = sl.cho_solve(c, Z.T @ yr)
        out[f"inf_spike_{ell}"] = errs(Z @ ah, Zt @ ah)
    wall = time.perf_counter() - t0

    res = {
        "wall_time_s": wall,
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "numpy": np.__version__,
        "config": vars(a),
        "spectrum_top": sv[:8].tolist(),
        "bulk_edge": float(sv0[0]),
        "alignment": align.tolist(),
        "errors": out,
    }
    text = json.dumps(res, indent=2)
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.json + ".tmp", a.json)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
