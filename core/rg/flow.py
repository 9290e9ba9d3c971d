"""The measured RG flow at one temperature: block every snapshot k times and fit the renormalised
couplings of every level (core.rg.couplings), with <|m|> per level.

Level 0 is the simulated lattice: its fit recovers the input couplings (K_nn = J/T, h = h/T,
others 0). Below T_c the couplings grow from level to level (flow to order), above T_c they
shrink (flow to disorder); the first step moves weight from K_nn into K_nnn and K_p, so the
direction is best judged from level 1 on or by K_nn + 2 K_nnn.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import IsingLabError
from ..params import ModelParams
from ..stats import binned_mean
from ..tasks import TaskState
from .blocking import block_once, check_blocking, check_rule, max_levels
from .couplings import MIN_SIDE, CouplingFit, fit_couplings, neighbourhood_counts
from .moments import as_entry
from .sampling import AUTO, pick_algorithm, run_chain, thermalisation_sweeps

MIN_SWEEPS = 4  # the jackknife needs a few blocks
DEFAULT_MIN_SIDE = 4


def default_levels(size: int, block: int) -> int:
    """As many levels as L allows while a level keeps side >= 4 (couplings need >= 3)."""
    return max_levels(size, block, DEFAULT_MIN_SIDE)


@dataclass
class FlowLevel:
    level: int
    size: int
    couplings: CouplingFit
    m_abs: tuple[float, float]

    def to_json(self) -> dict:
        return {"level": self.level, "size": self.size, "couplings": self.couplings.to_json(),
                "m_abs": as_entry(*self.m_abs)}


@dataclass
class FlowResult:
    params: ModelParams
    block: int
    rule: str
    sweeps: int
    thermalize: int
    seconds: float
    levels: list = field(default_factory=list)

    def to_json(self) -> dict:
        p = self.params
        return {"size": p.size, "temperature": p.temperature, "coupling": p.coupling, "field": p.field,
                "algorithm": p.algorithm, "seed": p.seed, "block": self.block, "rule": self.rule,
                "sweeps": self.sweeps, "thermalize": self.thermalize, "seconds": self.seconds,
                "levels": [lv.to_json() for lv in self.levels]}

    def trajectory(self, name: str = "nn") -> np.ndarray:
        """(levels, 2) means and errors of one coupling along the flow (nan where diverging)."""
        return np.array([lv.couplings[name] for lv in self.levels])


class FlowAccumulator:
    """Per-level neighbourhood histograms of a stream of lattices, grouped in blocks of
    consecutive snapshots (for the jackknife), and the |m| series. Also used by the GUI panel.

    Blocks start one snapshot long; whenever there are more than `max_blocks`, neighbours are
    merged and the block length doubles, so any stream length keeps 16-32 equal blocks (the
    newest may be partial) and a fit costs at most max_blocks + 1 small optimisations.
    """

    def __init__(self, size: int, block: int, levels: int, rule: str = "majority", seed: int = 0,
                 max_blocks: int = 32):
        check_rule(rule)
        check_blocking(size, block, levels, MIN_SIDE)
        self.size, self.block, self.levels, self.rule, self.seed = size, block, levels, rule, seed
        self.max_blocks = max_blocks
        self.per_block = 1
        self.blocks = []  # list of (levels + 1, 2, 5, 5, 5) histograms
        self.m_abs = [[] for _ in range(levels + 1)]
        self.snapshots = 0

    def sides(self) -> list[int]:
        return [self.size // self.block ** k for k in range(self.levels + 1)]

    def add(self, lattices) -> None:
        """Add one snapshot, given as its list of levels [level 0, ..., level k]."""
        if self.snapshots % self.per_block == 0:
            if len(self.blocks) == self.max_blocks:
                self.blocks = [a + b for a, b in zip(self.blocks[0::2], self.blocks[1::2])]
                self.per_block *= 2
            self.blocks.append(np.zeros((self.levels + 1, 2, 5, 5, 5), np.int64))
        counts = self.blocks[-1]
        for k, lat in enumerate(lattices[: self.levels + 1]):
            neighbourhood_counts(lat, counts[k])
            self.m_abs[k].append(abs(int(lat.sum(dtype=np.int64))) / lat.size)
        self.snapshots += 1

    def levels_of(self, spins: np.ndarray, stream: int) -> list[np.ndarray]:
        out = [np.ascontiguousarray(spins, dtype=np.int8)]
        for k in range(1, self.levels + 1):
            out.append(block_once(out[-1], self.block, self.rule, self.seed, stream, k))
        return out

    def copy(self) -> "FlowAccumulator":
        """A snapshot of the data so far, to fit on another thread while this one grows."""
        other = FlowAccumulator.__new__(FlowAccumulator)
        other.__dict__.update(self.__dict__)
        other.blocks = [b.copy() for b in self.blocks]
        other.m_abs = [list(m) for m in self.m_abs]
        return other

    def fit(self) -> list[FlowLevel]:
        if len(self.blocks) < 2:
            raise IsingLabError("need at least 2 blocks of snapshots to fit couplings with error bars")
        stack = np.stack(self.blocks)
        out = []
        for k, side in enumerate(self.sides()):
            m = np.asarray(self.m_abs[k])
            m_abs = binned_mean(m) if m.size >= 2 else (float(m.mean()), float("nan"))
            out.append(FlowLevel(k, side, fit_couplings(stack[:, k]), m_abs))
        return out


def rg_flow(params: ModelParams, block: int = 2, levels: int | None = None, rule: str = "majority",
            sweeps: int = 1000, thermalize: int | None = None, algorithm: str = AUTO,
            task: TaskState | None = None) -> FlowResult:
    """Sample `sweeps` snapshots (one per sweep) at params and fit every level's couplings."""
    params = params.with_(algorithm=pick_algorithm(params, algorithm)).validated()
    if not isinstance(sweeps, int) or sweeps < MIN_SWEEPS:
        raise IsingLabError(f"the RG flow needs at least {MIN_SWEEPS} measured sweeps, got {sweeps!r}")
    check_blocking(params.size, block, 0)  # a bad b is reported before levels are defaulted
    if levels is None:
        levels = default_levels(params.size, block)
    acc = FlowAccumulator(params.size, block, levels, rule, params.seed)
    therm = thermalisation_sweeps(params.size, params.algorithm) if thermalize is None else thermalize
    task = task or TaskState()
    t0 = time.perf_counter()

    run_chain(params, sweeps, lambda spins, i: acc.add(acc.levels_of(spins, i)), thermalize=therm,
              task=task, report=lambda f, text: task.progress(0.98 * f, text))
    task.progress(0.99, "fitting couplings")
    result = FlowResult(params, block, rule, sweeps, therm, 0.0, acc.fit())
    result.seconds = time.perf_counter() - t0
    task.progress(1.0, "done")
    return result
