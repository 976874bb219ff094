"""onestep: non-linear feature learning after one gradient step, simulation and theory side by side.

The Python face of the ``onestep`` Rust crates (the same code as the ``onestep`` command line, so
the same seed gives the same numbers). Keyword arguments are named like the CLI's flags, dashes
as underscores and ``--lambda`` as ``lam``; functions and targets are the same strings
(``"relu-centered"``, ``"hermite:0,1,0.7"``)::

    import onestep
    sim = onestep.simulate(d=128, width=128, n=512, n_test=1024, alpha=0.3, trials=2)
    sim.summary["errors"]["nn"]["test"], sim.summary["theory"]["errors"]["nn"]["test"]
    sim.singular_values[0]          # NumPy float64: every singular value of F, trial 0
    onestep.theory.errors(phi=4.0, psi=1.0, lam=0.1)

* ``simulate`` runs ``onestep simulate``; ``Simulation.to_json()`` is its ``--json`` document.
* ``theory`` holds ``errors``, ``staircase``, ``spikes``, ``network``, ``bulk_edge`` and
  ``after_step`` (``onestep theory ...``).
* ``figure`` writes one figure as ``onestep figure ID --out DIR`` does; ``figures`` lists them.

Bad input raises ``ValueError`` with the CLI's one-line message (what it prints after
``error: ``). Heavy work runs with the GIL released; Ctrl-C stops a multi-trial ``simulate``
between trials with ``KeyboardInterrupt``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _onestep, theory

__version__: str = _onestep.__version__

__all__ = [
    "DEFAULT_ACTIVATION",
    "DEFAULT_TARGET",
    "Simulation",
    "__version__",
    "figure",
    "figures",
    "simulate",
    "theory",
]

#: ``--activation``'s default: the centred ReLU (``relu-centered``).
DEFAULT_ACTIVATION: str = _onestep.DEFAULT_ACTIVATION
#: ``--target``'s default, target B: σ* = He₁ + He₂/√2 (``hermite:0,1,0.7071067811865476``).
DEFAULT_TARGET: str = _onestep.DEFAULT_TARGET


class Simulation:
    """The result of :func:`simulate`.

    ``config``, ``seeds``, ``summary``, ``trials``, ``provenance`` and ``wall_time_s`` are the
    keys of ``onestep simulate --json`` (plain dicts and lists, exactly the CLI's keys);
    ``singular_values[t]`` and ``singular_values_f0[t]`` are every singular value of F (after the
    step) and of F₀ (before it) in trial ``t``, descending, as 1-D float64 arrays (not in the JSON).
    """

    __slots__ = ("_doc", "_json", "singular_values", "singular_values_f0")

    def __init__(
        self,
        doc: str,
        singular_values: list[npt.NDArray[np.float64]],
        singular_values_f0: list[npt.NDArray[np.float64]],
    ) -> None:
        self._json = doc
        self._doc: dict[str, Any] = json.loads(doc)
        self.singular_values = singular_values
        self.singular_values_f0 = singular_values_f0

    @property
    def config(self) -> dict[str, Any]:
        """Every parameter after checking (functions in canonical form)."""
        return self._doc["config"]

    @property
    def seeds(self) -> list[int]:
        """The seed of each trial (trial t uses seed + t)."""
        return self._doc["seeds"]

    @property
    def summary(self) -> dict[str, Any]:
        """Means over trials (``x_sd`` beside every ``x``), the theory under ``summary["theory"]``."""
        return self._doc["summary"]

    @property
    def trials(self) -> list[dict[str, Any]]:
        """The same tree per trial, unaveraged."""
        return self._doc["trials"]

    @property
    def provenance(self) -> dict[str, Any]:
        """Version, git revision, command line (this Python process's), backend, threads."""
        return self._doc["provenance"]

    @property
    def wall_time_s(self) -> float:
        """Wall time of the trials in seconds."""
        return self._doc["wall_time_s"]

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The ``onestep simulate --json`` document; with ``path``, also written there atomically."""
        if path is not None:
            _onestep.write_atomic(os.fspath(path), self._json)
        return self._json

    def __repr__(self) -> str:
        c = self.config
        nn = self.summary["errors"]["nn"]["test"]
        return (
            f"<onestep.Simulation d={c['d']} width={c['width']} n={c['n']} alpha={c['alpha']} "
            f"trials={c['trials']} test(nn)={nn:.4g}>"
        )


def simulate(
    *,
    d: int = 256,
    width: int = 256,
    n: int = 1024,
    n_test: int = 8192,
    alpha: float = 0.3,
    eta0: float = 1.0,
    lam: float | str | Sequence[float] = 0.1,
    activation: str = DEFAULT_ACTIVATION,
    target: str = DEFAULT_TARGET,
    noise: float = 0.1,
    residual: str = "labels",
    init: str = "sphere",
    models: str = "all",
    trials: int = 1,
    seed: int = 0,
    threads: int = 0,
    backend: str = "faer",
    stream: bool | int | None = None,
    memory_budget: float | None = None,
) -> Simulation:
    """Runs ``onestep simulate`` with these flags and returns a :class:`Simulation`.

    d, width, n, n_test: input dimension, width N, size of EACH training batch, test points.
    alpha, eta0: the step η = η₀·n^α, α in [0, 1/2).
    lam: the ridge penalty λ in (1/n)‖ỹ − Fa‖² + λ‖a‖²; a λ path as a list of numbers or the
        CLI's string (``"0.01,0.1,1"``, ``"0.01:1:5"`` for 5 log-spaced values).
    activation, target: ``relu``, ``relu-centered``, ``tanh``, ``erf``, ``sigmoid``,
        ``softplus``, ``gelu``, ``linear`` or ``hermite:c0,c1,...``.
    noise: label-noise standard deviation. residual: ``labels`` or ``full``.
    init: rows of W₀, ``sphere`` or ``gaussian``.
    models: equivalent models beside nn and rf: a comma list, ``all`` or ``none``.
    trials, seed: repetitions; trial t uses seed + t.
    threads, backend: threads (0 = all cores) and the linear-algebra backend.
    stream: ``True`` draws and uses the batches 4096 rows at a time (an int: that many rows), so
        memory depends on d·N and N², not on n (models nn, rf and inf_spike_ℓ only); ``False``
        holds them in memory; ``None`` streams whenever the models allow it. ``memory_budget``: GiB the
        run may use (default 90% of the memory available now).

    Raises ValueError (the CLI's message) for bad input, before any heavy work.
    """
    doc, sv, sv0 = _onestep.simulate(
        d=d,
        width=width,
        n=n,
        n_test=n_test,
        alpha=alpha,
        eta0=eta0,
        lam=lam,
        activation=activation,
        target=target,
        noise=noise,
        residual=residual,
        init=init,
        models=models,
        trials=trials,
        seed=seed,
        threads=threads,
        backend=backend,
        stream=stream,
        memory_budget=memory_budget,
    )
    return Simulation(doc, sv, sv0)


def figures() -> list[dict[str, str]]:
    """The figures of ``onestep figure list``: ``id``, ``paper`` and ``description`` each."""
    return [
        {"id": i, "paper": p, "description": d} for i, p, d in _onestep.figure_list()
    ]


def figure(
    id: str,
    out: str | os.PathLike[str],
    *,
    quick: bool = False,
    seeds: int | None = None,
    seed: int = 0,
    threads: int = 0,
    backend: str = "faer",
    fresh: bool = False,
    config: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Writes figure ``id`` as ``onestep figure ID --out OUT`` does: OUT/ID.csv (or one
    OUT/ID-TABLE.csv per table), OUT/ID.svg, OUT/ID.png and OUT/ID.manifest.json. Computed points
    are cached under OUT/.cache/points (shared with the CLI; ``fresh=True`` ignores the cache).
    ``config`` is a grid file replacing the figure's built-in configs/ID.toml (``--config``).

    Returns the manifest (the content of OUT/ID.manifest.json; its ``files`` are relative to OUT).
    """
    if id == "list":
        raise ValueError("`list` is not a figure; onestep.figures() lists them")
    manifest = _onestep.figure(
        id,
        out=os.fspath(out),
        quick=quick,
        seeds=seeds,
        seed=seed,
        threads=threads,
        backend=backend,
        fresh=fresh,
        config=None if config is None else os.fspath(config),
    )
    return json.loads(manifest)
