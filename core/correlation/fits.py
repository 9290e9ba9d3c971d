"""The three estimators (xi_exp, xi_2nd, eta): fit models, fit windows and jackknifed fits."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from .accumulate import _spread

SIGNAL_TO_NOISE = 3.0  # a fit window ends where the data fall below 3 error bars
T_MIN_EXP = 1  # the projected correlator is one-particle dominated from t = 1 on (checked)
MIN_FIT_POINTS = 3
XI_FIT_MIN, XI_FIT_MAX = 0.05, 10.0  # fit bounds: lattice spacings, and units of L
XI_LIMIT_FRACTION = 0.5  # a fitted xi above L/2 is reported as the bound "> L/2"
R_MIN_ETA = 3  # the eta window starts here: lattice corrections at r = 2 bias eta by ~ +2 %
ETA_MIN_POINTS = 4
MAX_FIT_EVALS = 2000
SECOND_MOMENT_RATIO_BELOW = math.sqrt(0.4)  # xi_2nd / xi_exp below T_c, scaling limit
# stated systematics (relative), measured with 1e5 Wolff samples, see the package docstring
SYSTEMATIC_ABOVE = 0.01  # xi_exp and xi_2nd above T_c
SYSTEMATIC_BELOW_EXP = 0.06  # two-particle continuum form on the lattice, xi >= 2
SYSTEMATIC_BELOW_2ND = 0.20  # xi_2nd against sqrt(2/5) xi_exact, xi >= 2
SYSTEMATIC_ETA = 0.03  # L >= 32

# rapidity grid for `two_particle`: u in [0, 15] (the sech tail beyond is < 1e-6), trapezoid
_U = np.linspace(0.0, 15.0, 601)
_COSH_U = np.cosh(_U)
_U_WEIGHTS = np.tanh(_U) ** 2 / _COSH_U * np.gradient(_U)
_U_WEIGHTS[[0, -1]] *= 0.5


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
