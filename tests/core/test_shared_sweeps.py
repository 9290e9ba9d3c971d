"""Barrier-free shared sweeps: bit-for-bit the reference checkerboard kernel for any number of
threads, the measurement step, one thread finishing alone, and the atomics they rest on."""
import threading

import numpy as np
import pytest
from numba import njit

from isinglab.core.kernels import checkerboard as cb
from isinglab.core.kernels.atomics import compare_and_swap, load_acquire, store_release
from isinglab.core.kernels.rng import stream_key
from isinglab.core.kernels.shared_sweeps import shared_sweeps


def _lattice(size, seed=3):
    rng = np.random.default_rng(seed)
    return cb.split(np.where(rng.random((size, size)) < 0.5, 1, -1).astype(np.int8))


def _table(heatbath, temperature=2.3):
    return (cb.heatbath_table if heatbath else cb.metropolis_table)(1 / temperature, 1.0, 0.1)


KEY = stream_key(11, 1)


@pytest.mark.parametrize("heatbath", [False, True])
@pytest.mark.parametrize("threads", [1, 2, 3, 5])
@pytest.mark.parametrize("size", [16, 130])
def test_equals_the_reference_kernel(heatbath, threads, size):
    thr = _table(heatbath)
    ref, shared = _lattice(size), _lattice(size)
    for sweep0, n in ((0, 1), (1, 9), (10, 4)):
        cb.checkerboard_sweeps(ref, thr, KEY, sweep0, n, heatbath)
        shared_sweeps(shared, thr, KEY, sweep0, n, heatbath, threads)
        np.testing.assert_array_equal(shared, ref)
    assert not np.array_equal(ref, _lattice(size)), "the sweeps changed the lattice"


def test_many_threads_many_sweeps_no_race():
    """More threads than cores, strips of two rows: any ordering error shows up as a difference."""
    thr = _table(False, temperature=2.27)
    ref, shared = _lattice(32, seed=8), _lattice(32, seed=8)
    cb.checkerboard_sweeps(ref, thr, KEY, 0, 300, False)
    for start in range(0, 300, 30):
        shared_sweeps(shared, thr, KEY, start, 30, False, 16)
    np.testing.assert_array_equal(shared, ref)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_measurement_step(threads):
    thr = _table(True)
    ref, shared = _lattice(64), _lattice(64)
    cb.checkerboard_sweeps(ref, thr, KEY, 0, 5, True)
    out = np.zeros((64, 64), np.int8)
    b, m = shared_sweeps(shared, thr, KEY, 0, 5, True, threads, out, measure=True)
    assert (b, m) == tuple(int(v) for v in cb.bond_sum_and_magnetisation(ref))
    np.testing.assert_array_equal(out, cb.merge(ref, np.empty((64, 64), np.int8)))
    assert shared_sweeps(shared, thr, KEY, 5, 1, True, threads) is None


def _rows_until(sub, state, phases, lo, hi, patience=4, out=None):
    empty = np.zeros(0, np.int64)
    return cb.rows_until(sub, _table(False), KEY, False, state, phases, lo, hi, patience,
                         empty, empty, np.empty((0, 0), np.int8) if out is None else out)


def test_one_thread_finishes_the_others_rows():
    """A helper that never runs (descheduled, or queued behind another caller) holds nothing up."""
    ref, sub = _lattice(32), _lattice(32)
    cb.checkerboard_sweeps(ref, _table(False), KEY, 0, 6, False)
    state = np.zeros(32, np.int64)
    assert _rows_until(sub, state, 12, 0, 8) == 0  # its own rows are 0..7 of 32
    assert np.all(state == 2 * 12)
    np.testing.assert_array_equal(sub, ref)


def test_a_held_row_blocks_only_what_depends_on_it():
    sub = _lattice(32)
    state = np.zeros(32, np.int64)
    state[20] = 1  # another thread has claimed row 20 for its first step and not finished
    assert _rows_until(sub, state, 6, 0, 32) == 2  # moved rows, then gave up after `patience` idle scans
    assert _rows_until(sub, state, 6, 0, 32) == 1  # nothing left it can do
    done = state >> 1
    assert done[20] == 0 and state[20] == 1, "a claimed row is left to its owner"
    distance = np.minimum(np.abs(np.arange(32) - 20), 32 - np.abs(np.arange(32) - 20))
    np.testing.assert_array_equal(done, np.minimum(distance, 6))  # the light cone of row 20


@njit
def _atomic_ops(a):
    ok1 = compare_and_swap(a, 0, 5, 7)
    ok2 = compare_and_swap(a, 0, 5, 9)
    store_release(a, 1, 42)
    return ok1, ok2, load_acquire(a, 0), load_acquire(a, 1)


def test_atomics():
    a = np.array([5, 0], np.int64)
    assert _atomic_ops(a) == (True, False, 7, 42)
    assert list(a) == [7, 42]


@njit(nogil=True)
def _claim_many(counter, slots, n):
    """Each of n increments claims a slot by compare-and-swap on a shared counter."""
    taken = 0
    while taken < n:
        c = load_acquire(counter, 0)
        if compare_and_swap(counter, 0, c, c + 1):
            slots[c] += 1
            taken += 1
    return taken


def test_compare_and_swap_is_atomic_across_threads():
    counter, slots = np.zeros(1, np.int64), np.zeros(4 * 20000, np.int64)
    workers = [threading.Thread(target=_claim_many, args=(counter, slots, 20000)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert counter[0] == 80000
    assert np.all(slots == 1), "every slot claimed exactly once"
