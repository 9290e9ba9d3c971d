"""How much one request may ask for: work (estimated run time), memory, counts and file sizes.

Every entry point that starts work from user input (CLI commands, scenes, figure sidecars,
dataset files) checks its request here before it starts, so that a request which passes
validation also ends in reasonable time and memory:

* work: `check_work(what, spin_updates, algorithm=..., allow_long=...)` estimates the run time
  of `spin_updates` single-spin updates (L^2 x sweeps, samples x spacing x L^2, ...) from the
  measured speed of the kernels on the reference machine (2-core EPYC, numba, 2 threads) and
  refuses more than MAX_WORK_SECONDS unless `allow_long` (CLI: --allow-long) says the user
  means it. The estimate is deliberately rough: it guards against requests of hours or years.
* memory: `check_memory(what, nbytes)` refuses what would need more than half of the memory
  available now; this cannot be overridden (it would only fail later, less clearly).
* counts: `check_count(name, n)` keeps sweeps, samples, thermalisation, ... below MAX_COUNT,
  which also keeps them inside the kernels' 64-bit integers even with allow_long.
* durations: `check_seconds(name, s, allow_long=...)` for time budgets (bench --seconds).
* files: a data file read back (a dataset NPZ) may hold at most MAX_FILE_BYTES, on disk and as
  arrays once decompressed; its headers are checked before anything is allocated.

Every refusal is an IsingLabError with one line naming the input, the rule and the way out.
"""
from __future__ import annotations

import math
import numbers
import os

from .errors import IsingLabError

MAX_WORK_SECONDS = 600.0  # default ceiling of the estimated run time of one request (10 minutes)
MAX_SECONDS = 86400.0  # a time budget (bench --seconds) may never exceed one day, even when allowed
MIN_SECONDS = 1e-3  # ... nor be shorter than a millisecond (nothing can be timed in less)
MAX_COUNT = 10**12  # sweeps, samples, snapshots, ...: a hard ceiling, with or without allow_long
MEMORY_FRACTION = 0.5  # a request may use at most this share of the memory available now
MAX_FILE_BYTES = 4 * 2**30  # a data file read back (a dataset NPZ): its size and its arrays, uncompressed
ALLOW_LONG_FLAG = "--allow-long"

# Measured cost of one attempted single-spin update (cluster algorithms: per spin and sweep), ns,
# on the reference machine, rounded from docs/performance.md. Other backends use the same figures.
NS_PER_SPIN_UPDATE = {
    "metropolis": 1.0,
    "heatbath": 1.0,
    "multispin": 0.1,
    "wolff": 20.0,
    "swendsen-wang": 15.0,
}
DEFAULT_NS_PER_SPIN_UPDATE = 1.0


def ns_per_update(algorithm: str | None) -> float:
    """Estimated ns per single-spin update of `algorithm` (1 ns where unknown)."""
    return NS_PER_SPIN_UPDATE.get(algorithm or "", DEFAULT_NS_PER_SPIN_UPDATE)


def estimate_seconds(spin_updates: float, algorithm: str | None = "metropolis", extra_ns: float = 0.0) -> float:
    """Estimated run time of `spin_updates` updates of `algorithm`, plus `extra_ns` per update
    for measuring work done alongside (e.g. a correlation FFT per spin and sweep)."""
    return float(spin_updates) * (ns_per_update(algorithm) + float(extra_ns)) * 1e-9


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "forever"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def check_work(what: str, spin_updates: float, *, algorithm: str | None = "metropolis", extra_ns: float = 0.0,
               allow_long: bool = False, detail: str = "", hint: str | None = None) -> float:
    """Return the estimated seconds of a request, or raise IsingLabError when they exceed
    MAX_WORK_SECONDS and `allow_long` is false.

    what: who asks ("simulate", "scene cool-through-tc"); spin_updates: L^2 x sweeps, or the
    sum over the request's runs; algorithm: sets the cost per update (NS_PER_SPIN_UPDATE);
    extra_ns: measuring cost per update on top; detail: how spin_updates was counted, for the
    message (e.g. "L^2 x sweeps = 4096^2 x 1000000"); hint: how to override (default: pass
    --allow-long)."""
    try:
        seconds = estimate_seconds(spin_updates, algorithm, extra_ns)
    except OverflowError:
        seconds = math.inf
    if allow_long or seconds <= MAX_WORK_SECONDS:
        return seconds
    counted = f"{detail} = " if detail else ""
    hint = hint if hint is not None else f"pass {ALLOW_LONG_FLAG} to run it anyway"
    raise IsingLabError(
        f"{what}: {counted}{show_number(spin_updates)} spin updates would take about {format_duration(seconds)}, "
        f"more than the limit of {format_duration(MAX_WORK_SECONDS)}; {hint}")


