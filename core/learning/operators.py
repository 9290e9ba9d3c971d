"""The local operator basis: translation-invariant products of 1, 2, 3 and 4 spins.

A model over the basis is  ln p(x) = sum_o K_o phi_o(x) - ln Z,  with
phi_o(x) = sum_a prod_{d in o} x_{a + d}  (a runs over all L^2 anchors of the torus, each
placement counted once). The Ising model H = -J sum_<ij> x_i x_j - h sum_i x_i at temperature T
is K_nn = J/T on both nearest-neighbour operators, K_h = h/T, and every other K_o = 0, so the
couplings are in units where the exact nearest-neighbour value is J/T.

Offsets are (dx, dy): dx along a row (the column index), dy down (the row index). A pair keeps
one of its two orientations: dy > 0, or dy == 0 and dx > 0. Pairs reach out to a Chebyshev
range R (|dx|, |dy| <= R) with 2R < L, so no two operators coincide on the torus.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IsingLabError

PLAQUETTE = ((0, 0), (1, 0), (0, 1), (1, 1))
MAX_RANGE = 6


@dataclass(frozen=True)
class Operator:
    name: str
    group: str  # operators reported together: "h", "nn", "nnn", "pair(2,0)", "3-spin", "plaquette"
    offsets: tuple  # ((dx, dy), ...), the spins multiplied

    @property
    def order(self) -> int:
        return len(self.offsets)


def _pair_group(dx: int, dy: int) -> str:
    a, b = sorted((abs(dx), abs(dy)), reverse=True)
    return {(1, 0): "nn", (1, 1): "nnn"}.get((a, b), f"pair({a},{b})")


def pair_offsets(range_: int) -> list[tuple[int, int]]:
    """One orientation of every pair offset within Chebyshev distance range_, nearest first."""
    out = [(dx, dy) for dy in range(0, range_ + 1) for dx in range(-range_, range_ + 1)
           if dy > 0 or dx > 0]
    return sorted(out, key=lambda d: (max(abs(d[0]), abs(d[1])), d[0] ** 2 + d[1] ** 2, d[1], d[0]))


def check_range(range_, size: int) -> int:
    if not isinstance(range_, (int, np.integer)) or isinstance(range_, bool) or range_ < 1:
        raise IsingLabError(f"pair range R must be an integer >= 1, got {range_!r}")
    if range_ > MAX_RANGE:
        raise IsingLabError(f"pair range R = {range_} is larger than the maximum {MAX_RANGE}")
    if 2 * range_ >= size:
        raise IsingLabError(f"pair range R = {range_} needs L > 2R = {2 * range_} (got L = {size}): "
                            "longer pairs wrap onto shorter ones on the torus")
    return int(range_)


def basis(range_: int = 2, field: bool = True, three: bool = True, plaquette: bool = True) -> list[Operator]:
    """h, the pairs out to range_, the four 3-spin corners of a plaquette, the plaquette."""
    ops = [Operator("h", "h", ((0, 0),))] if field else []
    ops += [Operator(f"pair({dx},{dy})", _pair_group(dx, dy), ((0, 0), (dx, dy)))
            for dx, dy in pair_offsets(range_)]
    if three:
        for skip in PLAQUETTE:
            corners = tuple(d for d in PLAQUETTE if d != skip)
            ops.append(Operator("3-spin(" + ",".join(f"{dx}{dy}" for dx, dy in corners) + ")", "3-spin", corners))
    if plaquette:
        ops.append(Operator("plaquette", "plaquette", PLAQUETTE))
    return ops


def groups(ops) -> dict[str, list[int]]:
    """group name -> indices of its operators, in basis order."""
    out: dict[str, list[int]] = {}
    for i, op in enumerate(ops):
        out.setdefault(op.group, []).append(i)
    return out


def as_batch(spins) -> np.ndarray:
    """(n, L, L) int8 view of one configuration or a batch of them."""
    a = np.asarray(spins)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] < 2:
        raise IsingLabError(f"configurations must be (L, L) or (n, L, L) with L >= 2, got shape {a.shape}")
    return a.astype(np.int8, copy=False)


def _shifted(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """y[a] = x[a + (dx, dy)] on the torus, for a batch (n, L, L)."""
    return np.roll(x, (-dy, -dx), axis=(1, 2))


def placement_products(spins, op: Operator) -> np.ndarray:
    """(n, L, L) int8: the product of op's spins for the placement anchored at each site."""
    x = as_batch(spins)
    out = np.ones_like(x)
    for dx, dy in op.offsets:
        out *= _shifted(x, dx, dy)
    return out


def operator_sums(spins, ops) -> np.ndarray:
    """(n, len(ops)) int64: phi_o(x) for each configuration."""
    x = as_batch(spins)
    return np.stack([placement_products(x, op).sum(axis=(1, 2), dtype=np.int64) for op in ops], axis=1)


def site_features(spins, ops) -> np.ndarray:
    """(n, L*L, len(ops)) int8: f_o,i = sum of op's placement products over placements holding site i.

    Flipping x_i changes sum_o K_o phi_o by -2 sum_o K_o f_o,i, so p(x_i | rest) = sigmoid(2 K.f_i):
    the pseudo-likelihood needs nothing else. Values are small (|f| <= order), hence int8.
    """
    x = as_batch(spins)
    n, L, _ = x.shape
    out = np.empty((n, L * L, len(ops)), dtype=np.int8)
    for k, op in enumerate(ops):
        prod = placement_products(x, op)
        f = np.zeros_like(prod)
        for dx, dy in op.offsets:  # the placement anchored at i - d holds site i
            f += _shifted(prod, -dx, -dy)
        out[:, :, k] = f.reshape(n, L * L)
    return out


def bond_sums(spins) -> np.ndarray:
    """(n,) int64 sum over the 2N bonds of x_i x_j (as core.observables), vectorised over a batch."""
    x = as_batch(spins).astype(np.int16)
    return (x * (_shifted(x, 1, 0) + _shifted(x, 0, 1))).sum(axis=(1, 2), dtype=np.int64)


def energies(spins, coupling: float = 1.0, field: float = 0.0) -> np.ndarray:
    """(n,) total energies E = -J bond_sum - h M."""
    x = as_batch(spins)
    mag = x.sum(axis=(1, 2), dtype=np.int64)
    return -coupling * bond_sums(x).astype(np.float64) - field * mag


def exact_couplings(ops, temperature: float, coupling: float = 1.0, field: float = 0.0) -> np.ndarray:
    """K_o of the Ising model itself: J/T on the nearest-neighbour pairs, h/T on h, else 0."""
    values = {"nn": coupling / temperature, "h": field / temperature}
    return np.array([values.get(op.group, 0.0) for op in ops])


def kernel(values, ops, range_: int) -> np.ndarray:
    """(2R+1, 2R+1) coupling kernel J(dx, dy), indexed [dy + R, dx + R], symmetric under d -> -d."""
    out = np.zeros((2 * range_ + 1, 2 * range_ + 1))
    for v, op in zip(values, ops):
        if op.order == 2:
            dx, dy = op.offsets[1]
            out[dy + range_, dx + range_] = out[range_ - dy, range_ - dx] = v
    return out
