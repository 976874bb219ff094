"""Type stubs of the extension module onestep._onestep (Rust, crates/onestep-py/src). Every
argument is keyword-only and required; the defaults live in onestep/__init__.py and
onestep/theory.py."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULT_ACTIVATION: str
DEFAULT_TARGET: str

def simulate(
    *,
    d: int,
    width: int,
    n: int,
    n_test: int,
    alpha: float,
    eta0: float,
    lam: float | str | Sequence[float],
    activation: str,
    target: str,
    noise: float,
    residual: str,
    init: str,
    models: str,
    trials: int,
    seed: int,
    threads: int,
    backend: str,
    stream: bool | int | None = None,
    memory_budget: float | None = None,
) -> tuple[str, list[npt.NDArray[np.float64]], list[npt.NDArray[np.float64]]]:
    """(JSON document, all singular values of F per trial, of F₀ per trial)."""

def theory_errors(
    *,
    phi: float,
    psi: float,
    lam: float,
    activation: str,
    target: str,
    noise: float,
    ell: int,
) -> str:
    """JSON {"setting", "ell", "errors"}."""

def theory_staircase(
    *,
    phi: float,
    psi: float,
    lam: float,
    activation: str,
    target: str,
    noise: float,
    alpha_grid: int,
    max_ell: int,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """(alpha, ell, train, test, test_clean)."""

def theory_spikes(
    *,
    d: int,
    width: int,
    n: int,
    alpha: float,
    eta0: float,
    activation: str,
    target: str,
    noise: float,
) -> str:
    """JSON {"config", "spikes"}."""

def theory_network(
    *,
    d: int,
    width: int,
    n: int,
    alpha: float,
    eta0: float,
    lam: float,
    activation: str,
    target: str,
    noise: float,
    residual: str,
) -> str:
    """JSON {"config", "errors", "report"}."""

def theory_after_step(
    *,
    d: int,
    width: int,
    n: int,
    alpha: float,
    eta0: float,
    activation: str,
    target: str,
    noise: float,
) -> str:
    """JSON {"bulk_edge", "outliers": [{"location", "alignment"}]}."""

def figure(
    id: str,
    *,
    out: str,
    quick: bool,
    seeds: int | None,
    seed: int,
    threads: int,
    backend: str,
    fresh: bool,
    config: str | None,
) -> str:
    """The manifest JSON (also written to out/ID.manifest.json)."""

def figure_list() -> list[tuple[str, str, str]]:
    """(id, paper, description) per figure."""

def write_atomic(path: str, text: str) -> None:
    """Writes text to path atomically (temporary file, then rename)."""
