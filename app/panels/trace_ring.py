"""A fixed-size ring of several time series whose newest values are always one contiguous slice
(the live traces redraw from a view, never a copy)."""
from __future__ import annotations

import numpy as np


class TraceRing:
    """Last `n` values of several series, written twice so the newest n are one slice."""

    def __init__(self, n: int, names):
        self.n = n
        self.data = {k: np.zeros(2 * n) for k in names}
        self.head = 0  # next write position in [0, n)
        self.count = 0

    def extend(self, **columns) -> None:
        k = len(next(iter(columns.values())))
        if k > self.n:
            columns = {name: v[-self.n:] for name, v in columns.items()}
            k = self.n
        idx = (self.head + np.arange(k)) % self.n
        for name, v in columns.items():
            buf = self.data[name]
            buf[idx] = v
            buf[idx + self.n] = v
        self.head = (self.head + k) % self.n
        self.count = min(self.count + k, self.n)

    def view(self, name: str) -> np.ndarray:
        start = self.head + self.n - self.count  # oldest kept sample, in the upper copy
        return self.data[name][start : start + self.count]

    def clear(self) -> None:
        self.head = self.count = 0
