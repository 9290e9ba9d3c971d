"""Spin-spin correlations: G(r), the structure factor S(k) and three correlation-length estimators.

Conventions (k_B = 1, an L x L periodic lattice, N = L^2, m = sum_i s_i / N per snapshot):

* G(r) = <s_0 s_r> - c0, averaged over all origins and over the snapshot stream, with the
  subtraction c0 chosen so that G is the *connected* function on a finite lattice:
  - h = 0, T >= T_c: c0 = 0 (<m> = 0 by symmetry; estimating it would only add noise);
  - h = 0, T < T_c: c0 = <|m|>^2, the symmetric |m| convention (a finite lattice flips between
    +m and -m, so <m> = 0 there too; the system sits in one of the two states at a time);
  - h != 0: c0 = <m>^2.
  Summed over r this gives the finite-lattice susceptibilities: T chi = sum_r G(r) =
  N (<m^2> - c0). For J < 0 every quantity refers to the staggered spins s_i (-1)^(x+y) (even L).
* Axis G(r): the average of the x- and y-axis correlations, r = 0 .. L/2. Radial G(r): all
  displacements (minimum image) binned by rint(|r|), r <= L/2, at the mean |r| of each bin.
* Projected (zero-momentum) correlator C(t) = sum_x G(x, t), averaged over both axes.
* S(k) = <|sum_x s_x e^(-i k x)|^2> / N minus N c0 at k = 0; S(0) = T chi. Radial S(k) in bins of
  width 2 pi / L.

Estimators (errors: block jackknife over the snapshot stream; every fit window is chosen once on
the full data and kept fixed in the jackknife replicas):

* xi_exp: C(t) fitted with the periodic one-particle form A [f(t) + f(L - t)], f = e^(-t/xi)
  (= A' cosh((t - L/2)/xi)) above T_c: the projection removes the r^(-1/2) Ornstein-Zernike
  prefactor of G(r), so C(t) is one exponential from t = 1 on (checked to 1 % at T = 2.6).
  Below T_c the lightest states the spin couples to are pairs (mass 2/xi_dual = 1/xi): C(t) is a
  two-particle continuum, the same periodic form with f(t) = int_0^inf tanh^2(u) sech(u)
  e^(-t cosh(u)/xi) du (continuum Ising form factor; f ~ t^(-3/2) e^(-t/xi) for t >> xi). A pure
  exponential comes out 20-50 % low there. Lattice corrections to the continuum form are the
  stated systematic SYSTEMATIC_BELOW_EXP: measured +5 % at xi = 2.2 (T = 2.0) and +1..3 % at
  xi = 3.6 (T = 2.1), 1e5 samples each.
  The window runs from t = 1 to the last t before C(t) drops below 3 error bars.
* xi_2nd: second-moment length sqrt(S(0)/S(k_min) - 1) / (2 sin(k_min/2)), k_min = 2 pi/L,
  S(k_min) averaged over both axes. Above T_c it equals the exponential length to 0.1 %; below T_c
  it is sqrt(2/5) = 0.632 of it in the scaling limit (two-particle spectrum: <mu^-4>/<mu^-2>);
  lattice corrections to that ratio: +2 +- 7 % at T = 2.1, +15..20 % at T = 2.0 (xi_2nd = 1.4).
  Its statistical error grows like (L/xi)^2 when L >> xi: see `second_moment_samples`.
* eta: near T_c (Onsager xi > L/4) the unsubtracted axis <s_0 s_r> fitted with
  A r^-eta (1 + b r/L) for r in [R_MIN_ETA, L/4]; the linear term is the torus's leading
  finite-size correction. Systematic (short-distance corrections): +2 % at L = 64, +1 % at
  128 (2e4 and 1e4 samples); a plain A (r^-eta + (L - r)^-eta) fit gives +28 % at L = 64.

Cost: one float32 real 2-D FFT per snapshot (the mean is removed first, so float32 keeps G to
~1e-6); the radial average needs a second, inverse FFT.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
from scipy.optimize import OptimizeWarning, curve_fit

from .backends import make_sampler
from .errors import IsingLabError
from .exact import critical_temperature, onsager_correlation_length
from .params import ModelParams
from .stats import BLOCK_TAUS, tau_int
from .tasks import TaskState

FFT_WORKERS = 2  # scipy.fft threads; measure() of 1024^2 takes 9-14 ms on the 2-core machine
TAU_WINDOW = 8192  # |m| values kept per series for tau_int
MIN_SAMPLES = 16  # fewer measurements give no usable error bars
MIN_GROUPS = 8  # jackknife groups; fewer make the error of the error > 25 %
SIGNAL_TO_NOISE = 3.0  # a fit window ends where the data fall below 3 error bars
T_MIN_EXP = 1  # the projected correlator is one-particle dominated from t = 1 on (checked)
MIN_FIT_POINTS = 3
XI_FIT_MIN, XI_FIT_MAX = 0.05, 10.0  # fit bounds: lattice spacings, and units of L
XI_LIMIT_FRACTION = 0.5  # a fitted xi above L/2 is reported as the bound "> L/2"
FINITE_SIZE_FRACTION = 0.25  # xi above L/4: finite-size dominated (warning); eta is fitted
R_MIN_ETA = 3  # the eta window starts here: lattice corrections at r = 2 bias eta by ~ +2 %
ETA_MIN_POINTS = 4
MAX_FIT_EVALS = 2000
SECOND_MOMENT_RATIO_BELOW = math.sqrt(0.4)  # xi_2nd / xi_exp below T_c, scaling limit
# stated systematics (relative), measured with 1e5 Wolff samples, see the module docstring
SYSTEMATIC_ABOVE = 0.01  # xi_exp and xi_2nd above T_c
SYSTEMATIC_BELOW_EXP = 0.06  # two-particle continuum form on the lattice, xi >= 2
SYSTEMATIC_BELOW_2ND = 0.20  # xi_2nd against sqrt(2/5) xi_exact, xi >= 2
SYSTEMATIC_ETA = 0.03  # L >= 32
SUBTRACTION_TEXT = {"none": "<s0 sr> (<m> = 0 by symmetry)", "m_abs": "<s0 sr> - <|m|>^2",
                    "m": "<s0 sr> - <m>^2"}

# rapidity grid for `two_particle`: u in [0, 15] (the sech tail beyond is < 1e-6), trapezoid
_U = np.linspace(0.0, 15.0, 601)
_COSH_U = np.cosh(_U)
_U_WEIGHTS = np.tanh(_U) ** 2 / _COSH_U * np.gradient(_U)
_U_WEIGHTS[[0, -1]] *= 0.5


# ----------------------------------------------------------------------------- geometry

@dataclass(frozen=True)
class Layout:
    """Where each quantity sits in one measurement row (all float64).

    Rows hold the fluctuation parts (the snapshot's own mean removed) so that sums of rows
    stay accurate; `m`, `m_abs`, `m2` restore the rest (see `_curves`).
    """

    size: int
    radial: bool

    @property
    def half(self) -> int:
        return self.size // 2 + 1

    @property
    def n_radial(self) -> int:
        return _radial_bins(self.size)[2].size if self.radial else 0

    @property
    def n_k(self) -> int:
        return _k_bins(self.size)[2].size

    def slices(self) -> dict:
        names = (("axis", self.half), ("proj", self.half), ("radial", self.n_radial),
                 ("sk", self.n_k), ("m", 1), ("m_abs", 1), ("m2", 1), ("s_kmin", 1))
        out, start = {}, 0
        for name, n in names:
            out[name] = slice(start, start + n)
            start += n
        return out

    @property
    def width(self) -> int:
        return sum(s.stop - s.start for s in self.slices().values())


@lru_cache(maxsize=8)
def _radial_bins(L: int):
    """(bin of every displacement, count per bin, mean |r| per bin) for |r| <= L/2."""
    d = np.minimum(np.arange(L), L - np.arange(L)).astype(np.float64)
    dist = np.hypot(d[:, None], d[None, :])
    idx = np.rint(dist).astype(np.int64)
    n_bins = L // 2 + 1
    idx[idx >= n_bins] = n_bins  # beyond L/2: partial shells, dropped
    counts = np.bincount(idx.ravel(), minlength=n_bins + 1)[:n_bins]
    mean_r = np.bincount(idx.ravel(), dist.ravel(), minlength=n_bins + 1)[:n_bins] / counts
    return idx.ravel(), counts.astype(np.float64), mean_r


@lru_cache(maxsize=8)
def _k_bins(L: int):
    """Bins of width 2 pi / L over the rfft2 half plane, k = 0 excluded (S(0) comes from m^2).

    Returns (bin of every rfft2 entry, its weight, mean |k| per bin, total weight per bin); the
    weight counts each interior rfft column twice (its mirror image -k). Bin b (|k| L / 2 pi
    rounds to b = 1 .. L/2) is stored at b - 1; index L/2 collects what is dropped.
    """
    ky = np.minimum(np.arange(L), L - np.arange(L)).astype(np.float64)
    kx = np.arange(L // 2 + 1, dtype=np.float64)
    n = np.hypot(ky[:, None], kx[None, :])
    weight = np.broadcast_to(_hermitian_weights(L), n.shape).ravel()
    b = np.rint(n).astype(np.int64).ravel()
    n_bins = L // 2
    idx = np.where((b >= 1) & (b <= n_bins), b - 1, n_bins)
    wsum = np.bincount(idx, weight, minlength=n_bins + 1)[:n_bins]
    mean_k = np.bincount(idx, weight * n.ravel(), minlength=n_bins + 1)[:n_bins] / wsum
    return idx, weight, mean_k * (2.0 * math.pi / L), wsum


def _full_row_sums(p: np.ndarray, L: int) -> np.ndarray:
    """sum over the full kx range of P(ky, kx), from the rfft half plane: the missing half is
    P(ky, -kx) = P(-ky, kx), the interior columns of row -ky."""
    inner = slice(1, L - L // 2)  # kx = 1 .. ceil(L/2) - 1
    q = p.sum(axis=1, dtype=np.float64)
    mirror = p[:, inner].sum(axis=1, dtype=np.float64)
    return q + mirror[(-np.arange(L)) % L]


def _hermitian_weights(L: int) -> np.ndarray:
    w = np.full(L // 2 + 1, 2.0)
    w[0] = 1.0
    if L % 2 == 0:
        w[-1] = 1.0
    return w


# ----------------------------------------------------------------------------- one snapshot

def _spins_array(spins) -> np.ndarray:
    s = np.asarray(spins)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] < 2:
        raise IsingLabError(f"a configuration must be an L x L array with L >= 2, got shape {s.shape}")
    return s


def _staggered(s: np.ndarray) -> np.ndarray:
    L = s.shape[0]
    if L % 2:
        raise IsingLabError(f"J < 0 correlations use the staggered spins, which need an even L, got {L}")
    sign = 1 - 2 * ((np.arange(L)[:, None] + np.arange(L)[None, :]) & 1)
    return (s * sign).astype(np.int8)


def _power(s: np.ndarray) -> tuple[np.ndarray, float]:
    """|FFT|^2 of the fluctuation s - m (float32, rfft2 layout) and m."""
    m = float(s.sum(dtype=np.int64)) / s.size
    x = s.astype(np.float32)
    x -= np.float32(m)
    f = scipy.fft.rfft2(x, workers=FFT_WORKERS)
    p = f.real * f.real + f.imag * f.imag
    p[0, 0] = 0.0  # rounding residue of the removed mean
    return p, m


def correlation_map(spins, coupling: float = 1.0) -> np.ndarray:
    """(1/N) sum_x s_x s_(x+r) of one configuration for every displacement r = (dy, dx), by FFT."""
    s = _spins_array(spins)
    if coupling < 0.0:
        s = _staggered(s)
    p, m = _power(s)
    return scipy.fft.irfft2(p, s=s.shape, workers=FFT_WORKERS).astype(np.float64) / s.size + m * m


def measure(spins, coupling: float = 1.0, radial: bool = True) -> np.ndarray:
    """One measurement row (see `Layout`) of a +-1 configuration; O(N log N), one FFT (+1 radial)."""
    s = _spins_array(spins)
    L = s.shape[0]
    if coupling < 0.0:
        s = _staggered(s)
    p, m = _power(s)
    n = float(L * L)
    lay = Layout(L, radial)
    sl = lay.slices()
    row = np.empty(lay.width)
    h = lay.half
    qx = p.sum(axis=0, dtype=np.float64)  # sum over ky: the x-axis correlation
    qy = _full_row_sums(p, L)  # sum over all kx: the y-axis one
    row[sl["axis"]] = 0.5 * (np.fft.irfft(qx, L)[:h] + np.fft.irfft(qy[:h], L)[:h]) / L**3
    row[sl["proj"]] = 0.5 * (np.fft.irfft(p[0].astype(np.float64), L)[:h]
                             + np.fft.irfft(p[:h, 0].astype(np.float64), L)[:h]) / L**2
    if radial:
        a = scipy.fft.irfft2(p, s=s.shape, workers=FFT_WORKERS).ravel()
        idx, counts, _ = _radial_bins(L)
        row[sl["radial"]] = np.bincount(idx, a, minlength=counts.size + 1)[:counts.size] / counts / n
    kidx, kw, _, wsum = _k_bins(L)
    row[sl["sk"]] = np.bincount(kidx, p.ravel() * kw, minlength=wsum.size + 1)[:wsum.size] / wsum / n
    row[sl["m"]] = m
    row[sl["m_abs"]] = abs(m)
    row[sl["m2"]] = m * m
    row[sl["s_kmin"]] = 0.5 * (float(p[0, 1]) + float(p[1, 0])) / n
    return row


# ----------------------------------------------------------------------------- accumulation

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


# ----------------------------------------------------------------------------- estimators

@dataclass(frozen=True)
class Estimate:
    """A fitted number with its jackknife error, or only a bound, or why there is none.

    limit "<" / ">": the data say only that the quantity lies below / above `value`.
    """

    value: float = math.nan
    err: float = math.nan
    limit: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.limit is None and math.isfinite(self.value)

    def to_json(self) -> dict:
        if self.ok:
            out = {"mean": self.value, "err": self.err}
        elif self.limit is not None:
            out = {"limit": self.limit, "value": self.value}
        else:
            out = {}
        if self.reason:
            out["note"] = self.reason
        return out


def _quiet_fit(model, x, y, sigma, p0, bounds):
    """curve_fit that returns None instead of raising or warning when it does not converge."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            p, _ = curve_fit(model, x, y, p0=p0, sigma=sigma, bounds=bounds, maxfev=MAX_FIT_EVALS)
    except (RuntimeError, ValueError):
        return None
    return p if np.all(np.isfinite(p)) else None


def _jackknife_fit(model, x, y, sigma, p0, bounds, replica_ys, index: int):
    """Fit the full data, then every replica from the full fit; (params, error of params[index]).

    The error is nan when more than a tenth of the replicas failed to converge.
    """
    p = _quiet_fit(model, x, y, sigma, p0, bounds)
    if p is None:
        return None, math.nan
    values = []
    for yj in replica_ys:
        pj = _quiet_fit(model, x, yj, sigma, p, bounds)
        if pj is not None:
            values.append(pj[index])
    if len(values) < max(2, 0.9 * len(replica_ys)):
        return p, math.nan
    return p, float(_spread(np.array(values)))


def _significant_end(y: np.ndarray, err: np.ndarray, start: int) -> int:
    """First index >= start where y is no longer SIGNAL_TO_NOISE errors above zero."""
    ok = (y > SIGNAL_TO_NOISE * err) & (y > 0.0)
    bad = np.flatnonzero(~ok[start:])
    return start + int(bad[0]) if bad.size else y.size


def _sigma(err: np.ndarray):
    """Fit weights: None (unweighted) when the errors vanish, e.g. for exact test data."""
    return err if np.all(err > 0.0) else None


def one_particle(tau):
    """e^(-tau): the zero-momentum correlator of one particle of mass 1/xi (tau = t/xi)."""
    return np.exp(-np.asarray(tau, dtype=np.float64))


def two_particle(tau):
    """int_0^inf tanh^2(u) sech(u) e^(-tau cosh u) du: a pair at zero total momentum.

    Continuum Ising form factor |F|^2 ~ tanh^2 of half the rapidity difference; pair mass
    2 cosh(u) / xi_dual = cosh(u) / xi. ~ sqrt(pi/2) tau^(-3/2) e^(-tau) for tau >> 1.
    """
    tau = np.asarray(tau, dtype=np.float64)
    return np.exp(-np.multiply.outer(tau, _COSH_U)) @ _U_WEIGHTS


def periodic_model(phi, size: int, t0: float):
    """C(t) = a [phi(t/xi) + phi((L - t)/xi)], normalised so that a = C(t0) (well conditioned)."""
    def model(t, a, xi):
        norm = phi(t0 / xi) + phi((size - t0) / xi)
        return a * (phi(t / xi) + phi((size - t) / xi)) / norm
    return model


def eta_model(r, a, eta, b):
    """G(r) = a (r / R_MIN_ETA)^-eta (1 + b r / L) with L folded into b by the caller.

    The linear term is the leading finite-size correction on the torus at T_c (the energy
    operator's expectation ~ 1/L enters the spin-spin short-distance expansion as (r/L)^1).
    """
    return a * (r / R_MIN_ETA) ** -eta * (1.0 + b * r)


def fit_xi_exp(c: np.ndarray, c_err: np.ndarray, replicas: np.ndarray, size: int, below_tc: bool):
    """xi from the projected correlator; returns (Estimate, fit description or None)."""
    t = np.arange(c.size, dtype=np.float64)
    if not c[0] > SIGNAL_TO_NOISE * c_err[0]:
        return Estimate(reason="no connected fluctuations measured: frozen lattice or too few data"), None
    end = _significant_end(c, c_err, T_MIN_EXP)
    if end - T_MIN_EXP < MIN_FIT_POINTS:
        return _decay_bound(c, c_err, end), None
    w = slice(T_MIN_EXP, end)
    phi = two_particle if below_tc else one_particle
    model = periodic_model(phi, size, float(T_MIN_EXP))
    guess = 1.0 / max(math.log(c[T_MIN_EXP] / c[T_MIN_EXP + 1]), 1.0 / size)
    p0 = (c[T_MIN_EXP], min(max(guess, 0.1), size))
    bounds = ((0.0, XI_FIT_MIN), (np.inf, XI_FIT_MAX * size))
    p, err = _jackknife_fit(model, t[w], c[w], _sigma(c_err[w]), p0, bounds, replicas[:, w], 1)
    if p is None:
        return Estimate(reason="the fit of C(t) did not converge"), None
    fit = {"form": "two-particle" if below_tc else "one-particle", "window": [T_MIN_EXP, end - 1],
           "amplitude": float(p[0]), "xi": float(p[1]), "t0": T_MIN_EXP}
    if p[1] > XI_LIMIT_FRACTION * size:
        return Estimate(XI_LIMIT_FRACTION * size, limit=">", reason=(
            f"C(t) barely decays across the lattice: xi > L/{1 / XI_LIMIT_FRACTION:g}, finite-size dominated")), fit
    return Estimate(float(p[1]), err), fit


def _decay_bound(c: np.ndarray, c_err: np.ndarray, end: int) -> Estimate:
    """C(t) is lost in the noise from t = end on: xi < end / ln(C(0) / noise)."""
    reason = f"C(t) is significant only for t < {end}: too few points for a fit"
    if end >= c.size or not c_err[end] > 0.0 or c[0] <= SIGNAL_TO_NOISE * c_err[end]:
        return Estimate(reason=reason + " (too few data)")
    bound = end / math.log(c[0] / (SIGNAL_TO_NOISE * c_err[end]))
    return Estimate(bound, limit="<", reason=reason + " (xi tiny or too few data)")


def second_moment_xi(s0, s_kmin, size: int):
    """sqrt(S(0)/S(k_min) - 1) / (2 sin(pi/L)); nan where S(0) <= S(k_min)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.asarray(s0, dtype=np.float64) / np.asarray(s_kmin, dtype=np.float64) - 1.0
        return np.where(q > 0.0, np.sqrt(np.where(q > 0.0, q, 0.0)), np.nan) / (2.0 * math.sin(math.pi / size))


def second_moment_samples(size: int, xi: float, precision: float = 0.01) -> float:
    """Independent samples for a relative error `precision` of xi_2nd (Gaussian modes).

    S(0) fluctuates like a chi^2 with 1 degree of freedom (relative variance 2), S(k_min)
    averaged over the two axes like an exponential over 2 samples (1/2); with
    q = S(0)/S(k_min) - 1 = (2 sin(pi/L) xi)^2, d xi / xi = (1 + q) / (2 q) sqrt(2.5 / n).
    Multiply by 2 tau_int for correlated measurements.
    """
    q = (2.0 * math.sin(math.pi / size) * xi) ** 2
    if not q > 0.0 or not precision > 0.0:
        return math.inf
    return 2.5 * ((1.0 + q) / (2.0 * precision * q)) ** 2


def fit_xi_2nd(s0: float, s_kmin: float, s0_rep: np.ndarray, skmin_rep: np.ndarray, size: int) -> Estimate:
    if not (s0 > 0.0 and s_kmin > 0.0):
        return Estimate(reason="no fluctuations at k = 0 or k_min: frozen lattice or too few data")
    xi = float(second_moment_xi(s0, s_kmin, size))
    reps = second_moment_xi(s0_rep, skmin_rep, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_err = float(_spread(s0_rep / skmin_rep))
    if not math.isfinite(xi) or (xi * 2.0 * math.sin(math.pi / size)) ** 2 < 2.0 * ratio_err:
        bound = math.sqrt(max(s0 / s_kmin - 1.0, 0.0) + 2.0 * ratio_err) / (2.0 * math.sin(math.pi / size))
        return Estimate(bound, limit="<", reason="S(0) and S(k_min) agree within the errors: xi_2nd small, "
                        "or too few data (L >> xi needs many samples)")
    if np.any(~np.isfinite(reps)):
        return Estimate(xi, math.nan, reason="undefined in some jackknife replicas: too few data")
    return Estimate(xi, float(_spread(reps)))


def fit_eta(g: np.ndarray, g_err: np.ndarray, replicas: np.ndarray, size: int):
    """eta from the axis <s_0 s_r> for r in [R_MIN_ETA, L/4]; (Estimate, fit or None)."""
    r_max = size // 4
    if r_max - R_MIN_ETA + 1 < ETA_MIN_POINTS:
        need = 4 * (R_MIN_ETA + ETA_MIN_POINTS - 1)
        return Estimate(reason=f"lattice too small for an eta fit (needs L >= {need})"), None
    r = np.arange(g.size, dtype=np.float64)
    w = slice(R_MIN_ETA, r_max + 1)
    if np.any(g[w] <= SIGNAL_TO_NOISE * g_err[w]):
        return Estimate(reason="G(r) not significant over the eta window: too few data"), None
    p0 = (g[R_MIN_ETA], 0.25, 0.5 / size)
    bounds = ((0.0, -1.0, -np.inf), (np.inf, 3.0, np.inf))
    p, err = _jackknife_fit(eta_model, r[w], g[w], _sigma(g_err[w]), p0, bounds, replicas[:, w], 1)
    if p is None:
        return Estimate(reason="the power-law fit of G(r) did not converge"), None
    fit = {"window": [R_MIN_ETA, r_max], "amplitude": float(p[0]), "eta": float(p[1]),
           "b": float(p[2] * size)}
    return Estimate(float(p[1]), err), fit


# ----------------------------------------------------------------------------- analysis

def subtraction(temperature: float, coupling: float = 1.0, field: float = 0.0) -> str:
    """Which c0 makes G connected: "none" (0), "m_abs" (<|m|>^2) or "m" (<m>^2); see module doc."""
    if field != 0.0:
        return "m"
    if coupling != 0.0 and temperature < critical_temperature(coupling):
        return "m_abs"
    return "none"


def _curves(rows: np.ndarray, layout: Layout, mode: str) -> dict:
    """Connected curves from mean rows (vectorised over leading axes)."""
    sl = layout.slices()
    L = layout.size
    col = lambda name: rows[..., sl[name].start]  # noqa: E731
    m2 = col("m2")
    c0 = {"none": np.zeros_like(m2), "m_abs": col("m_abs") ** 2, "m": col("m") ** 2}[mode]
    excess = (m2 - c0)[..., None]
    return {
        "g_full": rows[..., sl["axis"]] + m2[..., None],
        "g": rows[..., sl["axis"]] + excess,
        "c": rows[..., sl["proj"]] + L * excess,
        "radial": rows[..., sl["radial"]] + excess,
        "s": rows[..., sl["sk"]],
        "s0": L * L * (m2 - c0),
        "s_kmin": col("s_kmin"),
    }


@dataclass
class CorrelationResult:
    """Curves with jackknife errors, the three estimators and Onsager's exact xi for one (L, T)."""

    size: int
    temperature: float
    coupling: float
    field: float
    n_samples: int
    n_groups: int
    subtraction: str
    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    t: np.ndarray
    c: np.ndarray
    c_err: np.ndarray
    k: np.ndarray
    s: np.ndarray
    s_err: np.ndarray
    chi: Estimate
    xi_exp: Estimate
    xi_2nd: Estimate
    eta: Estimate | None
    xi_exact: float | None
    g_full: np.ndarray
    g_full_err: np.ndarray
    r_radial: np.ndarray | None = None
    g_radial: np.ndarray | None = None
    g_radial_err: np.ndarray | None = None
    fit_exp: dict | None = None
    fit_eta: dict | None = None
    warnings: list = dataclasses.field(default_factory=list)

    @property
    def xi_2nd_expected(self) -> float | None:
        """Onsager's xi, times sqrt(2/5) below T_c (second-moment length, scaling limit)."""
        if self.xi_exact is None:
            return None
        return self.xi_exact * (SECOND_MOMENT_RATIO_BELOW if self.subtraction == "m_abs" else 1.0)

    def exp_fit_curve(self, t) -> np.ndarray | None:
        """The fitted C(t) at the given t, or None without a fit."""
        f = self.fit_exp
        if f is None:
            return None
        phi = two_particle if f["form"] == "two-particle" else one_particle
        return periodic_model(phi, self.size, f["t0"])(np.asarray(t, dtype=np.float64), f["amplitude"], f["xi"])

    def eta_fit_curve(self, r) -> np.ndarray | None:
        """The fitted <s_0 s_r> at the given r, or None without a fit."""
        f = self.fit_eta
        if f is None:
            return None
        return eta_model(np.asarray(r, dtype=np.float64), f["amplitude"], f["eta"], f["b"] / self.size)

    def to_json(self) -> dict:
        out = {
            "size": self.size, "temperature": self.temperature, "coupling": self.coupling,
            "field": self.field, "n_samples": self.n_samples, "jackknife_groups": self.n_groups,
            "subtraction": SUBTRACTION_TEXT[self.subtraction],
            "xi_exp": self.xi_exp.to_json(), "xi_2nd": self.xi_2nd.to_json(),
            "xi_exact": self.xi_exact, "xi_2nd_expected": self.xi_2nd_expected,
        }
        if self.eta is not None:
            out["eta"] = self.eta.to_json()
        out["chi"] = self.chi.to_json()
        if self.xi_2nd.ok:
            out["xi_2nd_samples_for_1pct"] = math.ceil(second_moment_samples(self.size, self.xi_2nd.value, 0.01))
        out.update(r=self.r.tolist(), g=self.g.tolist(), g_err=self.g_err.tolist(),
                   t=self.t.tolist(), c=self.c.tolist(), c_err=self.c_err.tolist())
        if self.g_radial is not None:
            out.update(r_radial=self.r_radial.tolist(), g_radial=self.g_radial.tolist(),
                       g_radial_err=self.g_radial_err.tolist())
        out.update(k=self.k.tolist(), s=self.s.tolist(), s_err=self.s_err.tolist())
        out["fits"] = {"xi_exp": self.fit_exp, "eta": self.fit_eta}
        out["warnings"] = list(self.warnings)
        return out


def exact_xi(temperature: float, coupling: float = 1.0, field: float = 0.0) -> float | None:
    """Onsager's axis correlation length (inf at T_c), None where it does not apply (h != 0, J = 0)."""
    if field != 0.0 or coupling == 0.0:
        return None
    return float(onsager_correlation_length(temperature, coupling))


def near_critical(size: int, temperature: float, coupling: float = 1.0, field: float = 0.0) -> bool:
    """True where Onsager's xi exceeds L/4: the lattice cannot tell T from T_c; eta is fitted."""
    xi = exact_xi(temperature, coupling, field)
    return xi is not None and xi > FINITE_SIZE_FRACTION * size


def analyse(block_means: np.ndarray, layout: Layout, temperature: float, coupling: float = 1.0,
            field: float = 0.0, block_size: int = 1, tau: float = 0.5,
            n_samples: int | None = None) -> CorrelationResult:
    """All curves and estimators from block means of measurement rows (oldest block first)."""
    if block_means.ndim != 2 or block_means.shape[1] != layout.width:
        raise IsingLabError(f"block means of shape {block_means.shape} do not match an L = {layout.size} layout")
    if block_means.shape[0] < 2:
        raise IsingLabError(f"need at least 2 blocks of measurements, got {block_means.shape[0]}")
    groups, reliable = jackknife_groups(block_means, block_size, tau)
    mode = subtraction(temperature, coupling, field)
    full = _curves(groups.mean(axis=0), layout, mode)
    rep = _curves(_replicas(groups), layout, mode)
    err = {k: _spread(v) for k, v in rep.items()}
    L = layout.size
    below = mode == "m_abs"
    xi_exp, exp_fit = fit_xi_exp(full["c"], err["c"], rep["c"], L, below)
    xi_2nd = fit_xi_2nd(float(full["s0"]), float(full["s_kmin"]), rep["s0"], rep["s_kmin"], L)
    eta, eta_fit = None, None
    if near_critical(L, temperature, coupling, field):
        eta, eta_fit = fit_eta(full["g_full"], err["g_full"], rep["g_full"], L)
    half = layout.half
    res = CorrelationResult(
        size=L, temperature=float(temperature), coupling=float(coupling), field=float(field),
        n_samples=int(n_samples if n_samples is not None else block_means.shape[0] * block_size),
        n_groups=groups.shape[0], subtraction=mode,
        r=np.arange(half, dtype=np.float64), g=full["g"], g_err=err["g"],
        t=np.arange(half, dtype=np.float64), c=full["c"], c_err=err["c"],
        k=_k_bins(L)[2], s=full["s"], s_err=err["s"],
        chi=Estimate(float(full["s0"]) / temperature, float(err["s0"]) / temperature),
        xi_exp=xi_exp, xi_2nd=xi_2nd, eta=eta, xi_exact=exact_xi(temperature, coupling, field),
        g_full=full["g_full"], g_full_err=err["g_full"], fit_exp=exp_fit, fit_eta=eta_fit)
    if layout.radial:
        res.r_radial, res.g_radial, res.g_radial_err = _radial_bins(L)[2], full["radial"], err["radial"]
    res.warnings = _collect_warnings(res, reliable)
    return res


def _collect_warnings(res: CorrelationResult, reliable: bool) -> list:
    out = []
    L = res.size
    lengths = [res.xi_exact] if res.xi_exact is not None else []
    if res.xi_exp.ok or res.xi_exp.limit == ">":
        lengths.append(res.xi_exp.value)
    if lengths and max(lengths) > FINITE_SIZE_FRACTION * L:
        out.append(f"xi > L/4 = {FINITE_SIZE_FRACTION * L:g}: finite-size dominated")
    if not reliable:
        out.append(f"too few independent samples: {res.n_groups} jackknife groups shorter than "
                   f"{BLOCK_TAUS:g} tau_int; error bars are underestimated")
    for name, est in (("xi_exp", res.xi_exp), ("xi_2nd", res.xi_2nd), ("eta", res.eta)):
        if est is not None and not est.ok and est.reason:
            out.append(f"{name}: {est.reason}")
    return out


# ----------------------------------------------------------------------------- a stream of snapshots

class CorrelationSeries:
    """Snapshots of one (L, T, J, h) accumulated for `result()`; not thread-safe."""

    def __init__(self, size: int, radial: bool = True, max_blocks: int = 64):
        self.layout = Layout(int(size), bool(radial))
        self.blocks = BlockAccumulator(self.layout, max_blocks)

    @property
    def n(self) -> int:
        return self.blocks.n

    def add(self, spins, coupling: float = 1.0) -> None:
        s = _spins_array(spins)
        if s.shape[0] != self.layout.size:
            raise IsingLabError(f"configuration of L = {s.shape[0]} added to an L = {self.layout.size} series")
        self.blocks.add(measure(s, coupling, self.layout.radial))

    def add_row(self, row: np.ndarray) -> None:
        self.blocks.add(row)

    def result(self, temperature: float, coupling: float = 1.0, field: float = 0.0) -> CorrelationResult:
        if self.n < MIN_SAMPLES:
            raise IsingLabError(f"{self.n} snapshots are too few for correlation estimates (need {MIN_SAMPLES})")
        b = self.blocks
        return analyse(b.block_means(), self.layout, temperature, coupling, field,
                       block_size=b.block_size, tau=b.tau(), n_samples=b.n)


def auto_algorithm(params: ModelParams) -> str:
    """Wolff (fast decorrelation near T_c) where it applies (h = 0, J != 0), else heat bath."""
    return "wolff" if params.field == 0.0 and params.coupling != 0.0 else "heatbath"


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
    total = therm + pilot + sweeps
    _advance(sampler, therm, task, 0, total, "thermalising")
    m_abs = np.empty(pilot)
    for i in range(pilot):
        sampler.sweep(1)
        m_abs[i] = abs(sampler.energy_magnetisation()[1])
        if i % 64 == 0:
            task.progress((therm + i) / total, "measuring tau")
    tau = tau_int(m_abs).tau
    every = max(1, min(round(tau), sweeps // MIN_SAMPLES))
    series = CorrelationSeries(params.size, radial)
    done = therm + pilot
    for i in range(sweeps // every):
        sampler.sweep(every)
        series.add(sampler.spins(), params.coupling)
        done += every
        if i % 16 == 0:
            task.progress(done / total, "measuring G(r)")
    task.progress(1.0, "analysing")
    result = series.result(params.temperature, params.coupling, params.field)
    info = {"algorithm": params.algorithm, "sweeps": sweeps, "thermalize": therm, "pilot_sweeps": pilot,
            "tau_int_sweeps": float(tau), "measure_every": every}
    return result, info


def _advance(sampler, n: int, task: TaskState, start: int, total: int, text: str) -> None:
    chunk = max(1, (1 << 22) // sampler.n_spins)
    done = 0
    while done < n:
        k = min(chunk, n - done)
        sampler.sweep(k)
        done += k
        task.progress((start + done) / total, text)
