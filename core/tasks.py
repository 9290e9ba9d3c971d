"""A small cancel/progress handle for long jobs, so core stays Qt-free.

The GUI wraps it in a worker and forwards progress to a bar; the CLI draws a text bar on stderr.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional


class Cancelled(Exception):
    """Raised inside a job when its TaskState was cancelled."""


class TaskState:
    def __init__(self, on_progress: Optional[Callable[[float, str], None]] = None):
        self._cancel = threading.Event()
        self._on_progress = on_progress

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, fraction: float, text: str = "") -> None:
        """Report progress in [0, 1]; raises Cancelled if the job was cancelled meanwhile."""
        self.check()
        if self._on_progress is not None:
            self._on_progress(min(max(fraction, 0.0), 1.0), text)


