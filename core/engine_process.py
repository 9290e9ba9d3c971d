"""The engine in a child process: the same API as `engine.Engine`, for the desktop app.

Why a process: in a thread of the GUI process the simulation waits for Python's lock, which the
GUI thread holds while Qt paints and draws. In its own process it has its own interpreter, and
the GUI process only receives snapshots (the GUI benchmark's sim_ratio rose to 0.30-0.40 on the
2-core test machine; fps and latency improved too; before and after: docs/performance.md, "How
sim_ratio got here").

This module is the parent's side, `ProcessEngine`: it sends requests to the child (engine_child)
through a pipe, and a receiver thread here copies each announced snapshot out of the
shared-memory slots (engine_slots) into a private, read-only array.

When the child dies (killed, crashed) the receiver reaps it and removes its block at once (the
child cannot), and `restart()` starts a new child from the last snapshot.
"""
from __future__ import annotations

import collections
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import time
from dataclasses import replace

import numpy as np

from .backends import check_backend
from .backends.base import initial_spins
from .engine import Measurement, Snapshot, SnapshotFeed
from .engine_child import child_main
from .engine_slots import Slots, unlink_orphan
from .errors import IsingLabError
from .observables import energy_magnetisation
from .params import ModelParams


def _initial_snapshot(params: ModelParams, initial: str) -> Snapshot:
    """What the child's engine publishes first, computed here so latest() works at once."""
    spins = initial_spins(params.size, initial, params.seed)
    e, m = energy_magnetisation(spins, params.coupling, params.field)
    spins.flags.writeable = False
    return Snapshot(1, params, spins, 0, e, m, 0, 0.0, 0.0, time.perf_counter(), None, "")


def _ended_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    return f"the simulation process ended unexpectedly ({how})"


def _save_spins(spins: np.ndarray) -> str:
    """The spins a restarted child starts from, in a file it reads and removes. Not in the
    spawn arguments: those are written into the child's start-up pipe, which blocked the
    caller until the new interpreter read them (0.3 s for L = 1024)."""
    fd, path = tempfile.mkstemp(prefix="isinglab-restart-", suffix=".npy")
    with os.fdopen(fd, "wb") as f:
        np.save(f, spins)
    return path


