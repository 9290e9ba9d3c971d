"""Background work for panels, with results delivered on the GUI thread.

- `LatestOnlyWorker`: one worker thread per panel; `submit(fn, *args)` replaces any job that has
  not started yet, so a panel that receives snapshots at display rate analyses the newest one and
  never queues a backlog. Results arrive through the `finished` signal (queued to the GUI thread).
- `TaskRunner`: a long, cancellable job with progress (core.tasks.TaskState) on its own thread;
  emits `progress(fraction, text)`, `finished(result)`, `failed(message)`, `cancelled()`.
- `close_deadline(seconds)`: while the window closes, every wait here shares one deadline.
"""
from __future__ import annotations

import contextlib
import threading
import time
import traceback

from PySide6.QtCore import QObject, Signal

from isinglab.core.errors import IsingLabError
from isinglab.core.tasks import Cancelled, TaskState


_close_by: float | None = None  # time.monotonic() by which a closing window's waits all end


@contextlib.contextmanager
def close_deadline(seconds: float):
    """Waits for threads to end (TaskRunner.cancel(wait=True), LatestOnlyWorker.shutdown) all
    return within `seconds` from now, in total, not each after its own timeout (see
    MainWindow.closeEvent). A thread still busy then (a kernel, the torch import) was told to
    stop and is abandoned: a daemon, it ends at its next check or with the process. GUI thread."""
    global _close_by
    _close_by = time.monotonic() + seconds
    try:
        yield
    finally:
        _close_by = None


def time_left(timeout: float) -> float:
    """timeout, cut to what is left of a close_deadline."""
    if _close_by is None:
        return timeout
    return max(0.0, min(timeout, _close_by - time.monotonic()))


def stop_all(root: QObject) -> None:
    """Tell every TaskRunner and LatestOnlyWorker under root to stop, without waiting: closing,
    they all wind down at once rather than each only when its owner's turn comes."""
    for runner in root.findChildren(TaskRunner):
        runner.cancel()
    for worker in root.findChildren(LatestOnlyWorker):
        worker.shutdown(timeout=0.0)


def _emit(signal, *args) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # its owner was deleted after a close abandoned this thread
        pass


class LatestOnlyWorker(QObject):
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str = "isinglab-panel", parent=None):
        super().__init__(parent)
        self._cv = threading.Condition()
        self._job = None
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._cv:
            return self._busy or self._job is not None

    def submit(self, fn, *args) -> None:
        with self._cv:
            self._job = (fn, args)
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._job is None and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                (fn, args), self._job = self._job, None
                self._busy = True
            try:
                result = fn(*args)
                with self._cv:
                    if self._stop:  # shut down meanwhile: nobody waits for it
                        return
                _emit(self.finished, result)
            except IsingLabError as exc:
                _emit(self.failed, str(exc))
            except Exception as exc:  # report, keep the worker alive
                _emit(self.failed, f"{type(exc).__name__}: {exc}")
                traceback.print_exc()
            finally:
                with self._cv:
                    self._busy = False

    def shutdown(self, timeout: float = 1.0) -> bool:
        with self._cv:
            self._stop = True
            self._job = None
            self._cv.notify()
        self._thread.join(time_left(timeout))
        return not self._thread.is_alive()


class TaskRunner(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._task: TaskState | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, fn, *args, **kwargs) -> None:
        """Run fn(*args, task=TaskState, **kwargs) on a new thread, cancelling a running job first."""
        self.cancel(wait=True)
        self._task = task = TaskState(lambda f, t: self.progress.emit(f, t))
        self._thread = threading.Thread(target=self._run, args=(task, fn, args, kwargs),
                                        name="isinglab-task", daemon=True)
        self._thread.start()

    def _run(self, task, fn, args, kwargs) -> None:
        try:
            result = fn(*args, task=task, **kwargs)
        except Cancelled:
            _emit(self.cancelled)
        except IsingLabError as exc:
            _emit(self.failed, str(exc))
        except Exception as exc:
            traceback.print_exc()
            _emit(self.failed, f"{type(exc).__name__}: {exc}")
        else:
            if task.cancelled:
                _emit(self.cancelled)
            else:
                _emit(self.finished, result)

    def cancel(self, wait: bool = False, timeout: float = 2.0) -> None:
        if self._task is not None:
            self._task.cancel()
        if wait and self._thread is not None:
            self._thread.join(time_left(timeout))