def check_seconds_of_work(what: str, seconds: float, *, allow_long: bool = False, detail: str = "",
                          hint: str | None = None) -> float:
    """check_work for work already estimated in seconds (training epochs, fits)."""
    if allow_long or seconds <= MAX_WORK_SECONDS:
        return seconds
    counted = f" ({detail})" if detail else ""
    hint = hint if hint is not None else f"pass {ALLOW_LONG_FLAG} to run it anyway"
    raise IsingLabError(f"{what}{counted} would take about {format_duration(seconds)}, more than the limit of "
                        f"{format_duration(MAX_WORK_SECONDS)}; {hint}")


def available_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(what: str, nbytes: float) -> int:
    """Raise IsingLabError when `nbytes` is more than MEMORY_FRACTION of the memory available."""
    avail = available_memory_bytes()
    if avail is not None and nbytes > MEMORY_FRACTION * avail:
        raise IsingLabError(f"{what} needs about {nbytes / 2**30:.3g} GiB of memory, more than half of the "
                            f"{avail / 2**30:.1f} GiB available")
    return int(nbytes)


def check_count(name: str, n, lo: int = 0, hi: int = MAX_COUNT) -> int:
    """An integer count in [lo, hi] (hi defaults to MAX_COUNT)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise IsingLabError(f"{name} must be an integer, got {n!r}")
    n = int(n)
    if n < lo:
        raise IsingLabError(f"{name} must be at least {lo}, got {show_number(n)}")
    if n > hi:
        raise IsingLabError(f"{name} must be at most {show_number(hi)}, got {show_number(n)}")
    return n


def show_number(n) -> str:
    """A number for a one-line message: exact when short, else rounded (or its digit count)."""
    if isinstance(n, float) and math.isfinite(n) and n == int(n) and abs(n) < 1e12:
        n = int(n)
    text = str(n)
    if len(text) <= 12 and not isinstance(n, float):
        return text
    try:
        return f"{float(n):.3g}"
    except (OverflowError, ValueError, TypeError):
        return f"a {len(text)}-digit number"


def check_seconds(name: str, seconds, *, allow_long: bool = False) -> float:
    """A time budget: finite, at least MIN_SECONDS, at most MAX_WORK_SECONDS (MAX_SECONDS with allow_long)."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        raise IsingLabError(f"{name} must be a number of seconds, got {seconds!r}") from None
    if not math.isfinite(s) or s < MIN_SECONDS:
        raise IsingLabError(f"{name} must be a finite number of seconds, at least {MIN_SECONDS:g}, got {s:g}")
    if s > MAX_SECONDS:
        raise IsingLabError(f"{name} must be at most {MAX_SECONDS:g} s (one day), got {s:g}")
    if s > MAX_WORK_SECONDS and not allow_long:
        raise IsingLabError(f"{name} = {s:g} s is more than the limit of {MAX_WORK_SECONDS:g} s; "
                            f"pass {ALLOW_LONG_FLAG} to run it anyway")
    return s
