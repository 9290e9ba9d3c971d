"""`isinglab bench --gui`: frame rate, app-side frame cost, slider latency, event-loop stalls and
simulation throughput of the real window while the slider is dragged from 2.0 to 2.6.

`--while mcrg|dataset|train|torch` measures the same while an analysis runs in the window's own
process: the blocks panel's MCRG estimate, the network panel sampling a dataset or training a
classifier, or torch's background import (the app's start-up load). The job starts once the
simulation runs, a second before the drag (torch: with the drag), and must still run when the
drag ends (`job_running_at_end`). Except for `torch`, torch is imported before the window opens:
a window's state a few seconds after start-up."""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from isinglab.core.cli.commands.bench import measure, set_threads
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

DRAG_FROM, DRAG_TO, DRAG_STEPS, DRAG_SECONDS = 2.0, 2.6, 60, 2.0
WARM_SECONDS = 1.0
START_TIMEOUT_S = 60.0  # the simulation process must have swept by then (numba loads its cache)
# --while: jobs that last well beyond the drag on the 2-core test machine
WHILE_DATASET = dict(size=32, temperatures="1.8, 2.1, 2.4, 2.7", samples=20000, seed=1)
WHILE_TRAIN_DATA = (16, (1.8, 2.1, 2.4, 2.7), 2000)  # L, classes, samples per class
WHILE_TRAIN_EPOCHS = 10000


class _StallProbe:
    """A 1 ms timer: the longest gap between its ticks is the longest event-loop block."""

    def __init__(self, timer_cls):
        self.gaps = []
        self._last = None
        self.timer = timer_cls()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system, all threads) of process pid so far; None where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def run_gui_benchmark(args) -> dict:
    from isinglab.app.window.application import make_app
    from isinglab.app.commands.gui import check_gui_params
    from isinglab.app.window.main_window import MainWindow
    from isinglab.app.qt import check_display

    # every refusal before any work: the options, then whether a window can open at all
    params = check_gui_params(ModelParams(size=args.size, temperature=DRAG_FROM, algorithm=args.algorithm))
    check_display()
    threads = set_threads(args.threads)
    job = getattr(args, "while_job", None)
    data = _prepare_job(job)
    headless = measure(params, seconds=2.0)["sweeps_per_s"]

    app = make_app()
    with tempfile.TemporaryDirectory(prefix="isinglab-bench-") as config:
        os.environ["ISINGLAB_CONFIG_DIR"] = config  # the default layout, not the user's saved one
        win = MainWindow(params)
        win.show()  # restores the (default) layout; the size is set after it
        win.resize(1280, 800)
        win.fit_lattice_dock(512)
        return _drive(app, win, params, threads, headless, job, data)


def _prepare_job(job):
    """Before the window: torch imported (except for --while torch, where the window must not
    start it either), and the training's dataset. Returns the dataset for --while train."""
    from isinglab.core import torch_loader
    from isinglab.app.panels import network
    if job == "torch":
        if torch_loader.started():
            raise IsingLabError("bench --gui --while torch: torch is imported already")
        network.LOAD_TORCH_AT_START = False
        return None
    try:
        torch_loader.load()
    except IsingLabError:
        if job == "train":
            raise
    if job == "train":
        from isinglab.core.learning.datasets import generate
        size, temps, samples = WHILE_TRAIN_DATA
        return generate(size, list(temps), samples, seed=1, cache=False)
    return None


def _start_job(win, job, data, state):
    """Start the --while job in the window; returns whether it is still running (a callable)."""
    from isinglab.core import torch_loader
    if job == "torch":
        torch_loader.start(background=True)
        return lambda: not torch_loader.done()
    net = win.panels["networkDock"]
    if job == "mcrg":
        blocks = win.panels["blocksDock"]
        blocks.start_mcrg()
        runner = blocks.mcrg
    elif job == "dataset":
        if not net.generate_dataset(**WHILE_DATASET):
            raise IsingLabError(f"bench --gui --while dataset: {net.status_label.text()}")
        runner = net.data_runner
    else:
        net.set_dataset(data)
        net.epochs_spin.setValue(WHILE_TRAIN_EPOCHS)
        if not net.train():
            raise IsingLabError(f"bench --gui --while train: {net.status_label.text()}")
        runner = net.train_runner
    runner.progress.connect(lambda _f, text: state.__setitem__("job_progress", text))
    state["job_runner"] = runner
    return lambda: runner.running


