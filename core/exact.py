"""Exact references for the 2D Ising model on an L x L periodic square lattice.

H = -J sum_<ij> s_i s_j - h sum_i s_i, k_B = 1, N = L^2, K = J/T.

Three families of results:

* Onsager, infinite lattice, h = 0 (energy, specific heat, spontaneous
  magnetisation, correlation length, free energy).
* Kaufman / Ferdinand-Fisher, exact partition function of the finite
  L x L torus at h = 0 (ln Z, energy, specific heat, free energy).
* Brute-force enumeration of all 2^N states for L <= 4 (any J, any h).

Kaufman's formula is exact for every L >= 2 (checked against enumeration at
L = 2, 3, 4 to ~1e-15; it even reproduces the degenerate L = 1, which is refused
as not a lattice).  It is evaluated in logs, so it is stable for L up to 4096+
and T from 0.05|J| to 1000|J|, T = T_c included (below T = 0.02|J| the
ground-state limit is returned, exact to double precision).  Accuracy: ln Z to
~1e-15 relative; the energy to ~1e-13 (1e-10 at T = 1000|J|, a difference of
O(1/K) terms); C/N to ~1e-11 relative for T >= 0.4|J| (1e-11 at L = 1024,
T = T_c against 40-digit arithmetic).  Below T ~ 0.3|J| the true C/N (< 1e-8)
approaches a rounding floor of ~1e-16 K^2 e^{-2K}, so only that absolute
accuracy holds there.

Sign of J: the square lattice is bipartite, so at h = 0 flipping one
sublattice maps J -> -J.  Energy, free energy and specific heat therefore
depend on |J| only (on the torus this needs L even; odd L with J < 0 is
frustrated and is refused by the Kaufman functions).  For J < 0 the Onsager
magnetisation and correlation length refer to the *staggered* magnetisation.
Enumeration always uses the given J and the plain (uniform) magnetisation.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate, special

from .errors import IsingLabError
from .params import check_finite as _real

TC = 2.0 / math.log1p(math.sqrt(2.0))  # 2 / ln(1 + sqrt 2) = 2.269185314213022...
KC = 1.0 / TC
ENUMERATION_MAX_SIZE = 4
KAUFMAN_MIN_SIZE = 2
GROUND_K = 50.0  # K = |J|/T beyond which the torus is in its ground state to 1e-170


# ----------------------------------------------------------------------------- input checks

def _temperatures(T):
    """Return (1-D float array of T, input was scalar); every T finite and > 0."""
    try:
        arr = np.asarray(T, dtype=float)
    except (TypeError, ValueError):
        raise IsingLabError(f"temperature T must be a number, got {T!r}") from None
    if arr.size == 0:
        raise IsingLabError("temperature T must not be empty")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0.0):
        raise IsingLabError(f"temperature T must be finite and > 0, got {T!r}")
    return arr, arr.ndim == 0


def _shape_like(values: np.ndarray, like: np.ndarray, scalar: bool):
    out = np.asarray(values, dtype=float).reshape(like.shape)
    return float(out) if scalar else out


def _size(L, lo: int, hi: int | None, what: str) -> int:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
        raise IsingLabError(f"lattice size L must be an integer, got {L!r}")
    L = int(L)
    if L < lo or (hi is not None and L > hi):
        bound = f"{lo} <= L <= {hi}" if hi is not None else f"L >= {lo}"
        raise IsingLabError(f"{what} needs {bound}, got L = {L}")
    return L


def _nonzero_coupling(J) -> float:
    J = _real("coupling J", J)
    if J == 0.0:
        raise IsingLabError("this exact result needs a non-zero coupling J")
    return J


def critical_temperature(J=1.0) -> float:
    """Onsager's T_c = 2|J| / ln(1 + sqrt 2) (Onsager, Phys. Rev. 65, 117 (1944))."""
    return abs(_real("coupling J", J)) * TC


# ----------------------------------------------------------------------------- Onsager

def _onsager_setup(T, coupling):
    t, scalar = _temperatures(T)
    J = abs(_nonzero_coupling(coupling))
    K = J / t.ravel()
    th2 = np.tanh(2.0 * K) ** 2
    # 2 tanh^2(2K) - 1 = (sinh^2 2K - 1)/cosh^2 2K; its square is k'^2 = 1 - k^2,
    # so ellipkm1 keeps K1 accurate near T_c where k -> 1.
    kp = 2.0 * th2 - 1.0
    with np.errstate(over="ignore"):  # cosh -> inf at tiny T just gives m = 0
        m = (2.0 * np.tanh(2.0 * K) / np.cosh(2.0 * K)) ** 2  # parameter m = k^2
    at_tc = t.ravel() == J * TC
    return t, scalar, J, K, th2, kp, m, at_tc


