"""The simulation loop on its own thread: owns a sampler, applies parameter changes between chunks,
publishes immutable snapshots for whoever displays or analyses them.

Nothing here blocks the caller: `request()` only records the change, the loop applies it at the
next chunk boundary, and `latest()` returns the newest snapshot (a reference swap, no lock held
while computing). Chunks are sized so that one takes about `chunk_seconds` of kernel time, which
bounds the latency from a slider move to a frame simulated at the new temperature.
"""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .backends import check_backend, make_sampler
from .backends.base import initial_spins
from .equilibration import EQUILIBRATING, Equilibration, EquilibrationMonitor, stripes_impossible
from .errors import IsingLabError
from .params import CLUSTER_ALGORITHMS, ModelParams

T_JUMP = 0.1  # |J|: a larger change of T (at once, or since equilibrium) restarts the test
STRIPE_CHECK_S = 0.25  # while equilibrating below T_c: how often the domains are labelled


@dataclass(frozen=True)
class Snapshot:
    """One published state: spins are a private read-only copy."""

    serial: int
    params: ModelParams
    spins: np.ndarray
    sweeps: int
    e: float
    m: float
    request_serial: int  # the last parameter request applied before this state was simulated
    sweeps_per_s: float
    flips_per_ns: float
    published_at: float  # time.perf_counter()
    cluster: np.ndarray | None = field(default=None, compare=False)
    kernel: str = ""
    since_change: int = 0  # sweeps since the last change of parameters or reset
    equilibration: Equilibration = EQUILIBRATING  # the equilibration test (core.equilibration)
    equilibrium: bool = False  # this state counts: the test passed and the settle sweeps are over


@dataclass(frozen=True)
class Measurement:
    temperature: float
    sweeps: int
    e: float
    m: float
    equilibrated: bool


class SnapshotFeed:
    """What display and analysis read: the newest snapshot and the measurements since the last
    drain (`_latest` and `_measurements` are kept by the subclass)."""

    _latest: Snapshot
    _measurements: collections.deque

    def latest(self) -> Snapshot:
        return self._latest

    def drain_measurements(self) -> list[Measurement]:
        out = []
        while self._measurements:
            out.append(self._measurements.popleft())
        return out


