"""Import torch exactly once, on one dedicated thread, whoever asks first.

torch's first import runs for seconds and touches hundreds of modules. Two threads importing
parts of it at the same time (the simulation thread switching backend while a panel's worker
starts the network) have deadlocked, and so has an engine-thread import racing garbage
collection on the GUI thread. So nothing imports torch directly from a worker: callers ask
`load()`, which starts (once) the single loader thread and waits for it. Re-imports after it
finished are dictionary look-ups and need no care.
"""
from __future__ import annotations

import gc
import importlib
import sys
import threading

from .errors import IsingLabError

_lock = threading.Lock()
_done = threading.Event()
_thread: threading.Thread | None = None
_failure: str | None = None


# torch, the learning code's first use of it and the simulation backend: one import burst
MODULES = ("torch", "torch.nn", "isinglab.core.backends.torch_backend")


def _import() -> None:
    global _failure
    try:
        for name in MODULES:
            importlib.import_module(name)
    except Exception as exc:  # an unusable torch is reported to every caller
        _failure = f"torch could not be imported: {type(exc).__name__}: {exc}"
    finally:
        # torch's objects live as long as the process: keep the collector from rescanning them
        gc.freeze()
        _done.set()


def start() -> None:
    """Begin importing torch in the background (no-op if begun or done)."""
    global _thread
    with _lock:
        if _thread is None and not _done.is_set():
            if all(m in sys.modules for m in MODULES):
                _done.set()  # imported already (e.g. the CLI, single-threaded)
                return
            _thread = threading.Thread(target=_import, name="isinglab-torch-import", daemon=True)
            _thread.start()


def ready() -> bool:
    return _done.is_set() and _failure is None


def load():
    """The torch module, once the loader thread has imported it (blocking the caller)."""
    start()
    _done.wait()
    if _failure is not None:
        raise IsingLabError(_failure)
    return sys.modules["torch"]