def _k1_times(kp):
    """(2 tanh^2 2K - 1) * K1(k): the log divergence of K1 is killed by the zero of kp."""
    with np.errstate(divide="ignore", invalid="ignore"):
        prod = kp * special.ellipkm1(kp * kp)
    return np.where(kp == 0.0, 0.0, prod)


def onsager_energy(T, coupling=1.0):
    """Energy per spin of the infinite lattice.

    u = -J coth(2K) [1 + (2/pi)(2 tanh^2 2K - 1) K1(k)],  k = 2 sinh 2K / cosh^2 2K,
    K1 the complete elliptic integral of the first kind of modulus k
    (Onsager 1944; Huang, Statistical Mechanics, 2nd ed., ch. 15).
    u(T_c) = -sqrt(2) |J|.
    """
    t, scalar, J, K, _, kp, _, at_tc = _onsager_setup(T, coupling)
    u = -J / np.tanh(2.0 * K) * (1.0 + (2.0 / np.pi) * _k1_times(kp))
    u = np.where(at_tc, -math.sqrt(2.0) * J, u)  # exact value instead of coth rounding
    return _shape_like(u, t, scalar)


def onsager_specific_heat(T, coupling=1.0):
    """Specific heat per spin of the infinite lattice (= du/dT).

    c = (4/pi)(K coth 2K)^2 {K1 - E1 - (1 - tanh^2 2K)[pi/2 + (2 tanh^2 2K - 1) K1]}
    (Huang, Statistical Mechanics, 2nd ed., ch. 15; E1 complete integral of the second
    kind, same modulus k).  Returns +inf where T equals critical_temperature(J)
    exactly as a float; next to it the value is large but finite (log divergence).
    """
    t, scalar, J, K, th2, kp, m, at_tc = _onsager_setup(T, coupling)
    with np.errstate(divide="ignore", invalid="ignore"):
        k1 = special.ellipkm1(kp * kp)
        bracket = k1 - special.ellipe(m) - (1.0 - th2) * (np.pi / 2.0 + _k1_times(kp))
        c = (4.0 / np.pi) * (K / np.tanh(2.0 * K)) ** 2 * bracket
    c = np.where(at_tc, np.inf, c)
    return _shape_like(c, t, scalar)


def onsager_magnetisation(T, coupling=1.0):
    """Spontaneous magnetisation per spin: (1 - sinh(2K)^-4)^(1/8) for T < T_c, else 0.

    Onsager (1949), Yang, Phys. Rev. 85, 808 (1952).  Staggered magnetisation if J < 0.
    """
    t, scalar, J, K, _, _, _, _ = _onsager_setup(T, coupling)
    below = t.ravel() < J * TC  # decide by T, not by sinh 2K > 1, so m(T_c) is exactly 0
    with np.errstate(over="ignore"):
        inv4 = np.sinh(2.0 * K) ** -4.0
    mag = np.where(below, np.clip(1.0 - inv4, 0.0, None) ** 0.125, 0.0)
    return _shape_like(mag, t, scalar)


def onsager_correlation_length(T, coupling=1.0):
    """Exact correlation length along a lattice axis (in lattice spacings).

    T > T_c: 1/xi = ln coth K - 2K;  T < T_c: 1/xi = 2 (2K - ln coth K), the
    connected (truncated) correlation length; +inf at T_c.
    (McCoy & Wu, The Two-Dimensional Ising Model, ch. XI; Wu, Phys. Rev. 149, 380 (1966)).
    """
    t, scalar, J, K, _, _, _, at_tc = _onsager_setup(T, coupling)
    above = t.ravel() > J * TC
    d = -np.log(np.tanh(K)) - 2.0 * K  # = 2(K* - K), K* the dual coupling
    inv = np.where(above, d, -2.0 * d)
    with np.errstate(divide="ignore"):
        xi = np.where((inv <= 0.0) | at_tc, np.inf, 1.0 / np.where(inv > 0.0, inv, 1.0))
    return _shape_like(xi, t, scalar)


