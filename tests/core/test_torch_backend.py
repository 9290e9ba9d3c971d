"""The torch backend: both paths (eager, fused) against the numba kernels and exact results, the
display path, and bad input. CPU here; tests marked `cuda` run only where a GPU is present.

The fused path draws the numba kernels' random numbers, so it must reproduce their trajectory bit
for bit; the eager path has its own stream and is checked statistically. Tolerances are 4 of the
run's own error bars, each bounded so that a vague run cannot pass.
"""
import numpy as np
import pytest
import torch

from isinglab.core import exact, observables, simulation
from isinglab.core.backends import make_sampler
from isinglab.core.backends import torch_backend as tb
from isinglab.core.backends import torch_device as td
from isinglab.core.backends.base import initial_spins
from isinglab.core.engine import Engine
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

TC = exact.TC
HAS_CUDA = torch.cuda.is_available()
cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU (torch.cuda.is_available() is False)")


@pytest.fixture(scope="module")
def fused_reason():
    """None when the fused path compiles here (once, at L = 4), else why it does not."""
    s = tb.TorchSampler(ModelParams(size=4), initial_spins(4), device="cpu", fused=True)
    s.sweep(1)
    return s.fallback_reason


@pytest.fixture(params=["eager", "fused"])
def path(request, monkeypatch, fused_reason):
    """Run the test on one torch path (make_sampler / simulation.run read the environment)."""
    if request.param == "fused" and fused_reason is not None:
        pytest.skip(f"fused path unavailable here: {fused_reason}")
    monkeypatch.setenv(tb.FUSED_ENV, "1" if request.param == "fused" else "0")
    return request.param


def torch_run(size, temperature, sweeps, algorithm="metropolis", seed=1, thermalize=2000, **kw):
    p = ModelParams(size=size, temperature=temperature, algorithm=algorithm, seed=seed, **kw)
    return simulation.run(p, sweeps=sweeps, thermalize=thermalize, measure_every=2, backend="torch",
                          device="cpu")


def assert_within(obs, name, exact_value, max_err, nsigma=4.0):
    mean, err = obs[name]["mean"], obs[name]["err"]
    assert err <= max_err, f"{name}: error bar {err:.3g} larger than the {max_err:.3g} the test needs"
    assert abs(mean - exact_value) <= nsigma * err + 1e-12, (
        f"{name}: {mean:.5f} ± {err:.5f} vs exact {exact_value:.5f} ({abs(mean - exact_value) / err:.1f} sigma)")


# ---- exact agreement with numba (fused) and internal consistency (both paths) ----

@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
@pytest.mark.parametrize("coupling,field", [(1.0, 0.0), (-1.0, 0.0), (1.0, -0.4)])
def test_fused_path_reproduces_numba_bit_for_bit(fused_reason, algorithm, coupling, field):
    if fused_reason is not None:
        pytest.skip(f"fused path unavailable here: {fused_reason}")
    p = ModelParams(size=16, temperature=2.4, coupling=coupling, field=field, algorithm=algorithm, seed=9)
    ref = make_sampler(p)
    s = tb.TorchSampler(p, ref.spins(), device="cpu", fused=True)
    for sweeps, temperature in ((3, 2.4), (40, 1.7)):  # a parameter change mid-run as well
        ref.set_params(p.with_(temperature=temperature))
        s.set_params(p.with_(temperature=temperature))
        ref.sweep(sweeps)
        s.sweep(sweeps)
        assert s.kernel_name == f"torch-cpu:{algorithm}:fused"
        np.testing.assert_array_equal(s.spins(), ref.spins())
        assert s.bond_sum_and_magnetisation() == ref.bond_sum_and_magnetisation()


@pytest.mark.parametrize("size", [4, 6, 10])
def test_measurement_and_layout_match_the_plain_lattice(size):
    """Odd L/2 included (L = 2, where left and right neighbours coincide, is below the smallest
    lattice the samplers accept: Metropolis is not exact there)."""
    spins = initial_spins(size, "random", seed=size)
    s = tb.TorchSampler(ModelParams(size=size), spins, device="cpu", fused=False)
    np.testing.assert_array_equal(s.spins(), spins)
    assert s.bond_sum_and_magnetisation() == tuple(int(v) for v in observables.bond_sum_and_magnetisation(spins))
    s.sweep(3)
    after = s.spins()
    assert set(np.unique(after)) <= {-1, 1}
    assert s.bond_sum_and_magnetisation() == tuple(int(v) for v in observables.bond_sum_and_magnetisation(after))
    out = np.zeros((size, size), dtype=np.int8)
    assert s.spins(out) is out and np.array_equal(out, after)


