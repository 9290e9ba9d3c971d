"""Counter-based random numbers for numba kernels (SplitMix64 indexed by position).

SplitMix64's n-th output is mix64(seed + n * GAMMA); computing it for an explicit counter gives
every lattice site, half-sweep and thread its own independent draw without any shared state, so
results depend only on the seed (not on the number of threads) and parallel loops vectorise.
All constants are typed uint64 so numba never promotes the arithmetic to float.
"""
import numpy as np
from numba import njit

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(inline="always", nogil=True, cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche on 64 bits."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", nogil=True, cache=True)
def draw64(key, counter):
    """The counter-th 64-bit draw of the stream named by key."""
    return mix64(key + np.uint64(counter) * GAMMA)


@njit(inline="always", nogil=True, cache=True)
def draw32(key, counter):
    """High 32 bits of draw64, as uint64 (compare against thresholds scaled by 2**32)."""
    return draw64(key, counter) >> _S32


@njit(inline="always", nogil=True, cache=True)
def next64(state):
    """Sequential SplitMix64 on a one-element uint64 state array (for serial kernels)."""
    state[0] += GAMMA
    return mix64(state[0])


@njit(inline="always", nogil=True, cache=True)
def next_uniform(state):
    """Uniform double in [0, 1) from the sequential stream."""
    return (next64(state) >> _S11) * _INV53


def stream_key(seed, tag):
    """A 64-bit stream key derived from the user seed and a purpose tag (pure Python)."""
    mask = (1 << 64) - 1
    z = (int(seed) * 0x9E3779B97F4A7C15 + int(tag) * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return np.uint64(z ^ (z >> 31))
