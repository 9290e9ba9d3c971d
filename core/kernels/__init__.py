"""Numba kernels, one module per algorithm family: pure functions on arrays, nogil, cached."""
import numba

# Analysis and simulation threads may both run parallel kernels: only the thread-safe layers
# (tbb or omp) allow that; numba's fallback "workqueue" layer does not.
numba.config.THREADING_LAYER = "threadsafe"
