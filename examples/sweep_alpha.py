"""A small α sweep from Python, notebook style (each `# %%` is a cell; run it whole with
`python examples/sweep_alpha.py` after `pip install ./crates/onestep-py`, see docs/python.md).

Simulates the network after one gradient step of size η = η₀·n^α at tiny sizes for a few α,
prints simulation beside theory, and plots the top singular values of F against α with the
predicted spike locations and bulk edge (matplotlib if installed; otherwise the plot is skipped).
"""

# %% Load
import sys

import numpy as np

import onestep

print(f"onestep {onestep.__version__}")

# %% Simulate a small α sweep (seconds on 2 cores)
ALPHAS = [0.0, 0.1, 0.2, 0.3, 0.4]
SIZES = dict(d=128, width=128, n=512, n_test=1024)
runs = {
    alpha: onestep.simulate(**SIZES, alpha=alpha, models="none", trials=2, seed=0)
    for alpha in ALPHAS
}

# %% Table: simulation (mean over trials) beside theory
header = f"{'alpha':>6} {'eta':>8} {'spikes':>6} {'ell':>4} {'s1(F)':>8} {'s1 pred':>8} {'test nn':>8} {'theory':>8} {'test rf':>8}"
print(header)
print("-" * len(header))
for alpha, sim in runs.items():
    s, th = sim.summary, sim.summary["theory"]
    locations = th["spike_locations"]
    predicted = f"{locations[0]:8.3f}" if locations else f"{'—':>8}"
    nn_theory = th["errors"].get("nn", {}).get("test", float("nan"))
    print(
        f"{alpha:6.2f} {s['eta']:8.3f} {s['spectrum']['spikes_detected']:6.1f} "
        f"{th['spike_count']:4d} {s['spectrum']['top'][0]:8.3f} {predicted} "
        f"{s['errors']['nn']['test']:8.4f} {nn_theory:8.4f} {s['errors']['rf']['test']:8.4f}"
    )

# %% Spectra as NumPy arrays: every singular value of F (after the step) and F₀ (before)
sim = runs[0.3]
sv, sv0 = sim.singular_values[0], sim.singular_values_f0[0]
print(
    f"alpha=0.3, trial 0: {sv.size} singular values ({sv.dtype}); "
    f"largest of F {sv[:3].round(3)}, of F0 {sv0[:3].round(3)}"
)

# %% Plot the spikes (needs matplotlib)
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: skipping the plot (pip install matplotlib to draw it)")
    sys.exit(0)

fig, ax = plt.subplots(figsize=(6, 4))
for alpha, sim in runs.items():
    top = np.array([sv[:6] for sv in sim.singular_values])  # trials × 6
    ax.scatter(np.full(top.size, alpha), top.ravel(), s=12, color="C0")
    th = sim.summary["theory"]
    ax.scatter(
        [alpha] * len(th["spike_locations"]),
        th["spike_locations"],
        marker="x",
        color="C3",
    )
    if th["bulk_edge"] is not None:
        ax.hlines(th["bulk_edge"], alpha - 0.03, alpha + 0.03, color="k")
ax.scatter([], [], s=12, color="C0", label="top singular values of F (simulation)")
ax.scatter([], [], marker="x", color="C3", label="predicted spike locations")
ax.hlines([], 0, 0, color="k", label="predicted bulk edge")
ax.set_xlabel("α (step η = η₀·n^α)")
ax.set_ylabel("singular value of F")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("sweep_alpha.png", dpi=120)
print("wrote sweep_alpha.png")
