"""The main window: docks, the slider -> engine -> snapshot path, layout persistence, life-cycle."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QDockWidget, QSlider

from isinglab.app.window.main_window import MainWindow
from isinglab.app.window.settings import settings_path
from isinglab.core.params import ModelParams


@pytest.fixture
def window(open_window):
    return open_window(ModelParams(size=64, temperature=2.0, seed=1), (1280, 800), steps=1)


def test_window_has_the_named_docks(window):
    names = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert {"latticeDock", "controlsDock", "observablesDock", "blocksDock", "correlationDock", "networkDock"} <= names


def test_visible_analysis_panels_receive_snapshots(window, qtbot):
    got = []
    panel = window.analysis_panels[0]
    panel.on_snapshot = got.append
    window.docks[panel.dock_name].raise_()
    window.named_actions["run"].setChecked(True)
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=5000)
    assert got[-1].params.size == 64


def test_every_action_has_an_object_name_and_tooltip(window):
    actions = window.findChildren(QAction)
    named = [a for a in actions if a.objectName()]
    assert len(named) >= 15
    for a in named:
        if a.objectName().endswith("Action"):
            assert a.toolTip() and a.toolTip() != a.text().replace("&", ""), a.objectName()


def test_slider_reaches_the_engine_and_the_next_snapshot(window, qtbot):
    window.named_actions["run"].setChecked(True)
    slider = window.findChild(QSlider, "temperatureSlider")
    slider.setValue(3100)
    assert window.findChild(type(window.controls.spin), "temperatureSpin").value() == pytest.approx(3.1)
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: window.engine.latest().params.temperature == pytest.approx(3.1), timeout=2000)
    assert time.monotonic() - t0 < 2.0
    first = window.engine.latest().serial
    qtbot.waitUntil(lambda: window.engine.latest().serial > first, timeout=2000)
    assert window.engine.latest().params.temperature == pytest.approx(3.1)


def test_shortcut_actions_move_temperature(window, qtbot):
    window.controls.set_temperature(2.0, emit=True)
    window.named_actions["nudge_up"].trigger()
    window.named_actions["fine_down"].trigger()
    assert window.controls.temperature == pytest.approx(2.009)
    window.named_actions["snap_tc"].trigger()
    assert window.controls.temperature == pytest.approx(2.269)
    qtbot.waitUntil(lambda: window.engine.params.temperature == pytest.approx(2.269), timeout=1000)


def test_display_shows_the_snapshot(window, qtbot):
    window.named_actions["reset_up"].trigger()
    window.named_actions["step"].trigger()
    qtbot.waitUntil(lambda: window.engine.latest().sweeps >= 1, timeout=3000)
    qtbot.waitUntil(lambda: window._shown_serial == window.engine.latest().serial, timeout=3000)
    assert window.lattice.lattice_size == 64


def test_size_and_algorithm_change_while_running(window, qtbot):
    window.named_actions["run"].setChecked(True)
    window.controls.size.setCurrentText("128")
    window.controls.algorithm.setCurrentText("wolff")
    qtbot.waitUntil(lambda: window.engine.latest().params.size == 128
                    and window.engine.latest().params.algorithm == "wolff", timeout=60000)  # a fresh checkout compiles the kernel first
    sweeps = window.engine.latest().sweeps
    qtbot.waitUntil(lambda: window.engine.latest().sweeps > sweeps, timeout=60000)
    window.controls.algorithm.setCurrentText("multispin")
    qtbot.waitUntil(lambda: window.engine.latest().params.algorithm == "multispin", timeout=60000)  # numba compiles multispin on first use


def test_refused_change_reverts_and_explains(window, qtbot):
    window.controls.algorithm.setCurrentText("multispin")  # L = 64 is not a multiple of 128
    assert "Not applied" in window.statusBar().currentMessage()
    assert window.controls.algorithm.currentText() == "metropolis"
    assert window.engine.params.algorithm == "metropolis"


def test_layout_round_trip(qtbot):
    win = MainWindow(ModelParams(size=32))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.docks["observablesDock"].setFloating(True)
    win.close()
    again = MainWindow(ModelParams(size=32))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.docks["observablesDock"].isFloating()
    again.named_actions["reset_layout"].trigger()
    assert not again.docks["observablesDock"].isFloating()
    again.close()


def test_corrupt_settings_file_is_set_aside(qtbot):
    path = settings_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"[window]\nstate=@ByteArray(\x00\xff\xfe garbage\n\x00[[[")
    win = MainWindow(ModelParams(size=32))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.close()  # no crash on restore, and saving works afterwards


def test_close_while_running_ends_the_engine_thread_within_a_second(qtbot):
    win = MainWindow(ModelParams(size=256))
    qtbot.addWidget(win)
    win.show()
    win.named_actions["run"].setChecked(True)
    qtbot.waitUntil(lambda: win.engine.latest().sweeps > 5, timeout=5000)
    t0 = time.monotonic()
    win.close()
    assert not win.engine.alive
    assert time.monotonic() - t0 < 1.0
    assert not win.timer.isActive()


def _run_cli(args, env_extra=None, timeout=120):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_screenshot_command_writes_a_non_blank_png(tmp_path):
    out = tmp_path / "shot.png"
    res = _run_cli(["gui", "--size", "64", "--temperature", "2.27", "--run-seconds", "1",
                    "--screenshot", str(out)])
    assert res.returncode == 0, res.stderr
    img = QImage(str(out))
    assert img.width() == 1280 and img.height() == 800
    grey = img.convertToFormat(QImage.Format.Format_Grayscale8)  # keep it alive while reading
    arr = np.frombuffer(grey.constBits(), np.uint8, count=grey.sizeInBytes()).copy()
    assert arr.std() > 10  # not a blank image


def test_screenshot_to_a_missing_folder_fails_cleanly(tmp_path):
    res = _run_cli(["gui", "--size", "32", "--run-seconds", "0.2", "--screenshot",
                    str(tmp_path / "missing" / "x.png")])
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "could not save" in res.stderr


def test_backend_switch_to_torch_and_back(window, qtbot):
    window.named_actions["run"].setChecked(True)
    cuda = torch.cuda.is_available()  # torch imported up front: never import it concurrently
    window.controls.backend.setCurrentText("torch (CUDA)")  # no GPU here: CPU with a message
    qtbot.waitUntil(lambda: window.engine.latest().kernel.startswith("torch"), timeout=120000)
    if not cuda:
        assert window.engine.latest().kernel.startswith("torch-cpu")
        qtbot.waitUntil(lambda: "CUDA" in window.statusBar().currentMessage(), timeout=5000)
        assert window.controls.backend.currentText() == "torch (CPU)"
    window.controls.algorithm.setCurrentText("wolff")  # torch has no cluster algorithm: refused
    assert "Not applied" in window.statusBar().currentMessage()
    assert window.controls.algorithm.currentText() == "metropolis"
    window.controls.backend.setCurrentText("numba (CPU)")
    qtbot.waitUntil(lambda: window.engine.latest().kernel.startswith("numba"), timeout=10000)


def test_a_lattice_frame_waits_while_plots_repaint(window, qtbot):
    """refresh() holds a new snapshot back when the plots were redrawn in this event-loop turn
    (one paint pass with both would stall the loop) and draws it FRAME_GAP_MS later by itself,
    not a display tick later."""
    window.timer.stop()  # drive refresh by hand
    before = window.engine.latest().sweeps
    window.engine.step(2)
    qtbot.waitUntil(lambda: window.engine.latest().sweeps >= before + 2, timeout=10000)
    shown = window._shown_serial
    window.observables.redrawn_at = time.perf_counter()
    window.refresh()
    assert window._shown_serial == shown and window._frame_retry.isActive()
    window.observables.redrawn_at = 0.0
    qtbot.waitUntil(lambda: window._shown_serial == window.engine.latest().serial != shown,
                    timeout=1000)  # the display timer is stopped: the retry drew it


def test_status_bar_shows_the_engine_state_at_its_own_rate(window, qtbot):
    """Status figures follow the engine on a 4 Hz timer, also while paused (no frames come)."""
    window.named_actions["run"].setChecked(False)
    window.set_temperature(2.6)
    qtbot.waitUntil(lambda: window.engine.latest().params.temperature == pytest.approx(2.6), timeout=10000)
    qtbot.waitUntil(lambda: "T = 2.600" in window.status_label.text(), timeout=2000)
    assert " fps" in window.status_label.text()