class Engine(SnapshotFeed):
    """Runs a sampler on a daemon thread. Thread-safe public methods; one loop thread."""

    def __init__(self, params: ModelParams, initial: str = "random", chunk_seconds: float = 0.016,
                 publish_interval: float = 1 / 120, settle_sweeps: int | None = None,
                 backend: str = "numba", device: str | None = None, on_publish=None,
                 spins: np.ndarray | None = None, sweeps: int = 0, serials: tuple[int, int] = (0, 0)):
        """spins, sweeps, serials (snapshot, request): where a restarted engine goes on from
        (engine_process restarts a child that died from its last snapshot)."""
        self._params = params.validated()
        self._on_publish = on_publish  # called on the loop thread with (engine, snapshot)
        self._backend = backend
        self._device = device
        self._sampler = make_sampler(self._params, spins=spins, initial=initial, backend=backend,
                                     device=device)
        # the sweep count is also the random-number counter of the local kernels: continuing it
        # keeps a restarted run from replaying the random numbers of its first sweeps
        self._sampler.sweeps_done = sweeps
        self.chunk_seconds = chunk_seconds
        self.publish_interval = publish_interval
        self._settle = settle_sweeps
        self._lock = threading.Lock()
        self._pending: dict = {}
        self._pending_reset: str | None = None
        self._pending_backend: tuple[str, str | None] | None = None
        self._request_serial = self._applied_serial = serials[1]
        self._running = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._step_requests = 0
        self._sweeps_per_chunk: int | None = None  # None = auto
        self._measurements: collections.deque[Measurement] = collections.deque(maxlen=100000)
        self._since_change = 0
        self._equilibration = EquilibrationMonitor()
        self._t_ref = self._params.temperature  # where the equilibration test last (re)started or passed
        self._last_stripe_check = 0.0
        self._latest: Snapshot | None = None
        self._serial = serials[0]
        self._rate = (0.0, 0.0)
        self._chunk_dt = 0.0  # wall time of the last chunk
        self._last_publish = 0.0
        self.error: str | None = None
        self.notice: str | None = None  # something the user should be told (not an error)
        self._thread: threading.Thread | None = None
        self._publish()

    # ---- control (any thread) ----
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="isinglab-engine", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop the loop thread; True when it has ended within the timeout."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def set_running(self, running: bool) -> None:
        (self._running.set if running else self._running.clear)()
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._running.is_set()

    def step(self, sweeps: int = 1) -> None:
        """Advance `sweeps` sweeps even while paused."""
        with self._lock:
            self._step_requests += sweeps
        self._wake.set()

    def request(self, **changes) -> int:
        """Ask for new parameters (any ModelParams field); returns the request's serial number.

        Validated here, so a bad value raises IsingLabError in the caller and is never applied.
        """
        with self._lock:
            merged = {**self._pending, **changes}
            check_backend((self._pending_backend or (self._backend,))[0],
                          self._params.with_(**merged).validated().algorithm)
            self._pending = merged
            self._request_serial += 1
            serial = self._request_serial
        self._wake.set()
        return serial

    def reset(self, state: str = "random") -> None:
        initial_spins(2, state)  # validates the name now, in the caller
        with self._lock:
            self._pending_reset = state
            self._request_serial += 1
        self._wake.set()

    def set_sweeps_per_chunk(self, n: int | None) -> None:
        if n is not None and n < 1:
            raise IsingLabError("sweeps per frame must be at least 1")
        self._sweeps_per_chunk = n

    @property
    def params(self) -> ModelParams:
        """The parameters including requests not yet applied."""
        with self._lock:
            return self._params.with_(**self._pending)

    # ---- the loop thread ----
    def run(self) -> None:
        """The loop, on the calling thread until stop(); start() runs it on a thread of its own."""
        while not self._stop.is_set():
            try:
                self._iterate()
            except Exception as exc:  # keep the thread alive; tell the GUI, pause the run
                self.error = f"{type(exc).__name__}: {exc}"
                self._running.clear()

    def _iterate(self) -> None:
        self._apply_pending()
        with self._lock:
            steps, self._step_requests = self._step_requests, 0
        if self._running.is_set():
            self._run_chunk(self._chunk_sweeps())
        elif steps:
            self._run_chunk(steps)
        else:
            if self._latest.sweeps != self._sampler.sweeps_done:
                self._publish(force=True)  # a step that came within the publish interval
            self._wake.wait(0.05)
            self._wake.clear()

    def request_backend(self, backend: str, device: str | None = None) -> int:
        """Switch the sampler's backend ("numba" or "torch") and device at the next chunk."""
        check_backend(backend, self.params.algorithm)
        with self._lock:
            self._pending_backend = (backend, device)
            self._request_serial += 1
            serial = self._request_serial
        self._wake.set()
        return serial

    @property
    def backend(self) -> tuple[str, str | None]:
        return self._backend, self._device

    def _apply_pending(self) -> None:
        with self._lock:
            changes, self._pending = self._pending, {}
            reset, self._pending_reset = self._pending_reset, None
            backend, self._pending_backend = self._pending_backend, None
            serial = self._request_serial
        if not changes and reset is None and backend is None:
            return
        new = self._params.with_(**changes)
        if backend is not None:
            self._backend, self._device = backend
        if backend is not None or new.size != self._params.size \
                or new.algorithm != self._params.algorithm or new.seed != self._params.seed:
            spins = None if new.size != self._params.size else self._sampler.spins()
            self._sampler = self._make_sampler(new, spins)
        elif changes:
            self._sampler.set_params(new)
        if reset is not None:
            self._sampler.load(initial_spins(new.size, reset, new.seed + self._sampler.sweeps_done))
        if self._out_of_equilibrium(new, reset):
            self._equilibration.restart()
            self._t_ref = new.temperature
        self._params = new
        self._applied_serial = serial
        self._since_change = 0
        if not self._running.is_set():  # running, the next chunk publishes: simulated with `new`
            self._publish(force=True)

    def _out_of_equilibrium(self, new: ModelParams, reset: str | None) -> bool:
        """Whether a change takes the lattice far from equilibrium (the test starts again).
        Small steps of T, J or h (a slider drag) only wait the settle sweeps; so do changes of
        algorithm, seed or backend, which leave the state and its distribution alone."""
        old, j = self._params, abs(new.coupling) or 1.0
        return (reset is not None or new.size != old.size
                or (new.coupling > 0) != (old.coupling > 0)
                or abs(new.coupling - old.coupling) > T_JUMP * j
                or abs(new.field - old.field) > T_JUMP * j
                or abs(new.temperature - self._t_ref) > T_JUMP * j)

    def _make_sampler(self, params: ModelParams, spins):
        if self._backend != "torch":
            return make_sampler(params, spins=spins, backend=self._backend, device=self._device)
        from . import torch_loader
        torch_loader.load()  # torch loads only when asked for, on the loader thread
        from .backends.torch_backend import create_sampler
        # eager torch here: compiling the fused sweep would halt a live run for 5-25 s at the
        # first sweep of each lattice size (and, in-process, once deadlocked next to the GUI
        # thread); the CLI and bench use fused
        sampler, note = create_sampler(params, spins, device=self._device, fused=False, fallback=True)
        if note:  # e.g. CUDA requested without a GPU: run on the CPU and say why
            self.notice = note
            self._device = "cpu"
        return sampler

    def _chunk_sweeps(self) -> int:
        if self._sweeps_per_chunk:
            return self._sweeps_per_chunk
        sps = self._rate[0]
        return max(1, int(sps * self.chunk_seconds)) if sps > 0 else 1

    def _run_chunk(self, n: int) -> None:
        t0 = time.perf_counter()
        # will the publish interval be over when this chunk ends? (judged by the last chunk)
        copy = t0 + self._chunk_dt - self._last_publish >= self.publish_interval
        flips, e, m, spins = self._sampler.advance(n, copy)
        dt = self._chunk_dt = max(time.perf_counter() - t0, 1e-9)
        self._rate = (n / dt, flips / dt / 1e9)
        self._since_change += n
        counted = self._equilibrium_sample(e, m, spins) and self._since_change >= self._settle_sweeps()
        self._measurements.append(Measurement(self._params.temperature, self._sampler.sweeps_done, e, m,
                                              counted))
        if spins is not None:
            self._publish(force=True, em=(e, m), spins=spins)

    def _equilibrium_sample(self, e: float, m: float, spins) -> bool:
        """Feed the equilibration test; whether this measurement counts as equilibrium."""
        eq, p = self._equilibration, self._params
        now = time.perf_counter()
        if not eq.equilibrated and now - self._last_stripe_check >= STRIPE_CHECK_S \
                and stripes_impossible(p.size, p.temperature, p.coupling, p.field):
            self._last_stripe_check = now
            eq.check_spins(self._sampler.spins() if spins is None else spins,
                           p.size, p.temperature, p.coupling, p.field)
        was = eq.equilibrated
        counted = eq.add(e, abs(m)) > 0
        if eq.equilibrated and not was:
            self._t_ref = p.temperature
        return counted

    def _settle_sweeps(self) -> int:
        if self._settle is not None:
            return self._settle
        return 10 if self._params.algorithm in CLUSTER_ALGORITHMS else 100

    def _publish(self, force: bool = False, em: tuple[float, float] | None = None,
                 spins: np.ndarray | None = None) -> None:
        now = time.perf_counter()
        if not force and now - self._last_publish < self.publish_interval:
            return
        spins = self._sampler.spins() if spins is None else spins
        spins.flags.writeable = False
        cluster = self._sampler.last_cluster()
        e, m = em if em is not None else self._sampler.energy_magnetisation()
        self._serial += 1
        self._latest = Snapshot(self._serial, self._params, spins, self._sampler.sweeps_done, e, m,
                                self._applied_serial, self._rate[0], self._rate[1], now, cluster,
                                self._sampler.kernel_name, self._since_change,
                                self._equilibration.state,
                                self._equilibration.equilibrated and self._since_change >= self._settle_sweeps())
        self._last_publish = now
        if self._on_publish is not None:
            self._on_publish(self, self._latest)
