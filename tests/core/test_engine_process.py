"""The engine in a child process behaves as the threaded engine does: requests arrive in order
with matching serials, snapshots and measurements come back intact, errors are told, and stop()
leaves no process or thread behind."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from isinglab.core import exact, stats
from isinglab.core.engine_process import ProcessEngine
from isinglab.core.engine_slots import SLOTS, Slots, check_room
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


def _reaped(pid: int) -> bool:
    """No process with this id is left, not even a zombie (Linux)."""
    return not os.path.exists(f"/proc/{pid}")


def _block_exists(name: str) -> bool:
    return os.path.exists(f"/dev/shm/{name}")


@pytest.mark.skipif(not os.path.isdir("/proc") or not os.path.isdir("/dev/shm"),
                    reason="checks /proc and /dev/shm (Linux)")
def test_a_killed_child_is_reaped_its_block_removed_and_it_restarts_where_it_was(engine):
    e = engine(ModelParams(size=48, temperature=2.5, seed=5))
    e.set_sweeps_per_chunk(3)
    e.set_running(True)
    assert e.request(temperature=2.0) == 1
    wait_for(lambda: e.latest().request_serial == 1 and e.latest().sweeps > 0)
    pid, block = e.pid, e._block
    assert _block_exists(block)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: e.died is not None, timeout=10)
    assert "killed by SIGKILL" in e.died and not e.running and e.error is None
    assert _reaped(pid), "the dead child is collected at once: no zombie"
    assert not _block_exists(block), "its shared memory is removed at once, not at exit"
    last = e.latest()
    assert e.request(temperature=2.2) == 2  # while dead: recorded, applied by the new child
    e.set_running(True)  # nothing to run: no exception
    e.step(1)
    e.restart()
    assert e.died is None and e.pid != pid
    wait_for(lambda: e.latest().serial > last.serial)
    first = e.latest()  # paused after a restart: the state it went on from
    assert first.serial == last.serial + 1 and first.request_serial == 2
    assert first.sweeps == last.sweeps and np.array_equal(first.spins, last.spins)
    assert first.params.temperature == pytest.approx(2.2)
    e.set_running(True)
    wait_for(lambda: e.latest().sweeps >= last.sweeps + 30)
    assert e.latest().sweeps % 3 == last.sweeps % 3, "sweeps per chunk carried over"
    assert e.request(size=32) == 3
    wait_for(lambda: e.latest().spins.shape == (32, 32) and e.latest().request_serial == 3)


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="checks /dev/shm (Linux)")
def test_a_child_stopped_past_the_deadline_leaves_no_block(engine):
    e = engine(ModelParams(size=512, temperature=2.3, seed=1))
    wait_for(lambda: e._block is not None)
    block = e._block
    e.set_sweeps_per_chunk(50000)  # a chunk of many seconds: stop() cannot wait for it
    e.set_running(True)
    time.sleep(0.5)  # the chunk has begun
    e.stop(timeout=0.2)
    assert not _block_exists(block), "removed here: the child was killed before it could"
    wait_for(lambda: e._process.exitcode is not None, timeout=10)
    assert e._process.exitcode < 0


SCRIPT = """
import os, signal, time
from isinglab.core.engine_process import ProcessEngine
from isinglab.core.params import ModelParams

def wait_for(cond):
    end = time.monotonic() + 60
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)

if __name__ == "__main__":
    e = ProcessEngine(ModelParams(size=64, temperature=2.3, seed=1))
    e.start()
    e.set_running(True)
    for size in (64, 96, 64):  # blocks replaced while they are attached here
        e.request(size=size)
        wait_for(lambda: e.latest().spins.shape[0] == size)
    os.kill(e.pid, signal.SIGKILL)  # a death ...
    wait_for(lambda: e.died is not None)
    e.restart()  # ... a restart ...
    e.set_running(True)
    wait_for(lambda: e.died is None and e._block is not None)
    e.stop(timeout=0.0)  # ... and a child killed at once: nothing left behind
    print("ok", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="the resource tracker is POSIX-only")
def test_no_shared_memory_is_left_to_the_resource_tracker():
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr
    assert "resource_tracker" not in res.stderr and "leaked" not in res.stderr, res.stderr


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
    slots = Slots(8)
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
        check_room(size)


def test_cluster_bits_round_trip_through_a_slot():
    slots = Slots(9)  # 81 sites: the packed mask ends inside a byte
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
    from isinglab.core.engine_child import SIM_NICE
    e = engine(ModelParams(size=32, temperature=2.5, seed=2))
    expected = min(os.getpriority(os.PRIO_PROCESS, 0) + SIM_NICE, 19)  # the child set it itself
    wait_for(lambda: os.getpriority(os.PRIO_PROCESS, e.pid) == expected)
