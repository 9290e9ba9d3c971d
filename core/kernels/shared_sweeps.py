"""Checkerboard sweeps shared by several threads without barriers (see `rows_until`).

Why not numba's prange: each colour of each sweep is a parallel region ending in a barrier,
so whenever one thread is descheduled (the desktop app draws on the same cores) the others
wait for it. Here every thread takes whichever row is ready, so the others go on.

The helpers are plain Python threads calling a nogil kernel: the operating system runs them
at once whatever numba's threading layer does. They come from one pool for the process; a
helper that starts late (the pool busy with another caller) finds the rows done and returns,
and the calling thread can always finish a job alone.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .checkerboard import rows_until

PATIENCE = 4  # empty scans (a few microseconds each) before a waiting thread sleeps
# A thread waits for rows held by a thread that was descheduled, typically for milliseconds:
# it sleeps, from NAP_S doubling up to MAX_NAP_S while nothing moves, and gives its core away.
NAP_S, MAX_NAP_S = 50e-6, 400e-6
_pool: tuple[ThreadPoolExecutor, int] | None = None  # (pool, its number of threads)
_pool_lock = threading.Lock()
_failed: BaseException | None = None


def _helpers(count: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[1] < count:
            if _pool is not None:
                _pool[0].shutdown(wait=False)  # its idle threads end; running jobs finish
            _pool = (ThreadPoolExecutor(max_workers=count, thread_name_prefix="sweep-helper"), count)
        return _pool[0]


def _note_failure(job) -> None:
    """A helper that failed is reported by the next call (this call's thread finished alone)."""
    global _failed
    if not job.cancelled() and job.exception() is not None:
        _failed = job.exception()


def _work(*args) -> None:
    nap = NAP_S
    while status := rows_until(*args):
        nap = NAP_S if status == 2 else min(2 * nap, MAX_NAP_S)
        time.sleep(nap)


def shared_sweeps(sub, thr, key, sweep0: int, n_sweeps: int, heatbath: bool, threads: int,
                  out: np.ndarray | None = None, measure: bool = False):
    """n_sweeps sweeps of the split lattice `sub` on `threads` threads (this one included),
    with the same result as `checkerboard_sweeps`. With measure=True, also returns (bond
    sum, magnetisation) of the result and copies the merged lattice into `out` if given."""
    global _failed
    if _failed is not None:
        exc, _failed = _failed, None
        raise RuntimeError(f"a sweep helper thread failed: {exc}") from exc
    L = sub.shape[1]
    state = np.full(L, 4 * sweep0, np.int64)  # every row has done 2 * sweep0 steps
    bonds, mags = (np.zeros(L if measure else 0, np.int64) for _ in range(2))
    out = np.empty((0, 0), np.int8) if out is None else out
    args = (sub, thr, key, heatbath, state, 2 * (sweep0 + n_sweeps))
    tail = (PATIENCE, bonds, mags, out)
    strips = [(w * L) // threads for w in range(threads + 1)]
    # helpers get their own view of out: the caller may make out read-only once this returns,
    # and a helper that starts late must still find the argument types it was compiled for
    helper_tail = (PATIENCE, bonds, mags, out.view())
    for w in range(1, threads):
        job = _helpers(threads - 1).submit(_work, *args, strips[w], strips[w + 1], *helper_tail)
        job.add_done_callback(_note_failure)
    _work(*args, strips[0], strips[1], *tail)
    # No waiting for the helpers: once every row is done they cannot claim one, so they touch
    # nothing (waiting would make the end of each call a barrier again, for a helper that was
    # descheduled). A helper still scanning delays only the start of the next call's helper.
    return (int(bonds.sum()), int(mags.sum())) if measure else None
