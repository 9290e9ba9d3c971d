"""The block-spin panel's worker side, Qt-free: block levels of a snapshot, the live flow
measurement of the current parameters (equilibrium snapshots only) and the reference flows."""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from isinglab.core import exact
from isinglab.core.params import ModelParams
from isinglab.core.rg import FlowAccumulator, block_levels, max_levels, rg_flow
from isinglab.core.rg.couplings import COUPLINGS, MIN_SIDE
from isinglab.core.tasks import Cancelled, TaskState

MAX_SHOWN = 5  # lattice + 4 block levels
FIT_INTERVAL_S = 1.0
REF_TEMPERATURES = (2.1, exact.TC, 2.5, 3.0)
REF_SIZE = {2: 64, 3: 81}  # reference flows: 4 levels for b = 2, 3 for b = 3
REF_SWEEPS = 300


def level_images(spins: np.ndarray, block: int, rule: str, levels: int, stream: int):
    """(levels as int8 arrays, their uint8 images: 1 = up, 0 = down). Runs on the worker."""
    lattices = block_levels(spins, block, levels, rule, 0, stream)
    return lattices, [np.greater(lat, 0).view(np.uint8) for lat in lattices]


def shown_levels(size: int, block: int) -> int:
    return min(MAX_SHOWN - 1, max_levels(size, block, 1))


class FlowKey(NamedTuple):
    """What a flow measurement belongs to: a change of any field starts a new one."""

    size: int
    temperature: float
    coupling: float
    field: float
    rule: str
    block: int

    def model(self) -> dict:
        return dict(self._asdict())


def couplings_table(levels) -> dict:
    """Per RG level: the fitted couplings with errors and <|m|> (the rg_couplings data set)."""
    out = {"level": [lv.level for lv in levels], "size": [lv.size for lv in levels]}
    for name in COUPLINGS:
        pairs = [lv.couplings[name] for lv in levels]
        out[name] = [v for v, _ in pairs]
        out[f"{name}_err"] = [e for _, e in pairs]
    out["m_abs"] = [lv.m_abs[0] for lv in levels]
    out["m_abs_err"] = [lv.m_abs[1] for lv in levels]
    return out


class LiveFlow:
    """Worker-thread state: the flow measurement of the current parameters."""

    def __init__(self):
        self.key = None
        self.acc: FlowAccumulator | None = None
        self.last_fit = 0.0

    def add(self, key, lattices, size, block, rule, equilibrium: bool):
        """Count this snapshot if it is an equilibrium state; returns a copy to fit when one
        is due, else None."""
        if key != self.key:
            self.key, self.last_fit = key, 0.0
            fit_levels = min(len(lattices) - 1, max_levels(size, block, MIN_SIDE))
            self.acc = FlowAccumulator(size, block, fit_levels, rule, max_blocks=16) if size >= MIN_SIDE else None
        if self.acc is None or not equilibrium:
            return None
        self.acc.add(lattices)
        now = time.monotonic()
        if len(self.acc.blocks) >= 4 and now - self.last_fit >= FIT_INTERVAL_S:
            self.last_fit = now
            return self.acc.copy()
        return None


def fit_job(key, acc: FlowAccumulator):
    return key, acc.snapshots, acc.fit()


def reference_job(rule: str, block: int, task: TaskState):
    """Flows at REF_TEMPERATURES (a few seconds); None when cancelled."""
    out = []
    try:
        for t in REF_TEMPERATURES:
            params = ModelParams(size=REF_SIZE[block], temperature=t, seed=7)
            out.append(rg_flow(params, block, None, rule, REF_SWEEPS, task=task))
    except Cancelled:
        return None
    return (rule, block), out
