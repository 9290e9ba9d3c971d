"""The simulation process's side of ProcessEngine: what runs in the child.

Why a module of its own: the child is started with "spawn", so it imports only this (and what it
needs) rather than the parent's proxy; and its rules differ from the parent's. The child runs an
ordinary `Engine` loop on its main thread (the only thread there that runs kernels) and serves
requests on a second one. Requests arrive through a pipe in order, so the request serial numbers
agree on both sides. Each published snapshot goes into the shared-memory slots (engine_slots) and
is announced on a second pipe with its metadata and the measurements taken since. It runs at a
lower priority, so that the window's short bursts of work preempt it.
"""
from __future__ import annotations

import gc
import os
import threading
from dataclasses import replace

import numpy as np

from .engine_slots import Slots
from .errors import IsingLabError

SIM_NICE = 5  # GUI benchmark: stalls of 47-73 ms at nice 0, 27-52 ms at 5 or 10 (3 runs each)


def _lower_priority() -> None:
    """The window's short bursts of work (a frame, a slider move) should preempt the simulation,
    not queue behind it; the simulation takes whatever CPU is left."""
    try:
        os.nice(SIM_NICE)
    except (AttributeError, OSError):  # no nice() (Windows): run at normal priority
        pass


def child_main(commands, events, params, initial, backend, device, settle, chunk_seconds,
               publish_interval, resume=None):
    """resume: (spins file or None, sweeps, (snapshot serial, request serial)) for a restart."""
    from .engine import Engine
    _lower_priority()
    slots: Slots | None = None  # for the current lattice size
    send_lock = threading.Lock()

    def send(msg):
        with send_lock:
            events.send(msg)

    def published(engine, snap):
        nonlocal slots
        if slots is None or slots.size != snap.spins.shape[0]:
            old, slots = slots, Slots(snap.spins.shape[0])
            send(("slots", slots.name, slots.size))
            if old is not None:
                old.close(unlink=True)
        k = slots.write(snap.serial, snap.spins, snap.cluster)
        meta = replace(snap, spins=None, cluster=None)
        send(("snap", k, meta, snap.cluster is not None, engine.drain_measurements()))

    try:
        spins, sweeps, serials = None, 0, (0, 0)
        if resume is not None:
            path, sweeps, serials = resume
            if path is not None:
                try:
                    spins = np.load(path)
                finally:
                    os.unlink(path)
        engine = Engine(params, initial=initial, chunk_seconds=chunk_seconds,
                        publish_interval=publish_interval, settle_sweeps=settle, backend=backend,
                        device=device, on_publish=published, spins=spins, sweeps=sweeps,
                        serials=serials)
    except Exception as exc:  # e.g. the backend cannot start: tell the parent, end
        send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    gc.freeze()  # collections then skip the thousands of objects compiled code left behind
    server = threading.Thread(target=_serve, args=(engine, commands, send),
                              name="isinglab-commands", daemon=True)
    server.start()
    try:
        engine.run()
    finally:
        if slots is not None:
            slots.close(unlink=True)


def _serve(engine, commands, send) -> None:
    try:
        _serve_until_stop(engine, commands, send)
    finally:
        engine.stop()


def _serve_until_stop(engine, commands, send) -> None:
    while True:
        if commands.poll(0.05):
            try:
                name, args, kwargs = commands.recv()
            except EOFError:  # the parent has gone
                return
            if name == "stop":
                return
            if name == "set":
                setattr(engine, *args)
            else:
                try:
                    getattr(engine, name)(*args, **kwargs)
                except IsingLabError as exc:  # validated in the parent; a race is reported
                    send(("notice", f"Not applied: {exc}", engine.backend))
        if engine.error:
            error, engine.error = engine.error, None
            send(("error", error))
        if engine.notice:
            notice, engine.notice = engine.notice, None
            send(("notice", notice, engine.backend))