def _onsager_beta_f(K: float) -> float:
    """-beta f = ln(2 cosh 2K) + (1/2pi) int_0^pi ln[(1 + sqrt(1 - k^2 sin^2 t))/2] dt.

    Huang, Statistical Mechanics, 2nd ed., ch. 15.  1 - k^2 sin^2 = cos^2 + k'^2 sin^2
    avoids the cancellation at k -> 1.
    """
    kp2 = (2.0 * math.tanh(2.0 * K) ** 2 - 1.0) ** 2

    def integrand(x):
        root = math.sqrt(math.cos(x) ** 2 + kp2 * math.sin(x) ** 2)
        return math.log1p(root) - math.log(2.0)

    val, _ = integrate.quad(integrand, 0.0, math.pi, points=[math.pi / 2.0],
                            epsabs=1e-14, epsrel=1e-13, limit=200)
    log_2cosh = 2.0 * K + math.log1p(math.exp(-4.0 * K))  # ln(2 cosh 2K), no overflow
    return log_2cosh + val / (2.0 * math.pi)


def onsager_free_energy(T, coupling=1.0):
    """Free energy per spin f = -T ln Z / N of the infinite lattice (numerical quadrature)."""
    t, scalar = _temperatures(T)
    J = abs(_nonzero_coupling(coupling))
    f = [-tt * _onsager_beta_f(J / tt) for tt in t.ravel()]
    return _shape_like(f, t, scalar)


# ----------------------------------------------------------------------------- Kaufman

def _log_cosh2(x):
    """ln(2 cosh x) for x >= 0 without overflow."""
    return x + np.log1p(np.exp(-2.0 * x))


def _log_sinh2(x):
    """ln(2 sinh x) for x > 0 without overflow."""
    return x + np.log(-np.expm1(-2.0 * x))


def _factor_sums(x, dx, ddx, hyperbolic: str):
    """ln prod f_j, (ln prod)' and (ln prod)'' for f_j = 2cosh(x_j) or 2sinh(x_j), x_j > 0."""
    q = np.exp(-2.0 * x)
    if hyperbolic == "cosh":
        logf, g, dg = _log_cosh2(x), (1.0 - q) / (1.0 + q), 4.0 * q / (1.0 + q) ** 2
    else:  # g = coth, g' = -csch^2
        logf, g, dg = _log_sinh2(x), (1.0 + q) / (1.0 - q), -4.0 * q / (1.0 - q) ** 2
    return logf.sum(-1), (g * dx).sum(-1), (dg * dx * dx + g * ddx).sum(-1)


def _kaufman_gammas(L: int, K: np.ndarray):
    """gamma_l and its first two K-derivatives for l = 0 .. 2L-1 (shape (nK, 2L)).

    cosh gamma_l = cosh 2K coth 2K - cos(pi l / L) = c(K) - cos(theta_l), c = s + 1/s,
    s = sinh 2K (Kaufman, Phys. Rev. 76, 1232 (1949)).  Written as
    cosh gamma = 1 + delta, delta = (s-1)^2/s + 2 sin^2(theta/2) >= 0 (no cancellation).
    gamma_0 is signed: gamma_0 = 2K + ln tanh K (> 0 below T_c, < 0 above;
    Ferdinand & Fisher, Phys. Rev. 185, 832 (1969)).
    """
    K = K[:, None]
    s, ch = np.sinh(2.0 * K), np.cosh(2.0 * K)
    theta = np.pi * np.arange(2 * L) / L
    delta = (s - 1.0) ** 2 / s + 2.0 * np.sin(theta / 2.0) ** 2
    sh = np.sqrt(delta) * np.sqrt(delta + 2.0)  # sinh gamma, no overflow of delta^2
    gamma = np.log1p(delta + sh)
    # gamma' = c'/sinh gamma; gamma'' = (c'' sinh^2 gamma - cosh gamma c'^2)/sinh^3 gamma,
    # whose numerator, expanded in s and kappa = cos theta, is evaluated as a
    # polynomial: the direct form cancels to ~e^{-4K} relative at low T.
    u, kap = 1.0 / s, np.cos(theta)
    numer = 4.0 * s * (kap**2 * (1.0 + u**2 + 2.0 * u**4)
                       - kap * (s + 5.0 * u + 7.0 * u**3 + 3.0 * u**5)
                       + 2.0 + 6.0 * u**2 + 3.0 * u**4 + u**6)
    with np.errstate(divide="ignore", invalid="ignore"):
        dgamma = 2.0 * ch * (1.0 - u**2) / sh
        ddgamma = numer / sh / sh / sh
    # l = 0 from the closed form: differentiable through T_c, where gamma_0 = 0
    gamma[:, 0] = (2.0 * K + np.log(np.tanh(K)))[:, 0]
    dgamma[:, 0] = (2.0 + 2.0 / s)[:, 0]
    ddgamma[:, 0] = (-4.0 * ch / s**2)[:, 0]
    return gamma, dgamma, ddgamma


