"""Where the top of F's bulk after the step comes from at large α (docs/theory.md §10.6).

    python examples/step_noise_bulk.py [--d 1024] [--alpha 0.4,0.45] [--seeds 4] [--onestep PATH]

For each seed it runs `onestep simulate --dump-data` (centred ReLU, a Hermite target, labels
residual), rebuilds the gradient step from the dumped arrays with NumPy, and recomputes the
largest singular value of F = σ(X̃Wᵀ) after the two learned spikes with parts of the step noise
replaced by isotropic noise of the same row norms. The gradient's rows are split as

    G_j = a_j [c₁ β + h₁ M_y w_j + rest_j],   M_y = Xᵀ diag(y) X / n,  h₁ = E σ′(g) g,

and M_y = E M_y + Z with E M_y = c*₀ I + 2c*₂ β*β*ᵀ. Columns: the simulated value (it must equal
onestep's spectrum.bulk_edge_after), the value with the Z part isotropic, with the rest isotropic,
with both isotropic (the structure the theory assumes), the theory's bulk_edge_after, the largest
eigenvalue of Z off β*, and the largest label of the step batch. Needs NumPy only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--d", type=int, default=1024, help="d = N; n = 4d")
p.add_argument("--alpha", default="0.4,0.45", help="comma list of step exponents")
p.add_argument("--seeds", type=int, default=4, help="seeds 0..SEEDS-1")
p.add_argument("--target", default="hermite:0,1,0.7071067811865476")
p.add_argument("--onestep", default=os.environ.get("ONESTEP_BIN", "onestep"))
args = p.parse_args()

C0 = 1 / np.sqrt(2 * np.pi)  # mean of the ReLU, removed by relu-centered
H1 = 1 / np.sqrt(2 * np.pi)  # E σ′(g) g for the ReLU
C1 = 0.5  # E σ′(g)
coef = [float(c) for c in args.target.removeprefix("hermite:").split(",")] + [0.0, 0.0, 0.0]


def act(z):
    return np.maximum(z, 0.0) - C0


def run(seed, alpha, folder):
    js = os.path.join(folder, "run.json")
    cmd = [args.onestep, "simulate", "--d", str(args.d), "--width", str(args.d),
           "--n", str(4 * args.d), "--n-test", "256", "--alpha", str(alpha),
           "--models", "none", "--bulk-edge", "--seed", str(seed), "--target", args.target,
           "--dump-data", folder, "--json", js]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(js) as f:
        r = json.load(f)
    return r["trials"][0]["spectrum"]["bulk_edge_after"], r["summary"]["theory"]["bulk_edge_after"]


def decompose(folder, alpha, rng):
    load = lambda k: np.load(os.path.join(folder, k + ".npy"))
    x, y, w0, a, xr, bs = (load(k) for k in ("x_step", "y_step", "w0", "a", "x_ridge", "beta_star"))
    n = x.shape[0]
    eta = n**alpha
    g = a[:, None] * (((x @ w0.T > 0) * y[:, None]).T @ x) / n
    my = (x.T * y) @ x / n
    emy = coef[0] * np.eye(len(bs)) + 2 * coef[2] * np.outer(bs, bs)
    lin = a[:, None] * (C1 * (x.T @ y / n))[None, :]
    quad_mean = a[:, None] * (H1 * (w0 @ emy))
    quad_z = a[:, None] * (H1 * (w0 @ (my - emy)))
    rest = g - lin - quad_mean - quad_z

    def iso(m):
        r = rng.standard_normal(m.shape)
        return r * np.linalg.norm(m, axis=1, keepdims=True) / np.linalg.norm(r, axis=1, keepdims=True)

    def top(step):
        return np.linalg.svd(act(xr @ (w0 + eta * step).T), compute_uv=False)[2]

    proj = np.eye(len(bs)) - np.outer(bs, bs)
    return (top(g), top(lin + quad_mean + iso(quad_z) + rest),
            top(lin + quad_mean + quad_z + iso(rest)), top(lin + quad_mean + iso(quad_z + rest)),
            np.linalg.eigvalsh(proj @ (my - emy) @ proj)[-1], y.max())


print(f"d = N = {args.d}, n = {4 * args.d}, target {args.target}, centred ReLU")
print(f"{'alpha':>5} {'seed':>4} {'simulated':>9} {'onestep':>8} {'Z iso':>7} {'rest iso':>8} "
      f"{'all iso':>7} {'theory':>7} {'eig Z':>6} {'max y':>6}")
rng = np.random.default_rng(0)
for alpha in (float(v) for v in args.alpha.split(",")):
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as folder:
            measured, theory = run(seed, alpha, folder)
            sim, z_iso, rest_iso, all_iso, eig_z, ymax = decompose(folder, alpha, rng)
        if not np.isclose(sim, measured, rtol=1e-8):
            sys.exit(f"the NumPy step gives {sim}, onestep {measured}: the reconstruction is wrong")
        print(f"{alpha:5.2f} {seed:4d} {sim:9.2f} {measured:8.2f} {z_iso:7.2f} {rest_iso:8.2f} "
              f"{all_iso:7.2f} {theory:7.2f} {eig_z:6.2f} {ymax:6.2f}")
