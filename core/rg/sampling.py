"""Monte Carlo snapshots for RG measurements: which sampler, how long to thermalise, chain seeds.

Driver and "auto" picker are core.sampling's: cluster updates (Wolff) decorrelate block-spin
observables near T_c in about one sweep, where local updates need ~L^2 sweeps; they need h = 0
and J != 0, otherwise heat-bath is used (which needs an even L).
"""
from __future__ import annotations

import numpy as np

from ..backends import make_sampler
from ..errors import IsingLabError
from ..kernels.rng import stream_key
from ..params import ModelParams
from ..sampling import AUTO, Chain, auto_algorithm

CHECK_EVERY = 64  # most snapshots between cancellation checks (fewer on large lattices)


def pick_algorithm(params: ModelParams, algorithm: str = AUTO) -> str:
    """core.sampling.auto_algorithm, refusing an odd L where it falls back to heat-bath."""
    picked = auto_algorithm(params, algorithm)
    if algorithm == AUTO and picked == "heatbath" and params.size % 2:
        raise IsingLabError(f"with a field (h = {params.field:g}) or J = 0 the RG flow samples with "
                            f"heat-bath, which needs an even L; got L = {params.size}")
    return picked


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
    """Thermalise, then call measure(spins, i) after every `sweeps_between` sweeps, n times
    (core.sampling.Chain; `spins` is one buffer, overwritten for each snapshot).

    `task` (core.tasks.TaskState) is only polled (`cancelled`): this may run on a helper thread,
    where progress callbacks must not be made; `done[0]` counts finished snapshots for the
    thread that reports progress. On the calling thread, `report(fraction, text)` (e.g.
    task.progress) is called between chunks of work (about 2^20 spin updates while
    thermalising, at most CHECK_EVERY snapshots apart while sampling).
    """
    params = params.validated()
    sampler = make_sampler(params, initial=initial)
    therm = thermalisation_sweeps(params.size, params.algorithm) if thermalize is None else thermalize
    chain = Chain(sampler, task, report, total=therm + n * sweeps_between)
    chain.thermalise(therm, chunk=max(1, (1 << 20) // params.size ** 2))
    spins = np.empty((params.size, params.size), np.int8)

    def snapshot(s, i):
        measure(s.spins(spins), i)
        if done is not None:
            done[0] += 1

    every = max(1, min(CHECK_EVERY, (1 << 18) // (params.size ** 2 * sweeps_between)))
    chain.measure(n, sweeps_between, snapshot, "sampling", check_every=every)
    return sampler