def _kaufman_derivatives(L: int, K: np.ndarray):
    """ln Z and its first two K-derivatives for the L x L torus at h = 0 (K > 0).

    Z = (1/2)(2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4) with, over r = 0 .. L-1,
    Z1 = prod 2cosh(L gamma_{2r+1}/2), Z2 = prod 2sinh(L gamma_{2r+1}/2),
    Z3 = prod 2cosh(L gamma_{2r}/2),   Z4 = prod 2sinh(L gamma_{2r}/2)
    (Kaufman 1949; Ferdinand & Fisher 1969).  Everything is kept as
    log-magnitude plus a scaled factor, so Z4 may be negative or exactly zero
    (gamma_0 = 0 at T_c); its gamma_0 factor is differentiated separately.
    """
    N = L * L
    g, dg, ddg = _kaufman_gammas(L, K)
    x, dx, ddx = 0.5 * L * g, 0.5 * L * dg, 0.5 * L * ddg
    odd, even = slice(1, None, 2), slice(2, None, 2)  # even excludes l = 0
    logs, a, b = [], [], []
    for part, kind in ((odd, "cosh"), (odd, "sinh")):
        lf, af, bf = _factor_sums(x[:, part], dx[:, part], ddx[:, part], kind)
        logs.append(lf), a.append(af), b.append(bf)
    sgn = np.where(x[:, :1] < 0.0, -1.0, 1.0)  # cosh is even; sign(0) must not kill x0'
    lf, af, bf = _factor_sums(sgn * x[:, :1], sgn * dx[:, :1], sgn * ddx[:, :1], "cosh")
    lc, ac, bc = _factor_sums(x[:, even], dx[:, even], ddx[:, even], "cosh")
    logs.append(lf + lc), a.append(af + ac), b.append(bf + bc)
    lr, ar, br = _factor_sums(x[:, even], dx[:, even], ddx[:, even], "sinh")
    # Z4 = R * 2 sinh(x0): scale by e^{|x0|}; S0 = 2sinh/e^|x0|, C0 = 2cosh/e^|x0|
    x0, dx0, ddx0 = x[:, 0], dx[:, 0], ddx[:, 0]
    q0 = np.exp(-2.0 * np.abs(x0))
    S0, C0 = np.sign(x0) * -np.expm1(-2.0 * np.abs(x0)), 1.0 + q0
    logs.append(lr + np.abs(x0))
    ell = np.stack(logs)                      # (4, nK) log-magnitudes
    top = ell.max(axis=0)
    w = np.exp(ell - top)
    v = np.stack([np.ones_like(x0)] * 3 + [S0])  # Z_i / e^{ell_i}
    p1 = np.stack(a[:3] + [S0 * ar + C0 * dx0])  # Z_i' / e^{ell_i}
    total = (w * v).sum(0)
    abar = (w * p1).sum(0) / total
    # centred second moment: sum_i Z_i'' - 2 abar Z_i' + abar^2 Z_i, no N^2 cancellation
    q = [(ai - abar) ** 2 + bi for ai, bi in zip(a[:3], b[:3])]
    da = ar - abar
    near = S0 * (da**2 + br + dx0**2) + C0 * (2.0 * dx0 * da + ddx0)
    # away from gamma_0 = 0 the form above cancels O(N) terms at low T: use the
    # log-derivative of Z4 instead (coth/csch^2 of x0 are safe for |x0| >= 1)
    sg = np.where(x0 < 0.0, -1.0, 1.0)
    coth0 = sg * (1.0 + q0) / (1.0 - np.minimum(q0, 0.5))
    csch2 = 4.0 * q0 / (1.0 - np.minimum(q0, 0.5)) ** 2
    far = S0 * ((da + coth0 * dx0) ** 2 + br - csch2 * dx0**2 + coth0 * ddx0)
    q.append(np.where(np.abs(x0) >= 1.0, far, near))
    second = (w * np.stack(q)).sum(0) / total
    s2k = np.sinh(2.0 * K)
    log_z = -math.log(2.0) + 0.5 * N * np.log(2.0 * s2k) + top + np.log(total)
    d1 = N / np.tanh(2.0 * K) + abar
    d2 = -2.0 * N / s2k**2 + second
    return log_z, d1, d2


