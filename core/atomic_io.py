"""The one way isinglab writes a file: all or nothing.

Every writer (figures, sidecars, data, datasets, movies, screenshots, settings) goes through
`write_atomic`: the bytes go to a temporary file in the target's folder, are flushed and fsynced,
their size is checked, and only then is the file renamed over the target (and the folder fsynced).
Any failure (a full disk, a killed encoder, a signal) removes the temporary file, leaves the old
target untouched and raises an IsingLabError with one line that says what did not land.

Targets that exist but are not regular files (devices, folders, sockets) are refused: writing
"to /dev/full" must not replace the device node. A symlink to a regular file is followed.

Temporary names carry the writer's pid (`.isinglab-tmp-<pid>-...`): SIGTERM/SIGHUP remove the
files of writes in flight, a write that may take long (a movie) also starts a tiny guard process
that deletes its temporary file if this process dies without finishing (even by SIGKILL), and
every write sweeps the folder for temporary files left by processes that no longer exist.
"""
from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from typing import Callable

from .errors import IsingLabError

TMP_PREFIX = ".isinglab-tmp-"
_in_flight: set[str] = set()
_lock = threading.Lock()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "no space left on the device"
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def resolve_target(path, suffix: str | None = None) -> tuple[str, str | None]:
    """The absolute path a write to `path` goes to and a note for the user when a suffix was added.

    Refuses (IsingLabError) a path that exists and is not a regular file, before or after adding
    the suffix, and a folder that does not exist or cannot be written."""
    text = os.fspath(path)
    if not text or "\0" in text:
        raise IsingLabError(f"invalid output path {text!r}")
    target = os.path.abspath(os.path.expanduser(text))
    _check_regular(target)
    note = None
    if suffix and not target.lower().endswith(suffix.lower()):
        target += suffix
        note = f"added the suffix {suffix}: writing {target}"
        _check_regular(target)
    target = os.path.realpath(target)  # a link to a regular file: replace the file, keep the link
    check_folder(os.path.dirname(target))
    return target, note


