"""Temperature scan: measurements streamed while the temperature is dragged, binned in T.

A running simulation sends (T, e, m) samples (e = E/N, m = M/N) while a lecturer moves the
temperature. Samples are sorted into bins of width w centred on multiples of w: bin k holds
T in [(k - 1/2) w, (k + 1/2) w), so a slider sitting on a multiple of w fills one bin. Each
bin reports the conventions of `observables.summarise`, per spin, k_B = 1:
  m_abs = <|m|>,  e = <e>,  c = N (<e^2> - <e>^2) / T^2,  chi = N (<m^2> - <|m|>^2) / T,
evaluated at T = the mean sample temperature of the bin (`T_mean`; `T` holds the centres).

Samples inside a bin are consecutive measurements, i.e. one or more autocorrelated time
series segments (the slider may pass a bin several times); they are concatenated in arrival
order. Where T varies inside a bin, e and |m| are detrended first: their least-squares
linear dependence on T is removed (this keeps the means, which then belong to T_mean). Without
it the spread of <e>(T) across a bin, ~ (c w)^2 / 12, would be counted as thermal fluctuation
and inflate c and chi (for L = 256 at T_c it exceeds var(e) itself). The price: fluctuations
that happen to follow the drift of T within one pass are removed too (small when a pass
through the bin is long compared to tau_int).

Error bars:
* n >= 16 samples: binning (`stats.binned_mean`) for m_abs and e, block jackknife
  (`stats.jackknife`) for c and chi, blocks of ~10 tau_int as in `observables.summarise`.
* 8 <= n < 16: too few samples to estimate tau_int. The iid error (std / sqrt(n); for c and
  chi the delete-one jackknife) is multiplied by sqrt(n): the error as if the whole bin were a
  single independent measurement, which bounds the error of a mean of positively correlated
  samples from above. Deliberately conservative: such bins are transients.
* Bins with fewer than `min_samples` samples are not reported.

Cost: each bin caches its result and recomputes only after new samples arrived; tau_int (one
FFT per series, on the newest 8192 samples) is re-estimated only after the bin grew by a quarter
since the last estimate.
Each bin keeps at most `max_samples` samples, the oldest dropped.
"""
from __future__ import annotations

import json
import math

import numpy as np

from .errors import IsingLabError
from .params import check_finite as _finite
from .stats import MAX_JACKKNIFE_BLOCKS, binned_mean, choose_blocks, jackknife, tau_int

OBSERVABLES = ("m_abs", "e", "c", "chi")
FULL_ANALYSIS_SAMPLES = 16  # below this, tau_int and blocking are meaningless
TAU_REFRESH_FRACTION = 0.25  # re-estimate tau_int after this relative growth of a bin
TAU_WINDOW = 8192  # tau_int from the newest samples only: bounds the FFT to ~1 ms
_INITIAL_CAPACITY = 256
_MAX_BIN_INDEX = 2**52  # T / w must stay an exact integer range for float64


