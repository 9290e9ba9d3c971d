"""The engine in a child process behaves as the threaded engine does: requests arrive in order
with matching serials, snapshots and measurements come back intact, errors are told, and stop()
leaves no process or thread behind."""
import os
import signal
import time

import numpy as np
import pytest

from isinglab.core import exact, stats
from isinglab.core.engine_process import SLOTS, ProcessEngine, _Slots, _check_room
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

WAIT_S = 60.0


def numpy_energy(spins, coupling=1.0):
    """E/N by plain numpy (a reference independent of the kernels)."""
    s = spins.astype(int)
    return -coupling * ((s * np.roll(s, 1, 0)).sum() + (s * np.roll(s, 1, 1)).sum()) / s.size


def wait_for(cond, timeout=WAIT_S):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.005)


@pytest.fixture
def engine():
    engines = []

    def make(params, **kw):
        e = ProcessEngine(params, **kw)
        engines.append(e)
        e.start()
        return e

    yield make
    for e in engines:
        assert e.stop(timeout=2.0)
        assert not e.alive


def test_latest_is_there_before_the_child_runs():
    p = ModelParams(size=32, temperature=2.5, seed=4)
    e = ProcessEngine(p)  # not started
    snap = e.latest()
    assert snap.spins.shape == (32, 32) and not snap.spins.flags.writeable
    assert snap.e == pytest.approx(numpy_energy(snap.spins)) and snap.m == pytest.approx(snap.spins.mean())
    assert e.stop() and not e.alive


def test_requests_apply_in_order_with_their_serials(engine):
    e = engine(ModelParams(size=64, temperature=2.0, seed=1))
    e.set_running(True)
    serials = [e.request(temperature=2.0 + 0.1 * k) for k in range(1, 6)]
    assert serials == [1, 2, 3, 4, 5]
    wait_for(lambda: e.latest().request_serial >= 5)
    assert e.latest().params.temperature == pytest.approx(2.5)
    assert e.params.temperature == pytest.approx(2.5)
    with pytest.raises(IsingLabError):
        e.request(temperature=-1.0)  # refused here, in the caller, and never sent
    assert e.request(size=128) == 6
    wait_for(lambda: e.latest().spins.shape == (128, 128))
    e.reset("up")
    wait_for(lambda: e.latest().request_serial >= 7)
    e.set_running(False)
    time.sleep(0.2)
    before = e.latest().sweeps
    e.step(3)
    wait_for(lambda: e.latest().sweeps == before + 3)


def test_snapshots_match_their_measurements_and_physics(engine):
    t = 3.0
    e = engine(ModelParams(size=16, temperature=t, seed=11), settle_sweeps=500)
    e.set_sweeps_per_chunk(1)
    e.set_running(True)
    samples, end = [], time.monotonic() + WAIT_S
    while len(samples) < 20000 and time.monotonic() < end:
        samples += [s for s in e.drain_measurements() if s.equilibrated]
        snap = e.latest()
        assert snap.e == pytest.approx(numpy_energy(snap.spins))  # the energy of its own spins
        time.sleep(0.002)
    sweeps = np.array([m.sweeps for m in samples])
    assert len(samples) >= 20000 and np.all(np.diff(sweeps) == 1), "every measurement arrives once"
    mean, err = stats.binned_mean(np.array([m.e for m in samples]))
    assert err < 0.003 and abs(mean - exact.kaufman_energy(16, t)) < 4 * err


def test_cluster_masks_travel_with_the_snapshot(engine):
    e = engine(ModelParams(size=64, temperature=2.3, algorithm="wolff", seed=2))
    e.set_running(True)
    wait_for(lambda: e.latest().cluster is not None)
    snap = e.latest()
    assert snap.cluster.shape == (64, 64) and snap.cluster.dtype == np.bool_ and snap.cluster.any()
    assert snap.kernel == "numba:wolff"


def test_a_failing_child_is_reported(engine):
    e = engine(ModelParams(size=32, temperature=2.5))
    e.set_running(True)
    wait_for(lambda: e.latest().sweeps > 0)
    os.kill(e._process.pid, signal.SIGKILL)
    wait_for(lambda: e.error is not None, timeout=10)
    assert "simulation process ended unexpectedly" in e.error and not e.running
    e.request(temperature=2.0)  # controls keep working (nothing to apply them to): no exception
    e.set_running(True)
    e.step(1)


def test_torch_without_cuda_falls_back_with_a_notice(engine):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: no fallback to observe")
    e = engine(ModelParams(size=32, temperature=2.5, seed=3))
    e.request_backend("torch", "cuda")
    e.set_running(True)
    wait_for(lambda: e.latest().kernel.startswith("torch"), timeout=120)
    wait_for(lambda: e.notice is not None, timeout=10)
    assert "CUDA" in e.notice and e.backend == ("torch", "cpu")


def test_a_slot_rewritten_during_a_copy_is_refused():
    slots = _Slots(8)
    try:
        a = np.ones((8, 8), np.int8)
        k = slots.write(5, a, None)
        got = slots.read(k, 5, False)
        assert got is not None and np.array_equal(got[0], a) and got[1] is None
        slots.write(5 + SLOTS, -a, None)  # the same slot now holds a later snapshot
        assert slots.read(k, 5, False) is None
    finally:
        slots.close(unlink=True)


def test_a_lattice_too_big_for_shared_memory_is_refused_with_a_message():
    import shutil
    free = shutil.disk_usage("/dev/shm").free
    size = 1 << 20  # 1 TB of slots: more than any /dev/shm here
    assert free < 3 * size * size
    with pytest.raises(IsingLabError, match="not enough shared memory for L = 1048576"):
        _check_room(size)


def test_cluster_bits_round_trip_through_a_slot():
    slots = _Slots(9)  # 81 sites: the packed mask ends inside a byte
    try:
        rng = np.random.default_rng(0)
        spins = rng.choice(np.array([-1, 1], np.int8), size=(9, 9))
        mask = rng.random((9, 9)) < 0.3
        k = slots.write(7, spins, mask)
        got_spins, got_mask = slots.read(k, 7, True)
        assert np.array_equal(got_spins, spins) and np.array_equal(got_mask, mask)
    finally:
        slots.close(unlink=True)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="process priorities are POSIX")
def test_the_simulation_runs_below_the_window_priority(engine):
    from isinglab.core.engine_process import SIM_NICE
    e = engine(ModelParams(size=32, temperature=2.5, seed=2))
    expected = min(os.getpriority(os.PRIO_PROCESS, 0) + SIM_NICE, 19)  # the child set it itself
    wait_for(lambda: os.getpriority(os.PRIO_PROCESS, e.pid) == expected)
