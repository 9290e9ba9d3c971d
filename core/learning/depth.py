"""Depth: the product of n numbers by a deep tree of multiplication gates or by one wide layer.

Lin, Tegmark & Rolnick (paper-notes 2 and 5) contrast two exact constructions of
f(x) = x_1 x_2 ... x_n on [-1, 1]^n:

* deep: a binary tree of the four-neuron gate of core.learning.gate. n - 1 gates, 4(n - 1)
  neurons, ceil(log2 n) gate layers. Adjacent values are paired level by level; an odd one out
  is carried up to the next level unchanged (a skip connection: a strictly layered network would
  carry it with extra neurons). Each gate is an affine 2 -> 4, sigma, an affine 4 -> 1:
  8 + 4 + 4 + 1 = 17 parameters. Every intermediate product stays in [-1, 1], so each gate
  errs by O(lambda^2) (softplus: at most lambda^2 / 6) and the errors add up along the tree.
* shallow: one layer of 2^n neurons, one per sign vector s in {-1, +1}^n,

      prod_i x_i ~= sum_s (prod_i s_i) sigma(b + lambda s.x) / (2^n lambda^n sigma^(n)(b)).

  Expanding sigma(b + u) = sum_k sigma^(k)(b) u^k / k!, the signed sum over s kills every
  monomial of (s.x)^k in which some x_i has an even power: nothing survives below k = n,
  k = n leaves n! prod_i x_i (so the sum is 2^n sigma^(n)(b) lambda^n prod x), k = n + 1 has the
  wrong parity, and the first error is the k = n + 2 term,
      lambda^2 sigma^(n+2)(b) / (6 sigma^(n)(b)) (sum_i x_i^2) prod_i x_i.
  Parameters: 2^n (n + 1) for the layer, 2^n + 1 for the read-out.
  The operating point b must have sigma^(n)(b) != 0. softplus has sigma^(k)(0) = 0 for every odd
  k >= 3 (its derivative, the logistic function, is 1/2 plus an odd function), so for odd n the
  bias is shifted to where |sigma^(n)| is largest; exp works at b = 0 for every n.

Both errors fall as lambda^2 until rounding takes over: the shallow sum cancels 2^n numbers of
size sigma(b) down to lambda^n, so its floor is ~ eps sigma(b) / (lambda^n |sigma^(n)(b)|) and it
rises steeply with n; a gate's floor is ~ eps / lambda^2 whatever n is. Everything here is plain
float64 numpy, the arithmetic a network would do.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial import Polynomial

from ..errors import IsingLabError
from . import gate as gate_

NONLINEARITIES = ("softplus", "exp")
MIN_INPUTS, MAX_INPUTS = 2, 12  # 2^12 neurons x points: tens of MB
DEFAULT_SCALES = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003)
MAX_SCALES = 16
DEFAULT_POINTS = 2000
MAX_POINTS = 100_000
BIAS_GRID = np.linspace(0.0, 4.0, 4001)  # where the softplus operating point is looked for
MAX_SHALLOW_CELLS = 2**25  # points x 2^n doubles evaluated at once (256 MB)


# ----------------------------------------------------------------------------- the nonlinearity

def check_nonlinearity(name: str) -> str:
    if name not in NONLINEARITIES:
        raise IsingLabError(f"unknown nonlinearity {name!r} for the depth constructions; choose one of: "
                            f"{', '.join(NONLINEARITIES)}")
    return name


def sigma(name: str, z):
    check_nonlinearity(name)
    z = np.asarray(z, dtype=float)
    return np.logaddexp(0.0, z) if name == "softplus" else np.exp(z)


@lru_cache(maxsize=None)
def _logistic_polynomial(k: int) -> Polynomial:
    """P_k with softplus^(k)(b) = P_k(p), p = logistic(b) (k >= 1): P_1 = p, P_(k+1) = P_k' p (1 - p)."""
    poly = Polynomial([0.0, 1.0])
    dp = Polynomial([0.0, 1.0, -1.0])
    for _ in range(k - 1):
        poly = poly.deriv() * dp
    return poly