def test_eager_path_same_seed_same_trajectory():
    p = ModelParams(size=12, temperature=2.2, algorithm="heatbath", seed=4)
    a, b = (tb.TorchSampler(p, initial_spins(12, seed=1), device="cpu", fused=False) for _ in range(2))
    c = tb.TorchSampler(p.with_(seed=5), initial_spins(12, seed=1), device="cpu", fused=False)
    for s in (a, b, c):
        s.sweep(20)
    assert np.array_equal(a.spins(), b.spins())
    assert not np.array_equal(a.spins(), c.spins())
    assert a.kernel_name == "torch-cpu:heatbath:eager" and a.fallback_reason == "eager path requested"


def test_load_replaces_the_lattice():
    s = tb.TorchSampler(ModelParams(size=8), initial_spins(8), device="cpu", fused=False)
    s.load(initial_spins(8, "down"))
    assert s.energy_magnetisation() == (-2.0, -1.0)
    with pytest.raises(IsingLabError, match="does not match"):
        s.load(np.ones((6, 6), dtype=np.int8))


# ---- display ----

def test_display_spins_block_averages():
    L = 12
    spins = initial_spins(L, "random", seed=2)
    s = tb.TorchSampler(ModelParams(size=L), spins, device="cpu", fused=False)
    full = s.display_spins(max_side=L)
    assert full.dtype == np.uint8 and np.array_equal(full, np.where(spins > 0, 255, 0))
    for max_side, b in ((6, 2), (4, 3), (5, 3)):  # even blocks from the quarters, odd via the full lattice
        side = L // b
        blocks = spins[:side * b, :side * b].reshape(side, b, side, b).sum((1, 3)).astype(int)
        expected = np.floor(255 * (blocks + b * b) / (2 * b * b) + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(s.display_spins(max_side), expected)
    with pytest.raises(IsingLabError):
        s.display_spins(0)


# ---- bad input ----

def test_unsupported_algorithm_is_refused():
    with pytest.raises(IsingLabError, match="runs metropolis and heatbath"):
        make_sampler(ModelParams(size=8, algorithm="wolff"), backend="torch", device="cpu")


def test_cuda_request_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(IsingLabError, match="CUDA is not available"):
        make_sampler(ModelParams(size=8), backend="torch", device="cuda")
    s, note = tb.create_sampler(ModelParams(size=8), device="cuda", fallback=True, fused=False)
    assert s.device.type == "cpu" and "CUDA is not available" in note and "CPU" in note
    assert td.resolve_device("auto") == (torch.device("cpu"), None)
    with pytest.raises(IsingLabError, match="numba backend runs on the CPU"):
        make_sampler(ModelParams(size=8), device="cuda")
    with pytest.raises(IsingLabError, match="unknown device"):
        td.resolve_device("tpu")


def test_lattice_too_big_for_the_gpu_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2 * 10**9, 80 * 10**9))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    td.check_fits(8192, torch.device("cuda"))  # 0.7 GB: fits
    with pytest.raises(IsingLabError, match="needs about 2.7 GB of GPU memory, but Test GPU has 2.0 GB free"):
        td.check_fits(16384, torch.device("cuda"))


def test_cli_cuda_without_gpu_exits_2(capsys, monkeypatch):
    from isinglab.app.commands.entry import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["simulate", "--backend", "torch", "--device", "cuda", "--size", "8"]) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and len(err.strip().splitlines()) == 1


