"""Block-spin transformations of a periodic L x L lattice of +-1 spins (int8).

Rules
-----
* majority: the block spin is the sign of the sum of its b x b spins. For even b a block can sum
  to zero; such a tie is broken by a fair coin from the counter-based stream: the block at
  (I, J) of level k draws bit 31 of draw32(key, I * Lb + J) with the level key
  key = draw64(stream_key(seed, TIE_TAG), 64 * stream + k). The choice is thus reproducible
  from (seed, stream) and independent between blocks, levels and streams (give each snapshot
  its own stream).
  Odd b never ties.
* decimation: the block spin is the block's top-left spin.

`block_levels(spins, b, levels)` applies one rule repeatedly: level 0 is the input, level k has
side L / b^k. Each level needs L divisible by b^k; `check_blocking` says so in plain words.
Kernels are serial and release the GIL: they run on a panel's worker thread while the
simulation keeps the cores busy.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import IsingLabError
from ..kernels.rng import draw32, draw64, stream_key

RULES = ("majority", "decimation")
TIE_TAG = 0x7E5  # stream_key purpose tag of the tie-breaking coins
MAX_LEVELS = 64  # level keys are draw64(base, 64 * stream + level)


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise IsingLabError(f"unknown blocking rule {rule!r}; choose one of: {', '.join(RULES)}")
    return rule


def check_blocking(size: int, block: int, levels: int, min_side: int = 1) -> None:
    """Raise a clear IsingLabError unless an L x L lattice can be blocked `levels` times by b,
    each level keeping a side of at least `min_side`."""
    if not isinstance(block, (int, np.integer)) or isinstance(block, bool) or block < 2:
        raise IsingLabError(f"block size b must be an integer >= 2, got {block!r}")
    if not isinstance(levels, (int, np.integer)) or isinstance(levels, bool) or levels < 0:
        raise IsingLabError(f"number of levels must be a non-negative integer, got {levels!r}")
    most = max_levels(size, block, min_side)
    if levels > most:
        if size % block ** levels:
            why = f"L is not divisible by b^{levels} = {block ** levels}"
        else:
            why = f"level {levels} would have side {size // block ** levels}, below the minimum {min_side}"
        raise IsingLabError(
            f"L = {size} allows at most {most} blocking level{'s' if most != 1 else ''} with b = {block}: {why}")


def max_levels(size: int, block: int, min_side: int = 1) -> int:
    """Largest k with L divisible by b^k and L / b^k >= min_side."""
    k, n = 0, int(size)
    while n % block == 0 and n // block >= min_side:
        n //= block
        k += 1
    return k


@njit(nogil=True, cache=True)
def majority_kernel(spins, b, key, out):
    """out[I, J] = sign of the b x b block sum; zero sums take a coin from draw32(key, I*Lb+J)."""
    lb = out.shape[0]
    acc = np.empty(lb, np.int32)
    for bi in range(lb):
        acc[:] = 0
        for di in range(b):
            row = spins[bi * b + di]
            for bj in range(lb):  # b is small: the inner loop is unrolled by LLVM for b = 2, 3
                s = np.int32(0)
                for dj in range(b):
                    s += row[bj * b + dj]
                acc[bj] += s
        for bj in range(lb):
            s = acc[bj]
            if s > 0:
                out[bi, bj] = 1
            elif s < 0:
                out[bi, bj] = -1
            else:
                coin = (draw32(key, bi * lb + bj) >> np.uint64(31)) & np.uint64(1)
                out[bi, bj] = np.int8(2 * np.int64(coin) - 1)
    return out


@njit(nogil=True, cache=True)
def decimation_kernel(spins, b, out):
    lb = out.shape[0]
    for bi in range(lb):
        for bj in range(lb):
            out[bi, bj] = spins[bi * b, bj * b]
    return out


def block_once(spins: np.ndarray, block: int = 2, rule: str = "majority", seed: int = 0,
               stream: int = 0, level: int = 1) -> np.ndarray:
    """One block-spin step: (L, L) int8 -> (L/b, L/b) int8 (see the module docstring)."""
    spins = np.ascontiguousarray(spins, dtype=np.int8)
    check_rule(rule)
    size = spins.shape[0]
    if spins.ndim != 2 or spins.shape[1] != size:
        raise IsingLabError(f"a block-spin step needs a square lattice, got shape {spins.shape}")
    check_blocking(size, block, 1)
    out = np.empty((size // block, size // block), np.int8)
    if rule == "decimation":
        return decimation_kernel(spins, block, out)
    return majority_kernel(spins, block, tie_key(seed, stream, level), out)


def tie_key(seed: int, stream: int, level: int) -> np.uint64:
    """RNG key for the tie-breaking coins of one level of one snapshot."""
    # numba hands a uint64 back as a Python int: re-wrap it, or the next call would type it int64
    return np.uint64(level_key(stream_key(seed, TIE_TAG), np.uint64(stream), np.uint64(level)))


@njit(nogil=True, cache=True)
def level_key(base, stream, level):
    return draw64(base, stream * np.uint64(MAX_LEVELS) + level)


def block_levels(spins: np.ndarray, block: int = 2, levels: int = 1, rule: str = "majority",
                 seed: int = 0, stream: int = 0) -> list[np.ndarray]:
    """[level 0 (the input), level 1, ..., level `levels`] of one block-spin rule."""
    spins = np.ascontiguousarray(spins, dtype=np.int8)
    check_rule(rule)
    check_blocking(spins.shape[0], block, levels)
    out = [spins]
    for k in range(1, levels + 1):
        out.append(block_once(out[-1], block, rule, seed, stream, k))
    return out

