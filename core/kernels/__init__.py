"""Numba kernels, one module per algorithm family: pure functions on arrays, nogil, cached."""
from contextlib import contextmanager

import numba

# Analysis and simulation threads may both run parallel kernels: only the thread-safe layers
# (tbb or omp) allow that; numba's fallback "workqueue" layer does not.
numba.config.THREADING_LAYER = "threadsafe"

# Below this many sites a parallel region's start-up costs more than the work it splits.
PARALLEL_MIN_SITES = 1 << 14


def thread_count(n_sites: int) -> int:
    """Threads a kernel on n_sites should use: numba's count for this thread, 1 when small."""
    return numba.get_num_threads() if n_sites >= PARALLEL_MIN_SITES else 1


@contextmanager
def threads_for(n_sites: int):
    """Run parallel kernels on one thread for small lattices (numba's count is per calling thread)."""
    if n_sites >= PARALLEL_MIN_SITES:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
