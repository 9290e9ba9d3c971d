"""Labelled configurations sampled by the engine's samplers at chosen temperatures.

Each temperature class gets its own chain: thermalise, measure the integrated autocorrelation
time tau of e and |m| on a pilot run, then keep one configuration every ceil(2 tau) sweeps
(the slower of the two observables sets the spacing). Near T_c the chain uses Wolff cluster
updates, whose tau stays small there; elsewhere Metropolis.

At h = 0 every kept configuration is flipped globally (x -> -x) with probability 1/2: an exact
symmetry move that a local chain below T_c cannot make in practice. Without it all samples of a
cold class share one sign of m, and a classifier learns that accident instead of the energy.

The dataset type, its validation and its NPZ file format are in ising_dataset; they are
re-exported here because the app, the CLI and the tests import them from this module.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numba
import numpy as np

from ..backends import make_sampler
from ..params import ModelParams, check_coupling, check_field, check_ratio, check_seed
from ..sampling import Chain, auto_algorithm, cluster_backend_available  # noqa: F401 (re-exported)
from ..stats import tau_int
from ..tasks import TaskState
from .ising_dataset import (MAX_CLASSES, MAX_SAMPLES, IsingDataset, check_samples,  # noqa: F401 (re-exported)
                            check_temperatures, parse_temperatures)

THERMALIZE_SWEEPS = 1000
PILOT_SWEEPS = 2000
MAX_SPACING = 2000  # sweeps; caps the cost where the pilot's tau is huge (very large L at T_c)
CLUSTER_WINDOW = (0.8, 1.25)  # T / (|J| T_c) where auto picks Wolff
SINGLE_THREAD_MAX_L = 64  # below this a parallel kernel's thread start-up costs more than it saves
CACHE_SIZE = 4
PILOT_CHECK_EVERY = 256  # pilot sweeps between cancellation checks


def choose_algorithm(temperature: float, coupling: float, field: float, algorithm: str = "auto") -> str:
    """core.sampling.auto_algorithm with this module's policy: Wolff near T_c (T / (|J| T_c) in
    CLUSTER_WINDOW) at h = 0 when the cluster backend exists, Metropolis elsewhere."""
    params = ModelParams(temperature=temperature, coupling=coupling, field=field)
    return auto_algorithm(params, algorithm, window=CLUSTER_WINDOW, local="metropolis")


def class_seed(seed: int, k: int) -> int:
    """An independent 63-bit sampler seed for class k."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _spacing(e: np.ndarray, m: np.ndarray) -> tuple[int, float]:
    """Sweeps between kept samples: ceil(2 tau_int) of the slower of e and |m| (pilot series)."""
    tau = max(tau_int(e).tau, tau_int(np.abs(m)).tau, 0.5)
    return int(min(max(1, math.ceil(2.0 * tau)), MAX_SPACING)), float(tau)


def _sample_class(params: ModelParams, n: int, flip_rng, report, thermalize: int, pilot: int, task=None):
    """Thermalise, a pilot run for the spacing, then n configurations ceil(2 tau) sweeps apart
    (core.sampling.Chain; `task` is polled for cancellation, `report(kept)` shows progress)."""
    chain = Chain(make_sampler(params, initial="random"), task)
    chain.thermalise(thermalize)
    report(0)
    e = np.empty(pilot)
    m = np.empty(pilot)

    def record(s, k):
        e[k], m[k] = s.bond_sum_and_magnetisation()

    chain.measure(pilot, 1, record, check_every=PILOT_CHECK_EVERY)
    spacing, tau = _spacing(e, m)
    out = np.empty((n, params.size, params.size), dtype=np.int8)

    def keep(s, k):
        s.spins(out=out[k])
        if k % 64 == 63:
            report(k + 1)

    chain.measure(n, spacing, keep, check_every=64)
    if params.field == 0.0:  # the exact Z2 move (see the module docstring)
        out *= np.where(flip_rng.random(n) < 0.5, -1, 1).astype(np.int8)[:, None, None]
    return out, spacing, tau


class _SingleThreadedNumba:
    """Small lattices: run the (thread-local) numba kernels on this thread alone."""

    def __init__(self, size: int):
        self.active = size <= SINGLE_THREAD_MAX_L

    def __enter__(self):
        if self.active:
            self._saved = numba.get_num_threads()
            numba.set_num_threads(1)

    def __exit__(self, *exc):
        if self.active:
            numba.set_num_threads(self._saved)


def generate(size: int, temperatures, samples: int, coupling: float = 1.0, field: float = 0.0,
             seed: int = 0, algorithm: str = "auto", thermalize: int = THERMALIZE_SWEEPS,
             pilot: int = PILOT_SWEEPS, task: TaskState | None = None, cache: bool = True) -> IsingDataset:
    """`samples` decorrelated configurations at each temperature, labelled by temperature index.

    Results are cached in memory (the last CACHE_SIZE requests), so the GUI and CLI can ask again.
    """
    temps = check_temperatures(temperatures)
    n = check_samples(samples)
    coupling = check_coupling(coupling)
    field = check_field(field)
    for t in temps:
        check_ratio(float(t), coupling)
    seed = check_seed(seed)
    algos = tuple(choose_algorithm(t, coupling, field, algorithm) for t in temps)
    all_params = [ModelParams(size=size, temperature=float(t), coupling=coupling, field=field, algorithm=a,
                              seed=class_seed(seed, k)).validated() for k, (t, a) in enumerate(zip(temps, algos))]
    key = (size, tuple(temps), n, coupling, field, seed, algos, thermalize, pilot)
    if cache and (hit := _CACHE.get(key)) is not None:
        return hit
    task = task or TaskState()
    flip_rng = np.random.default_rng([seed, 0xF11B])
    spins, spacing, taus = [], [], []
    with _SingleThreadedNumba(size):
        for k, params in enumerate(all_params):
            def report(done, k=k, t=params.temperature):
                frac = (k + 0.1 + 0.9 * done / n) / len(temps)  # thermalise + pilot ~ first tenth
                task.progress(frac, f"T = {t:g}: {done}/{n}")
            x, sp, tau = _sample_class(params, n, flip_rng, report, thermalize, pilot, task)
            spins.append(x)
            spacing.append(sp)
            taus.append(tau)
    task.progress(1.0, "done")
    data = IsingDataset(np.concatenate(spins), np.repeat(np.arange(len(temps)), n), temps, coupling, field,
                        np.array(spacing), np.array(taus), algos, seed)
    if cache:
        _CACHE.put(key, data)
    return data


class _LRU:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _LRU(CACHE_SIZE)


def clear_cache() -> None:
    _CACHE.clear()