def _kaufman_setup(L, T, coupling):
    L = _size(L, KAUFMAN_MIN_SIZE, None, "the Kaufman finite-size solution")
    t, scalar = _temperatures(T)
    J = _nonzero_coupling(coupling)
    if J < 0.0 and L % 2:
        raise IsingLabError(
            f"J < 0 on an odd periodic lattice (L = {L}) is frustrated: the Kaufman "
            "solution does not apply; use enumeration for L <= 4")
    K = abs(J) / t.ravel()
    return L, t, scalar, abs(J), K, _kaufman_or_ground(L, K)


def _kaufman_or_ground(L: int, K: np.ndarray):
    """Kaufman's ln Z, d/dK, d2/dK2, or the ground-state limit for K >= GROUND_K.

    There Z = 2 e^{2NK} (1 + O(N e^{-8K})) to far below double precision, and
    sinh 2K would overflow in the general formula.
    """
    N = L * L
    ground = K >= GROUND_K
    log_z, d1, d2 = math.log(2.0) + 2.0 * N * K, np.full_like(K, 2.0 * N), np.zeros_like(K)
    if not ground.all():
        parts = _kaufman_derivatives(L, K[~ground])
        for full, part in zip((log_z, d1, d2), parts):
            full[~ground] = part
    return log_z, d1, d2


def kaufman_log_z(L, T, coupling=1.0):
    """ln Z of the L x L torus at h = 0, exact for every L >= 2 (see _kaufman_derivatives)."""
    _, t, scalar, _, _, (log_z, _, _) = _kaufman_setup(L, T, coupling)
    return _shape_like(log_z, t, scalar)


def kaufman_free_energy(L, T, coupling=1.0):
    """Free energy per spin -T ln Z / N of the L x L torus at h = 0."""
    L, t, scalar, _, _, (log_z, _, _) = _kaufman_setup(L, T, coupling)
    return _shape_like(-t.ravel() * log_z / (L * L), t, scalar)


def kaufman_energy(L, T, coupling=1.0):
    """<E>/N = -|J| (d ln Z / dK) / N of the L x L torus, derivative taken analytically."""
    L, t, scalar, J, _, (_, d1, _) = _kaufman_setup(L, T, coupling)
    return _shape_like(-J * d1 / (L * L), t, scalar)


def kaufman_specific_heat(L, T, coupling=1.0):
    """C/N = (<E^2> - <E>^2)/(N T^2) = K^2 (d^2 ln Z / dK^2) / N, analytic second derivative."""
    L, t, scalar, _, K, (_, _, d2) = _kaufman_setup(L, T, coupling)
    # a variance is >= 0; below T ~ 0.3|J| the true C/N (< 1e-8) sits near the
    # rounding floor of d2 (~1e-16 e^{-2K}), which may land on either side of 0
    return _shape_like(np.maximum(K * K * d2 / (L * L), 0.0), t, scalar)


# ----------------------------------------------------------------------------- enumeration

@lru_cache(maxsize=None)
def _density_of_states(L: int):
    N = L * L
    states = np.arange(1 << N, dtype=np.int64)[:, None]
    spins = (1 - 2 * ((states >> np.arange(N)) & 1)).astype(np.int8).reshape(-1, L, L)
    # each site with its right and down neighbour: 2N bonds, doubled pairs for L = 2
    bonds = (spins * (np.roll(spins, -1, 2) + np.roll(spins, -1, 1))).sum((1, 2))
    mags = spins.sum((1, 2))
    pairs, counts = np.unique(np.stack([bonds, mags], 1), axis=0, return_counts=True)
    out = (pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), counts.astype(np.int64))
    for arr in out:
        arr.setflags(write=False)  # cached: callers must not modify
    return out


def density_of_states(L):
    """Joint density of states g(bond_sum, M) of the L x L torus, L <= 4, by enumeration.

    bond_sum = sum_i s_i (s_right + s_down) (2N periodic bonds; for L = 2 each
    neighbour pair is counted twice), M = sum_i s_i, E = -J bond_sum - h M.
    Returns read-only int arrays (bond_sum, magnetisation, degeneracy).
    """
    return _density_of_states(_size(L, 1, ENUMERATION_MAX_SIZE, "exact enumeration"))


