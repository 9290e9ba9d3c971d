"""Import torch exactly once, on one dedicated thread, whoever asks first.

torch's first import runs for seconds and touches hundreds of modules. Two threads importing
parts of it at the same time (the simulation thread switching backend while a panel's worker
starts the network) have deadlocked, and so has an engine-thread import racing garbage
collection on the GUI thread. So nothing imports torch directly from a worker: callers ask
`load()`, which starts (once) the single loader thread and waits for it. Re-imports after it
finished are dictionary look-ups and need no care.

The desktop app starts the loader in the background once its first frame is shown
(`start(background=True)`, app/panels/network.py), so torch is there when the network panel
needs it. The import must not stall the GUI thread, which shares Python's lock with it:

- torch's shared libraries are opened first through libc's `dlopen`, called by ctypes with
  Python's lock released (Python's own import holds the lock while it opens libtorch_cpu.so:
  0.4-0.9 s without a frame on the 2-core test machine);
- the cyclic collector is off during the import (its full passes over the new objects held the
  lock 100-250 ms each; `gc.freeze()` afterwards keeps torch's objects out of later passes);
- `background=True` also lowers the loader thread's scheduling priority (Linux: per-thread nice),
  so that it takes the CPU the simulation and the display leave.

`when_done(fn)` calls fn (on the loader thread, or at once) when the import has ended, either
way; `failure()` says why it failed.
"""
from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
import threading
import traceback

from .errors import IsingLabError

_lock = threading.Lock()
_done = threading.Event()
_thread: threading.Thread | None = None
_failure: str | None = None
_callbacks: list = []


# torch, the learning code's first use of it and the simulation backend: one import burst
MODULES = ("torch", "torch.nn", "isinglab.core.backends.torch_backend")
# opened (in this order, those present) before the import, with Python's lock released
PRELOAD_LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so",
                     "libtorch_python.so")
BACKGROUND_NICE = 5  # the loader thread's nice increment in the background (the simulation's is 5)
_handles: list = []  # the preloaded libraries stay open for the life of the process


def _preload_libraries() -> None:
    """Open torch's shared libraries with Python's lock released (best effort: torch's own
    import opens whatever this could not). Linux only."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        spec = importlib.util.find_spec("torch")  # finds the package, runs none of it
        if spec is None or not spec.origin:
            return
        folder = os.path.join(os.path.dirname(spec.origin), "lib")
        libc = ctypes.CDLL(None)  # a CDLL's functions release Python's lock while they run
        dlopen = libc.dlopen
        dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    except (ImportError, OSError, AttributeError, ValueError):
        return
    for name in PRELOAD_LIBRARIES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            handle = dlopen(os.fsencode(path), os.RTLD_NOW)
            if not handle:  # leave it to torch's import, which says what is missing
                return
            _handles.append(handle)


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)  # this thread only
    except (AttributeError, OSError):
        pass


def _import(background: bool) -> None:
    global _failure
    collecting = gc.isenabled()
    try:
        if background:
            _lower_priority()
        gc.disable()
        _preload_libraries()
        for name in MODULES:
            importlib.import_module(name)
    except Exception as exc:  # an unusable torch is reported to every caller
        _failure = f"torch could not be imported: {type(exc).__name__}: {exc}"
    finally:
        # torch's objects live as long as the process: keep the collector from rescanning them
        gc.freeze()
        if collecting:
            gc.enable()
        _finish()


def _finish() -> None:
    """The import has ended (or was found done): wake the waiters, run the callbacks."""
    _done.set()
    with _lock:
        callbacks = list(_callbacks)
        _callbacks.clear()
    for fn in callbacks:
        _call(fn)


def _call(fn) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - one caller's callback must not hide the result from the others
        traceback.print_exc()


def start(background: bool = False) -> None:
    """Begin importing torch on the loader thread (no-op if begun or done). background: at a
    lower scheduling priority (the app's start-up load, which nobody waits for yet)."""
    global _thread
    with _lock:
        if _thread is not None or _done.is_set():
            return
        if all(m in sys.modules for m in MODULES):
            found = True  # imported already (e.g. the CLI, single-threaded)
        else:
            found = False
            _thread = threading.Thread(target=_import, args=(background,), name="isinglab-torch-import",
                                       daemon=True)
            _thread.start()
    if found:
        _finish()


def started() -> bool:
    """Whether the import has begun (or is done)."""
    return _thread is not None or _done.is_set()


def done() -> bool:
    """Whether the import has ended, successfully or not."""
    return _done.is_set()


def ready() -> bool:
    return _done.is_set() and _failure is None


def failure() -> str | None:
    """Why the import failed (one line), None while it has not failed."""
    return _failure if _done.is_set() else None


def wait(timeout: float | None = None) -> bool:
    """Wait (at most timeout seconds) for the import to end, without starting it."""
    return _done.wait(timeout)


def when_done(fn) -> None:
    """Call fn() once the import has ended (successfully or not): on the loader thread, or at
    once if it has ended already. Exceptions in fn are printed, not raised."""
    with _lock:
        if not _done.is_set():
            _callbacks.append(fn)
            return
    _call(fn)


def load():
    """The torch module, once the loader thread has imported it (blocking the caller)."""
    start()
    _done.wait()
    if _failure is not None:
        raise IsingLabError(_failure)
    return sys.modules["torch"]
