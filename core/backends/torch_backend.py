"""Metropolis and heat-bath samplers on torch tensors: CUDA when available, else the CPU.

Two paths run the same checkerboard update (torch_kernels.py):
- fused: the sweep compiled by torch.compile (inductor: Triton on CUDA, C++/OpenMP on the CPU),
  drawing the numba kernels' counter-based random numbers inside the kernel, so it reproduces
  the numba trajectory bit for bit. Compiled at the first sweep (on the caller's thread: the
  engine's, never the GUI's); any failure falls back to eager and is kept in `fallback_reason`.
- eager: plain tensor ops with a seeded torch.Generator on the device.
`kernel_name` says which runs, e.g. "torch-cuda:metropolis:fused" or "torch-cpu:heatbath:eager".
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from ..errors import IsingLabError
from ..kernels import checkerboard as cb
from ..kernels.rng import stream_key
from ..params import ModelParams
from . import torch_kernels as tk
from . import check_backend
from .base import Sampler, initial_spins
from .torch_device import check_fits, resolve_device

_TABLES = {"metropolis": cb.metropolis_table, "heatbath": cb.heatbath_table}
_COMPILED: dict = {}  # heatbath? -> compiled sweep, "measure" -> compiled measurement; shared
RECOMPILE_LIMIT = 64  # one graph per (lattice size, device): allow many sizes per session
FUSED_ENV = "ISINGLAB_TORCH_FUSED"  # "0" forces the eager path everywhere (tests, broken compilers)


def _compiled_sweep(heatbath: bool):
    """The fused sweep for one algorithm, compiled lazily and once per process."""
    if heatbath not in _COMPILED:
        _compile_in_process()
        cfg = torch._dynamo.config
        for name in ("recompile_limit", "cache_size_limit"):  # the name changed in torch 2.6
            if hasattr(cfg, name):
                setattr(cfg, name, max(getattr(cfg, name), RECOMPILE_LIMIT))
                break

        def sweep(quarters, thr, consts, sweep_index):
            return tk.fused_sweep(quarters, thr, consts, sweep_index, heatbath)

        _COMPILED[heatbath] = torch.compile(sweep, dynamic=False, fullgraph=True)
    return _COMPILED[heatbath]


def _compile_in_process() -> None:
    """Inductor compiles in a pool of forked workers by default; forking a process whose numba
    OpenMP threads are running can deadlock the child (seen here: the GUI hung for good on the
    first torch sweep after numba kernels had run). One in-process compile thread avoids the fork."""
    import torch._inductor.config as inductor_config
    inductor_config.compile_threads = 1


def _measure(quarters) -> torch.Tensor:
    return torch.stack(tk.bond_sum_and_magnetisation(quarters))


def _compiled_measure():
    if "measure" not in _COMPILED:
        _compile_in_process()
        _COMPILED["measure"] = torch.compile(_measure, dynamic=False, fullgraph=True)
    return _COMPILED["measure"]


class TorchSampler(Sampler):
    backend = "torch"

    def __init__(self, params: ModelParams, spins: np.ndarray, device: str | None = None,
                 fused: bool | None = None):
        super().__init__(params)
        check_backend("torch", self.params.algorithm)
        self.device, _ = resolve_device(device)
        check_fits(self.size, self.device)
        self.heatbath = self.params.algorithm == "heatbath"
        if fused is None:
            fused = os.environ.get(FUSED_ENV, "1").strip() not in ("0", "false", "no")
        self.path = "fused" if fused else "eager"
        self.fallback_reason: str | None = None if fused else "eager path requested"
        self.compile_seconds: float | None = None
        self.device_note: str | None = None  # set by create_sampler when CUDA fell back to the CPU
        self._warm = False
        self._quarters = tk.to_quarters(spins, self.device)
        self._consts = tk.hash_constants(stream_key(self.params.seed, 1), self.device)
        self._sweep_index = torch.zeros((), dtype=torch.int64, device=self.device)
        self._gen = torch.Generator(device=self.device)
        self._gen.manual_seed(int(stream_key(self.params.seed, 2)) >> 1)
        self._uniform = torch.empty((4, *self._quarters[0].shape), dtype=torch.float32, device=self.device)
        self._full: torch.Tensor | None = None  # interleaved lattice on the device (snapshots)
        self._pinned: dict[tuple, torch.Tensor] = {}  # page-locked host buffers by shape
        self._on_params()

    # ---- parameters and paths ----
    def _on_params(self) -> None:
        p = self.params
        thr = _TABLES[p.algorithm](p.beta, p.coupling, p.field)
        self._thr = torch.from_numpy(tk.offset_table(thr)).to(self.device)
        eager = tk.eager_heatbath_table(thr) if self.heatbath else tk.eager_metropolis_table(thr)
        self._eager_table = torch.from_numpy(eager).to(self.device)

    @property
    def kernel_name(self) -> str:
        return f"torch-{self.device.type}:{self.params.algorithm}:{self.path}"

    def warm_up(self) -> None:
        """Compile the fused sweep and measurement and run them once; fall back to eager on any
        failure. Runs at the first sweep; call it earlier to move the compile time elsewhere."""
        if self._warm or self.path != "fused":
            return
        t0 = time.perf_counter()
        try:
            trial = _compiled_sweep(self.heatbath)(self._quarters, self._thr, self._consts, self._sweep_index)
            _compiled_measure()(trial[:4]).tolist()  # a trial sweep; the lattice is not touched
        except Exception as exc:  # compiler missing, unsupported op, Triton error: eager still works
            self.path = "eager"
            self.fallback_reason = f"torch.compile failed ({type(exc).__name__}: {_first_line(exc)})"
        self.compile_seconds = time.perf_counter() - t0
        self._warm = True

    # ---- the protocol ----
    def sweep(self, n: int) -> int:
        self.warm_up()
        if self.path == "fused":
            fn = _compiled_sweep(self.heatbath)
            for _ in range(n):
                *self._quarters, self._sweep_index = fn(self._quarters, self._thr, self._consts,
                                                        self._sweep_index)
        else:
            for _ in range(n):
                tk.eager_sweep(self._quarters, self._eager_table, self.heatbath, self._gen, self._uniform)
        self._synchronise()  # callers time sweeps: CUDA launches must not return early
        self.sweeps_done += n
        return n * self.n_spins

    def load(self, spins: np.ndarray) -> None:
        spins = np.asarray(spins)
        if spins.shape != (self.size, self.size):
            raise IsingLabError(f"configuration shape {spins.shape} does not match L = {self.size}")
        for t, new in zip(self._quarters, tk.to_quarters(spins, self.device)):
            t.copy_(new)

    def bond_sum_and_magnetisation(self) -> tuple[int, int]:
        fused = self.path == "fused" and self._warm
        bonds, mag = (_compiled_measure() if fused else _measure)(self._quarters).tolist()
        return int(bonds), int(mag)

    def spins(self, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty((self.size, self.size), dtype=np.int8)
        if self.device.type == "cpu" and out.dtype == np.int8 and out.flags.c_contiguous:
            tk.interleave(self._quarters, torch.from_numpy(out))
            return out
        if self._full is None:
            self._full = torch.empty((self.size, self.size), dtype=torch.int8, device=self.device)
        np.copyto(out, self._to_host(tk.interleave(self._quarters, self._full)))
        return out

    def display_spins(self, max_side: int = 4096) -> np.ndarray:
        """The lattice for display as (L', L') uint8, 0 = down, 255 = up, L' <= max_side:
        b x b blocks averaged on the device when L > max_side (b = ceil(L / max_side)), so a
        16384^2 CUDA lattice ships 4096^2 bytes to the host instead of 16384^2."""
        if max_side < 1:
            raise IsingLabError(f"max_side must be >= 1, got {max_side}")
        b = -(-self.size // max_side)
        if b == 1:
            if self._full is None:
                self._full = torch.empty((self.size, self.size), dtype=torch.int8, device=self.device)
            shade = (tk.interleave(self._quarters, self._full) > 0).to(torch.uint8) * 255
        else:
            sums = self._block_sums(b)
            n = b * b  # sum of n spins in [-n, n] -> round(255 (sum + n) / 2n)
            shade = (((sums + n) * 255 + n) // (2 * n)).to(torch.uint8)
        return self._to_host(shade).copy()

    # ---- helpers ----
    def _block_sums(self, b: int) -> torch.Tensor:
        """int64 (L // b)^2 sums of b x b blocks (the last L % b rows/columns are left out)."""
        side = self.size // b
        if b % 2 == 0:  # a b x b block holds a (b/2)^2 block of every quarter: no interleave
            g = b // 2
            return sum(t[:side * g, :side * g].reshape(side, g, side, g).sum((1, 3), dtype=torch.int64)
                       for t in self._quarters)
        if self._full is None:
            self._full = torch.empty((self.size, self.size), dtype=torch.int8, device=self.device)
        full = tk.interleave(self._quarters, self._full)
        return full[:side * b, :side * b].reshape(side, b, side, b).sum((1, 3), dtype=torch.int64)

    def _to_host(self, t: torch.Tensor) -> np.ndarray:
        """A host view of t: on CUDA through a reused page-locked buffer filled asynchronously,
        waiting on an event for that copy only (the caller copies the view before the next call)."""
        if t.device.type == "cpu":
            return t.numpy()
        key = (tuple(t.shape), t.dtype)
        if key not in self._pinned:
            self._pinned[key] = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
        host = self._pinned[key]
        host.copy_(t, non_blocking=True)
        done = torch.cuda.Event()
        done.record(torch.cuda.current_stream(self.device))
        done.synchronize()
        return host.numpy()

    def _synchronise(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def create_sampler(params: ModelParams, spins: np.ndarray | None = None, initial: str = "random",
                   device: str | None = "auto", fused: bool | None = None,
                   fallback: bool = False) -> tuple[TorchSampler, str | None]:
    """(sampler, note) for the GUI: with fallback=True a "cuda" request without CUDA gives a CPU
    sampler and the reason as note instead of raising."""
    params = params.validated()
    dev, note = resolve_device(device, fallback=fallback)
    if spins is None:
        spins = initial_spins(params.size, initial, params.seed)
    sampler = TorchSampler(params, spins, device=str(dev), fused=fused)
    sampler.device_note = note
    return sampler, note
