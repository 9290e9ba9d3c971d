"""A measured Monte Carlo run: thermalise, sweep, measure, summarise with error bars."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backends import make_sampler
from .errors import IsingLabError
from .observables import MeasurementBuffer
from .params import ModelParams
from .sampling import drive
from .tasks import TaskState


@dataclass
class RunResult:
    params: ModelParams
    sweeps: int
    thermalize: int
    observables: dict
    tau_int: dict
    flips_per_ns: float
    backend: str
    spins: np.ndarray
    e: np.ndarray
    m: np.ndarray

    def to_json(self) -> dict:
        p = self.params
        return {
            "size": p.size, "temperature": p.temperature, "coupling": p.coupling, "field": p.field,
            "algorithm": p.algorithm, "backend": self.backend, "sweeps": self.sweeps,
            "thermalize": self.thermalize, "seed": p.seed,
            "observables": self.observables, "tau_int": self.tau_int,
            "flips_per_ns": self.flips_per_ns,
        }


def check_sweeps(name: str, n) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise IsingLabError(f"{name} must be a non-negative integer, got {n!r}")
    return n


def run(params: ModelParams, sweeps: int = 1000, thermalize: int = 200, initial: str = "random",
        measure_every: int = 1, task: TaskState | None = None, backend: str = "numba",
        device: str | None = None) -> RunResult:
    """Thermalise, then measure e and m every `measure_every` sweeps over `sweeps` sweeps
    (core.sampling.drive; flips_per_ns times the measured sweeps only)."""
    check_sweeps("sweeps", sweeps)
    check_sweeps("thermalize", thermalize)
    if sweeps < 2 * measure_every:
        raise IsingLabError(f"need at least {2 * measure_every} measured sweeps for error bars, got {sweeps}")
    task = task or TaskState()
    sampler = make_sampler(params, initial=initial, backend=backend, device=device)
    buf = MeasurementBuffer()
    chain = drive(sampler, sweeps // measure_every, measure_every,
                  lambda s, i: buf.append(*s.energy_magnetisation()), thermalize=thermalize, task=task,
                  report=task.progress)
    task.progress(1.0, "done")
    summary = buf.summarise(params.size, params.temperature)
    return RunResult(
        params=sampler.params, sweeps=sweeps, thermalize=thermalize,
        observables={k: summary[k] for k in ("e", "m", "m_abs", "m2", "m4", "c", "chi", "u4")},
        tau_int=summary["tau_int"], flips_per_ns=chain.flips / max(chain.seconds, 1e-12) / 1e9,
        backend=sampler.backend, spins=sampler.spins(), e=buf.e.copy(), m=buf.m.copy(),
    )

