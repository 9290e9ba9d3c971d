"""The window agrees with the CLI (issue 16 §5): for the same parameters and seed, each analysis
panel's headline numbers equal what its twin command prints with --json.

- Correlations panel vs `isinglab correlate`: the panel analyses the snapshots it is fed, the
  command samples and then analyses. The test records the configurations the command's own
  sampling (`correlation.sample`, the function `correlate` calls) hands to its series, checks that
  this in-process run prints the same numbers as the command, and feeds exactly those
  configurations, in order, to the panel through `on_snapshot` (its worker, `CorrelationScan`,
  the result it shows and exports). xi_exp, xi_2nd and eta must then agree.
- Block-spin RG panel vs `isinglab rg --estimate-tc`: the panel's MCRG button job against the
  command, same L, b, rule, snapshots and seed (the panel has no seed control: it runs
  `rg.estimate_tc` with its default seed 0, so the command gets --seed 0).
- Network panel vs `isinglab learn`: the Hamiltonian tab's pseudo-likelihood fit (its seed box
  set) against the pseudo-likelihood mode, and the Classifier tab's dataset + training against
  --classify (slopes, intercepts, accuracy, distilled couplings).

The command runs as a subprocess (what a user gets), the panel in this process. Numbers are
compared to a relative 1e-12 (`same`): both sides should run the same arithmetic on the same
data, so they are identical; the tolerance only forgives a harmless reordering of a sum. It does
not forgive a different fit window or a different set of rows: a fit (xi_exp, eta) turns a
last-bit difference in its input into ~1e-10 in its result, so anything above 1e-12 means the two
sides did not share one code path. Torch training is compared to the same 1e-12: both sides
train in float64 on one torch thread (`classifier.configure_threads`, called by
`train_classifier` for the panel and the command alike), which is deterministic on the CPU.
"""
from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from isinglab.app.panels import correlation_scan as correlation_panel  # the scan and its clock
from isinglab.app.panels.blocks import BlocksPanel
from isinglab.app.panels.correlation import CorrelationPanel
from isinglab.app.panels.network import NetworkPanel
from isinglab.core import correlation
from isinglab.core.correlation import sampling as correlation_sampling
from isinglab.core.engine import Snapshot
from isinglab.core.params import ModelParams

pytestmark = pytest.mark.usefixtures("refcount_headroom")  # tests/app/conftest.py

WAIT_MS = 120_000
CLI_TIMEOUT_S = 300
REL = 1e-12  # see the module docstring


# ----------------------------------------------------------------------------- helpers

def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("isinglab")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from isinglab.app.commands.entry import main; sys.exit(main())"]


