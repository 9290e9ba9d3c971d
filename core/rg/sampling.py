"""Monte Carlo snapshots for RG measurements: which sampler, thermalisation, cancellation.

Cluster updates (Wolff) decorrelate block-spin observables near T_c in about one sweep, where
local updates need ~L^2 sweeps; they need h = 0 and J != 0, otherwise heat-bath is used.
"""
from __future__ import annotations

import numpy as np

from ..backends import make_sampler
from ..errors import IsingLabError
from ..kernels.rng import stream_key
from ..params import ModelParams
from ..tasks import Cancelled

AUTO = "auto"
CHECK_EVERY = 64  # most snapshots between cancellation checks (fewer on large lattices)


def pick_algorithm(params: ModelParams, algorithm: str = AUTO) -> str:
    if algorithm != AUTO:
        return algorithm
    if params.field == 0.0 and params.coupling != 0.0:
        return "wolff"
    if params.size % 2:
        raise IsingLabError(f"with a field (h = {params.field:g}) or J = 0 the RG flow samples with "
                            f"heat-bath, which needs an even L; got L = {params.size}")
    return "heatbath"


def thermalisation_sweeps(size: int, algorithm: str) -> int:
    """Wolff equilibrates in tens of sweeps at any T; local moves need ~L^2 / 4 near T_c
    (capped: the caller's --thermalize overrides this for huge lattices)."""
    if algorithm in ("wolff", "swendsen-wang"):
        return 200
    return int(min(max(500, size * size // 4), 20000))


def chain_seed(seed: int, *tags: int) -> int:
    """An independent sampler seed for one chain of one job, in [0, 2^63)."""
    key = int(stream_key(seed, 0x5A11))
    for t in tags:
        key = int(stream_key(key, t))
    return key >> 1


def run_chain(params: ModelParams, n: int, measure, thermalize: int | None = None,
              sweeps_between: int = 1, task=None, done: np.ndarray | None = None,
              initial: str = "random", report=None):
    """Thermalise, then call measure(spins, i) after every `sweeps_between` sweeps, n times.

    `task` (core.tasks.TaskState) is only polled (`cancelled`): this may run on a helper thread,
    where progress callbacks must not be made; `done[0]` counts finished snapshots for the
    thread that reports progress. On the calling thread, `report(fraction, text)` (e.g.
    task.progress) is called every few hundred milliseconds of work.
    """
    params = params.validated()
    sampler = make_sampler(params, initial=initial)
    therm = thermalisation_sweeps(params.size, params.algorithm) if thermalize is None else thermalize
    total = max(1, therm + n * sweeps_between)
    chunk = max(1, (1 << 20) // params.size ** 2)  # sweeps between checks while thermalising
    left = therm
    while left > 0:
        k = min(left, chunk)
        sampler.sweep(k)
        left -= k
        _check(task)
        if report is not None:
            report((therm - left) / total, "thermalising")
    spins = np.empty((params.size, params.size), np.int8)
    every = max(1, min(CHECK_EVERY, (1 << 18) // (params.size ** 2 * sweeps_between)))
    for i in range(n):
        sampler.sweep(sweeps_between)
        measure(sampler.spins(spins), i)
        if i % every == every - 1:
            _check(task)
            if done is not None:
                done[0] += every
            if report is not None:
                report((therm + (i + 1) * sweeps_between) / total, "sampling")
    return sampler


def _check(task) -> None:
    if task is not None and task.cancelled:
        raise Cancelled()