def _check_regular(target: str) -> None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IsingLabError(f"cannot write {target}: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsingLabError(f"cannot write {target}: it is a folder; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise IsingLabError(f"cannot write {target}: it exists and is not a regular file")


def check_folder(folder) -> str:
    """The absolute folder, or an IsingLabError that says why nothing can be written there."""
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(folder):
        raise IsingLabError(f"cannot write to {folder}: the folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise IsingLabError(f"cannot write to {folder}: no permission to write there")
    return folder


def write_atomic(path, data: bytes | str | Callable[[str], None], *, suffix: str | None = None,
                 guard: bool = False) -> str:
    """Write `data` (bytes, text as UTF-8, or a function that writes a given temporary path) to
    `path` all or nothing; return the path written. `suffix` is added when missing (see
    resolve_target); `guard` protects a long write against this process being killed."""
    target, _ = resolve_target(path, suffix)
    with temporary_for(target, guard=guard) as tmp:
        if callable(data):
            data(tmp)
        else:
            blob = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            _write_all(tmp, blob)
    return target


class AtomicFile:
    """A temporary file beside `target` (`.tmp`, for a writer that needs a path) that either
    replaces the target (commit) or vanishes (discard). For writes that cannot sit in one
    with-block, such as a movie encoded frame by frame."""

    def __init__(self, target: str, guard: bool = False):
        self.target = target
        folder = os.path.dirname(target)
        _sweep_stale(folder)
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-",
                                            suffix=f"-{os.path.basename(target)[-40:]}", dir=folder)
            os.close(fd)
        except OSError as exc:
            raise IsingLabError(f"could not write {target}: {_reason(exc)}") from None
        with _lock:
            _in_flight.add(self.tmp)
        self._guard = _start_guard(self.tmp) if guard else None

    def commit(self) -> str:
        """Sync the temporary file and rename it over the target; any failure discards it and
        raises one IsingLabError."""
        target = self.target
        try:
            if not os.path.isfile(self.tmp) or os.path.getsize(self.tmp) == 0:
                raise IsingLabError(f"could not write {target}: nothing was written")
            _sync_file(self.tmp)
            _check_regular(target)  # something may have appeared there while we wrote
            os.chmod(self.tmp, _mode_for(target))
            os.replace(self.tmp, target)
            _sync_folder(os.path.dirname(target))
        except IsingLabError as exc:
            raise IsingLabError(_unchanged(str(exc), target)) from None
        except (OSError, ValueError) as exc:
            raise IsingLabError(_unchanged(f"could not write {target}: {_reason(exc)}", target)) from None
        finally:
            self.discard()
        return target

    def discard(self) -> None:
        _discard(self.tmp)
        if self._guard is not None:
            _stop_guard(self._guard)
            self._guard = None


@contextmanager
def temporary_for(target: str, guard: bool = False):
    """Yield a fresh temporary path beside `target`; when the block succeeds rename it over the
    target, on any error remove it (OSError and the like become one IsingLabError)."""
    f = AtomicFile(target, guard)
    try:
        yield f.tmp
    except (OSError, ValueError, RuntimeError) as exc:
        f.discard()
        if isinstance(exc, IsingLabError):
            raise IsingLabError(_unchanged(str(exc), target)) from None
        raise IsingLabError(_unchanged(f"could not write {target}: {_reason(exc)}", target)) from None
    except BaseException:
        f.discard()
        raise
    f.commit()


def _unchanged(message: str, target: str) -> str:
    tail = "; the existing file was left unchanged" if os.path.exists(target) else ""
    return message if message.endswith(tail) else message + tail


_write_chunk = os.write  # tests replace this to simulate a full disk


def _write_all(tmp: str, blob: bytes) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        view = memoryview(blob)
        while view:
            n = _write_chunk(fd, view)
            if n <= 0:
                raise OSError(errno.EIO, "short write")
            view = view[n:]
        os.fsync(fd)
        if os.fstat(fd).st_size != len(blob):
            raise OSError(errno.EIO, "the file on disk has the wrong size")
    finally:
        os.close(fd)


def _sync_file(tmp: str) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename itself has happened
    finally:
        os.close(fd)


def _mode_for(target: str) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _discard(tmp: str) -> None:
    with _lock:
        _in_flight.discard(tmp)
    try:
        os.remove(tmp)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # nothing more can be done; the stale sweep will retry


def _sweep_stale(folder: str) -> None:
    """Remove temporary files of isinglab processes that no longer exist."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TMP_PREFIX)]
    except OSError:
        return
    for name in names:
        pid_text = name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A guard: `sh` waits on a pipe whose only writer is this process. "ok" means the write finished;
# end of file without it means this process died, and the guard removes the temporary file.
_GUARD_SCRIPT = 'read -r word; [ "$word" = ok ] || rm -f -- "$1"'


def _start_guard(tmp: str):
    try:
        return subprocess.Popen(["/bin/sh", "-c", _GUARD_SCRIPT, "isinglab-guard", tmp],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return None  # no shell: SIGTERM cleanup and the stale sweep still apply


def _stop_guard(proc) -> None:
    try:
        proc.stdin.write(b"ok\n")
        proc.stdin.close()
        proc.wait(timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()


def remove_in_flight() -> None:
    """Remove every temporary file of a write in flight (called on fatal signals)."""
    with _lock:
        paths = list(_in_flight)
        _in_flight.clear()
    for tmp in paths:
        try:
            os.remove(tmp)
        except OSError:
            pass


def install_signal_cleanup() -> None:
    """On SIGTERM/SIGHUP remove the temporary files in flight, then die of the signal as before.
    Call from the main thread of a command-line process."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(sig)

        def handler(signum, frame, previous=previous):
            remove_in_flight()
            if callable(previous):
                previous(signum, frame)
                return
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            return  # not the main thread
