"""torch is ready when asked (issue 17, point 4): the window loads it in the background once its
first frame is shown, without the Network tab being opened and without delaying that frame; Train
pressed while it loads waits ("loading torch…") and then trains; the device line shows the device
afterwards, whoever started the import.

Each case runs in a fresh interpreter (torch not imported yet), offscreen with the software
lattice view: in the test process torch was imported long ago by other tests.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRELUDE = """
import json, os, sys, tempfile, time
os.environ["ISINGLAB_CONFIG_DIR"] = tempfile.mkdtemp()
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from isinglab.app.panels import network
from isinglab.app.window.main_window import MainWindow
from isinglab.core import torch_loader
from isinglab.core.params import ModelParams

def wait_for(condition, timeout, what):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.002)

def open_window():
    win = MainWindow(ModelParams(size=64, temperature=2.5, seed=1), no_gl=True)
    win.resize(1280, 800)
    t0 = time.perf_counter()
    win.show()
    wait_for(lambda: win.lattice.frames_drawn > 0, 120, "the first frame")
    first = time.perf_counter() - t0
    return win, first, "torch" in sys.modules

result = {}
"""


def run_case(snippet: str, timeout: float = 300) -> dict:
    code = PRELUDE + textwrap.dedent(snippet) + '\nprint("RESULT " + json.dumps(result), flush=True)\n'
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, timeout=timeout,
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


START_UP = """
win, first, torch_at_first_frame = open_window()
result.update(first_frame_s=first, torch_at_first_frame=torch_at_first_frame)
net = win.panels["networkDock"]
dock = win.docks["networkDock"]
result["label_before"] = net.device_label.text()
wait_for(torch_loader.started, 30, "the loader to start")
thread = torch_loader._thread
try:  # the loader thread runs at a lower priority (its own nice value)
    result["loader_nice"] = os.getpriority(os.PRIO_PROCESS, thread.native_id) - os.getpriority(os.PRIO_PROCESS, 0)
except (OSError, AttributeError, TypeError):
    result["loader_nice"] = None
seen = []
def loaded():
    seen.append(not dock.visibleRegion().isEmpty())
    return torch_loader.ready() and net.device_text != ""
wait_for(loaded, 180, "torch and the device line")
result.update(network_seen=any(seen), device_text=net.device_text, label=net.device_label.text(),
              ready=torch_loader.ready())
win.close()
app.processEvents()
"""


@pytest.fixture(scope="module")
def start_up():
    """One fresh window with the start-up load (shared by the two tests that read it)."""
    return run_case(START_UP)


def test_a_fresh_window_loads_torch_without_the_network_tab(start_up):
    r = start_up
    assert not r["torch_at_first_frame"], r  # nothing imported torch before the first frame
    assert r["ready"] and not r["network_seen"], r  # loaded, the Network tab never in front
    assert r["label_before"] in ("torch: not loaded yet", "torch: loading…"), r
    # the device, not "loading": e.g. "torch 2.x on CPU (1 threads)"
    assert "on CPU" in r["label"] or "on CUDA" in r["label"], r
    assert r["label"] == r["device_text"]
    if r["loader_nice"] is not None:
        assert r["loader_nice"] > 0, r  # in the background


def test_the_loader_does_not_delay_the_first_frame(start_up):
    """Time from show() to the first lattice frame, with and without the start-up load (each in a
    fresh interpreter); the bound is generous: the machine is shared with other jobs."""
    without = run_case("""
        network.LOAD_TORCH_AT_START = False
        win, first, torch_at_first_frame = open_window()
        result.update(first_frame_s=first, torch_at_first_frame=torch_at_first_frame)
        app.processEvents()
        time.sleep(1.0)
        app.processEvents()
        result["started"] = torch_loader.started()
        win.close()
        app.processEvents()
    """)
    assert not without["started"]  # the switch works: the comparison means something
    with_loader = start_up["first_frame_s"]
    print(f"time to first frame: {with_loader:.2f} s with the loader, {without['first_frame_s']:.2f} s without")
    assert with_loader <= 2.0 * without["first_frame_s"] + 2.0, (with_loader, without)


def test_train_pressed_while_torch_loads_waits_then_trains():
    r = run_case("""
        from isinglab.core.learning.datasets import generate
        data = generate(16, [1.8, 2.4, 3.0], 300, seed=3, cache=False)
        win, first, _ = open_window()
        net = win.panels["networkDock"]
        wait_for(torch_loader.started, 30, "the loader to start")
        result["loading_at_press"] = not torch_loader.done()
        net.set_dataset(data)
        net.epochs_spin.setValue(5)
        net.train_button.click()  # before torch is there: no refusal, a wait
        app.processEvents()
        tab = net.classifier_tab
        result.update(waiting=tab.waiting_for_torch, result_text=net.result_label.text(),
                      bar_busy=net.train_progress.maximum() == 0, bar_text=net.train_progress.format(),
                      button=net.train_button.text(), status=net.status_label.text())
        wait_for(lambda: net.analysis is not None or "failed" in net.result_label.text(), 240, "the training")
        result.update(trained=net.analysis is not None, after=net.result_label.text(),
                      epochs=len(net.history), bar_busy_after=net.train_progress.maximum() == 0,
                      button_after=net.train_button.text())
        wait_for(lambda: net.device_text != "", 60, "the device line")
        result["label"] = net.device_label.text()
        win.close()
        app.processEvents()
    """)
    assert r["loading_at_press"], r  # pressed while loading (the import takes seconds)
    assert r["waiting"] and r["bar_busy"] and r["button"] == "Cancel", r
    assert "loading torch" in r["result_text"] and r["bar_text"] == "loading torch…", r
    assert "still loading" not in r["status"] and r["status"] == "", r  # no refusal
    assert r["trained"] and "R² = " in r["after"] and r["epochs"] >= 1, r
    assert not r["bar_busy_after"] and r["button_after"] == "Train", r
    assert "on CPU" in r["label"] or "on CUDA" in r["label"], r


def test_cancel_while_waiting_for_torch_stops_the_wait():
    r = run_case("""
        from isinglab.core.learning.datasets import generate
        network.LOAD_TORCH_AT_START = False  # nobody loads it: Train starts the import
        data = generate(8, [1.8, 3.0], 50, seed=3, cache=False)
        win, first, _ = open_window()
        net = win.panels["networkDock"]
        net.set_dataset(data)
        net.train_button.click()
        app.processEvents()
        result["started_by_train"] = torch_loader.started()
        result["waiting"] = net.classifier_tab.waiting_for_torch
        net.train_button.click()  # Cancel
        wait_for(lambda: "cancelled" in net.result_label.text(), 30, "the cancel")
        result.update(after=net.result_label.text(), button=net.train_button.text(),
                      bar_busy=net.train_progress.maximum() == 0)
        wait_for(lambda: net.device_text != "", 180, "the device line")  # the import goes on
        result["label"] = net.device_label.text()
        win.close()
        app.processEvents()
    """)
    assert r["started_by_train"] and r["waiting"], r
    assert r["button"] == "Train" and not r["bar_busy"], r
    assert "on CPU" in r["label"] or "on CUDA" in r["label"], r
