"""The theory alone, no simulation: ``onestep theory errors|staircase|spikes|network`` (the last
is the finite-n network theory, the prediction ``simulate`` reports as
``summary["theory"]["errors"]["nn"]``).

Arguments and defaults are the CLI's (``--lambda`` as ``lam``); bad input raises ``ValueError``
with the CLI's one-line message.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from . import _onestep

__all__ = [
    "Errors",
    "Staircase",
    "after_step",
    "bulk_edge",
    "errors",
    "network",
    "spikes",
    "staircase",
]

_ACTIVATION: str = _onestep.DEFAULT_ACTIVATION
_TARGET: str = _onestep.DEFAULT_TARGET


class Errors(TypedDict):
    """Training error (without the penalty), test error (label noise included), noiseless risk."""

    train: float
    test: float
    test_clean: float


class Staircase(TypedDict):
    """The points of ``onestep theory staircase --json`` as columns."""

    alpha: npt.NDArray[np.float64]
    ell: npt.NDArray[np.int64]
    train: npt.NDArray[np.float64]
    test: npt.NDArray[np.float64]
    test_clean: npt.NDArray[np.float64]


def errors(
    *,
    phi: float = 4.0,
    psi: float = 1.0,
    lam: float = 0.1,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
    ell: int = 0,
) -> Errors:
    """Proportional-limit errors of ridge on the RF features (``ell=0``) or with the unpenalised
    columns (X̃β)∘ᵏ, k ≤ ell (``onestep theory errors``; φ = n/d, ψ = N/d)."""
    doc = _onestep.theory_errors(
        phi=phi,
        psi=psi,
        lam=lam,
        activation=activation,
        target=target,
        noise=noise,
        ell=ell,
    )
    return json.loads(doc)["errors"]


def staircase(
    *,
    phi: float = 4.0,
    psi: float = 1.0,
    lam: float = 0.1,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
    alpha_grid: int = 50,
    max_ell: int = 4,
) -> Staircase:
    """The limiting errors over ``alpha_grid`` evenly spaced α in [0, 1/2), ℓ(α) spikes of degree
    ≤ ``max_ell`` each (``onestep theory staircase``): arrays ``alpha``, ``ell``, ``train``,
    ``test``, ``test_clean``."""
    alpha, ell, train, test, test_clean = _onestep.theory_staircase(
        phi=phi,
        psi=psi,
        lam=lam,
        activation=activation,
        target=target,
        noise=noise,
        alpha_grid=alpha_grid,
        max_ell=max_ell,
    )
    return {
        "alpha": alpha,
        "ell": ell,
        "train": train,
        "test": test,
        "test_clean": test_clean,
    }


def spikes(
    *,
    d: int = 2048,
    width: int = 2048,
    n: int = 8192,
    alpha: float = 0.3,
    eta0: float = 1.0,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
) -> dict[str, Any]:
    """The spikes after the step (``onestep theory spikes``; the ``spikes`` object of its JSON):
    ``ell``, ``degrees``, ``thresholds``, ``eta``, ``beta_norm2``, ``bulk_edge``, and per degree
    ``spikes[i]`` its ``strength``, ``location`` and ``alignment`` (None: not separated)."""
    doc = _onestep.theory_spikes(
        d=d,
        width=width,
        n=n,
        alpha=alpha,
        eta0=eta0,
        activation=activation,
        target=target,
        noise=noise,
    )
    return json.loads(doc)["spikes"]


def network(
    *,
    d: int = 2048,
    width: int = 2048,
    n: int = 8192,
    alpha: float = 0.3,
    eta0: float = 1.0,
    lam: float = 0.1,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
    residual: str = "labels",
) -> Errors:
    """The network's training and test errors at these finite n, d, N (``onestep theory
    network``; the finite-n theory of docs/theory.md §10, labels residual only): the theory
    ``simulate`` reports as ``summary["theory"]["errors"]["nn"]``, and the ``errors`` object of
    the CLI's JSON."""
    doc = _onestep.theory_network(
        d=d,
        width=width,
        n=n,
        alpha=alpha,
        eta0=eta0,
        lam=lam,
        activation=activation,
        target=target,
        noise=noise,
        residual=residual,
    )
    return json.loads(doc)["errors"]


def after_step(
    *,
    d: int = 2048,
    width: int = 2048,
    n: int = 8192,
    alpha: float = 0.3,
    eta0: float = 1.0,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
) -> dict[str, Any]:
    """The predicted spectrum of F after the step (``onestep theory network --bulk-edge``,
    docs/theory.md §10.6–§10.7; labels residual; 1–2 s): ``{"bulk_edge": float, "outliers":
    [{"location": float, "alignment": [a1, a2, a3]}, ...]}``, outliers largest first, ``a_k`` =
    |⟨û, GS((X̃β)∘ᵏ)⟩|. Compare with ``simulate(...).summary["spectrum"]``'s ``top`` and
    ``alignment_matrix``."""
    doc = _onestep.theory_after_step(
        d=d,
        width=width,
        n=n,
        alpha=alpha,
        eta0=eta0,
        activation=activation,
        target=target,
        noise=noise,
    )
    return json.loads(doc)


def bulk_edge(
    *,
    d: int = 2048,
    width: int = 2048,
    n: int = 8192,
    alpha: float = 0.3,
    eta0: float = 1.0,
    activation: str = _ACTIVATION,
    target: str = _TARGET,
    noise: float = 0.1,
) -> float:
    """The predicted largest non-spike singular value of F after the step (``onestep theory
    network --bulk-edge``, docs/theory.md §10.6; labels residual; 1–2 s): compare with
    ``simulate(...).summary["spectrum"]["bulk_edge_after"]``. ``after_step(...)["bulk_edge"]``."""
    return float(
        after_step(
            d=d,
            width=width,
            n=n,
            alpha=alpha,
            eta0=eta0,
            activation=activation,
            target=target,
            noise=noise,
        )["bulk_edge"]
    )
