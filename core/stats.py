"""Error analysis for Markov-chain time series: autocorrelation, tau_int, binning, jackknife.

Conventions
-----------
* tau_int = 1/2 + sum_{t>=1} rho(t), so iid data has tau_int = 1/2 and the error of a mean of
  n correlated samples is sqrt(2 tau_int var / n).
* Estimates are always computed from all samples; only the error bars come from blocks. When n
  is not a multiple of the block size, the leading remainder (the earliest, least equilibrated
  samples) is left out of the blocks.
* Block size: ceil(10 tau_int) samples, so block means are nearly independent (the residual
  underestimate of the error is about tau/block, i.e. a few per cent). For short series the block
  count is raised to a floor (8) by shrinking the blocks; such error bars are then somewhat too
  small, which `tau_int(...).reliable` flags.

Pure numpy: these run on at most ~1e6 numbers, where one FFT costs milliseconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .errors import IsingLabError

BLOCK_TAUS = 10.0  # block length in units of tau_int
MIN_BLOCKS = 8  # fewer blocks make the error of the error bar itself too large (> 25 %)
MAX_JACKKNIFE_BLOCKS = 64  # more buys little precision and costs one func call each
RELIABLE_TAUS = 50.0  # Sokal: tau_int is trustworthy only for n >= ~50 tau_int


@dataclass(frozen=True)
class TauResult:
    """Integrated autocorrelation time with its Sokal window and Madras-Sokal error."""

    tau: float
    window: int
    err: float
    reliable: bool


def _as_series(x, name: str = "series") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise IsingLabError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size < 2:
        raise IsingLabError(f"{name} needs at least 2 samples, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise IsingLabError(f"{name} contains nan or inf")
    return a


def autocorrelation(x) -> np.ndarray:
    """Normalised autocorrelation rho(t), t = 0..n-1, with rho(0) = 1.

    Uses the standard (biased, divide-by-n) covariance estimator, which keeps the large-t tail
    small and is what Sokal's windowing assumes. Zero-padding to >= 2n stops the FFT's circular
    correlation from wrapping the end of the series onto its start. A constant series has no
    fluctuations: rho = (1, 0, 0, ...) rather than 0/0.
    """
    a = np.asarray(x, dtype=np.float64)
    n = a.size
    if n == 0:
        raise IsingLabError("autocorrelation of an empty series")
    d = a - a[0]  # exact zeros for a constant series, whatever the round-off of its mean
    d -= d.mean()
    size = 1 << (2 * n - 1).bit_length()  # power of two >= 2n: fast FFT, no wrap-around
    f = np.fft.rfft(d, size)
    acf = np.fft.irfft(f.real**2 + f.imag**2, size)[:n]
    if not acf[0] > 0.0:
        rho = np.zeros(n)
        rho[0] = 1.0
        return rho
    return acf / acf[0]


def tau_int(x, c: float = 6.0) -> TauResult:
    """Integrated autocorrelation time with Sokal's automatic window.

    tau(W) = 1/2 + sum_{t=1}^{W} rho(t); the window is the smallest W with W >= c * tau(W)
    (c ~ 4-10 balances the truncation bias against the noise of summing rho's tail). The
    Madras-Sokal error is tau * sqrt(2 (2W + 1) / n).

    `reliable` is False when n < 50 tau (too short a series for tau to be trusted, per Sokal) or
    when no window satisfied the condition (then the whole series is summed). A constant series
    gives tau = 0.5 (no fluctuations to correlate). Very short or anticorrelated series can give
    tau < 0.5; it is returned as estimated.
    """
    a = _as_series(x)
    n = a.size
    rho = autocorrelation(a)
    taus = 0.5 + np.cumsum(rho[1:])  # taus[W-1] = tau(W), W = 1..n-1
    windows = np.arange(1, n)
    ok = windows >= c * taus
    found = bool(ok.any())
    w = int(np.argmax(ok)) + 1 if found else n - 1
    tau = float(taus[w - 1])
    err = abs(tau) * math.sqrt(2.0 * (2 * w + 1) / n)
    reliable = found and n >= RELIABLE_TAUS * max(tau, 0.5)
    return TauResult(tau=tau, window=w, err=err, reliable=reliable)


def choose_blocks(n: int, tau: float, min_blocks: int = MIN_BLOCKS, max_blocks: int | None = None) -> int:
    """Number of blocks for n samples with autocorrelation time tau.

    Rule: blocks of ceil(10 tau) samples; the count is then clipped to [min_blocks, max_blocks]
    and never exceeds n. Hitting the floor means blocks shorter than 10 tau (short series).
    """
    size = max(1, math.ceil(BLOCK_TAUS * tau)) if math.isfinite(tau) else n
    k = max(n // size, min_blocks)
    if max_blocks is not None:
        k = min(k, max_blocks)
    return max(1, min(k, n))


def _block_sums(a: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Sums over k equal blocks of the last k * (n // k) samples, and the block size."""
    size = a.shape[-1] // k
    tail = a[..., a.shape[-1] - k * size:]
    return tail.reshape(*a.shape[:-1], k, size).sum(axis=-1), size


def binned_mean(x, n_bins: int | None = None) -> tuple[float, float]:
    """Mean of a correlated series and its error from non-overlapping bin means.

    Default n_bins: see `choose_blocks` (bins of ceil(10 tau_int) samples, at least 8 bins).
    The mean uses all samples; the error is std(bin means, ddof=1) / sqrt(n_bins).
    """
    a = _as_series(x)
    n = a.size
    k = choose_blocks(n, tau_int(a).tau) if n_bins is None else int(n_bins)
    if not 2 <= k <= n:
        raise IsingLabError(f"n_bins must be between 2 and the number of samples {n}, got {n_bins}")
    # Centring on the first sample keeps a constant series exact: mean = a[0], err = 0.
    d = a - a[0]
    sums, size = _block_sums(d, k)
    err = math.sqrt(np.var(sums / size, ddof=1) / k)
    return float(a[0] + d.mean()), err


def jackknife(func: Callable[..., float], series: Sequence, n_blocks: int | None = None) -> tuple[float, float]:
    """Block jackknife of func(mean(series[0]), mean(series[1]), ...) for a non-linear func.

    The estimate is the full-sample value func(means), without bias correction: the jackknife
    bias is O(1/n), far below the statistical error for Monte Carlo series, and correcting it
    adds noise. Default n_blocks from the largest tau_int among the series, as for binning,
    clipped to [8, 64]. For a linear func this reproduces `binned_mean` with the same blocks.
    """
    arrays = [_as_series(s, f"series[{i}]") for i, s in enumerate(series)]
    if not arrays:
        raise IsingLabError("jackknife needs at least one series")
    n = arrays[0].size
    if any(a.size != n for a in arrays):
        raise IsingLabError(f"jackknife series differ in length: {[a.size for a in arrays]}")
    data = np.stack(arrays)
    if n_blocks is None:
        tau = max(tau_int(a).tau for a in arrays)
        k = choose_blocks(n, tau, MIN_BLOCKS, MAX_JACKKNIFE_BLOCKS)
    else:
        k = int(n_blocks)
    if not 2 <= k <= n:
        raise IsingLabError(f"n_blocks must be between 2 and the number of samples {n}, got {n_blocks}")
    # Centring on the first samples keeps means of constant series exact (no round-off).
    shift = data[:, :1]
    data = data - shift
    estimate = float(func(*(shift[:, 0] + data.mean(axis=1))))
    sums, size = _block_sums(data, k)
    # Leave-one-block-out means: (total - block) / (remaining samples), one column per block.
    loo = shift + (sums.sum(axis=1, keepdims=True) - sums) / ((k - 1) * size)
    f = np.array([func(*loo[:, j]) for j in range(k)], dtype=np.float64)
    d = f - f[0]  # identical replicas give exactly zero spread (no round-off residue)
    err = math.sqrt((k - 1) / k * np.sum((d - d.mean()) ** 2))
    return estimate, err
