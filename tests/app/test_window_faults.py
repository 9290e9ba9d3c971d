"""Faults in the window: a simulation process that dies is restarted (by itself once, then from
a banner that stays until acknowledged) with its shared memory removed at once; closing takes
under a second whatever runs. (The engine's side of it: tests/core/test_engine_process.py.)"""
import json
import os
import signal
import threading
import time

import pytest

from isinglab.app.panels.blocks import BlocksPanel
from isinglab.app.window.main_window import MainWindow
from isinglab.app.panels.network import NetworkPanel
from isinglab.core.params import ModelParams

WAIT_MS = 60000
LINUX = os.path.isdir("/proc") and os.path.isdir("/dev/shm")


def _gone(pid: int) -> bool:
    """No process with this id, not even a zombie (Linux)."""
    return not LINUX or not os.path.exists(f"/proc/{pid}")


def _block_gone(name: str) -> bool:
    return not LINUX or not os.path.exists(f"/dev/shm/{name}")


def _kill_child(win, qtbot) -> tuple[int, str]:
    qtbot.waitUntil(lambda: win.engine._block is not None, timeout=WAIT_MS)
    pid, block = win.engine.pid, win.engine._block
    os.kill(pid, signal.SIGKILL)
    return pid, block


def test_a_killed_simulation_restarts_by_itself_once_then_from_the_banner(open_window, qtbot):
    win = open_window(ModelParams(size=64, temperature=2.0, seed=1), steps=1)
    run = win.named_actions["run"]
    run.setChecked(True)
    qtbot.waitUntil(lambda: win.engine.latest().sweeps > 20, timeout=WAIT_MS)

    # first death: restarted at once from the last frame, and said so until acknowledged
    pid, block = _kill_child(win, qtbot)
    qtbot.waitUntil(lambda: win.engine.pid != pid, timeout=WAIT_MS)
    assert _gone(pid) and _block_gone(block)
    assert win.banner.isVisible() and "killed by SIGKILL" in win.banner_label.text()
    assert "restarted" in win.banner_label.text() and not win.restart_button.isVisible()
    win.statusBar().showMessage("the status tip of a hovered action")  # covers temporary messages only
    assert win.banner.isVisible()
    assert run.isChecked()
    before = win.engine.latest().sweeps
    qtbot.waitUntil(lambda: win.engine.latest().sweeps > before + 20, timeout=WAIT_MS)  # runs on
    win.set_temperature(2.9)  # T reaches the new process
    qtbot.waitUntil(lambda: win.engine.latest().params.temperature == pytest.approx(2.9), timeout=WAIT_MS)
    win.dismiss_button.click()
    assert not win.banner.isVisible()

    # second death: not restarted by itself; the banner's button does it, from the last frame
    pid, block = _kill_child(win, qtbot)
    qtbot.waitUntil(lambda: win.restart_button.isVisible(), timeout=WAIT_MS)
    assert win.engine.pid == pid and _gone(pid) and _block_gone(block)
    assert not run.isChecked() and "killed by SIGKILL" in win.banner_label.text()
    assert not win.dismiss_button.isVisible()
    win.statusBar().showMessage("the status tip of a hovered action")
    qtbot.wait(300)  # display ticks meanwhile change nothing
    assert win.banner.isVisible() and win.engine.pid == pid
    last = win.engine.latest()
    win.set_temperature(2.4)  # taken by the restarted process
    win.restart_button.click()
    assert not win.banner.isVisible() and win.engine.pid != pid
    qtbot.waitUntil(lambda: win.engine.latest().serial > last.serial, timeout=WAIT_MS)
    assert win.engine.latest().sweeps == last.sweeps  # paused, where it was
    assert win.engine.latest().params.temperature == pytest.approx(2.4)
    step = win.named_actions["step"]
    step.trigger()  # Step and Run work again
    qtbot.waitUntil(lambda: win.engine.latest().sweeps == last.sweeps + 1, timeout=WAIT_MS)
    run.setChecked(True)
    qtbot.waitUntil(lambda: win.engine.latest().sweeps > last.sweeps + 20, timeout=WAIT_MS)


LONG_SCENE = {"format": 1, "id": "long", "name": "Long", "description": "a long movie",
              "model": {"size": 64, "temperature": 2.0, "algorithm": "metropolis", "seed": 3},
              "panels": ["latticeDock"], "fps": 10, "sweeps_per_frame": 1, "duration": 600.0,
              "keyframes": [{"t": 600.0, "temperature": 3.0}], "movie": {"block_levels": 0}}


def _leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".isinglab")]


def _deaf_to_cancel(seconds, task):
    """A job that cannot be cancelled (torch's import, numba compiling a kernel on first use)."""
    time.sleep(seconds)


def test_close_takes_under_a_second_with_every_long_job_running(qtbot, tmp_path):
    from isinglab.core import torch_loader
    from isinglab.core.learning.datasets import generate
    torch_loader.load()  # here, before any worker could ask for it
    win = MainWindow(ModelParams(size=128, temperature=2.3, seed=1), no_gl=True)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.named_actions["run"].setChecked(True)
    blocks = next(p for p in win.analysis_panels if isinstance(p, BlocksPanel))
    net = next(p for p in win.analysis_panels if isinstance(p, NetworkPanel))
    win.docks[blocks.dock_name].raise_()

    blocks.start_mcrg(size=64)
    net.set_dataset(generate(16, [1.8, 2.4, 3.0], 400, seed=3, cache=False))
    net.epochs_spin.setValue(5000)
    assert net.train()
    assert net.generate_dataset(size=32, temperatures="1.8, 3.0", samples=20000, seed=1)
    scene = tmp_path / "long.json"  # ten minutes of movie: still being written at close
    scene.write_text(json.dumps(LONG_SCENE))
    win.movies.record_scene(str(scene), str(tmp_path / "scene.mp4"), size=(64, 32))
    assert win.movies.start_live(str(tmp_path / "live.mp4"), size=(64, 64), fps=30)
    qtbot.waitUntil(lambda: blocks.mcrg_progress.value() > 0 and len(net.history) >= 1
                    and win.movies.live.frames >= 5, timeout=WAIT_MS)
    assert blocks.mcrg.running and win.movies.runner.running, win.statusBar().currentMessage()
    assert net.data_runner.running and net.train_runner.running, net.status_label.text()
    net.device_runner.start(_deaf_to_cancel, 1.5)  # as the torch import: it cannot be cancelled

    t0 = time.monotonic()
    win.close()
    seconds = time.monotonic() - t0
    assert seconds < 1.0, f"close took {seconds:.2f} s"
    # what was cancelled ends soon after (no_dangling_threads checks); the live movie is kept
    qtbot.waitUntil(lambda: not win.engine.alive, timeout=5000)
    for t in [t for t in threading.enumerate() if t.name == "isinglab-movie-finish"]:
        t.join(30)
    assert (tmp_path / "live.mp4").exists() and not (tmp_path / "scene.mp4").exists()
    qtbot.waitUntil(lambda: _leftovers(tmp_path) == [], timeout=5000)