@functools.lru_cache(maxsize=None)
def _cli_json_cached(args: tuple) -> str:
    done = subprocess.run([*_cli_command(), *args, "--json"], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, f"isinglab {' '.join(args)} failed:\n{done.stderr[-2000:]}"
    return done.stdout


def cli_json(*args) -> dict:
    """What `isinglab <args> --json` prints, parsed (each command line runs once per session)."""
    return json.loads(_cli_json_cached(tuple(str(a) for a in args)))


def same(a, b, path: str = "") -> list[str]:
    """Where two JSON values differ: numbers beyond a relative REL, anything else at all."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in same(x, y, f"{path}[{i}]")]
    numbers = (int, float, np.integer, np.floating)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        a, b = float(a), float(b)
        if (math.isnan(a) and math.isnan(b)) or a == b:
            return []
        if math.isfinite(a) and math.isfinite(b) and abs(a - b) <= REL * max(abs(a), abs(b)):
            return []
        return [f"{path}: panel {a!r} != CLI {b!r} (relative {abs(a - b) / max(abs(a), abs(b), 1e-300):.2g})"]
    return [] if a == b else [f"{path}: panel {a!r} != CLI {b!r}"]


def assert_same(panel_values: dict, cli_values: dict) -> None:
    diffs = same(panel_values, cli_values)
    assert not diffs, "the panel and the CLI differ:\n  " + "\n  ".join(diffs)


def wait_for(qtbot, condition, what: str, failed=lambda: None) -> None:
    """Wait for condition(); fail at once with the panel's message if failed() returns one."""
    def check():
        message = failed()
        assert not message, f"{what}: {message}"
        return condition()
    qtbot.waitUntil(check, timeout=WAIT_MS)


# ----------------------------------------------------------------------------- correlations

def _correlate_params(size: int, temperature: float, seed: int) -> ModelParams:
    """As `isinglab correlate` builds them (core/cli/commands/correlate.py: run)."""
    params = ModelParams(size=size, temperature=temperature, coupling=1.0, field=0.0, algorithm="metropolis",
                         seed=seed)
    return params.with_(algorithm=correlation.auto_algorithm(params)).validated()


_STREAM_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def cli_stream(size: int, temperature: float, seed: int, sweeps: int):
    """(params, the configurations `correlate` analyses, in order, read-only; its in-process result).

    `correlation.sample` is the function the command calls; a recording series in its module
    catches every configuration it adds, as the command's own run would."""
    seen = []

    class Recording(correlation_sampling.CorrelationSeries):
        def add(self, spins, coupling=1.0):
            s = np.array(spins, copy=True)
            s.flags.writeable = False
            seen.append(s)
            super().add(spins, coupling)

    params = _correlate_params(size, temperature, seed)
    with _STREAM_LOCK:
        original = correlation_sampling.CorrelationSeries
        correlation_sampling.CorrelationSeries = Recording
        try:
            result, info = correlation_sampling.sample(params, sweeps=sweeps)
        finally:
            correlation_sampling.CorrelationSeries = original
    return params, tuple(seen), result.to_json(), info


def _correlate_cli(size, temperature, seed, sweeps) -> dict:
    return cli_json("correlate", "-L", size, "-T", temperature, "--seed", seed, "--sweeps", sweeps)


class _Clock:
    """The panel's clock (its refit throttle): standing still, so that the panel analyses a bin
    when it first has enough snapshots and again when `tick` says the throttle has passed."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += 1e6


@pytest.fixture
def correlations(qtbot, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(correlation_panel, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    p = CorrelationPanel(size=16)
    qtbot.addWidget(p)
    p.resize(800, 700)
    p.show()
    p.clock = clock
    p.messages = []
    p.set_status_callback(p.messages.append)  # the worker's failures end here
    yield p
    p.shutdown()
    p.close()


def feed(panel, qtbot, params, configurations):
    """Every configuration through on_snapshot, one at a time (the worker keeps only the newest
    snapshot, so each is handed over when the previous one is analysed); the last after the
    refit throttle, so the panel shows the analysis of all of them."""
    for i, spins in enumerate(configurations, start=1):
        if i == len(configurations):
            panel.clock.tick()
        panel.on_snapshot(Snapshot(serial=i, params=params, spins=spins, sweeps=i, e=0.0, m=0.0, request_serial=0,
                                   sweeps_per_s=0.0, flips_per_ns=0.0, published_at=time.perf_counter(),
                                   since_change=i, equilibrium=True))
        deadline = time.monotonic() + WAIT_MS / 1000
        while panel.busy:
            assert time.monotonic() < deadline, "the correlation worker did not finish"
            time.sleep(0.0005)
    n = len(configurations)
    wait_for(qtbot, lambda: panel.latest_update is not None and panel.latest_update.n == n
             and panel.latest_update.result is not None and panel.latest_update.result.n_samples == n,
             "correlation analysis", lambda: panel.messages and panel.messages[-1])
    panel.refresh()
    return panel.latest_update.result


CORRELATION_CASES = [
    pytest.param(16, 2.6, 3, 400, id="L16-T2.6-400"),  # the command line
    pytest.param(16, 2.6, 3, 410, id="L16-T2.6-410"),  # 410 measurements: not a whole number of blocks
    pytest.param(32, 2.3, 3, 400, id="L32-T2.3-eta"),  # near T_c at L >= 24: eta is fitted
]


@pytest.mark.parametrize("size, temperature, seed, sweeps", CORRELATION_CASES)
def test_correlations_panel_gives_the_cli_xi_and_eta(correlations, qtbot, size, temperature, seed, sweeps):
    cli = _correlate_cli(size, temperature, seed, sweeps)
    params, configurations, in_process, info = cli_stream(size, temperature, seed, sweeps)
    # the recorded stream is the command's: the same run in this process prints the same numbers
    assert info["measure_every"] == cli["measure_every"] and len(configurations) == cli["n_samples"]
    assert_same({k: in_process[k] for k in ("xi_exp", "xi_2nd", "eta", "chi", "n_samples")},
                {k: cli[k] for k in ("xi_exp", "xi_2nd", "eta", "chi", "n_samples")})

    result = feed(correlations, qtbot, params, configurations)
    shown = result.to_json()
    exported = correlations.data_sets()[0].document["result"]
    assert exported == shown
    assert_same({k: shown[k] for k in ("xi_exp", "xi_2nd", "eta", "n_samples")},
                {k: cli[k] for k in ("xi_exp", "xi_2nd", "eta", "n_samples")})
    # and the status line shows them as the CLI's numbers, rounded
    status = correlations.status_label.text()
    for key, label in (("xi_exp", "ξ_exp"), ("xi_2nd", "ξ_2nd"), ("eta", "η")):
        if "mean" in cli[key]:
            assert f"{label} = {cli[key]['mean']:.3g} ± {cli[key]['err']:.2g}" in status, status
    if size >= 24:
        assert "mean" in cli["eta"], "the eta case must fit eta"


def test_correlations_panel_labels_the_analysis_with_the_cli_temperature(correlations, qtbot):
    """One temperature throughout: the panel's bin reports that T (and Onsager's xi at it), as the
    CLI does, not a sum of n copies of it divided by n."""
    size, temperature, seed, sweeps = 16, 2.6, 3, 400
    cli = _correlate_cli(size, temperature, seed, sweeps)
    params, configurations, _, _ = cli_stream(size, temperature, seed, sweeps)
    shown = feed(correlations, qtbot, params, configurations).to_json()
    assert_same({k: shown[k] for k in ("temperature", "xi_exact", "xi_2nd_expected")},
                {k: cli[k] for k in ("temperature", "xi_exact", "xi_2nd_expected")})
    assert correlations.latest_update.temperature == cli["temperature"]


# ----------------------------------------------------------------------------- block-spin RG

MCRG_SIZE, MCRG_SNAPSHOTS = 32, 2000  # the smallest MCRG the core accepts: L = 4 b^3, 2000 snapshots
MCRG_SEED = 0  # rg.estimate_tc's default: the panel passes none


@pytest.fixture
def blocks(qtbot):
    p = BlocksPanel()
    qtbot.addWidget(p)
    p.resize(900, 900)
    p.show()
    yield p
    p.shutdown()
    p.close()


def test_blocks_panel_mcrg_gives_the_cli_tc_and_nu(blocks, qtbot):
    cli = cli_json("rg", "--estimate-tc", "-L", MCRG_SIZE, "--block", blocks.block, "--rule", blocks.rule,
                   "--sweeps", MCRG_SNAPSHOTS, "--seed", MCRG_SEED)
    failed = []
    blocks.mcrg.failed.connect(failed.append)
    blocks.start_mcrg(size=MCRG_SIZE, snapshots=MCRG_SNAPSHOTS)
    wait_for(qtbot, lambda: blocks.mcrg_result is not None, "MCRG", lambda: failed and failed[0])
    shown = blocks.mcrg_result.to_json()
    assert blocks.state()["mcrg"] == shown
    keys = ("tc", "nu", "tc_systematic", "nu_systematic", "kc", "size", "block", "rule", "snapshots", "match",
            "eigen")
    assert_same({k: shown[k] for k in keys}, {k: cli[k] for k in keys})
    label = blocks.mcrg_label.text()
    assert f"T_c = {cli['tc']['mean']:.4f} ± {cli['tc']['err']:.4f}" in label, label
    assert f"ν = {cli['nu']['mean']:.3f} ± {cli['nu']['err']:.3f}" in label, label


# ----------------------------------------------------------------------------- network

@pytest.fixture
def network(qtbot):
    p = NetworkPanel()
    qtbot.addWidget(p)
    p.resize(1100, 800)
    p.show()
    messages = []
    p.set_status_callback(messages.append)
    p.messages = messages
    qtbot.waitUntil(lambda: p.device_text != "", timeout=WAIT_MS)  # torch imported on a worker
    yield p
    p.shutdown()
    p.close()


def _network_error(panel):
    return panel.status_label.text() or None


PL_SIZE, PL_T, PL_SAMPLES, PL_RANGE, PL_SEED = 8, 3.0, 500, 2, 5  # L <= 12: the full J_ij fit too


def test_network_hamiltonian_fit_gives_the_cli_couplings(network, qtbot):
    cli = cli_json("learn", "-L", PL_SIZE, "-T", PL_T, "--samples", PL_SAMPLES, "--range", PL_RANGE,
                   "--seed", PL_SEED, "--full")
    network.pl_seed.setValue(PL_SEED)
    assert network.fit_couplings(PL_SIZE, PL_T, PL_SAMPLES, PL_RANGE, True)
    wait_for(qtbot, lambda: network.pl_fit is not None and not network.pl_runner.running, "pseudo-likelihood fit",
             lambda: _network_error(network))
    shown = network.state()["pl_fit"]
    assert shown == network.pl_fit.to_json()
    keys = ("size", "temperature", "beta", "samples", "range", "couplings", "operators", "kernel", "exact")
    assert_same({k: shown[k] for k in keys}, {k: cli[k] for k in keys})
    full = network.full_fit
    mask = full.neighbour_mask()
    other = ~mask & ~np.eye(mask.shape[0], dtype=bool)
    panel_full = {"matrix": full.couplings.tolist(), "nn": float(full.couplings[mask].mean()),
                  "other": float(full.couplings[other].mean()),
                  "other_max_abs": float(np.abs(full.couplings[other]).max())}
    cli_full = {"matrix": cli["full"]["matrix"], "nn": cli["full"]["nn"]["mean"],
                "other": cli["full"]["other"]["mean"], "other_max_abs": cli["full"]["other_max_abs"]}
    # the full J_ij fit is an iterative solve over dense matrix products: BLAS may sum in another
    # order in another process (seen: relative 1e-12 to 7e-11 on entries ~1e-5 to 1e-3), so
    # the matrix is compared to 1e-9 of its largest entry; the summaries exactly as above
    matrix, cli_matrix = np.array(panel_full.pop("matrix")), np.array(cli_full.pop("matrix"))
    np.testing.assert_allclose(matrix, cli_matrix, rtol=0, atol=1e-9 * np.abs(cli_matrix).max())
    for key in panel_full:
        assert panel_full[key] == pytest.approx(cli_full[key], rel=1e-9), key
    nn = cli["couplings"]["nn"]
    assert f"K_nn = {nn['mean']:.4f} ± {nn['err']:.4f}" in network.pl_label.text(), network.pl_label.text()


CL_SIZE, CL_TEMPERATURES, CL_SAMPLES, CL_EPOCHS, CL_SEED = 8, (1.8, 2.4, 2.7), 100, 20, 5


def test_network_classifier_gives_the_cli_slopes(network, qtbot):
    temps = ",".join(f"{t:g}" for t in CL_TEMPERATURES)
    cli = cli_json("learn", "--classify", "-L", CL_SIZE, "--temperatures", temps, "--samples", CL_SAMPLES,
                   "--epochs", CL_EPOCHS, "--seed", CL_SEED)  # channels 4, kernel 2, square, held-out 0.25
    network.seed_spin.setValue(CL_SEED)  # the panel's one seed: the dataset's and the training's, as --seed
    assert network.generate_dataset(size=CL_SIZE, temperatures=", ".join(f"{t:g}" for t in CL_TEMPERATURES),
                                    samples=CL_SAMPLES)
    wait_for(qtbot, lambda: network.dataset is not None and not network.data_runner.running, "dataset",
             lambda: _network_error(network))
    network.channels_spin.setValue(4)
    network.kernel_combo.setCurrentText("2")
    network.activation_combo.setCurrentText("square")
    network.epochs_spin.setValue(CL_EPOCHS)
    assert network.train()
    wait_for(qtbot, lambda: network.analysis is not None and not network.train_runner.running, "training",
             lambda: _network_error(network))
    analysis = network.analysis.to_json()
    keys = ("accuracy", "logit_energy_r2", "reference_temperature", "classes")
    assert_same({k: analysis[k] for k in keys}, {k: cli[k] for k in keys})
    trained, counts = network.trained, network.dataset.class_counts().tolist()
    assert_same({"epochs": trained.epochs_run, "converged": trained.converged, "samples_per_class": counts,
                 "distilled": network.distilled.to_json()},
                {k: cli[k] for k in ("epochs", "converged", "samples_per_class", "distilled")})
    assert network.state()["distilled"] == network.distilled.to_json()