def test_cli_bench_and_simulate_with_torch(capsys, monkeypatch):
    import json

    from isinglab.app.commands.entry import main

    monkeypatch.setenv(tb.FUSED_ENV, "0")
    assert main(["bench", "--backend", "torch", "--device", "cpu", "-L", "32", "--seconds", "0.2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kernel"] == "torch-cpu:metropolis:eager" and data["flips_per_ns"] > 0
    assert main(["simulate", "--backend", "torch", "-L", "8", "--sweeps", "200", "--thermalize", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "torch"


def test_engine_runs_a_torch_sampler(monkeypatch):
    import time

    monkeypatch.setenv(tb.FUSED_ENV, "0")
    engine = Engine(ModelParams(size=16, temperature=2.0), backend="torch", device="cpu")
    try:
        engine.start()
        engine.set_running(True)
        deadline = time.monotonic() + 20
        while engine.latest().sweeps < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        snap = engine.latest()
        assert engine.error is None and snap.sweeps >= 5
        assert snap.kernel == "torch-cpu:metropolis:eager" and snap.spins.shape == (16, 16)
    finally:
        assert engine.stop(5.0)


# ---- physics, on each path ----

@pytest.mark.slow
@pytest.mark.parametrize("algorithm,coupling,field", [
    ("metropolis", 1.0, 0.0),
    ("heatbath", -1.0, 0.0),  # antiferromagnet: the same energy as the ferromagnet
    ("metropolis", 1.0, 0.1),  # a field shifts m (h = 0.1: m = 0.59, tunnelling frequent enough to sample)
])
def test_4x4_matches_enumeration(path, algorithm, coupling, field):
    """T = 2.0: sigma(e) <= 0.005 needs a third of the sweeps that T_c does (T_c is in the L = 16 test)."""
    temperature = 2.0
    res = torch_run(4, temperature, sweeps=32000, thermalize=1000, algorithm=algorithm, coupling=coupling,
                    field=field)
    ex = exact.enumeration_observables(4, temperature, coupling=coupling, field=field)
    obs = res.observables
    assert_within(obs, "e", ex["e"], max_err=0.005)
    assert_within(obs, "m2", ex["m2"], max_err=0.005)
    if coupling < 0:
        assert ex["e"] == pytest.approx(exact.enumeration_observables(4, temperature)["e"], abs=1e-12)
    if field:
        assert ex["m"] > 0.5
        assert_within(obs, "m", ex["m"], max_err=0.06)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm,temperature,sweeps", [
    ("metropolis", 2.0, 10000), ("metropolis", TC, 30000), ("metropolis", 3.0, 10000), ("heatbath", TC, 30000)])
def test_16x16_matches_kaufman(path, algorithm, temperature, sweeps):
    res = torch_run(16, temperature, sweeps=sweeps, algorithm=algorithm, seed=3)
    assert_within(res.observables, "e", exact.kaufman_energy(16, temperature), max_err=0.006)
    c_exact = exact.kaufman_specific_heat(16, temperature)
    assert_within(res.observables, "c", c_exact, max_err=0.06 * c_exact)


# ---- CUDA (skipped without a GPU) ----

@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
def test_cuda_fused_reproduces_numba_bit_for_bit(algorithm):
    p = ModelParams(size=64, temperature=2.3, field=0.1, algorithm=algorithm, seed=2)
    ref = make_sampler(p)
    s = tb.TorchSampler(p, ref.spins(), device="cuda", fused=True)
    s.sweep(30)
    ref.sweep(30)
    assert s.kernel_name == f"torch-cuda:{algorithm}:fused", s.fallback_reason
    np.testing.assert_array_equal(s.spins(), ref.spins())
    assert s.bond_sum_and_magnetisation() == ref.bond_sum_and_magnetisation()


@pytest.mark.cuda
@cuda
def test_cuda_eager_matches_kaufman_and_displays(monkeypatch):
    monkeypatch.setenv(tb.FUSED_ENV, "0")
    p = ModelParams(size=16, temperature=TC, seed=3)
    res = simulation.run(p, sweeps=40000, thermalize=2000, measure_every=2, backend="torch", device="cuda")
    assert_within(res.observables, "e", exact.kaufman_energy(16, TC), max_err=0.004)
    s = tb.TorchSampler(ModelParams(size=64), initial_spins(64, seed=1), device="cuda", fused=False)
    s.sweep(3)
    spins = s.spins()
    np.testing.assert_array_equal(s.display_spins(64), np.where(spins > 0, 255, 0))
    blocks = spins.reshape(16, 4, 16, 4).sum((1, 3)).astype(int)
    np.testing.assert_array_equal(s.display_spins(16), np.floor(255 * (blocks + 16) / 32 + 0.5).astype(np.uint8))