class ProcessEngine(SnapshotFeed):
    """`Engine`'s interface, the simulation running in a child process (see module docstring)."""

    def __init__(self, params: ModelParams, initial: str = "random", chunk_seconds: float = 0.016,
                 publish_interval: float = 1 / 120, settle_sweeps: int | None = None,
                 backend: str = "numba", device: str | None = None):
        params = params.validated()
        check_backend(backend, params.algorithm)
        initial_spins(2, initial)  # validates the name
        self._requested = params
        self._backend = (backend, device)
        self._options = (settle_sweeps, chunk_seconds)  # a restarted child gets them again
        self._running = False
        self._serial = 0
        self._sweeps_per_chunk: int | None = None
        self._lock = threading.Lock()
        self._measurements: collections.deque[Measurement] = collections.deque(maxlen=100000)
        self._latest = _initial_snapshot(params, initial)
        self._slots: Slots | None = None
        self._block: str | None = None  # the child's current block, removed here if it dies
        self._spins_file: str | None = None  # of a restart, until the child has read it
        self._publish_interval = publish_interval
        self.error: str | None = None
        self.notice: str | None = None
        self.died: str | None = None  # why the child ended unexpectedly, until restart()
        self._receiver: threading.Thread | None = None  # exists once started
        self._stopping = False
        self._prepare(initial)

    def _prepare(self, initial: str, resume=None) -> None:
        """A child process, pipes to it and back; started by start()."""
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt and numba threads
        commands_in, self._commands = ctx.Pipe(duplex=False)  # (reader, writer)
        self._events, events_out = ctx.Pipe(duplex=False)
        settle, chunk_seconds = self._options
        self._process = ctx.Process(
            target=child_main, name="isinglab-simulation", daemon=True,
            args=(commands_in, events_out, self._requested, initial, *self._backend, settle,
                  chunk_seconds, self._publish_interval, resume))
        self._child_ends = (commands_in, events_out)  # closed here once the child has them

    # ---- life-cycle ----
    def start(self) -> None:
        if self._receiver is not None:
            return
        self._process.start()
        for end in self._child_ends:  # so that the receiver sees EOF when the child ends
            end.close()
        self._receiver = threading.Thread(target=self._receive, name="isinglab-engine-receiver",
                                          daemon=True)
        self._receiver.start()

    def restart(self) -> None:
        """After the child died (`died`): a new one from the newest snapshot (its spins, sweep
        count and serials) with the parameters, backend and settings requested since. Paused
        (set_running again); returns after the spawn, not waiting for the child to start."""
        if self.died is None or self._stopping:
            return
        self._receiver.join(1.0)  # ending: it set `died` last
        for end in (self._commands, self._events):  # the dead child's pipes
            end.close()
        snap = self._latest
        same = snap.spins.shape[0] == self._requested.size  # else a size change was pending
        self._spins_file = _save_spins(snap.spins) if same else None
        with self._lock:  # commands sent from here on go to the new child
            self._prepare("random", (self._spins_file, snap.sweeps if same else 0,
                                     (snap.serial, self._serial)))
        self._receiver = None
        self.died = self.error = None
        self.start()
        if self._sweeps_per_chunk is not None:
            self._send("set_sweeps_per_chunk", self._sweeps_per_chunk)

    def request_stop(self) -> None:
        """Tell the child to stop, without waiting (stop() waits): the window asks first, so
        that the child winds down while the panels stop."""
        if not self._stopping:
            self._stopping = True
            self._send("stop")

    def stop(self, timeout: float = 1.0) -> bool:
        deadline = time.monotonic() + timeout
        self.request_stop()
        if self._receiver is not None:
            p = self._process
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():  # busy past the deadline (starved by other work): its block is
                # removed below, nothing else of it is worth waiting for
                p.kill()
                p.join(0.1)
            self._receiver.join(max(0.05, deadline - time.monotonic()))
            if p.exitcode != 0:  # terminated, or died: it did not remove its block
                self._release_block()
        if self._slots is not None:
            self._slots.close()
            self._slots = None
        self._discard_spins_file()
        return not self.alive

    def _release_block(self) -> None:
        """At once, not by the resource tracker at exit (with a 'leaked shared_memory' warning)."""
        if self._slots is not None:
            self._slots.close()
            self._slots = None
        if self._block is not None:
            unlink_orphan(self._block)
            self._block = None

    def _discard_spins_file(self) -> None:
        if self._spins_file is not None:
            try:
                os.unlink(self._spins_file)
            except FileNotFoundError:  # the child read and removed it
                pass
            self._spins_file = None

    @property
    def pid(self) -> int | None:
        """The simulation process's id once started."""
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._receiver is not None and (self._process.is_alive() or self._receiver.is_alive())

    # ---- control (GUI thread) ----
    def _send(self, name, *args, **kwargs) -> None:
        with self._lock:
            try:
                self._commands.send((name, args, kwargs))
            except (OSError, ValueError):  # the child has gone: the receiver reports why
                pass

    def set_running(self, running: bool) -> None:
        self._running = bool(running)
        self._send("set_running", self._running)

    @property
    def running(self) -> bool:
        return self._running

    def step(self, sweeps: int = 1) -> None:
        self._send("step", sweeps)

    def request(self, **changes) -> int:
        new = self._requested.with_(**changes).validated()
        check_backend(self._backend[0], new.algorithm)
        self._requested = new
        return self._count("request", **changes)

    def reset(self, state: str = "random") -> None:
        initial_spins(2, state)
        self._count("reset", state)

    def request_backend(self, backend: str, device: str | None = None) -> int:
        check_backend(backend, self._requested.algorithm)
        self._backend = (backend, device)
        return self._count("request_backend", backend, device)

    def _count(self, name, *args, **kwargs) -> int:
        self._serial += 1  # the child's engine counts the same calls in the same order
        self._send(name, *args, **kwargs)
        return self._serial

    def set_sweeps_per_chunk(self, n: int | None) -> None:
        if n is not None and n < 1:
            raise IsingLabError("sweeps per frame must be at least 1")
        self._sweeps_per_chunk = n
        self._send("set_sweeps_per_chunk", n)

    @property
    def publish_interval(self) -> float:
        return self._publish_interval

    @publish_interval.setter
    def publish_interval(self, value: float) -> None:
        self._publish_interval = value
        self._send("set", "publish_interval", value)

    @property
    def params(self) -> ModelParams:
        return self._requested

    @property
    def backend(self) -> tuple[str, str | None]:
        return self._backend

    # ---- the receiver thread ----
    def _receive(self) -> None:
        fatal = False
        while True:
            try:
                msg = self._events.recv()
            except (EOFError, OSError):  # the child has ended: by stop(), or it died
                if self._stopping:
                    self._process.join(1.0)  # no zombie, also when stop() stopped waiting
                else:
                    self._reap()
                    self._running = False
                    if not fatal:  # (a fatal error is told as such)
                        self.died = _ended_text(self._process.exitcode)
                return
            kind = msg[0]
            if kind == "snap":
                self._take_snapshot(*msg[1:])
            elif kind == "slots":
                self._attach(msg[1], msg[2])
            elif kind == "notice":
                self._backend = msg[2]
                self.notice = msg[1]
            elif kind in ("error", "fatal"):
                self.error = msg[1]
                self._running = False
                fatal = fatal or kind == "fatal"

    def _reap(self) -> None:
        """The child ended by itself: collect it (no zombie) and what it left behind."""
        self._process.join(0.5)
        if self._process.is_alive():  # closed its pipes but hangs: do not leave it running
            self._process.kill()
            self._process.join(0.5)
        self._release_block()
        self._discard_spins_file()

    def _attach(self, name: str, size: int) -> None:
        old = self._slots
        self._block = name
        try:
            self._slots = Slots(size, name)
        except FileNotFoundError:  # replaced again before we got here: the next message says so
            self._slots = None
        if old is not None:
            old.close()

    def _take_snapshot(self, k, meta: Snapshot, with_cluster: bool, measurements) -> None:
        self._measurements.extend(measurements)
        if self._slots is None or self._slots.size != meta.params.size:
            return
        got = self._slots.read(k, meta.serial, with_cluster)
        if got is None:
            return  # overwritten while copying: the next snapshot follows within a frame
        spins, cluster = got
        spins.flags.writeable = False
        self._latest = replace(meta, spins=spins, cluster=cluster)