def derivative(name: str, k: int, b) -> np.ndarray:
    """sigma^(k)(b), exactly (softplus: a polynomial in the logistic function)."""
    check_nonlinearity(name)
    b = np.asarray(b, dtype=float)
    if k == 0:
        return sigma(name, b)
    if name == "exp":
        return np.exp(b)
    p = 0.5 * (1.0 + np.tanh(0.5 * b))  # the logistic function, without overflow
    return _logistic_polynomial(k)(p)


def operating_point(name: str, n: int) -> float:
    """The bias b of the shallow construction: 0 where sigma^(n)(0) != 0, else where |sigma^(n)| peaks."""
    at_zero = float(derivative(name, n, 0.0))
    if abs(at_zero) > 1e-12:
        return 0.0
    values = np.abs(derivative(name, n, BIAS_GRID))
    return float(BIAS_GRID[int(np.argmax(values))])


# ----------------------------------------------------------------------------- the two networks

def check_inputs(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not MIN_INPUTS <= n <= MAX_INPUTS:
        raise IsingLabError(f"the number of inputs n must be an integer in {MIN_INPUTS}..{MAX_INPUTS}, got {n!r}")
    return int(n)


def check_scales(scales) -> tuple[float, ...]:
    values = tuple(float(s) for s in np.atleast_1d(np.asarray(scales, dtype=float)))
    if not values:
        raise IsingLabError("give at least one scale lambda")
    if len(values) > MAX_SCALES:
        raise IsingLabError(f"at most {MAX_SCALES} scales lambda, got {len(values)}")
    for v in values:
        if not math.isfinite(v) or not 0.0 < v <= 10.0:
            raise IsingLabError(f"a scale lambda must be a finite number > 0 and <= 10, got {v:g}")
    return values


def deep_neurons(n: int) -> int:
    return 4 * (check_inputs(n) - 1)


def deep_parameters(n: int) -> int:
    return 17 * (check_inputs(n) - 1)


def deep_layers(n: int) -> int:
    return math.ceil(math.log2(check_inputs(n)))


def shallow_neurons(n: int) -> int:
    return 2 ** check_inputs(n)


def shallow_parameters(n: int) -> int:
    n = check_inputs(n)
    return 2**n * (n + 1) + 2**n + 1


def tree_pairs(n: int) -> list[list[tuple[int, int]]]:
    """The gates, level by level, as (slot, slot) pairs of the values alive at that level."""
    alive, levels = check_inputs(n), []
    while alive > 1:
        levels.append([(2 * i, 2 * i + 1) for i in range(alive // 2)])
        alive = alive // 2 + alive % 2
    return levels


def deep_product(x, lam: float, nonlinearity: str = "softplus") -> np.ndarray:
    """The gate tree's output for points x (..., n)."""
    x = np.asarray(x, dtype=float)
    check_inputs(x.shape[-1])
    values = [x[..., i] for i in range(x.shape[-1])]
    for level in tree_pairs(x.shape[-1]):
        nxt = [gate_.gate(values[i], values[j], lam, nonlinearity) for i, j in level]
        if len(values) % 2:
            nxt.append(values[-1])  # carried up unchanged
        values = nxt
    return values[0]


def sign_vectors(n: int) -> np.ndarray:
    """(2^n, n) every s in {-1, +1}^n."""
    codes = np.arange(2 ** check_inputs(n))[:, None]
    return (1 - 2 * ((codes >> np.arange(n)) & 1)).astype(float)


@dataclass(frozen=True)
class ShallowNetwork:
    """The 2^n-neuron construction at one scale: sigma(weights @ x + bias) @ readout."""

    n: int
    lam: float
    bias: float
    nonlinearity: str
    weights: np.ndarray  # (2^n, n) = lam * s
    readout: np.ndarray  # (2^n,) = prod(s) / (2^n lam^n sigma^(n)(b))

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        flat = x.reshape(-1, self.n)
        rows = max(1, MAX_SHALLOW_CELLS // self.weights.shape[0])
        out = np.empty(flat.shape[0])
        for start in range(0, flat.shape[0], rows):
            z = flat[start:start + rows] @ self.weights.T + self.bias
            out[start:start + rows] = sigma(self.nonlinearity, z) @ self.readout
        return out.reshape(x.shape[:-1])


def shallow_network(n: int, lam: float, nonlinearity: str = "softplus") -> ShallowNetwork:
    n = check_inputs(n)
    (lam,) = check_scales([lam])
    check_nonlinearity(nonlinearity)
    b = operating_point(nonlinearity, n)
    s = sign_vectors(n)
    norm = 2.0**n * lam**n * float(derivative(nonlinearity, n, b))
    return ShallowNetwork(n, lam, b, nonlinearity, lam * s, np.prod(s, axis=1) / norm)


def shallow_product(x, lam: float, nonlinearity: str = "softplus") -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return shallow_network(x.shape[-1], lam, nonlinearity)(x)


def shallow_leading_error(x, lam: float, nonlinearity: str = "softplus") -> np.ndarray:
    """lambda^2 sigma^(n+2)(b) / (6 sigma^(n)(b)) (sum_i x_i^2) prod_i x_i (module docstring)."""
    x = np.asarray(x, dtype=float)
    n = check_inputs(x.shape[-1])
    b = operating_point(nonlinearity, n)
    ratio = float(derivative(nonlinearity, n + 2, b) / derivative(nonlinearity, n, b))
    return lam**2 * ratio / 6.0 * (x**2).sum(-1) * np.prod(x, axis=-1)


def random_points(n: int, points: int = DEFAULT_POINTS, seed: int = 0) -> np.ndarray:
    n = check_inputs(n)
    if not isinstance(points, (int, np.integer)) or isinstance(points, bool) or not 1 <= points <= MAX_POINTS:
        raise IsingLabError(f"the number of test points must be an integer in 1..{MAX_POINTS}, got {points!r}")
    return np.random.default_rng([seed, n, 0xDE7]).uniform(-1.0, 1.0, size=(int(points), n))


# ----------------------------------------------------------------------------- the comparison

@dataclass(frozen=True)
class Construction:
    """One network at every scale: max |f - prod x| and the relative RMS error per lambda."""

    kind: str  # "deep" or "shallow"
    n: int
    neurons: int
    parameters: int
    layers: int  # hidden layers of neurons
    scales: tuple
    max_errors: tuple
    rel_rms_errors: tuple
    bias: float  # the shallow operating point (0 for the deep tree's gates)

    @property
    def best(self) -> int:
        return int(np.nanargmin(self.max_errors))

    def to_json(self) -> dict:
        i = self.best
        return {"neurons": self.neurons, "params": self.parameters, "layers": self.layers, "bias": self.bias,
                "max_error": self.max_errors[i], "lambda": self.scales[i],
                "errors": [{"lambda": lam, "max_error": e, "rel_rms_error": r}
                           for lam, e, r in zip(self.scales, self.max_errors, self.rel_rms_errors)]}


def _errors(f, x, target, scales):
    max_err, rel = [], []
    norm = math.sqrt(float(np.mean(target**2)))
    for lam in scales:
        d = f(x, lam) - target
        max_err.append(float(np.abs(d).max()))
        rel.append(float(math.sqrt(float(np.mean(d**2))) / norm))
    return tuple(max_err), tuple(rel)


def construct(n: int, scales=DEFAULT_SCALES, nonlinearity: str = "softplus", points: int = DEFAULT_POINTS,
              seed: int = 0) -> tuple[Construction, Construction]:
    """(deep, shallow) constructions of prod x_i for n inputs, measured on random points of [-1, 1]^n."""
    n = check_inputs(n)
    scales = check_scales(scales)
    check_nonlinearity(nonlinearity)
    x = random_points(n, points, seed)
    target = np.prod(x, axis=1)
    deep = Construction("deep", n, deep_neurons(n), deep_parameters(n), deep_layers(n), scales,
                        *_errors(lambda p, lam: deep_product(p, lam, nonlinearity), x, target, scales), 0.0)
    shallow = Construction("shallow", n, shallow_neurons(n), shallow_parameters(n), 1, scales,
                           *_errors(lambda p, lam: shallow_product(p, lam, nonlinearity), x, target, scales),
                           operating_point(nonlinearity, n))
    return deep, shallow
