"""The paper's multiplication gate: four neurons that multiply two numbers.

For a smooth nonlinearity sigma with sigma''(0) != 0 (Lin, Tegmark & Rolnick, paper-notes 2):

    x y ~= [sigma(l(x+y)) + sigma(-l(x+y)) - sigma(l(x-y)) - sigma(-l(x-y))] / (4 l^2 sigma''(0))

The even part of sigma cancels everything but the u^2 term of its Taylor series (u = l(x +- y)),
and (x+y)^2 - (x-y)^2 = 4xy. The next term is O(l^2 (x^4 + ...)), so the error falls as l^2 until
floating-point cancellation of four O(1) numbers takes over (~ eps / l^2).
"""
from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..errors import IsingLabError

SQRT2 = np.sqrt(2.0)

# name -> (sigma, sigma''(0))
NONLINEARITIES = {
    "softplus": (lambda u: np.logaddexp(0.0, u), 0.25),
    "exp": (np.exp, 1.0),
    "gelu": (lambda u: 0.5 * u * (1.0 + erf(u / SQRT2)), float(np.sqrt(2.0 / np.pi))),
    "silu": (lambda u: u / (1.0 + np.exp(-u)), 0.5),
    "tanh": (np.tanh, 0.0),
}


def check_nonlinearity(name: str):
    if name not in NONLINEARITIES:
        raise IsingLabError(f"unknown nonlinearity {name!r}; choose one of: {', '.join(NONLINEARITIES)}")
    sigma, curvature = NONLINEARITIES[name]
    if curvature == 0.0:
        raise IsingLabError(f"{name} has sigma''(0) = 0: it is odd, its four-neuron sum cancels, "
                            "and it cannot multiply; choose softplus, exp, gelu or silu")
    return sigma, curvature


def check_scale(lam) -> float:
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0.0):
        raise IsingLabError("the gate scale lambda must be finite and > 0")
    return lam


def gate(x, y, lam: float = 0.1, nonlinearity: str = "softplus"):
    """The four-neuron product of x and y (arrays broadcast)."""
    sigma, curvature = check_nonlinearity(nonlinearity)
    lam = check_scale(lam)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    s, d = lam * (x + y), lam * (x - y)
    return (sigma(s) + sigma(-s) - sigma(d) - sigma(-d)) / (4.0 * lam**2 * curvature)


def gate_error(lams, nonlinearity: str = "softplus", extent: float = 1.0, points: int = 41) -> np.ndarray:
    """Largest |gate(x, y) - x y| over a grid of x, y in [-extent, extent], for each lambda."""
    check_nonlinearity(nonlinearity)
    lams = np.atleast_1d(check_scale(lams))
    g = np.linspace(-extent, extent, points)
    x, y = np.meshgrid(g, g)
    return np.array([np.abs(gate(x, y, lam, nonlinearity) - x * y).max() for lam in lams])


def leading_error(x, y, lam, nonlinearity: str = "softplus"):
    """The O(lambda^2) term of gate - x y, for softplus.

    In general it is lam^2 s4 (x^3 y + x y^3) / (6 s2), with s2, s4 the 2nd and 4th derivatives of
    sigma at 0 (from the u^4 terms of its even part); softplus has s2 = 1/4, s4 = -1/8.
    """
    if nonlinearity != "softplus":
        raise IsingLabError("the closed-form leading error is implemented for softplus only")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return -np.asarray(lam, dtype=float) ** 2 * (x**3 * y + x * y**3) / 12.0