def _positive_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise IsingLabError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _samples(name: str, values) -> np.ndarray:
    try:
        a = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise IsingLabError(f"{name} must be numbers, got {values!r}") from None
    if a.ndim != 1:
        raise IsingLabError(f"{name} must be one-dimensional, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise IsingLabError(f"{name} contains nan or inf")
    return a


class _Bin:
    """Chronological (T, e, |m|) samples of one bin plus its cached statistics."""

    __slots__ = ("t", "e", "a", "n", "stats", "tau", "since_tau")

    def __init__(self):
        self.t = np.empty(_INITIAL_CAPACITY)
        self.e = np.empty(_INITIAL_CAPACITY)
        self.a = np.empty(_INITIAL_CAPACITY)
        self.n = 0
        self.stats = None  # cached row of result(); None = recompute
        self.tau = None  # (tau_e, tau_|m|), reused until the bin has grown enough
        self.since_tau = 0

    def extend(self, t, e, a, limit: int) -> None:
        k = t.size
        if k >= limit:  # the new samples alone fill the bin
            t, e, a, k = t[-limit:], e[-limit:], a[-limit:], limit
            self.n = 0
        drop = self.n + k - limit
        if drop > 0:  # oldest out: one memmove of at most `limit` floats per series
            keep = self.n - drop
            for arr in (self.t, self.e, self.a):
                arr[:keep] = arr[drop:self.n]
            self.n = keep
        self._reserve(self.n + k, limit)
        sl = slice(self.n, self.n + k)
        self.t[sl], self.e[sl], self.a[sl] = t, e, a
        self.n += k
        self.stats = None
        self.since_tau += k

    def _reserve(self, needed: int, limit: int) -> None:
        if needed <= self.t.size:
            return
        cap = min(limit, max(needed, 2 * self.t.size))
        for name in ("t", "e", "a"):
            grown = np.empty(cap)
            grown[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, grown)


def _detrended(x: np.ndarray, dt: np.ndarray, sdt2: float) -> np.ndarray:
    """x minus its least-squares slope in T (dt = T - mean T, so the mean of x is kept)."""
    if sdt2 == 0.0:
        return x
    return x - (float((dt * x).sum()) / sdt2) * dt  # not np.dot: BLAS threads cost ms here


def _naive(x: np.ndarray) -> tuple[float, float]:
    # std(ddof=1) = iid error * sqrt(n): see the module docstring
    return float(x.mean()), float(np.std(x, ddof=1))


def _fluctuation(x: np.ndarray, scale: float, blocks: int | None) -> tuple[float, float]:
    """scale * (<x^2> - <x>^2) with a jackknife error; blocks=None: naive (see module doc)."""
    d = x - x[0]  # variance is shift-invariant; centring avoids cancellation
    n = d.size
    func = lambda u, v: scale * (v - u * u)  # noqa: E731
    if blocks is None:
        est, err = jackknife(func, [d, d * d], n)
        return est, err * math.sqrt(n)
    return jackknife(func, [d, d * d], blocks)


class TemperatureScan:
    """Bins streamed (T, e, m) measurements of one L x L lattice in temperature.

    `add` is vectorised and cheap; `result` recomputes only bins that changed since its last
    call. Not thread-safe: call it from one thread.
    """

    def __init__(self, size: int, coupling: float = 1.0, width: float = 0.02,
                 min_samples: int = 8, max_samples: int = 20000, detrend: bool = True, field: float = 0.0):
        self._size = _positive_int("lattice size L", size, 1)
        self._coupling = _finite("coupling J", coupling)
        self._field = _finite("field h", field)
        self._width = _finite("bin width", width)
        if self._width <= 0.0:
            raise IsingLabError(f"bin width must be > 0, got {self._width:g}")
        self._min_samples = _positive_int("min_samples", min_samples, 2)
        self._max_samples = _positive_int("max_samples", max_samples,
                                          max(self._min_samples, FULL_ANALYSIS_SAMPLES))
        self._detrend = bool(detrend)
        self._bins: dict[int, _Bin] = {}
        self._algorithms: list[str] = []  # every algorithm that contributed samples
        self._result = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def coupling(self) -> float:
        return self._coupling

    @property
    def field(self) -> float:
        return self._field

    @property
    def width(self) -> float:
        return self._width

    @property
    def model(self) -> dict:
        """The model every bin was measured on: what exported data are labelled with. A change of
        L, J or h clears the scan; the algorithm may change without one (equilibrium values do
        not depend on it), so "algorithm" names every algorithm that contributed samples, joined
        by "+" in first-use order (absent while none was named)."""
        out = {"size": self._size, "coupling": self._coupling, "field": self._field}
        if self._algorithms:
            out["algorithm"] = "+".join(self._algorithms)
        return out

    # read-only: cached bin results depend on them
    min_samples = property(lambda self: self._min_samples)
    max_samples = property(lambda self: self._max_samples)
    detrend = property(lambda self: self._detrend)

    def set_model(self, size: int, coupling: float, field: float | None = None) -> None:
        """New lattice size, coupling or field: old bins describe another system, so they go."""
        size = _positive_int("lattice size L", size, 1)
        coupling = _finite("coupling J", coupling)
        field = self._field if field is None else _finite("field h", field)
        if (size, coupling, field) != (self._size, self._coupling, self._field):
            self._size, self._coupling, self._field = size, coupling, field
            self.clear()

    def set_width(self, width: float) -> None:
        """New bin width; clears the scan (samples are not kept in time order across bins)."""
        width = _finite("bin width", width)
        if width <= 0.0:
            raise IsingLabError(f"bin width must be > 0, got {width:g}")
        if width != self._width:
            self._width = width
            self.clear()

    def clear(self) -> None:
        self._bins.clear()
        self._algorithms = []
        self._result = None

    def __len__(self) -> int:
        """Number of samples held (all bins)."""
        return sum(b.n for b in self._bins.values())

    def bin_index(self, temperatures) -> np.ndarray:
        """Bin k of each temperature: the bin centred on k * width."""
        q = np.asarray(temperatures, dtype=np.float64) / self._width
        if np.any(np.abs(q) >= _MAX_BIN_INDEX):
            raise IsingLabError(f"temperature too large for bin width {self._width:g}")
        return np.rint(q).astype(np.int64)

    def add(self, temperatures, e, m, algorithm: str | None = None) -> None:
        """Append samples in time order: temperature, energy and magnetisation per spin,
        sampled with `algorithm` (recorded in `model`)."""
        t = _samples("temperatures", temperatures)
        e = _samples("energies e", e)
        m = _samples("magnetisations m", m)
        if not t.size == e.size == m.size:
            raise IsingLabError(f"T, e and m differ in length: {t.size}, {e.size}, {m.size}")
        if t.size == 0:
            return
        if np.any(t <= 0.0):
            raise IsingLabError("temperatures must be > 0")
        if algorithm is not None and algorithm not in self._algorithms:
            self._algorithms.append(str(algorithm))
        keys = self.bin_index(t)
        a = np.abs(m)
        if np.all(keys == keys[0]):  # the usual case: the slider sits in one bin
            self._bin(int(keys[0])).extend(t, e, a, self._max_samples)
        else:  # stable sort keeps the time order inside each bin
            order = np.argsort(keys, kind="stable")
            uniq, starts = np.unique(keys[order], return_index=True)
            for k, idx in zip(uniq, np.split(order, starts[1:])):
                self._bin(int(k)).extend(t[idx], e[idx], a[idx], self._max_samples)
        self._result = None

    def _bin(self, key: int) -> _Bin:
        b = self._bins.get(key)
        if b is None:
            b = self._bins[key] = _Bin()
        return b

    def _taus(self, b: _Bin, r_e: np.ndarray, r_a: np.ndarray) -> tuple[float, float]:
        if b.tau is None or b.since_tau >= max(FULL_ANALYSIS_SAMPLES, TAU_REFRESH_FRACTION * b.n):
            w = slice(-TAU_WINDOW, None)
            b.tau = (tau_int(r_e[w]).tau, tau_int(r_a[w]).tau)
            b.since_tau = 0
        return b.tau

    def _bin_stats(self, b: _Bin) -> tuple:
        """(T_mean, n, m_abs, m_abs_err, e, e_err, c, c_err, chi, chi_err) of one bin."""
        n = b.n
        t, e, a = b.t[:n], b.e[:n], b.a[:n]
        dt = t - t[0]  # exact zeros when T is constant: no spurious slope from round-off
        dt -= dt.mean()
        sdt2 = float((dt * dt).sum())
        if not self._detrend or sdt2 <= n * (1e-9 * self._width) ** 2:
            sdt2 = 0.0
        r_e, r_a = _detrended(e, dt, sdt2), _detrended(a, dt, sdt2)
        t_mean = float(t.mean())
        spins = float(self._size) ** 2
        if n < FULL_ANALYSIS_SAMPLES:
            m_abs, e_mean = _naive(r_a), _naive(r_e)
            blocks_e = blocks_a = None
        else:
            tau_e, tau_a = self._taus(b, r_e, r_a)
            m_abs = binned_mean(r_a, choose_blocks(n, tau_a))
            e_mean = binned_mean(r_e, choose_blocks(n, tau_e))
            blocks_e = choose_blocks(n, tau_e, max_blocks=MAX_JACKKNIFE_BLOCKS)
            blocks_a = choose_blocks(n, tau_a, max_blocks=MAX_JACKKNIFE_BLOCKS)
        c = _fluctuation(r_e, spins / t_mean**2, blocks_e)
        # m^2 = |m|^2, so <m^2> - <|m|>^2 is the variance of |m|
        chi = _fluctuation(r_a, spins / t_mean, blocks_a)
        return (t_mean, n, *m_abs, *e_mean, *c, *chi)

    def result(self) -> dict:
        """Bins with >= min_samples samples, ascending in T, as read-only numpy arrays.

        Keys: "T" (bin centres), "T_mean" (mean sample temperature), "n" (samples), and
        "m_abs", "e", "c", "chi", each {"mean": array, "err": array}.
        """
        if self._result is None:
            self._result = self._assemble()
        return self._result

    def _assemble(self) -> dict:
        keys = sorted(k for k, b in self._bins.items() if b.n >= self._min_samples)
        rows = []
        for k in keys:
            b = self._bins[k]
            if b.stats is None:
                b.stats = self._bin_stats(b)
            rows.append(b.stats)
        table = np.array(rows, dtype=np.float64).reshape(len(rows), 2 + 2 * len(OBSERVABLES))
        out = {
            "T": np.array(keys, dtype=np.float64) * self._width,
            "T_mean": table[:, 0].copy(),
            "n": table[:, 1].astype(np.int64),
        }
        for i, name in enumerate(OBSERVABLES):
            out[name] = {"mean": table[:, 2 + 2 * i].copy(), "err": table[:, 3 + 2 * i].copy()}
        stats_arrays = (out[k][f] for k in OBSERVABLES for f in ("mean", "err"))
        for arr in (out["T"], out["T_mean"], out["n"], *stats_arrays):
            arr.setflags(write=False)  # cached and shared with every caller
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary: settings plus result() as lists (non-finite numbers -> None)."""
        res = self.result()

        def clean(arr):
            return [float(x) if math.isfinite(x) else None for x in arr.tolist()]

        out = {
            "size": self._size,
            "coupling": self._coupling,
            "field": self._field,
            "bin_width": self._width,
            "min_samples": self._min_samples,
            "T": clean(res["T"]),
            "T_mean": clean(res["T_mean"]),
            "n": [int(x) for x in res["n"]],
        }
        for name in OBSERVABLES:
            out[name] = {f: clean(res[name][f]) for f in ("mean", "err")}
        return out

    def to_json(self, **kwargs) -> str:
        """to_dict() as JSON text; kwargs go to json.dumps (e.g. indent=2)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)
