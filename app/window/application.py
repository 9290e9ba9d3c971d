"""QApplication start-up for the desktop app and its headless automation (`isinglab gui
--run-seconds N [--screenshot PNG] [--export-data DIR] [--export-figures DIR] [--json]
[--presenter] [--scene NAME] [--window-size WxH]`)."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph/vispy load)
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from isinglab.core.errors import IsingLabError

POLL_MS = 20  # while waiting for the first sweep
# no sweep after this long: say on stderr why the clock has not started. Starting the simulation
# process takes 0.5-2.5 s on the 2-core test machine with the kernels cached; compiling them (the
# first run after an install or an update) about a minute
COMPILING_NOTE_S = 3.0
FIRST_SWEEP_LIMIT_S = 600.0  # no sweep after this long: give up (a cold numba cache takes ~1 min)
DEFAULT_WINDOW_SIZE = (1280, 800)
LECTURE_DELAY_MS = 150  # --scene / --presenter: after the first layout (fit_lattice_dock) is applied


def make_app(fallback_offscreen: bool = False) -> QApplication:
    """The QApplication (created once); IsingLabError when Qt could not open a window here
    (checked first, since Qt itself would abort the process: see qt.check_display)."""
    app = QApplication.instance()
    if app is None:
        qt.check_display(fallback_offscreen)
        app = QApplication(sys.argv[:1])
    app.setOrganizationName("isinglab")
    app.setApplicationName("isinglab")
    return app


@dataclass(frozen=True)
class Automation:
    """What `isinglab gui` asks of the window beyond opening it (paths already checked and
    absolute: app/commands/gui.py). run_seconds None: the window stays until closed."""

    run_seconds: float | None = None
    screenshot: str | None = None
    export_data: str | None = None
    export_figures: str | None = None
    formats: tuple[str, ...] = ("png", "svg", "pdf")
    as_json: bool = False
    presenter: bool = False  # open in presenter mode (full screen unless window_size is given)
    scene: str | None = None  # a scene id or an absolute scene file path, played from the start
    window_size: tuple[int, int] | None = None  # (width, height); None: DEFAULT_WINDOW_SIZE


def run_app(params, run_seconds=None, screenshot=None, no_gl=False, sweeps_per_frame=None,
            as_json: bool = False, automation: Automation | None = None) -> int:
    job = automation or Automation(run_seconds=run_seconds, screenshot=screenshot, as_json=as_json)
    app = make_app()
    from isinglab.app.window.main_window import MainWindow
    win = MainWindow(params, no_gl=no_gl, sweeps_per_frame=sweeps_per_frame)
    win.resize(*(job.window_size or DEFAULT_WINDOW_SIZE))
    if job.presenter and job.window_size is not None:
        win.presenter.full_screen = False  # the window is the projector's screen
    win.show()
    if job.window_size is not None:  # after show(): it restores the saved window geometry
        win.resize(*job.window_size)
    session = _Session(win, job)
    app.exec()
    return session.report()


def _err(message: str) -> None:
    from isinglab.core.json_files import one_line
    print(f"isinglab: error: {one_line(message)}", file=sys.stderr, flush=True)


class _Session:
    """One window's run: waits for the first sweep (numba compiles the kernels on the first
    run after an install), then runs the clock, writes the outputs, closes the window."""

    def __init__(self, win, job: Automation):
        self.win, self.job = win, job
        self.code = 0
        self.errors: list[str] = []
        self.files = {"screenshot": None, "data": [], "figures": [], "sidecars": [], "figure_data": []}
        self.summary: dict | None = None
        self.opened_at = time.perf_counter()
        self.waited_s = None  # seconds from Run to the first sweep
        self.mark = None  # (perf_counter, sweeps, lattice frames drawn) when the clock started
        self.rates: dict | None = None  # measured over the clock (_measure_run)
        self.geometry: dict | None = None  # the window's rectangles when the screenshot was taken
        self._noted = False
        if job.as_json:  # a window closed by hand still reports how it ended
            win.on_close(self._on_close)
        if job.presenter:  # closing: the user's layout is saved, not the presenter's
            win.on_close(lambda: win.presenter.set_active(False))
        if job.scene is not None or job.presenter:
            QTimer.singleShot(LECTURE_DELAY_MS, self._start_lecture)
        if job.run_seconds is not None:
            if job.scene is None:  # a scene drives the engine itself, frame by frame
                win.named_actions["run"].setChecked(True)
            self._started = time.perf_counter()
            self._poll = QTimer(win, interval=POLL_MS)
            self._poll.timeout.connect(self._wait_for_first_sweep)
            self._poll.start()

    def _start_lecture(self) -> None:
        """--scene: play it from the start; --presenter: presenter mode (the scene's panel)."""
        try:
            win = self.win
            if self.job.scene is not None and win.scene_player.load(self.job.scene, play=True) is None:
                self._fail(f"--scene: could not load {self.job.scene}")
            if self.job.presenter:
                win.presenter.set_active(True)
                if self.job.window_size is not None:
                    # the presenter layout (the lattice and one panel) fits a smaller window than
                    # the docks of the usual one, which may have widened it: once it is laid out
                    QTimer.singleShot(LECTURE_DELAY_MS, lambda: win.resize(*self.job.window_size))
        except Exception as exc:  # noqa: BLE001 - a slot: a traceback here would leave the window open
            self._fail(f"internal error while starting the scene or presenter mode: {type(exc).__name__}: {exc}")

    # ---- the clock ----
    def _wait_for_first_sweep(self) -> None:
        try:
            self._check_first_sweep()
        except Exception as exc:  # noqa: BLE001 - a slot: a traceback here would leave the window open
            self._poll.stop()
            self._fail(f"internal error while starting the run: {type(exc).__name__}: {exc}")
            self.win.close()

    def _check_first_sweep(self) -> None:
        waited = time.perf_counter() - self._started
        snap = self.win.engine.latest()
        if snap is not None and snap.sweeps > 0:
            self._poll.stop()
            if self._noted:
                print(f"isinglab: first sweep after {waited:.1f} s; running for {self.job.run_seconds:g} s",
                      file=sys.stderr, flush=True)
            self.waited_s = waited
            self.mark = (time.perf_counter(), snap.sweeps, self.win.lattice.frames_drawn)
            # a precise timer: a coarse one may fire 5 % early
            clock = QTimer(self.win, singleShot=True, timerType=Qt.TimerType.PreciseTimer,
                           interval=round(self.job.run_seconds * 1000))
            clock.timeout.connect(self._finish)
            clock.start()
        elif waited > FIRST_SWEEP_LIMIT_S:
            self._poll.stop()
            self._fail(f"the simulation did not start within {FIRST_SWEEP_LIMIT_S:.0f} s")
            self.win.close()
        elif waited > COMPILING_NOTE_S and not self._noted:
            self._noted = True
            print("isinglab: waiting for the first sweep: compiling kernels… (once after an install; "
                  "the --run-seconds clock starts with the first sweep)", file=sys.stderr, flush=True)

    def _finish(self) -> None:
        """The end of --run-seconds: screenshot, data, figures, then close (always)."""
        try:
            self._measure_run()
            self._write_outputs()
        except Exception as exc:  # noqa: BLE001 - a slot: a traceback here would leave the window open
            self._fail(f"internal error at the end of the run: {type(exc).__name__}: {exc}")
        finally:
            self.win.close()

    def _measure_run(self) -> None:
        t0, sweeps0, frames0 = self.mark
        dt = max(time.perf_counter() - t0, 1e-9)
        snap = self.win.engine.latest()
        self.rates = {"seconds": round(dt, 3),
                      "sweeps_per_s": (snap.sweeps - sweeps0) / dt,
                      "engine_sweeps_per_s": snap.sweeps_per_s,
                      "display_fps": (self.win.lattice.frames_drawn - frames0) / dt}

    def _write_outputs(self) -> None:
        job, win = self.job, self.win
        self.geometry = self._geometry()  # the rectangles the screenshot shows
        if job.screenshot:  # first: the window as it was at the end of the clock
            try:
                self.files["screenshot"] = win.save_screenshot(job.screenshot)
            except (OSError, IsingLabError) as exc:
                self._fail(f"could not save screenshot: {exc}")
        # the exports show one moment, and rendering gets the CPU the simulation had; no more
        # frames either: a panel raised to be drawn would start an analysis that the close
        # would have to abandon
        win.engine.set_running(False)
        win.timer.stop()
        player = getattr(win, "scene_player", None)
        if player is not None and player.playing:
            player.set_playing(False)  # a scene would step the engine on
        if job.export_data:
            from isinglab.app.output import data_export
            try:
                self.files["data"] = data_export.export_data(win, _make_folder(job.export_data))
            except (OSError, IsingLabError) as exc:
                self._fail(f"--export-data: {exc}")
        if job.export_figures:
            from isinglab.app.output import export
            shown = export.visible_panels(win)
            try:
                written = export.export_figure_set(win, _make_folder(job.export_figures), job.formats,
                                                   panels=list(win.docks))
            except (OSError, IsingLabError) as exc:
                self._fail(f"--export-figures: {exc}")
            else:
                figure_files = getattr(export, "figure_files", None)
                figures = figure_files(written) if figure_files else [p for p in written if not p.endswith(".json")]
                self.files["figures"] = figures
                self.files["sidecars"] = [p for p in written if p.endswith(".json")]
                # what the figures were drawn from (publication figures: <panel>.data.npz)
                self.files["figure_data"] = [p for p in written if p not in figures and not p.endswith(".json")]
            finally:
                for name in shown:  # the tabs raised to draw them: back as they were
                    win.docks[name].raise_()
        if job.screenshot and not job.as_json and self.files["screenshot"]:
            print(f"saved {self.files['screenshot']} after {win.engine.latest().sweeps} sweeps")

    def _fail(self, message: str) -> None:
        _err(message)
        self.errors.append(message)
        self.code = 2

    # ---- the report ----
    def _on_close(self) -> None:
        """Runs in closeEvent, before the engine stops: the state the run ended in."""
        if self.summary is None:
            try:
                self.summary = self._summarise()
            except Exception as exc:  # noqa: BLE001 - the close must go on: the engine stops after this
                self._fail(f"internal error summing up the run: {type(exc).__name__}: {exc}")
                self.summary = {"errors": self.errors}

    def _summarise(self) -> dict:
        win = self.win
        snap = win.engine.latest()
        p = snap.params
        eq = snap.equilibration
        rates = self.rates
        if rates is None:  # closed by hand (or before the clock): the engine's own rate
            dt = max(time.perf_counter() - self.opened_at, 1e-9)
            rates = {"seconds": round(dt, 3), "sweeps_per_s": snap.sweeps_per_s,
                     "engine_sweeps_per_s": snap.sweeps_per_s, "display_fps": win.lattice.frames_drawn / dt}
        return {
            "model": {"size": p.size, "temperature": p.temperature, "coupling": p.coupling,
                      "field": p.field, "algorithm": p.algorithm, "seed": p.seed},
            "sweeps": int(snap.sweeps),
            "run_seconds": self.job.run_seconds,
            "seconds": rates["seconds"],
            "waited_for_first_sweep_s": None if self.waited_s is None else round(self.waited_s, 3),
            "sweeps_per_s": rates["sweeps_per_s"],
            "engine_sweeps_per_s": rates["engine_sweeps_per_s"],
            "display_fps": rates["display_fps"],
            "kernel": snap.kernel,
            "view": win.lattice.backend,
            "equilibrium": bool(snap.equilibrium),
            "equilibration": {**eq.to_dict(), "state": eq.describe()},
            "since_change": int(snap.since_change),
            **(self.geometry or self._geometry()),
            "files": self.files,
            "errors": self.errors,
        }

    def _geometry(self) -> dict:
        """What a screenshot of the window shows, for scripts that check it: the window's
        rectangle (on the screen; the screenshot is width x height times the pixel ratio), the
        lattice view's and the presenter overlay's rectangles in window pixels, the two spin
        colours of the colour map in use, presenter mode and the scene."""
        from isinglab.app.lattice.colours import COLOR_SCHEMES, TEXT_RGB
        win = self.win
        view = win.lattice
        origin = view.mapTo(win, QPoint(0, 0))
        up, down = COLOR_SCHEMES[view.colormap]
        presenter = getattr(win, "presenter", None)
        overlay = presenter.overlay_rect() if presenter is not None else None
        player = getattr(win, "scene_player", None)
        scene = getattr(player, "scene", None)
        driver = getattr(player, "driver", None)
        return {
            "window_rect": _rect(win.geometry()),
            "device_pixel_ratio": win.devicePixelRatioF(),
            "lattice_rect": _rect(view.rect().translated(origin)) if view.isVisible() else None,
            "spin_colours": {"colormap": view.colormap, "up": list(up), "down": list(down)},
            "overlay_rect": _rect(overlay) if overlay is not None else None,
            "overlay_text_colour": list(TEXT_RGB),
            "presenter": {"active": bool(presenter is not None and presenter.active),
                          "panel": getattr(presenter, "panel_id", None)},
            "scene": None if scene is None else {
                "id": scene.id, "name": scene.name, "frames": scene.n_frames,
                "frame": None if driver is None else min(driver.frame, scene.n_frames),
                "playing": bool(player.playing)},
        }

    def report(self) -> int:
        """After the event loop: print the JSON object (--json) and return the exit status."""
        if self.job.as_json:
            from isinglab.core.json_files import strict_json
            if self.summary is None:  # the window closed without its closeEvent (should not happen)
                self.summary = {"errors": self.errors + ["the window closed before the run ended"]}
                self.code = 2
            print(json.dumps(strict_json(self.summary), allow_nan=False), flush=True)
        return self.code


def _rect(r) -> dict:
    return {"x": r.x(), "y": r.y(), "width": r.width(), "height": r.height()}


def _make_folder(folder: str) -> str:
    """An export folder checked before the window opened: created now, one level (its parent
    was checked), so that a run that failed earlier left nothing behind."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except OSError as exc:
        raise IsingLabError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder
