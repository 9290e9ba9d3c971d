"""Checkerboard Metropolis and heat-bath on torch tensors: a four-sublattice layout, an eager
sweep and a sweep written for torch.compile (fused into one loop per sublattice).

Layout: the L x L lattice lives in four (L/2, L/2) int8 tensors, one per (row, column) parity:
A = s[0::2, 0::2], B = s[0::2, 1::2], C = s[1::2, 0::2], D = s[1::2, 1::2]. Colour (i + j) % 2 = 0
is A and D, colour 1 is B and C. Each neighbour of a quarter is a uniform shift of a quarter of the
other colour (no per-row parity as in the (2, L, L/2) layout), so a half-sweep is whole-tensor ops:
    nn(A) = B + B[., b-1] + C + C[a-1, .]      nn(D) = C + C[., b+1] + B + B[a+1, .]
    nn(B) = A + A[., b+1] + D + D[a-1, .]      nn(C) = D + D[., b-1] + A + A[a+1, .]

Random numbers:
- fused: the counter-based SplitMix64 stream of the numba kernels (kernels/rng.py), with the same
  counter per site, so the fused path reproduces the numba trajectory bit for bit on any device
  (but for thresholds that round to 0: see offset_table). It runs inside the compiled kernel:
  no random-number buffer, no generator state.
- eager: uniform float32 numbers from a seeded torch.Generator on the sampler's device, compared
  with a float32 copy of the same threshold table (one whole-tensor op per step).
Both compare against a table indexed by (spin, neighbour sum), as kernels/checkerboard.py does,
so no exp() runs per site.
"""
from __future__ import annotations

import numpy as np
import torch

# quarter -> (horizontal neighbour quarter, its column shift, vertical neighbour quarter, its row
# shift); a shift of +1 brings index b-1 (a-1) to b (a), as torch.roll does
NEIGHBOURS = {0: (1, 1, 2, 1), 3: (2, -1, 1, -1), 1: (0, -1, 3, 1), 2: (3, 1, 0, -1)}
COLOURS = ((0, 3), (1, 2))
ROW_PARITY = (0, 0, 1, 1)


def _signed64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


# SplitMix64 constants as signed int64 (torch has no full uint64 arithmetic; products wrap)
GAMMA = _signed64(0x9E3779B97F4A7C15)
M1 = _signed64(0xBF58476D1CE4E5B9)
M2 = _signed64(0x94D049BB133111EB)
INT32_MIN = -(2**31)


def hash_constants(key: int, device) -> torch.Tensor:
    """[key, GAMMA, M1, M2] as a tensor: passed as data so the compiler cannot fold them into
    (overflowing) index arithmetic."""
    return torch.tensor([_signed64(int(key)), GAMMA, M1, M2], dtype=torch.int64, device=device)


# ---- layout ----

def to_quarters(spins: np.ndarray, device) -> list[torch.Tensor]:
    full = torch.from_numpy(np.ascontiguousarray(spins, dtype=np.int8)).to(device)
    return [full[r::2, c::2].contiguous() for r in (0, 1) for c in (0, 1)]


def interleave(quarters, out: torch.Tensor) -> torch.Tensor:
    """Write the four quarters into the (L, L) tensor out."""
    h = quarters[0].shape[0]
    grid = out.view(h, 2, h, 2)  # [a, row parity, b, column parity]
    for q, t in enumerate(quarters):
        grid[:, q >> 1, :, q & 1].copy_(t)
    return out


def neighbour_sum(quarters, q: int) -> torch.Tensor:
    """int8 sum of the four neighbours of every site of quarter q."""
    hq, hs, vq, vs = NEIGHBOURS[q]
    h, v = quarters[hq], quarters[vq]
    # cat, not roll: the compiler turns it into two contiguous loads instead of a modulo gather
    hshift = torch.cat([h[:, -1:], h[:, :-1]], 1) if hs == 1 else torch.cat([h[:, 1:], h[:, :1]], 1)
    return h + hshift + v + v.roll(vs, 0)


def bond_sum_and_magnetisation(quarters) -> tuple[torch.Tensor, torch.Tensor]:
    """0-d int64 tensors (sum over the 2N bonds of s_i s_j, sum_i s_i): every bond joins colour 0
    to colour 1, so s * (neighbour sum) over colour 0 counts each bond once."""
    bonds = sum((quarters[q] * neighbour_sum(quarters, q)).sum(dtype=torch.int64) for q in COLOURS[0])
    mag = sum(t.sum(dtype=torch.int64) for t in quarters)
    return bonds, mag


# ---- eager path: torch.Generator numbers, float32 thresholds ----

def eager_metropolis_table(thr32: np.ndarray) -> np.ndarray:
    """19 float32 acceptance probabilities indexed by 5 s + nn + 9 (from the 10-entry 2^32 table)."""
    out = np.zeros(19, dtype=np.float32)
    for s in (-1, 1):
        for nn in (-4, -2, 0, 2, 4):
            out[5 * s + nn + 9] = thr32[((s + 1) >> 1) * 5 + ((nn + 4) >> 1)] / 2.0**32
    return out


def eager_heatbath_table(thr32: np.ndarray) -> np.ndarray:
    """9 float32 probabilities P(s' = +1) indexed by nn + 4."""
    out = np.zeros(9, dtype=np.float32)
    for nn in (-4, -2, 0, 2, 4):
        out[nn + 4] = thr32[5 + ((nn + 4) >> 1)] / 2.0**32
    return out


def eager_sweep(quarters, table: torch.Tensor, heatbath: bool, gen: torch.Generator,
                uniform: torch.Tensor) -> None:
    """One sweep in place; `uniform` is a scratch (4, L/2, L/2) float32 tensor on the device,
    filled once per sweep (the numbers do not depend on the state, so one call serves all four
    quarters: fewer launches, which is what small lattices pay for)."""
    torch.rand(uniform.shape, generator=gen, out=uniform)
    for colour in COLOURS:
        for q in colour:
            own = quarters[q]
            nn = neighbour_sum(quarters, q)
            if heatbath:
                p_up = table[nn.add_(4).long()]
                own.copy_(uniform[q] < p_up).mul_(2).sub_(1)
            else:
                accept = table[nn.add_(own, alpha=5).add_(9).long()]
                torch.where(uniform[q] < accept, -own, own, out=own)


# ---- fused path: written for torch.compile ----

def _lshr(z: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns (>> on int64 is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def _mix(consts: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    z = consts[0] + counter * consts[1]
    z = (z ^ _lshr(z, 30)) * consts[2]
    z = (z ^ _lshr(z, 27)) * consts[3]
    return z ^ _lshr(z, 31)


def draw32(consts: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """kernels.rng.draw32 in int64 arithmetic: high 32 bits of mix64(key + counter * GAMMA)."""
    return _lshr(_mix(consts, counter), 32)


def draw32_offset(consts: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """draw32 - 2^31 as int32 (flipping the sign bit of the high word): 32-bit compares and
    selects run twice as wide as 64-bit ones."""
    return (_mix(consts, counter) >> 32).to(torch.int32) ^ INT32_MIN


def offset_table(thr: np.ndarray) -> np.ndarray:
    """int32 thresholds for `draw32_offset(...) <= t`, equivalent to `draw32 < thr` except that
    thr = 0 (never) becomes "only when draw32 = 0" (probability 2^-32, below the table's own
    rounding of 2^-33)."""
    return np.maximum(thr.astype(np.int64) - 1 - 2**31, INT32_MIN).astype(np.int32)


def _site_counters(h: int, row_parity: int, base: torch.Tensor) -> torch.Tensor:
    """The numba kernel's counter for each site of a quarter: base + i * (L/2) + j // 2."""
    rows = (2 * torch.arange(h, device=base.device) + row_parity) * h
    return base + rows[:, None] + torch.arange(h, device=base.device)[None, :]


def _select5(j: torch.Tensor, thr: torch.Tensor, first: int) -> torch.Tensor:
    """thr[first + j] for j in 0..4 as a chain of selects (vectorises, unlike a gather)."""
    t = thr[first].expand(j.shape)
    for q in range(1, 5):
        t = torch.where(j == q, thr[first + q], t)
    return t


def fused_sweep(quarters, thr: torch.Tensor, consts: torch.Tensor, sweep_index: torch.Tensor,
                heatbath: bool) -> list[torch.Tensor]:
    """One sweep: returns the four new quarters and sweep_index + 1 (functional, so the compiler
    fuses each quarter's update into one loop). thr is offset_table() of the kernels.checkerboard
    table and sweep_index a 0-d int64 device tensor, so no host value enters the graph."""
    quarters = list(quarters)
    h = quarters[0].shape[0]
    half = 2 * h * h
    for colour, members in enumerate(COLOURS):
        base = (2 * sweep_index + colour) * half
        new = {}
        for q in members:
            own = quarters[q]
            j = (neighbour_sum(quarters, q).to(torch.int32) + 4) >> 1
            draw = draw32_offset(consts, _site_counters(h, ROW_PARITY[q], base))
            if heatbath:
                new[q] = (draw <= _select5(j, thr, 5)).to(torch.int8) * 2 - 1
            else:
                t = torch.where(own > 0, _select5(j, thr, 5), _select5(j, thr, 0))
                new[q] = torch.where(draw <= t, -own, own)
        for q, t in new.items():
            quarters[q] = t
    return quarters + [sweep_index + 1]
