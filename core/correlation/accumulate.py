"""Rows summed in memory-bounded blocks, and the block jackknife that turns them into error bars."""
from __future__ import annotations

import math

import numpy as np

from ..errors import IsingLabError
from ..stats import BLOCK_TAUS, tau_int
from .geometry import Layout

TAU_WINDOW = 8192  # |m| values kept per series for tau_int
MIN_SAMPLES = 16  # fewer measurements give no usable error bars
MIN_GROUPS = 8  # jackknife groups; fewer make the error of the error > 25 %


class BlockAccumulator:
    """Measurement rows summed in consecutive blocks, memory bounded.

    Blocks hold `block_size` rows each; when `max_blocks` blocks are full, neighbours merge
    pairwise and the block size doubles, so there are always max_blocks/2 .. max_blocks closed
    blocks of equal size (the newest, partial block waits until it is full). The |m| of every
    row is also kept (the newest TAU_WINDOW) for the autocorrelation time of the stream.
    """

    def __init__(self, layout: Layout, max_blocks: int = 64):
        if max_blocks < 2 or max_blocks % 2:
            raise IsingLabError(f"max_blocks must be an even number >= 2, got {max_blocks}")
        self.layout = layout
        self.max_blocks = max_blocks
        self._sums = np.zeros((max_blocks, layout.width))
        self._closed = 0
        self._open = np.zeros(layout.width)
        self._open_n = 0
        self.block_size = 1
        self.n = 0
        self._m_abs = np.empty(TAU_WINDOW)
        self._m_abs_col = layout.slices()["m_abs"].start

    def add(self, row: np.ndarray) -> None:
        self._m_abs[self.n % TAU_WINDOW] = row[self._m_abs_col]
        self.n += 1
        self._open += row
        self._open_n += 1
        if self._open_n < self.block_size:
            return
        self._sums[self._closed] = self._open
        self._closed += 1
        self._open[:] = 0.0
        self._open_n = 0
        if self._closed == self.max_blocks:
            half = self.max_blocks // 2
            self._sums[:half] = self._sums[0::2] + self._sums[1::2]
            self._sums[half:] = 0.0
            self._closed = half
            self.block_size *= 2

    @property
    def n_blocks(self) -> int:
        return self._closed

    def block_means(self) -> np.ndarray:
        """(n_blocks, width) means of the closed blocks, oldest first."""
        return self._sums[: self._closed] / self.block_size

    def m_abs_series(self) -> np.ndarray:
        """The newest min(n, TAU_WINDOW) values of |m|, oldest first."""
        k = min(self.n, TAU_WINDOW)
        return self._m_abs[np.arange(self.n - k, self.n) % TAU_WINDOW]

    def tau(self) -> float:
        """Integrated autocorrelation time of |m| in rows (0.5 for independent rows)."""
        series = self.m_abs_series()
        return tau_int(series).tau if series.size >= MIN_SAMPLES else math.inf


def jackknife_groups(block_means: np.ndarray, block_size: int, tau: float) -> tuple[np.ndarray, bool]:
    """Merge consecutive blocks into groups of >= 10 tau rows (as `stats.choose_blocks`).

    Returns (group means, reliable): reliable is False when that left fewer than MIN_GROUPS
    groups, which are then used anyway (error bars somewhat too small).
    """
    k = block_means.shape[0]
    per = max(1, math.ceil(BLOCK_TAUS * tau / block_size)) if math.isfinite(tau) else k
    groups = k // per
    reliable = groups >= MIN_GROUPS
    if not reliable:
        groups = min(k, MIN_GROUPS)
        per = k // groups
    used = block_means[k - groups * per:]  # drop the oldest leftover, as stats does
    return used.reshape(groups, per, -1).mean(axis=1), reliable


def _replicas(groups: np.ndarray) -> np.ndarray:
    """Leave-one-group-out means, one row per group."""
    k = groups.shape[0]
    return (groups.sum(axis=0) - groups) / (k - 1)


def _spread(values: np.ndarray) -> np.ndarray:
    """Jackknife error from replica values (first axis): sqrt((k-1)/k sum (f_j - mean)^2)."""
    k = values.shape[0]
    d = values - values.mean(axis=0)
    return np.sqrt((k - 1) / k * (d * d).sum(axis=0))
