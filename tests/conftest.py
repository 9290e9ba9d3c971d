import os
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own settings folder: no test reads or writes the user's settings."""
    monkeypatch.setenv("ISINGLAB_CONFIG_DIR", str(tmp_path / "config"))
    yield


# core/torch_loader's import thread belongs to the process, not to a test: every window starts it
# in the background after its first frame, it cannot be cancelled and it runs once per process
PROCESS_THREADS = ("isinglab-torch-import",)


def _isinglab_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith("isinglab") and t.name not in PROCESS_THREADS and t.is_alive()]


@pytest.fixture(autouse=True)
def no_dangling_threads():
    """Fail a test that leaves an engine, panel worker or task thread running."""
    before = set(_isinglab_threads())
    yield
    deadline = time.monotonic() + 2.0
    while (left := [t for t in _isinglab_threads() if t not in before]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not left, f"threads left running: {[t.name for t in left]}"


@pytest.fixture
def open_window(qtbot):
    """open_window(params, size=None, no_gl=False, steps=0): a shown MainWindow that has done
    `steps` sweeps (the kernels are loaded then), closed after the test."""
    from isinglab.app.window.main_window import MainWindow
    opened = []

    def open_(params, size=None, no_gl=False, steps=0):
        win = MainWindow(params, no_gl=no_gl)
        qtbot.addWidget(win)
        if size is not None:
            win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        opened.append(win)
        if steps:
            win.engine.step(steps)
            qtbot.waitUntil(lambda: win.engine.latest().sweeps >= steps, timeout=120000)
        return win

    yield open_
    for win in opened:
        win.close()
