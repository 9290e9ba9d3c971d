"""One place that picks the Qt binding (PySide6) for pyqtgraph and vispy, and checks, before a
QApplication is created, that Qt will find a platform it can open (see check_display)."""
import os
import re
import socket
import stat
import sys

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

HEADLESS_HINT = "run it under xvfb-run, or set QT_QPA_PLATFORM=offscreen for a window without a screen"


def check_display(fallback_offscreen: bool = False) -> str:
    """Raise IsingLabError (one line) when Qt could not open any platform it would try.

    Without this, QApplication() aborts the whole process with several lines of Qt diagnostics
    (e.g. `bench --gui` with no DISPLAY, QT_QPA_PLATFORM=xcb and no X server, a misspelt
    platform). The platforms tried are those of QT_QPA_PLATFORM ("a;b" tries a, then b) or, when
    it is unset, Qt's default (wayland then xcb in a Wayland session, xcb otherwise). xcb needs
    an X server answering at DISPLAY, wayland a compositor socket; other platforms (offscreen,
    minimal, vnc, eglfs, ...) only need their plugin. With `fallback_offscreen` (the headless
    commands) an unset QT_QPA_PLATFORM with no usable display selects offscreen instead.
    Returns the value of QT_QPA_PLATFORM in effect. Only Linux and other X11 systems are checked."""
    from isinglab.core.errors import IsingLabError
    requested = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if sys.platform in ("darwin", "win32", "cygwin"):
        return requested
    names = [e.split(":", 1)[0].strip().lower() for e in requested.split(";") if e.strip()]
    if not names:
        names = (["wayland"] if os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland" else []) + ["xcb"]
    reasons = [r for r in (_unusable(n) for n in names) if r]
    if len(reasons) < len(names):
        return requested
    if not requested and fallback_offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return "offscreen"
    what = f"QT_QPA_PLATFORM={requested!r}" if requested else "no display"
    raise IsingLabError(f"cannot open a Qt window ({what}): {'; '.join(dict.fromkeys(reasons))}; {HEADLESS_HINT}")


def _unusable(name: str) -> str | None:
    """Why platform `name` cannot start here, or None when it may."""
    if not name:
        return "an empty platform name"
    missing = _missing_plugin(name)
    if missing:
        return missing
    if name == "xcb":
        display = os.environ.get("DISPLAY", "")
        if not display:
            return "xcb needs an X server but DISPLAY is not set"
        if not _x_server_answers(display):
            return f"no X server answers at DISPLAY={_show(display)}"
    elif name.startswith("wayland"):
        if os.environ.get("WAYLAND_SOCKET"):
            return None
        display = os.environ.get("WAYLAND_DISPLAY", "") or "wayland-0"
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        path = display if os.path.isabs(display) else os.path.join(runtime, display) if runtime else ""
        if not path or not _is_socket(path):
            return f"{name} needs a Wayland compositor but none is running at WAYLAND_DISPLAY={_show(display)}"
    return None


def _missing_plugin(name: str) -> str | None:
    """A message when no Qt platform plugin provides `name` (None when unknown or present)."""
    dirs = []
    try:
        from PySide6.QtCore import QLibraryInfo
        dirs.append(os.path.join(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath), "platforms"))
    except Exception:  # no QtCore here: let Qt itself decide
        return None
    for var, sub in (("QT_QPA_PLATFORM_PLUGIN_PATH", ""), ("QT_PLUGIN_PATH", "platforms")):
        dirs += [os.path.join(d, sub) for d in os.environ.get(var, "").split(os.pathsep) if d]
    stems = set()
    for d in dirs:
        try:
            files = os.listdir(d)
        except OSError:
            continue
        for f in files:
            m = re.match(r"^(?:lib)?q(.+?)(?:\.so.*|\.dll|\.dylib)$", f)
            if m:
                stems.add(m.group(1).lower())
    if not stems:
        return None  # plugins not found where expected (a frozen bundle?): let Qt decide
    if any(name == s or name.startswith(s + "-") for s in stems):
        return None
    return f"there is no Qt platform plugin {_show(name)} (installed: {', '.join(sorted(stems))})"


def _x_server_answers(display: str, timeout: float = 1.0) -> bool:
    m = re.fullmatch(r"(?P<host>[^:]*):(?P<num>\d+)(?:\.\d+)?", display)
    if not m:
        return True  # a form we do not know (e.g. a launchd path): let Qt try
    host, num = m.group("host"), int(m.group("num"))
    if host in ("", "unix"):
        for address in (f"\0/tmp/.X11-unix/X{num}", f"/tmp/.X11-unix/X{num}"):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout)
                    s.connect(address)
                    return True
            except OSError:
                continue
        return False
    if host.startswith("/"):
        return True
    try:
        with socket.create_connection((host, 6000 + num), timeout=timeout):
            return True
    except (OSError, ValueError, OverflowError):
        return False


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _show(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")
