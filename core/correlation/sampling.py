"""`sample`: simulate one (L, T) with core.sampling's driver, measuring G every ~tau_int sweeps."""
from __future__ import annotations

import numpy as np

from ..backends import make_sampler
from ..errors import IsingLabError
from ..exact import critical_temperature
from ..params import ModelParams
from ..sampling import Chain
from ..stats import tau_int
from ..tasks import TaskState
from .accumulate import MIN_SAMPLES
from .analysis import CorrelationResult
from .series import CorrelationSeries


def _initial_state(params: ModelParams) -> str:
    """Ordered start below T_c (no long-lived domain walls), random otherwise."""
    if params.coupling > 0.0 and params.temperature < critical_temperature(params.coupling):
        return "down" if params.field < 0.0 else "up"
    return "random"


def sample(params: ModelParams, sweeps: int = 4000, thermalize: int | None = None, radial: bool = True,
           task: TaskState | None = None) -> tuple[CorrelationResult, dict]:
    """Simulate, measure G every ~tau_int sweeps, analyse; returns (result, run info).

    A pilot run after thermalisation measures tau_int of |m| (in sweeps); measurements are then
    spaced by max(1, round(tau_int)) sweeps, within the `sweeps` measured sweeps.
    """
    params = params.validated()
    if params.coupling < 0.0 and params.size % 2:
        raise IsingLabError(f"J < 0 correlations use the staggered spins, which need an even L, got {params.size}")
    if not isinstance(sweeps, int) or sweeps < MIN_SAMPLES:
        raise IsingLabError(f"sweeps must be an integer >= {MIN_SAMPLES}, got {sweeps!r}")
    therm = max(200, sweeps // 10) if thermalize is None else int(thermalize)
    task = task or TaskState()
    sampler = make_sampler(params, initial=_initial_state(params))
    pilot = min(2000, max(100, sweeps // 10))
    chain = Chain(sampler, task, task.progress, total=therm + pilot + sweeps)
    chain.thermalise(therm)
    m_abs = np.empty(pilot)

    def record_m_abs(s, i):
        m_abs[i] = abs(s.energy_magnetisation()[1])

    chain.measure(pilot, 1, record_m_abs, "measuring tau", check_every=64)
    tau = tau_int(m_abs).tau
    every = max(1, min(round(tau), sweeps // MIN_SAMPLES))
    series = CorrelationSeries(params.size, radial)
    chain.measure(sweeps // every, every, lambda s, i: series.add(s.spins(), params.coupling), "measuring G(r)",
                  check_every=16)
    task.progress(1.0, "analysing")
    result = series.result(params.temperature, params.coupling, params.field)
    info = {"algorithm": params.algorithm, "sweeps": sweeps, "thermalize": therm, "pilot_sweeps": pilot,
            "tau_int_sweeps": float(tau), "measure_every": every}
    return result, info
