"""Tests of the Python package against the `onestep` binary: the same JSON for the same flags, the
CLI's error messages, NumPy arrays, the GIL released, Ctrl-C between trials, the example script.

The binary is $ONESTEP_BIN, else target/release/onestep of this repository; without it the
comparisons are skipped, or fail when CI is set (as .ci/run sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import onestep

ROOT = Path(__file__).resolve().parents[3]


def _binary() -> Path | None:
    p = Path(os.environ.get("ONESTEP_BIN", ROOT / "target" / "release" / "onestep"))
    if not p.is_absolute():
        p = ROOT / p
    return p if p.is_file() else None


BIN = _binary()
needs_cli = pytest.mark.skipif(
    BIN is None and not os.environ.get("CI"),
    reason="no onestep binary (set ONESTEP_BIN or cargo build --release -p onestep)",
)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    assert BIN is not None, "set ONESTEP_BIN to the onestep binary"
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=300, check=False
    )


def cli_json(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "cli.json"
    r = cli(*args, "--json", str(out))
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def cli_error(*args: str) -> str:
    """The CLI's one-line error message, without `error: `."""
    r = cli(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and line.startswith("error: "), line
    return line.removeprefix("error: ")


# ---------------------------------------------------------------------------------------------
# simulate against `onestep simulate --json`

SMALL = dict(
    d=48,
    width=64,
    n=200,
    n_test=300,
    alpha=0.25,
    eta0=1.5,
    activation="tanh",
    target="hermite:0,1,0.5",
    noise=0.2,
    init="gaussian",
    models="spiked,cget,best_linear,inf_spike_1",
    trials=2,
    seed=7,
    threads=1,
)


def flags(kw: dict) -> list[str]:
    out = []
    for k, v in kw.items():
        out += ["--" + ("lambda" if k == "lam" else k.replace("_", "-")), str(v)]
    return out


def assert_same_run(py: dict, cli_doc: dict) -> None:
    assert py.keys() == cli_doc.keys()
    for key in ("config", "seeds", "summary", "trials"):
        assert py[key] == cli_doc[key], key
    assert py["provenance"].keys() == cli_doc["provenance"].keys()
    for key in ("onestep_version", "backend", "threads"):
        assert py["provenance"][key] == cli_doc["provenance"][key], key


@needs_cli
def test_simulate_equals_the_cli_json(tmp_path: Path) -> None:
    kw = dict(SMALL, lam="0.01,0.1,1")
    sim = onestep.simulate(**kw)
    doc = cli_json(tmp_path, "simulate", *flags(kw))
    assert_same_run(json.loads(sim.to_json()), doc)
    assert sim.config == doc["config"] and sim.summary == doc["summary"]
    assert sim.trials == doc["trials"] and sim.seeds == [7, 8]
    assert len(sim.summary["errors_path"]) == 3


@needs_cli
def test_simulate_defaults_are_the_cli_defaults(tmp_path: Path) -> None:
    sim = onestep.simulate()
    assert_same_run(json.loads(sim.to_json()), cli_json(tmp_path, "simulate"))


@needs_cli
def test_stream_equals_in_memory_and_the_cli(tmp_path: Path) -> None:
    kw = dict(SMALL, models="inf_spike_1,inf_spike_2", trials=1)
    mem = onestep.simulate(**kw, stream=False)
    st = onestep.simulate(**kw, stream=64)
    assert st.config["stream_rows"] == 64 and "stream_rows" not in mem.config
    assert json.loads(st.to_json())["provenance"]["memory"]["streamed_rows"] == 64
    for m, e in mem.summary["errors"].items():
        for k, v in e.items():
            assert st.summary["errors"][m][k] == pytest.approx(v, rel=1e-9), (m, k)
    assert st.summary["spectrum"]["top"] == pytest.approx(mem.summary["spectrum"]["top"], rel=1e-9)
    cli = cli_json(tmp_path, "simulate", *flags(kw), "--stream", "64")
    assert st.trials == cli["trials"]
    with pytest.raises(ValueError, match="need the whole design in memory"):
        onestep.simulate(**dict(SMALL, trials=1), stream=True)
    with pytest.raises(ValueError, match="budget"):
        onestep.simulate(**kw, memory_budget=1e-6)


def test_lambda_as_number_list_or_string() -> None:
    base = dict(SMALL, trials=1, models="none")
    as_list = onestep.simulate(**base, lam=[0.01, 0.1, 1.0])
    as_str = onestep.simulate(**base, lam="0.01,0.1,1")
    assert as_list.config["lambdas"] == [0.01, 0.1, 1.0]
    assert as_list.trials == as_str.trials
    spaced = onestep.simulate(**base, lam="0.01:1:5")
    assert spaced.config["lambdas"][0] == 0.01 and spaced.config["lambdas"][-1] == 1.0
    assert len(spaced.config["lambdas"]) == 5
    one = onestep.simulate(**base, lam=0.5)
    assert one.config["lambdas"] == [0.5] and "errors_path" not in one.summary


def test_to_json_writes_the_document(tmp_path: Path) -> None:
    sim = onestep.simulate(**dict(SMALL, trials=1, models="none"))
    p = tmp_path / "run.json"
    text = sim.to_json(p)
    assert p.read_text() == text
    assert list(tmp_path.iterdir()) == [p]
    assert set(json.loads(text)) == {
        "provenance",
        "config",
        "seeds",
        "wall_time_s",
        "summary",
        "trials",
    }


def test_singular_values_are_float64_arrays() -> None:
    sim = onestep.simulate(**SMALL)
    for arrays in (sim.singular_values, sim.singular_values_f0):
        assert isinstance(arrays, list) and len(arrays) == SMALL["trials"]
        for a in arrays:
            assert isinstance(a, np.ndarray)
            assert a.dtype == np.float64 and a.ndim == 1
            assert a.shape == (min(SMALL["n"], SMALL["width"]),)
            assert np.all(np.diff(a) <= 0) and np.all(a >= 0)
    for t, trial in enumerate(sim.trials):
        top = trial["spectrum"]["top"]
        np.testing.assert_allclose(sim.singular_values[t][: len(top)], top, rtol=1e-12)
        top0 = trial["spectrum"]["top_f0"]
        np.testing.assert_allclose(sim.singular_values_f0[t][: len(top0)], top0, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# theory against `onestep theory ... --json`

THEORY_CASES = [
    {},
    dict(phi=2.0, psi=3.0, lam=0.01, ell=2),
    dict(activation="tanh", target="hermite:0,1,0,0.5", noise=0.0, ell=1),
]


@needs_cli
@pytest.mark.parametrize("kw", THEORY_CASES)
def test_theory_errors_equal_the_cli(tmp_path: Path, kw: dict) -> None:
    doc = cli_json(tmp_path, "theory", "errors", *flags(kw))
    e = onestep.theory.errors(**kw)
    assert e == doc["errors"]
    assert set(e) == {"train", "test", "test_clean"}


@needs_cli
def test_theory_staircase_equals_the_cli(tmp_path: Path) -> None:
    kw = dict(phi=3.0, lam=0.05, alpha_grid=9, max_ell=3)
    doc = cli_json(tmp_path, "theory", "staircase", *flags(kw))
    s = onestep.theory.staircase(**kw)
    assert set(s) == {"alpha", "ell", "train", "test", "test_clean"}
    for key, arr in s.items():
        assert isinstance(arr, np.ndarray) and arr.shape == (9,)
        assert arr.dtype == (np.int64 if key == "ell" else np.float64)
        assert arr.tolist() == [p[key] for p in doc["points"]], key


@needs_cli
def test_theory_spikes_equal_the_cli(tmp_path: Path) -> None:
    kw = dict(d=256, width=512, n=1024, alpha=0.35, eta0=2.0)
    doc = cli_json(tmp_path, "theory", "spikes", *flags(kw))
    assert onestep.theory.spikes(**kw) == doc["spikes"]


@needs_cli
def test_theory_network_equals_the_cli_and_what_simulate_reports(tmp_path: Path) -> None:
    kw = dict(d=48, width=64, n=200, alpha=0.25, eta0=1.5, activation="tanh", noise=0.2)
    e = onestep.theory.network(**kw, lam=0.2)
    assert e == cli_json(tmp_path, "theory", "network", *flags(dict(kw, lam=0.2)))["errors"]
    sim = onestep.simulate(**kw, lam=0.2, n_test=100, models="none")
    assert e == sim.summary["theory"]["errors"]["nn"]


def test_bulk_edge_equals_the_cli(tmp_path: Path) -> None:
    kw = dict(d=48, width=64, n=200, alpha=0.3, eta0=1.0)
    edge = onestep.theory.bulk_edge(**kw)
    doc = cli_json(tmp_path, "theory", "network", *flags(kw), "--bulk-edge")
    assert edge == doc["bulk_edge_after"]
    after = onestep.theory.after_step(**kw)
    assert after["outliers"] == doc["outliers_after"]
    assert after["bulk_edge"] == edge
    sim = onestep.simulate(**kw, n_test=100, models="none")
    # measured beside it, within the Tracy–Widom allowance 2N^{-2/3} (13% at N = 64)
    assert abs(sim.summary["spectrum"]["bulk_edge_after"] / edge - 1) < 0.13


# ---------------------------------------------------------------------------------------------
# bad input: ValueError with the CLI's message

ERROR_CASES = [
    (onestep.simulate, dict(alpha=0.7), ["simulate", "--alpha", "0.7"]),
    (onestep.simulate, dict(d=-1), ["simulate", "--d", "-1"]),
    (onestep.simulate, dict(n=-2), ["simulate", "--n", "-2"]),
    (onestep.simulate, dict(seed=-3), ["simulate", "--seed", "-3"]),
    (onestep.simulate, dict(lam="0.1,"), ["simulate", "--lambda", "0.1,"]),
    (onestep.simulate, dict(lam=0.0), ["simulate", "--lambda", "0"]),
    (onestep.simulate, dict(activation="foo"), ["simulate", "--activation", "foo"]),
    (onestep.simulate, dict(target="hermite:"), ["simulate", "--target", "hermite:"]),
    (onestep.simulate, dict(trials=0), ["simulate", "--trials", "0"]),
    (onestep.simulate, dict(n=1), ["simulate", "--n", "1"]),
    (onestep.simulate, dict(noise=-1.0), ["simulate", "--noise", "-1"]),
    (onestep.simulate, dict(eta0=-1.0), ["simulate", "--eta0", "-1"]),
    (onestep.simulate, dict(models="bogus"), ["simulate", "--models", "bogus"]),
    (onestep.simulate, dict(residual="x"), ["simulate", "--residual", "x"]),
    (onestep.simulate, dict(init="x"), ["simulate", "--init", "x"]),
    (onestep.simulate, dict(backend="foo"), ["simulate", "--backend", "foo"]),
    (onestep.theory.errors, dict(lam=0.0), ["theory", "errors", "--lambda", "0"]),
    (
        onestep.theory.errors,
        dict(activation="foo"),
        ["theory", "errors", "--activation", "foo"],
    ),
    (
        onestep.theory.staircase,
        dict(alpha_grid=0),
        ["theory", "staircase", "--alpha-grid", "0"],
    ),
    (onestep.theory.spikes, dict(alpha=0.6), ["theory", "spikes", "--alpha", "0.6"]),
    (onestep.theory.spikes, dict(n=1), ["theory", "spikes", "--n", "1"]),
    (
        onestep.theory.network,
        dict(residual="full"),
        ["theory", "network", "--residual", "full"],
    ),
    (onestep.theory.network, dict(lam=-1.0), ["theory", "network", "--lambda", "-1"]),
]


@needs_cli
@pytest.mark.parametrize(
    "fn,kw,args", ERROR_CASES, ids=[" ".join(c[2]) for c in ERROR_CASES]
)
def test_bad_input_raises_the_cli_message(fn, kw: dict, args: list[str]) -> None:
    with pytest.raises(ValueError) as e:
        fn(**kw)
    assert str(e.value) == cli_error(*args)


@needs_cli
def test_unknown_figure_raises_the_cli_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as e:
        onestep.figure("nope", tmp_path)
    assert str(e.value) == cli_error("figure", "nope", "--out", str(tmp_path))


def test_negative_sizes_raise_value_error() -> None:
    with pytest.raises(ValueError, match=r"^--d: got -1; allowed"):
        onestep.simulate(d=-1)
    with pytest.raises(ValueError, match=r"^--seed: got -3; allowed"):
        onestep.simulate(seed=-3)
    with pytest.raises(TypeError):
        onestep.simulate(d=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        onestep.simulate(256)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# the GIL, Ctrl-C

def test_simulate_releases_the_gil() -> None:
    ticks: list[float] = []
    stop = threading.Event()

    def counter() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    th = threading.Thread(target=counter)
    th.start()
    time.sleep(0.05)
    start = time.perf_counter()
    onestep.simulate(d=512, width=1024, n=4096, n_test=2048, models="none")  # ~1 s, one trial
    end = time.perf_counter()
    stop.set()
    th.join()
    during = [t for t in ticks if start < t < end]
    # Holding the GIL for the whole trial would leave one gap as long as the run.
    gaps = np.diff([start, *during, end])
    assert end - start > 0.2, "the run is too short to tell"
    assert len(during) >= 10, (len(during), end - start)
    assert gaps.max() < 0.5 * (end - start), (gaps.max(), end - start)


def test_ctrl_c_stops_between_trials() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        import onestep
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            onestep.simulate(d=128, width=128, n=512, n_test=512, models="none", trials=10000)
        except KeyboardInterrupt:
            print(f"interrupted after {time.perf_counter() - start:.2f} s")
        else:
            print("not interrupted")
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("interrupted after"), r.stdout
    assert float(r.stdout.split()[2]) < 10.0, r.stdout


# ---------------------------------------------------------------------------------------------
# figures, the example

@needs_cli
def test_figure_writes_what_the_cli_writes(tmp_path: Path) -> None:
    py_dir, cli_dir = tmp_path / "py", tmp_path / "cli"
    m = onestep.figure("overlap", py_dir, quick=True, fresh=True, threads=1)
    r = cli("figure", "overlap", "--quick", "--fresh", "--threads", "1", "--out", str(cli_dir))
    assert r.returncode == 0, r.stderr
    assert m["files"] == ["overlap.csv", "overlap.svg", "overlap.png"]
    # Besides the figure's files only the (hidden) lock of the output folder, as for the CLI.
    written = sorted(p.name for p in py_dir.iterdir() if p.is_file())
    assert written == sorted([*m["files"], "overlap.manifest.json", ".onestep.lock"])
    assert json.loads((py_dir / "overlap.manifest.json").read_text()) == m
    for name in ("overlap.csv", "overlap.svg"):
        assert (py_dir / name).read_bytes() == (cli_dir / name).read_bytes(), name
    assert (py_dir / "overlap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ids = [f["id"] for f in onestep.figures()]
    assert "overlap" in ids and len(ids) == len(set(ids))


def test_figure_reads_a_grid_file_as_the_cli_does(tmp_path: Path) -> None:
    grid = tmp_path / "overlap.toml"
    grid.write_text(
        "[full]\nd = 16\nn_over_d = [1.0, 4.0]\nseeds = 1\n\n"
        "[quick]\nd = 16\nn_over_d = [0.5, 2.0]\nseeds = 1\n"
    )
    m = onestep.figure("overlap", tmp_path / "py", quick=True, config=grid, threads=1)
    assert m["figure"]["grid"]["file"] == str(grid)
    assert m["figure"]["settings"]["n_over_d"] == [0.5, 2.0]
    r = cli("figure", "overlap", "--quick", "--threads", "1", "--config", str(grid),
            "--out", str(tmp_path / "cli"))
    assert r.returncode == 0, r.stderr
    for name in ("overlap.csv", "overlap.svg"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    grid.write_text(grid.read_text().replace("seeds = 1\n\n", "seedz = 1\n\n"))
    with pytest.raises(ValueError, match=r"overlap.toml:4 .*`seedz`"):
        onestep.figure("overlap", tmp_path / "py", quick=True, config=grid)


def test_example_runs_without_matplotlib(tmp_path: Path) -> None:
    # A stand-in package that fails to import hides any installed matplotlib.
    block = tmp_path / "block" / "matplotlib"
    block.mkdir(parents=True)
    (block / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(block.parent))
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "sweep_alpha.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "alpha" in r.stdout and "test nn" in r.stdout
    assert "skipping the plot" in r.stdout
    assert not (tmp_path / "sweep_alpha.png").exists()


@needs_cli
def test_step_noise_example_rebuilds_the_step() -> None:
    # The script exits non-zero unless its NumPy gradient step reproduces onestep's
    # spectrum.bulk_edge_after to 1e-8 (docs/theory.md §10.6).
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "step_noise_bulk.py"), "--d", "64",
         "--alpha", "0.4", "--seeds", "2", "--onestep", str(BIN)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[2:]]
    assert len(rows) == 2 and all(len(row) == 10 for row in rows)
