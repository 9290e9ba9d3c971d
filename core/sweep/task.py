"""One sweep task: a pure function of its arguments that returns the e and m time series.

It runs on a dask worker (any process that can import isinglab), so it takes plain numbers and
returns plain arrays; the client that submitted it summarises and stores the result. The same
arguments give bit-identical arrays on any worker: the samplers are deterministic given their
seed, and e and m come from integer sums.
"""
from __future__ import annotations

import time

import numpy as np


def run_task(size: int, temperature: float, algorithm: str, seed: int, sweeps: int, thermalize: int,
             coupling: float = 1.0, field: float = 0.0) -> dict:
    """Thermalise `thermalize` sweeps from a random start, then record per-spin e and m after
    each of `sweeps` sweeps. Returns {"e", "m": float64 arrays, "seconds": wall time, "cpu_seconds":
    the CPU time of the thread that ran it (on a loaded machine the fairer measure of the work)}."""
    import numba

    from ..backends import make_sampler
    from ..params import ModelParams
    from ..sampling import drive

    t0, c0 = time.perf_counter(), time.thread_time()
    params = ModelParams(size=int(size), temperature=float(temperature), coupling=float(coupling),
                         field=float(field), algorithm=str(algorithm), seed=int(seed)).validated()
    e = np.empty(int(sweeps), dtype=np.float64)
    m = np.empty(int(sweeps), dtype=np.float64)

    def record(s, i):
        e[i], m[i] = s.energy_magnetisation()

    previous = numba.get_num_threads()
    numba.set_num_threads(1)  # one task per worker thread: no nested parallelism
    try:
        sampler = make_sampler(params, initial="random")
        drive(sampler, int(sweeps), 1, record, thermalize=int(thermalize))
    finally:
        numba.set_num_threads(previous)
    return {"e": e, "m": m, "seconds": time.perf_counter() - t0, "cpu_seconds": time.thread_time() - c0}
