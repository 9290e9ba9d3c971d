"""The one thermalise-and-measure driver and the one "auto" algorithm picker, so that simulate,
correlate, the RG flow / MCRG and the learning datasets sample the same way.

`Chain` drives a sampler through phases: `thermalise(sweeps)` (sweeps in chunks, a check after
each), then one or more `measure(n, every, callback)` phases (every `every` sweeps,
callback(sampler, i); a check every `check_every` measurements). A check polls the TaskState for
cancellation (raises core.tasks.Cancelled) and then calls `report(fraction, text)` if one was
given (task.progress on the job's own thread; None on helper threads, which must not report).
Chunking and checks never change what is sampled: every sampler is chunking-independent
(sweep(a); sweep(b) == sweep(a + b), see backends), so a seed gives the same numbers.
"""
from __future__ import annotations

import importlib.util
import time
from typing import Callable, Optional

from .params import ModelParams
from .tasks import Cancelled, TaskState

AUTO = "auto"
CHECK_SPIN_UPDATES = 1 << 22  # spin updates between checks by default (a few ms of kernel time)

Report = Optional[Callable[[float, str], None]]


# ----------------------------------------------------------------------------- the "auto" picker

def cluster_backend_available() -> bool:
    return importlib.util.find_spec("isinglab.core.backends.numba_cluster") is not None


def auto_algorithm(params: ModelParams, algorithm: str = AUTO, window: tuple | None = None,
                   local: str = "heatbath") -> str:
    """`algorithm` unless it is "auto"; then Wolff where a cluster update applies, else `local`.

    Wolff applies where h = 0, J != 0 and the cluster backend is installed; it decorrelates in
    about one sweep near T_c, where local updates need ~L^2. With `window` = (lo, hi) it is used
    only for lo <= T / (|J| T_c) <= hi (elsewhere local moves decorrelate fast and cost less).
    """
    if algorithm != AUTO:
        return algorithm
    cluster = params.field == 0.0 and params.coupling != 0.0
    if cluster and window is not None:
        from .exact import TC  # scipy.integrate: imported only when a window is asked for
        lo, hi = window
        cluster = lo <= params.temperature / (abs(params.coupling) * TC) <= hi
    return "wolff" if cluster and cluster_backend_available() else local


# ----------------------------------------------------------------------------- the driver

def sweeps_per_check(n_spins: int, every: int = 1) -> int:
    """Sweeps (or measurements `every` sweeps apart) between checks: ~CHECK_SPIN_UPDATES updates."""
    return max(1, CHECK_SPIN_UPDATES // (n_spins * every))


class Chain:
    """One sampler thermalised and measured, with cooperative cancellation and progress.

    task: polled (`cancelled`) at every check; report(fraction, text): called after the poll,
    fraction = sweeps done / `total` (the caller's plan of the whole run). `flips` and
    `seconds` add up sweep()'s return values and wall time over the measurement phases.
    """

    def __init__(self, sampler, task: TaskState | None = None, report: Report = None, total: int = 1):
        self.sampler = sampler
        self.task = task
        self.report = report
        self.total = max(1, int(total))
        self.done = 0  # sweeps
        self.flips = 0
        self.seconds = 0.0

    def check(self, text: str) -> None:
        if self.task is not None and self.task.cancelled:
            raise Cancelled()
        if self.report is not None:
            self.report(self.done / self.total, text)

    def thermalise(self, sweeps: int, text: str = "thermalising", chunk: int | None = None) -> None:
        """`sweeps` sweeps in chunks of `chunk` (default ~CHECK_SPIN_UPDATES updates), a check after each."""
        chunk = sweeps_per_check(self.sampler.n_spins) if chunk is None else max(1, int(chunk))
        left = sweeps
        while left > 0:
            k = min(left, chunk)
            self.sampler.sweep(k)
            left -= k
            self.done += k
            self.check(text)

    def measure(self, n: int, every: int, callback, text: str = "measuring",
                check_every: int | None = None) -> None:
        """n times: `every` sweeps, then callback(sampler, i); a check after every `check_every`-th
        measurement (default: ~CHECK_SPIN_UPDATES spin updates apart)."""
        if check_every is None:
            check_every = sweeps_per_check(self.sampler.n_spins, every)
        sampler = self.sampler
        for i in range(n):
            t0 = time.perf_counter()
            self.flips += sampler.sweep(every)
            self.seconds += time.perf_counter() - t0
            self.done += every
            callback(sampler, i)
            if (i + 1) % check_every == 0:
                self.check(text)


def drive(sampler, n: int, every: int, callback, thermalize: int = 0, task: TaskState | None = None,
          report: Report = None, check_every: int | None = None, chunk: int | None = None,
          text: str = "measuring") -> Chain:
    """Thermalise `thermalize` sweeps, then call callback(sampler, i) after every `every` sweeps,
    n times; progress runs over the thermalize + n * every sweeps. Returns the Chain (flips, seconds)."""
    chain = Chain(sampler, task, report, thermalize + n * every)
    chain.thermalise(thermalize, chunk=chunk)
    chain.measure(n, every, callback, text, check_every)
    return chain