def _drive(app, win, params, threads, headless, job=None, data=None) -> dict:
    from PySide6.QtCore import QTimer
    frame_costs: list[float] = []
    refresh = win.refresh

    def timed_refresh():
        shown = win._shown_serial
        t0 = time.perf_counter()
        refresh()
        if win._shown_serial != shown:
            frame_costs.append(time.perf_counter() - t0)

    win.timer.timeout.disconnect()
    win.timer.timeout.connect(timed_refresh)
    probe = _StallProbe(QTimer)
    state = {}

    def start_drag():
        frame_costs.clear()
        win.latency_log.clear()
        probe.gaps.clear()
        state.update(view_px=[win.lattice.width(), win.lattice.height()],
                     visible_docks=[n for n, d in win.docks.items() if not d.visibleRegion().isEmpty()])
        state.update(cpu0=(time.process_time(), _cpu_seconds(win.engine.pid)))
        state.update(t0=time.perf_counter(), sweeps0=win.engine.latest().sweeps,
                     serial0=win.engine.latest().serial,
                     frames0=win.lattice.frames_drawn, shown0=len(frame_costs))
        for k in range(DRAG_STEPS + 1):
            t = DRAG_FROM + (DRAG_TO - DRAG_FROM) * k / DRAG_STEPS
            QTimer.singleShot(int(1000 * DRAG_SECONDS * k / DRAG_STEPS),
                              lambda t=t: win.controls.slider.setValue(int(round(t * 1000))))
        QTimer.singleShot(int(1000 * (DRAG_SECONDS + 0.5)), finish)

    def finish():
        state["t1"] = time.perf_counter()
        state["cpu1"] = (time.process_time(), _cpu_seconds(win.engine.pid))
        state["sweeps1"] = win.engine.latest().sweeps
        state["serial1"] = win.engine.latest().serial
        probe.timer.stop()  # the window's shutdown below is not part of the measurement
        state["frames1"] = win.lattice.frames_drawn
        if job is not None:
            state["job_running_at_end"] = bool(state["job_running"]())
            runner = state.get("job_runner")
            if runner is not None:
                runner.cancel()
        win.close()
        app.quit()

    win.named_actions["run"].setChecked(True)
    probe.timer.start()
    started = time.monotonic()

    def warm_then_drag():  # the simulation process starts within a second; measure it running
        if win.engine.error is not None or time.monotonic() - started > START_TIMEOUT_S:
            state["error"] = win.engine.error or f"the engine did not start within {START_TIMEOUT_S:g} s"
            probe.timer.stop()
            win.close()
            app.quit()
        elif win.engine.latest().sweeps == 0:
            QTimer.singleShot(50, warm_then_drag)
        else:
            if job not in (None, "torch") and not start_job():  # running steadily by the drag
                return
            QTimer.singleShot(int(1000 * WARM_SECONDS), begin)

    def start_job() -> bool:
        try:
            state["job_running"] = _start_job(win, job, data, state)
        except Exception as exc:  # noqa: BLE001 - a slot: end the run with the reason
            state["error"] = f"--while {job}: {type(exc).__name__}: {exc}"
            probe.timer.stop()
            win.close()
            app.quit()
            return False
        return True

    def begin():
        if job == "torch" and not start_job():  # the import lasts about as long as the drag
            return
        start_drag()

    warm_then_drag()
    app.exec()
    probe.timer.stop()
    if "error" in state:
        raise IsingLabError(f"bench --gui: {' '.join(str(state['error']).split())}")
    return _report(params, threads, headless, state, frame_costs, win, probe, job)


def _report(params, threads, headless, state, frame_costs, win, probe, job=None) -> dict:
    elapsed = state["t1"] - state["t0"]
    drawn = state["frames1"] - state["frames0"]
    lat = np.array([dt for _, dt in win.latency_log]) * 1e3
    gui_rate = (state["sweeps1"] - state["sweeps0"]) / elapsed
    (gui0, sim0), (gui1, sim1) = state["cpu0"], state["cpu1"]
    return {
        "size": params.size, "algorithm": params.algorithm, "threads": threads,
        "while": job, "job_running_at_end": state.get("job_running_at_end"),
        "job_progress": state.get("job_progress"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "view": win.lattice.backend, "presentation": win.lattice.presentation,
        "renderer": win.lattice.renderer,
        "display_rate": f"{win.display_rate.choice}: at most {win.display_rate.fps()} fps",
        "view_px": state["view_px"], "visible_docks": state["visible_docks"],
        "fps": (drawn if drawn > 0 else len(frame_costs)) / elapsed,
        "snapshots_per_s": (state["serial1"] - state["serial0"]) / elapsed,
        "frame_ms_app": float(np.median(frame_costs) * 1e3) if frame_costs else None,
        "frame_ms_app_p95": float(np.percentile(frame_costs, 95) * 1e3) if frame_costs else None,
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
        "latency_p95_ms": float(np.percentile(lat, 95)) if lat.size else None,
        "latency_samples": int(lat.size),
        "max_stall_ms": float(max(probe.gaps) * 1e3) if probe.gaps else None,
        "sim_sweeps_per_s": gui_rate, "headless_sweeps_per_s": headless,
        "sim_ratio": gui_rate / headless,
        # cores' worth of CPU each process used during the drag (diagnostics)
        "gui_cpu_cores": (gui1 - gui0) / elapsed,
        "sim_cpu_cores": (sim1 - sim0) / elapsed if None not in (sim0, sim1) else None,
    }
