"""The engine's chunk path: the fused sweep + measurement + snapshot call equals its parts, and
the measurements the engine hands to the GUI reproduce Kaufman's exact energy."""
import time

import numpy as np
import pytest

from isinglab.core import exact, stats
from isinglab.core.backends import make_sampler
from isinglab.core.engine import Engine
from isinglab.core.params import ModelParams


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "wolff", "swendsen-wang"])
@pytest.mark.parametrize("size", [16, 256])  # one thread and the parallel kernels
def test_advance_equals_sweep_measure_copy(algorithm, size):
    p = ModelParams(size=size, temperature=2.4, algorithm=algorithm, seed=5)
    fused, parts = make_sampler(p), make_sampler(p)
    for n, copy in ((3, True), (2, False), (4, True)):
        flips, e, m, spins = fused.advance(n, copy)
        assert flips == parts.sweep(n)
        assert (e, m) == parts.energy_magnetisation()
        if copy:
            np.testing.assert_array_equal(spins, parts.spins())
        else:
            assert spins is None
    assert fused.sweeps_done == parts.sweeps_done == 9


def _collect(engine, n, timeout=120.0):
    out, end = [], time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        out += [s for s in engine.drain_measurements() if s.equilibrated]
        time.sleep(0.005)
    return out[:n]


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_engine_measurements_match_kaufman(algorithm):
    t = 3.0
    engine = Engine(ModelParams(size=16, temperature=t, algorithm=algorithm, seed=11), settle_sweeps=500)
    engine.set_sweeps_per_chunk(1)  # one measurement per sweep
    engine.start()
    engine.set_running(True)
    try:
        samples = _collect(engine, 30000)
    finally:
        assert engine.stop(timeout=2.0)
    assert len(samples) == 30000
    sweeps = np.array([s.sweeps for s in samples])
    assert np.all(np.diff(sweeps) == 1), "one measurement per sweep, none lost"
    mean, err = stats.binned_mean(np.array([s.e for s in samples]))
    assert err < 0.002
    assert abs(mean - exact.kaufman_energy(16, t)) < 4 * err


def test_a_step_while_paused_is_published():
    engine = Engine(ModelParams(size=32, temperature=2.5, seed=2))
    engine.start()
    try:
        for _ in range(3):
            before = engine.latest().sweeps
            engine.step(1)
            end = time.monotonic() + 10
            while engine.latest().sweeps != before + 1 and time.monotonic() < end:
                time.sleep(0.001)
            assert engine.latest().sweeps == before + 1
    finally:
        engine.stop()


def test_a_running_change_shows_first_in_a_frame_simulated_with_it():
    """While running, the first snapshot that carries a request has sweeps done after it was
    applied (the slider latency counts to a frame simulated at the new temperature)."""
    published = []
    engine = Engine(ModelParams(size=64, temperature=2.5, seed=3),
                    on_publish=lambda eng, snap: published.append(snap))
    engine.set_sweeps_per_chunk(2)
    engine.start()
    engine.set_running(True)
    try:
        serials, temperatures = [], [2.0 + 0.1 * k for k in range(5)]
        for t in temperatures:
            serials.append(engine.request(temperature=t))
            time.sleep(0.02)
        end = time.monotonic() + 10
        while published[-1].request_serial < serials[-1] and time.monotonic() < end:
            time.sleep(0.001)
    finally:
        engine.stop()
    for serial in serials:
        first = next(i for i, snap in enumerate(published) if snap.request_serial >= serial)
        assert first > 0
        assert published[first].sweeps >= published[first - 1].sweeps + 2, \
            "published before any sweep with the new parameters"
        shown = published[first]
        assert shown.params.temperature == temperatures[serials.index(shown.request_serial)]


def test_a_paused_change_is_published_at_once():
    engine = Engine(ModelParams(size=32, temperature=2.5, seed=2))
    engine.start()
    try:
        serial = engine.request(temperature=3.0)
        end = time.monotonic() + 10
        while engine.latest().request_serial < serial and time.monotonic() < end:
            time.sleep(0.001)
        snap = engine.latest()
        assert snap.request_serial == serial and snap.params.temperature == 3.0 and snap.sweeps == 0
    finally:
        engine.stop()
