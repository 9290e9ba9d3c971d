"""The correlations panel's worker side, without Qt: per-temperature bins of one (L, J, h), each a
core.correlation.CorrelationSeries with the blocks of `isinglab correlate` (the same series gives
the same numbers), refitted at most every ANALYSIS_INTERVAL_S."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from isinglab.core import correlation as corr

BIN_WIDTH = 0.02  # temperature bins, in units of |J|
ANALYSIS_INTERVAL_S = 0.3  # refit a bin at most this often (and at most 25 % of worker time)


class CorrelationModel(NamedTuple):
    """The system a correlation scan belongs to; a change clears every bin."""

    size: int
    coupling: float
    field: float


@dataclass(frozen=True)
class ScanUpdate:
    """What the worker hands to the GUI: the current bin and the xi(T) points of all bins."""

    model: CorrelationModel
    temperature: float  # mean T of the current bin
    n: int  # snapshots in the current bin
    result: corr.CorrelationResult | None  # newest analysis of the current bin
    points: dict  # name -> (T, mean, err) arrays, names "xi_exp", "xi_2nd"


class _Bin:
    __slots__ = ("series", "t_first", "t_deviation", "result", "analysed_at", "analysed_n")

    def __init__(self, size: int):
        # the blocks of `isinglab correlate` (the core default): the same series gives the same numbers
        self.series = corr.CorrelationSeries(size, radial=True)
        self.t_first = None  # the bin's first T, and the sum of the others' deviations from it:
        self.t_deviation = 0.0  # a bin at one T reports exactly that T
        self.result = None
        self.analysed_at = -math.inf
        self.analysed_n = 0

    @property
    def t_mean(self) -> float:
        if self.t_first is None:
            return 0.0
        return self.t_first + self.t_deviation / max(self.series.n, 1)


class CorrelationScan:
    """Per-temperature correlation bins of one (L, J, h). Used from one (worker) thread, except
    `request_clear`, which any thread may call."""

    def __init__(self, width: float = BIN_WIDTH):
        self.width = width
        self._bins: dict[int, _Bin] = {}
        self._model = None
        self._current = None
        self._clear = threading.Event()
        self._interval = ANALYSIS_INTERVAL_S

    def request_clear(self) -> None:
        self._clear.set()

    def process(self, spins, params) -> ScanUpdate:
        """Add one snapshot at params (a ModelParams) and return the state to draw."""
        model = CorrelationModel(params.size, params.coupling, params.field)
        if self._clear.is_set() or model != self._model:
            self._clear.clear()
            self._bins.clear()
            self._model, self._current = model, None
        key = int(round(params.temperature / (self.width * (abs(params.coupling) or 1.0))))
        b = self._bins.get(key)
        if b is None:
            b = self._bins[key] = _Bin(params.size)
        b.series.add(spins, params.coupling)
        if b.t_first is None:
            b.t_first = params.temperature
        b.t_deviation += params.temperature - b.t_first
        if self._current is not None and self._current != key:
            self._analyse(self._bins.get(self._current))  # its final state, before leaving it
        self._current = key
        if time.monotonic() - b.analysed_at >= self._interval:
            self._analyse(b)
        return self._update(b)

    def _analyse(self, b: _Bin | None) -> None:
        if b is None or b.series.n < corr.MIN_SAMPLES or b.series.n == b.analysed_n:
            return
        start = time.monotonic()
        J, h = self._model.coupling, self._model.field
        b.result = b.series.result(b.t_mean, J, h)
        b.analysed_n = b.series.n
        b.analysed_at = time.monotonic()
        self._interval = max(ANALYSIS_INTERVAL_S, 4.0 * (b.analysed_at - start))

    def _update(self, b: _Bin) -> ScanUpdate:
        return ScanUpdate(self._model, b.t_mean, b.series.n, b.result, self.points())

    def results(self) -> list:
        """The newest CorrelationResult of every analysed bin, ascending in T."""
        return sorted((b.result for b in self._bins.values() if b.result is not None),
                      key=lambda r: r.temperature)

    def points(self) -> dict:
        """xi_exp and xi_2nd of every analysed bin with a fitted value, ascending in T."""
        out = {}
        for name in ("xi_exp", "xi_2nd"):
            pts = [(r.temperature, getattr(r, name).value, getattr(r, name).err)
                   for r in self.results() if getattr(r, name).ok]
            arr = np.array(pts, dtype=np.float64).reshape(-1, 3)
            out[name] = (arr[:, 0], arr[:, 1], np.nan_to_num(arr[:, 2]))
        return out

    def __len__(self) -> int:
        return sum(b.series.n for b in self._bins.values())
