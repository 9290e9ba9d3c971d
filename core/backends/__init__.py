"""Samplers behind one protocol (base.Sampler); make_sampler picks the class for an algorithm."""
from __future__ import annotations

import numpy as np

from ..errors import IsingLabError
from ..params import ModelParams
from .base import INITIAL_STATES, Sampler, initial_spins

BACKENDS = ("numba", "torch")


TORCH_ALGORITHMS = ("metropolis", "heatbath")


def check_backend(backend: str, algorithm: str) -> None:
    """Refuse a backend/algorithm pair that no sampler implements."""
    if backend not in BACKENDS:
        raise IsingLabError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend == "torch" and algorithm not in TORCH_ALGORITHMS:
        raise IsingLabError(f"the torch backend runs {' and '.join(TORCH_ALGORITHMS)}, not {algorithm}")


def make_sampler(params: ModelParams, spins: np.ndarray | None = None, initial: str = "random",
                 backend: str = "numba", device: str | None = None) -> Sampler:
    """A sampler for params, starting from spins (copied) or from a fresh initial state.

    device (torch backend): "auto"/None = CUDA when available, "cpu", or "cuda" (IsingLabError
    when there is no CUDA); the numba backend runs on the CPU only."""
    params = params.validated()
    if backend not in BACKENDS:
        raise IsingLabError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if spins is None:
        spins = initial_spins(params.size, initial, params.seed)
    elif spins.shape != (params.size, params.size):
        raise IsingLabError(f"configuration shape {spins.shape} does not match L = {params.size}")
    if backend == "torch":
        from .. import torch_loader
        torch_loader.load()  # imported on its own thread, never concurrently (see torch_loader)
        from .torch_backend import TorchSampler
        return TorchSampler(params, spins, device=device)
    if device not in (None, "auto", "cpu"):
        raise IsingLabError(f"the numba backend runs on the CPU; use the torch backend for device {device!r}")
    algo = params.algorithm
    if algo in ("metropolis", "heatbath"):
        from .numba_checkerboard import CheckerboardSampler
        return CheckerboardSampler(params, spins)
    if algo in ("wolff", "swendsen-wang"):
        from .numba_cluster import ClusterSampler
        return ClusterSampler(params, spins)
    from .numba_multispin import MultispinSampler
    return MultispinSampler(params, spins)


__all__ = ["BACKENDS", "check_backend", "INITIAL_STATES", "Sampler", "initial_spins", "make_sampler"]