def _enumeration_weights(L, T, coupling, field):
    L = _size(L, 1, ENUMERATION_MAX_SIZE, "exact enumeration")
    t, _ = _temperatures(T)
    if t.ndim:
        raise IsingLabError("enumeration takes a single temperature")
    T = float(t)
    J, h = _real("coupling J", coupling), _real("field h", field)
    bonds, mags, deg = density_of_states(L)
    energy = -J * bonds - h * mags
    # measure E from the ground level: the weights of relevant states stay O(1),
    # so probabilities and variances keep full relative precision at low T
    excess = energy - energy.min()
    logw = np.log(deg) - excess / T
    log_zr = special.logsumexp(logw)
    p = np.exp(logw - log_zr)
    return L, T, excess, energy.min(), mags, p / p.sum(), float(log_zr - energy.min() / T)


def enumeration_observables(L, T, coupling=1.0, field=0.0):
    """Exact thermal averages by enumeration, L <= 4, any J and h.

    e = <E>/N, c = (<E^2> - <E>^2)/(N T^2), m = <M>/N, m_abs = <|M|>/N,
    m2 = <m^2>, m4 = <m^4> (m = M/N), chi = N (<m^2> - <|m|>^2)/T (the usual
    finite-lattice susceptibility built on |m|, which stays finite at h = 0),
    u4 = 1 - <m^4>/(3 <m^2>^2) (Binder cumulant), log_z = ln Z.
    """
    L, T, excess, e_min, mags, p, log_z = _enumeration_weights(L, T, coupling, field)
    N = L * L
    x_mean = float(p @ excess)
    m = mags / N
    m2, m4, m_abs = float(p @ m**2), float(p @ m**4), float(p @ np.abs(m))
    return {
        "e": float(e_min + x_mean) / N,
        "c": float(p @ (excess - x_mean) ** 2) / (N * T * T),  # centred: no cancellation
        "m": float(p @ m),
        "m_abs": m_abs,
        "m2": m2,
        "m4": m4,
        "chi": N * (m2 - m_abs**2) / T,
        # m2 = 0 to double precision (an antiferromagnet's ground states at low T): u4 is 0/0
        "u4": 1.0 - m4 / (3.0 * m2 * m2) if m2 * m2 > 0.0 else float("nan"),
        "log_z": log_z,
    }


def energy_distribution(L, T, coupling=1.0, field=0.0):
    """Exact distribution of the total energy E: (distinct energies ascending, probabilities).

    With h != 0 different (bond_sum, M) pairs can share one energy; they are merged
    after rounding E to 1e-9, so float noise does not split a level.
    """
    _, _, excess, e_min, _, p, _ = _enumeration_weights(L, T, coupling, field)
    levels, inverse = np.unique(np.round(e_min + excess, 9), return_inverse=True)
    probs = np.bincount(inverse.ravel(), weights=p, minlength=levels.size)
    return levels, probs


# ----------------------------------------------------------------------------- summary

def exact_summary(L, T, coupling=1.0, field=0.0) -> dict:
    """All exact results that apply to (L, T, J, h), as plain floats, for `isinglab exact`.

    Keys: size, temperature, coupling, field; "finite_size" {e, c, log_z} (Kaufman,
    h = 0, J != 0, not for J < 0 with odd L); "enumeration" {...} (L <= 4);
    "onsager" {e, c, m, xi, tc} (h = 0, J != 0).  c and xi are float('inf') at
    T = T_c exactly; formatting infinities is left to the caller.
    """
    L = _size(L, 1, None, "the exact summary")
    T = _real("temperature T", T)
    _temperatures(T)
    J, h = _real("coupling J", coupling), _real("field h", field)
    out = {"size": L, "temperature": T, "coupling": J, "field": h}
    if h == 0.0 and J != 0.0 and L >= KAUFMAN_MIN_SIZE and not (J < 0.0 and L % 2):
        out["finite_size"] = {
            "e": kaufman_energy(L, T, J),
            "c": kaufman_specific_heat(L, T, J),
            "log_z": kaufman_log_z(L, T, J),
        }
    if L <= ENUMERATION_MAX_SIZE:
        out["enumeration"] = enumeration_observables(L, T, J, h)
    if h == 0.0 and J != 0.0:
        out["onsager"] = {
            "e": onsager_energy(T, J),
            "c": onsager_specific_heat(T, J),
            "m": onsager_magnetisation(T, J),
            "xi": onsager_correlation_length(T, J),
            "tc": critical_temperature(J),
        }
    return out
