"""Numba kernels, one module per algorithm family: pure functions on arrays, nogil, cached."""
import numba

# Analysis and simulation threads may both run parallel kernels: only the thread-safe layers
# (tbb or omp) allow that; numba's fallback "workqueue" layer does not.
numba.config.THREADING_LAYER = "threadsafe"

# Below this many sites a parallel region's start-up costs more than the work it splits.
PARALLEL_MIN_SITES = 1 << 14
