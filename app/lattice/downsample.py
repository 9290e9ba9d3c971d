"""CPU kernels that shrink a lattice for display and compute its overlay, Qt-free.

A lattice larger than the GL texture limit is block-averaged here and shown as the fraction of
up spins per block (0..255). The overlay (domain walls, Wolff cluster) is computed per block
too, as one small code per block, so that both images have the same shape.

Serial on purpose: the kernels run in the GUI thread while the simulation keeps the cores busy,
where parallel regions would wait on descheduled workers. Inner loops are branch-free.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# an empty mask stands for "no cluster" (numba needs an array, not None)
NO_MASK = np.zeros((0, 0), np.bool_)


@njit(nogil=True, cache=True)
def _sum_blocks(src, b, out):
    """out[k] = sum of src[k*b:(k+1)*b] (last block may be short). Strided passes, one per
    offset in the block, keep the loops long and simple even for b = 2."""
    n = src.shape[0]
    full = n // b
    out[:] = 0
    for off in range(b):
        for k in range(full):
            out[k] += src[k * b + off]
    if full < out.shape[0]:
        out[full] = src[full * b:].sum()


@njit(nogil=True, cache=True)
def _or_blocks(src, b, out):
    """out[k] |= OR of src[k*b:(k+1)*b] (last block may be short); strided like _sum_blocks."""
    n = src.shape[0]
    full = n // b
    for off in range(b):
        for k in range(full):
            out[k] |= src[k * b + off]
    for j in range(full * b, n):
        out[full] |= src[j]


@njit(nogil=True, cache=True)
def block_up_fraction(spins, b, out):
    """out = fraction of up spins per b x b block as 0..255 (edge blocks may be partial).
    Rows are summed first (contiguous, vectorisable), then columns in blocks; scaling uses
    float reciprocals (integer division per block would dominate). out is reused between
    frames: fresh 64 MB arrays cost more in page faults than the work itself."""
    rows, cols = spins.shape
    col_up = np.empty(cols, np.int32)
    block_up = np.empty(out.shape[1], np.int32)
    inv_width = np.empty(out.shape[1], np.float32)
    for bj in range(out.shape[1]):
        inv_width[bj] = 255.0 / (min(bj * b + b, cols) - bj * b)
    for bi in range(out.shape[0]):
        i0, i1 = bi * b, min(bi * b + b, rows)
        col_up[:] = 0
        for i in range(i0, i1):
            row = spins[i]
            for j in range(cols):
                col_up[j] += row[j] > 0
        _sum_blocks(col_up, b, block_up)
        inv_height = np.float32(1.0 / (i1 - i0))
        for bj in range(out.shape[1]):
            out[bi, bj] = np.uint8(block_up[bj] * inv_width[bj] * inv_height + 0.5)


@njit(nogil=True, cache=True)
def _row_codes(row, down, mask_row, walls, use_mask, out):
    """Codes of one row: bit 1 if the right (periodic) or down neighbour differs, bit 2 if
    masked. Branch-free inner loop so it vectorises."""
    cols = row.shape[0]
    if walls:
        for j in range(cols - 1):
            out[j] = (row[j] != row[j + 1]) | (row[j] != down[j])
        out[cols - 1] = (row[cols - 1] != row[0]) | (row[cols - 1] != down[cols - 1])
    else:
        out[:] = 0
    if use_mask:
        for j in range(cols):
            out[j] |= mask_row[j] << 1


@njit(nogil=True, cache=True)
def overlay_codes(spins, walls, mask, b, out):
    """out = overlay code per b x b block (OR of its sites' codes, see _row_codes).
    An empty mask means no cluster. Block rows are OR-ed first, then columns."""
    rows, cols = spins.shape
    use_mask = mask.shape[0] == rows and mask.shape[1] == cols
    codes = np.empty(cols, np.uint8)
    col_or = np.empty(cols, np.uint8)
    for bi in range(out.shape[0]):
        if b == 1:  # native resolution: write the row in place
            m = mask[bi] if use_mask else mask.ravel()
            _row_codes(spins[bi], spins[(bi + 1) % rows], m, walls, use_mask, out[bi])
            continue
        col_or[:] = 0
        for i in range(bi * b, min(bi * b + b, rows)):
            m = mask[i] if use_mask else mask.ravel()
            _row_codes(spins[i], spins[(i + 1) % rows], m, walls, use_mask, codes)
            for j in range(cols):
                col_or[j] |= codes[j]
        out[bi] = 0
        _or_blocks(col_or, b, out[bi])


def blocks_shape(shape, b):
    """Shape after b x b blocking (partial edge blocks count)."""
    return tuple(-(-n // b) for n in shape)


def downsample_factor(size: int, max_tex: int) -> int:
    """Smallest block size b that brings `size` sites within a texture of `max_tex` texels."""
    return max(1, -(-size // max(1, max_tex)))
