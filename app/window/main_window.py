"""The main window: docks around the live lattice, a display timer that pulls engine snapshots."""
from __future__ import annotations

import gc
import time

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox,
                               QPushButton, QWidget)

from isinglab.core import __version__
from isinglab.core.engine import T_JUMP
from isinglab.core.engine_process import ProcessEngine
from isinglab.core.exact import critical_temperature
from isinglab.core.errors import IsingLabError
from isinglab.core.panel_ids import PANEL_IDS
from isinglab.core.params import ModelParams

from isinglab.app.panels import workers
from isinglab.app.panels.contract import InputsPanel
from isinglab.app.panels.lattice_panel import LatticePanel
from isinglab.app.window.actions import create_actions
from isinglab.app.window.controls import ControlsPanel
from isinglab.app.lattice.view import LatticeView
from isinglab.app.panels.observables import FRAME_GAP_S, GAP_RETRY_MS, ObservablesPanel
from isinglab.app.window.layout import WindowLayout
from isinglab.app.window.settings import LAYOUT_VERSION, open_settings

STATUS_INTERVAL_MS = 250
AUTO_RESTARTS = 1  # a simulation process that died is restarted once by itself, then on a click
# closeEvent's waits, all together: the window closes within a second, also on a loaded 2-core
# machine, where the rest of closeEvent took up to 0.5 s more
CLOSE_WAIT_S = 0.4


def analysis_panel_classes():
    """The science panels, in dock order (each an AnalysisPanel with its own dock_name)."""
    from isinglab.app.panels.blocks import BlocksPanel
    from isinglab.app.panels.correlation import CorrelationPanel
    from isinglab.app.panels.fss import FssPanel
    from isinglab.app.panels.network import NetworkPanel
    return [BlocksPanel, CorrelationPanel, NetworkPanel, FssPanel]


def installed_features():
    """The feature modules in install order: export creates File > Export, which data export
    fills; the scene player's actions exist before presenter mode hides toolbars; the display
    rate reads the movie recorder's live state."""
    from isinglab.app.lecture import presenter, scene_player
    from isinglab.app.output import data_export, export, movie
    from isinglab.app.window import display_rate
    return (export, data_export, scene_player, presenter, movie, display_rate)


def _breaks_run(old: ModelParams, new: ModelParams) -> bool:
    """Whether the live traces must not join across a change of parameters: a new sampler (L,
    algorithm or seed: its sweeps count from 0 again), J changing sign, or a jump of J or h by
    more than the engine's T_JUMP |J| (a slow ramp, such as a scene's field sweep, stays one line)."""
    j = abs(new.coupling) or 1.0
    return (new.size != old.size or new.algorithm != old.algorithm or new.seed != old.seed
            or (new.coupling > 0) != (old.coupling > 0)
            or abs(new.coupling - old.coupling) > T_JUMP * j or abs(new.field - old.field) > T_JUMP * j)


class MainWindow(WindowLayout, QMainWindow):
    _followed: ModelParams | None = None  # the parameters _follow_model last saw
    _trace_break: int | None = None  # a reset's request serial: the traces break once it is applied

    def __init__(self, params: ModelParams, no_gl: bool = False, sweeps_per_frame: int | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("isinglab — the 2D Ising model, its RG flow and the Hamiltonian a network learns")
        self.settings, settings_warning = open_settings()
        self._closers: list = []  # see on_close()
        # the simulation runs in a child process: in a thread it waited for Python's lock while
        # the GUI thread painted (see core/engine_process.py)
        self.engine = ProcessEngine(params)
        self.engine.set_sweeps_per_chunk(sweeps_per_frame)
        self._auto_restarts = AUTO_RESTARTS
        self._awaiting_restart = False  # the banner's Restart button is the way on
        self.named_actions = create_actions(self)
        self._build_docks(no_gl)
        self._build_menus()
        self._build_status()
        self._connect()
        self.controls.set_values(params)
        self.observables.set_model(params.size, params.coupling)
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._restored = False
        self._shown_serial = 0
        self._frame_retry = QTimer(self, singleShot=True, interval=GAP_RETRY_MS)
        self._frame_retry.timeout.connect(self.refresh)
        self._drawn_mark = (time.perf_counter(), 0)  # (when, lattice frames drawn): display fps
        # status figures on their own 4 Hz timer: text changing every frame is unreadable, and
        # each change repaints the status bar
        self._status_timer = QTimer(self, interval=STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self._update_status)
        self.latency_log: list[tuple[int, float]] = []  # (request serial, seconds to display)
        self._request_times: dict[int, float] = {}
        self.timer = QTimer(self)
        self.timer.setObjectName("displayTimer")  # its interval: display_rate (installed below)
        self.timer.timeout.connect(self.refresh)
        self._install_features()
        self.engine.start()
        self.timer.start()
        self._status_timer.start()
        if settings_warning:
            self.statusBar().showMessage(settings_warning, 10000)

    # ---- construction ----
    def _install_features(self) -> None:
        """Feature modules, each with install(window), in this order (installed_features()).
        They reach the window only through its small interface: docks, panels, engine,
        menu(title), on_close(fn)."""
        for feature in installed_features():
            feature.install(self)

    def menu(self, title: str) -> QMenu:
        """The menu-bar menu with this title (e.g. "&File"), created if missing: where feature
        modules add their actions."""
        for action in self.menuBar().actions():
            if action.menu() is not None and action.text() == title:
                return action.menu()
        return self.menuBar().addMenu(title)

    def on_close(self, fn) -> None:
        """Call fn() when the window closes, before the engine process is waited for (features
        that own timers or threads stop them there; their waits share closeEvent's deadline:
        workers.time_left)."""
        self._closers.append(fn)

    def _dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self, no_gl: bool) -> None:
        self.setDockNestingEnabled(True)
        self.lattice = LatticeView(force_fallback=no_gl)
        self.controls = ControlsPanel(self.named_actions)
        self.observables = ObservablesPanel()
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.docks = {
            "latticeDock": self._dock("latticeDock", "Lattice", self.lattice, left),
            "controlsDock": self._dock("controlsDock", "Controls", self.controls, right),
            "observablesDock": self._dock("observablesDock", "Observables", self.observables, right),
        }
        self.splitDockWidget(self.docks["latticeDock"], self.docks["controlsDock"], Qt.Orientation.Horizontal)
        self.splitDockWidget(self.docks["controlsDock"], self.docks["observablesDock"], Qt.Orientation.Vertical)
        self.analysis_panels = []
        for cls in analysis_panel_classes():  # tabbed behind the observables dock
            panel = cls()
            panel.set_status_callback(lambda msg: self.statusBar().showMessage(msg, 8000))
            self.docks[cls.panel_id] = dock = self._dock(cls.panel_id, cls.title, panel, right)
            self.tabifyDockWidget(self.docks["observablesDock"], dock)
            self.analysis_panels.append(panel)
        self.docks["observablesDock"].raise_()
        # the panel registry (app/panels/contract.py), in dock order: export, data export,
        # sidecars and replay reach every panel through it
        registry = [LatticePanel(self.lattice, self.engine.latest),
                    InputsPanel("controlsDock", "Controls", self.controls), self.observables,
                    *self.analysis_panels]
        self.panels = {p.panel_id: p for p in registry}
        if tuple(self.panels) != PANEL_IDS:
            raise RuntimeError(f"panel registry {tuple(self.panels)} differs from core.panel_ids")

    def _build_menus(self) -> None:
        a = self.named_actions
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addActions([a["screenshot"]])
        m.addSeparator()
        m.addAction(a["quit"])
        m = bar.addMenu("&Simulation")
        m.addActions([a["run"], a["step"], a["snap_tc"]])
        m.addSeparator()
        m.addActions([a["nudge_up"], a["nudge_down"], a["fine_up"], a["fine_down"]])
        reset = m.addMenu("Reset to")
        reset.addActions([a["reset_random"], a["reset_up"], a["reset_down"]])
        m.addAction(a["clear_scan"])
        m = bar.addMenu("&View")
        for dock in self.docks.values():
            m.addAction(dock.toggleViewAction())
        m.addSeparator()
        m.addActions([a["full_screen"], a["reset_layout"]])
        bar.addMenu("&Help").addAction(a["about"])

    def _build_status(self) -> None:
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.statusBar().addPermanentWidget(self.status_label)
        self._build_banner()
        if self.lattice.backend != "vispy":
            reason = self.lattice.fallback_reason or "requested"
            self.statusBar().showMessage(f"OpenGL unavailable ({reason}): using the software image view")

    def _build_banner(self) -> None:
        """What happened to the simulation, shown until acknowledged: a permanent status-bar
        widget, which temporary messages (showMessage, the status tips of hovered actions)
        never cover."""
        self.banner = QWidget(objectName="engineBanner")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(4, 0, 4, 0)
        self.banner_label = QLabel(objectName="engineBannerLabel")
        self.banner_label.setStyleSheet("color: #B00020; font-weight: bold")
        self.restart_button = QPushButton("Restart simulation", objectName="restartEngineButton")
        self.restart_button.setToolTip("Start the simulation process again from the last frame shown")
        self.restart_button.clicked.connect(self._restart_engine)
        self.dismiss_button = QPushButton("OK", objectName="dismissBannerButton")
        self.dismiss_button.setToolTip("Hide this message")
        self.dismiss_button.clicked.connect(self.banner.hide)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.restart_button)
        row.addWidget(self.dismiss_button)
        self.statusBar().insertPermanentWidget(0, self.banner, 1)
        self.banner.hide()

    def _show_banner(self, message: str, restart: bool) -> None:
        """restart: the only way on is the Restart button (no OK: the engine is dead)."""
        self.banner_label.setText(message)
        self.banner_label.setToolTip(message)
        self.restart_button.setVisible(restart)
        self.dismiss_button.setVisible(not restart)
        self.banner.show()

    def _connect(self) -> None:
        a = self.named_actions
        a["run"].toggled.connect(self.engine.set_running)
        a["step"].triggered.connect(lambda: self.engine.step(1))
        a["snap_tc"].triggered.connect(lambda: self.set_temperature(self.controls.tc))
        for key, dt in (("nudge_up", 0.01), ("nudge_down", -0.01), ("fine_up", 0.001), ("fine_down", -0.001)):
            a[key].triggered.connect(lambda _=False, dt=dt: self.set_temperature(self.controls.temperature + dt))
        for state in ("random", "up", "down"):
            a[f"reset_{state}"].triggered.connect(lambda _=False, s=state: self.engine.reset(s))
        a["clear_scan"].triggered.connect(self.observables.clear)
        a["screenshot"].triggered.connect(self._save_screenshot_dialog)
        a["full_screen"].toggled.connect(lambda on: self.showFullScreen() if on else self.showNormal())
        a["reset_layout"].triggered.connect(self.reset_layout)
        a["quit"].triggered.connect(self.close)
        a["about"].triggered.connect(self._about)
        self.controls.temperature_changed.connect(self._request_temperature)
        self.controls.changed.connect(self.request)
        self.controls.backend_changed.connect(self.request_backend)
        self.controls.speed.valueChanged.connect(lambda v: self.engine.set_sweeps_per_chunk(v or None))
        self.controls.colormap.currentTextChanged.connect(self.lattice.set_colormap)
        self.controls.walls.toggled.connect(self.lattice.set_show_domain_walls)
        self.controls.cluster.toggled.connect(self.lattice.set_show_cluster)

    # ---- parameter changes (GUI thread: store the request, never compute) ----
    def set_temperature(self, t: float) -> None:
        self.controls.set_temperature(t, emit=True)

    def _request_temperature(self, t: float) -> None:
        self.request({"temperature": t})
        self.observables.set_current_temperature(t)

    def request(self, changes: dict) -> None:
        """Model parameter changes from the controls (temperature, size, coupling, ...)."""
        serial = self._apply(lambda: self.engine.request(**changes))
        if serial is None:
            return
        if "size" in changes or "coupling" in changes:
            p = self.engine.params
            self.observables.set_model(p.size, p.coupling)
            self.observables.clear()

    def request_backend(self, backend_device: tuple) -> None:
        """Where the sweeps run: (backend, device), e.g. ("torch", "cuda")."""
        self._apply(lambda: self.engine.request_backend(*backend_device))

    def _apply(self, send):
        """send() a request to the engine; a refused one restores the controls (returns None)."""
        try:
            serial = send()
        except IsingLabError as exc:
            self.statusBar().showMessage(f"Not applied: {exc}", 8000)
            self.controls.set_values(self.engine.params)
            self.controls.set_backend(*self.engine.backend)
            return None
        self._request_times[serial] = time.perf_counter()
        return serial

    # ---- display tick ----
    def refresh(self) -> None:
        if self.engine.died is not None:
            if not self._awaiting_restart:
                self._engine_died(self.engine.died)
            return
        snap = self.engine.latest()
        if self.engine.error:
            self._engine_failed(self.engine.error)
            return
        if self.engine.notice:
            self.statusBar().showMessage(self.engine.notice, 10000)
            self.engine.notice = None
            self.controls.set_backend(*self.engine.backend)
        if snap is not None:  # scenes and scripts drive the engine directly: follow its model
            self._follow_model(snap)
        samples = self.engine.drain_measurements()
        if samples:
            self._feed_observables(samples)
        if snap is None or snap.serial == self._shown_serial:
            return
        now = time.perf_counter()
        if now - self.observables.redrawn_at < FRAME_GAP_S:
            # plots are being repainted this turn: draw this frame a moment later, not a whole
            # display tick later (at 35 fps that lost up to one frame in five)
            if not self._frame_retry.isActive():
                self._frame_retry.start()
            return
        self._shown_serial = snap.serial
        self.observables.lattice_frame_at = now
        self.observables.set_equilibration(snap.equilibration, snap.equilibrium)
        self.lattice.set_spins(snap.spins)
        for panel in self.analysis_panels:
            if not self.docks[panel.panel_id].visibleRegion().isEmpty():
                panel.on_snapshot(snap)
        if snap.cluster is not None:
            self.lattice.set_cluster_mask(snap.cluster)
        self._note_latency(snap)

    def _follow_model(self, snap) -> None:
        """Every panel holds the data of one model (L, J, h): a change clears them, whoever made
        it (the controls, a scene, a script); measurements right after a change are never
        equilibrium, so none are misfiled. The T-scan and the analysis panels follow any change
        (also while their docks are hidden); the live traces break where the run does: a new L,
        algorithm or seed, a jump of J or h (not a slow ramp such as a scene's field sweep), or a
        reset announced through break_traces()."""
        p = snap.params
        if self._trace_break is not None and snap.request_serial >= self._trace_break:
            self._trace_break = None
            self.observables.break_traces(after_sweeps=snap.sweeps - snap.since_change)
        if p == self._followed:
            return
        before, self._followed = self._followed, p
        scan = self.observables.scan
        if (p.size, p.coupling, p.field) != (scan.size, scan.coupling, scan.field):
            self.observables.set_model(p.size, p.coupling, p.field)
        for panel in self.analysis_panels:
            panel.follow_model(p)
        if before is not None and _breaks_run(before, p):
            self.observables.break_traces(after_sweeps=snap.sweeps - snap.since_change)

    def break_traces(self, request_serial: int) -> None:
        """The live traces break at the engine request `request_serial` (a reset): nothing
        measured before the engine applied it is joined to what comes after."""
        self._trace_break = request_serial

    def _feed_observables(self, samples) -> None:
        eq = [s for s in samples if s.equilibrated]
        snap = self.engine.latest()
        self.observables.add_trace(np.array([s.sweeps for s in samples], float),
                                   np.array([s.e for s in samples]), np.array([s.m for s in samples]),
                                   snap.params if snap is not None else None)
        if eq:
            self.observables.add_samples(np.array([s.temperature for s in eq]),
                                         np.array([s.e for s in eq]), np.array([s.m for s in eq]),
                                         snap.params.algorithm if snap is not None else None)

    def _note_latency(self, snap) -> None:
        """Slider move -> first displayed frame that was simulated with the new parameters."""
        now = time.perf_counter()
        for k in [k for k in self._request_times if k <= snap.request_serial]:
            self.latency_log.append((k, now - self._request_times.pop(k)))

    def _update_status(self) -> None:
        snap = self.engine.latest()
        now, drawn = time.perf_counter(), self.lattice.frames_drawn
        then, drawn_then = self._drawn_mark
        self._drawn_mark = (now, drawn)
        fps = (drawn - drawn_then) / max(now - then, 1e-9)
        p = snap.params
        tc = critical_temperature(p.coupling)
        ratio = f"{p.temperature / tc:.4f}" if tc else "—"
        self.status_label.setText(
            f"T = {p.temperature:.3f}   T/T_c = {ratio}   {snap.sweeps_per_s:,.0f} sweeps/s   "
            f"{snap.flips_per_ns:.2f} flips/ns   {fps:.0f} fps   {snap.kernel}")
        self.status_label.setToolTip(
            f"kernel: {snap.kernel}, L = {p.size}, sweeps done: {snap.sweeps:,}\n"
            f"renderer: {self.lattice.renderer or 'not drawn yet'} "
            f"(presented by: {self.lattice.presentation}), "
            f"display rate: at most {self.display_rate.fps()} fps ({self.display_rate.choice})")

    def _engine_failed(self, message: str) -> None:
        self.named_actions["run"].setChecked(False)
        self._show_banner(f"Simulation stopped: {message}", restart=False)
        self.engine.error = None

    def _engine_died(self, why: str) -> None:
        """The simulation process ended (killed, crashed; the engine has reaped it and removed
        its shared memory). Restarted at once the first time; after that the banner's button
        restarts it, so that a process that keeps dying is not respawned forever."""
        why = why[0].upper() + why[1:]
        if self._auto_restarts > 0:
            self._auto_restarts -= 1
            if self._restart_engine():
                self._show_banner(f"{why}; restarted from the last frame", restart=False)
            return
        self._awaiting_restart = True
        self.named_actions["run"].setChecked(False)  # nothing runs; Restart then Run goes on
        self._show_banner(f"{why}. Restart goes on from the last frame.", restart=True)

    def _restart_engine(self) -> bool:
        try:
            self.engine.restart()  # a spawn: returns at once, the first frame follows
        except (IsingLabError, OSError) as exc:
            self._awaiting_restart = True
            self._show_banner(f"Could not restart the simulation: {exc}", restart=True)
            return False
        self._awaiting_restart = False
        self.banner.hide()
        self.engine.set_running(self.named_actions["run"].isChecked())
        return True

    def showEvent(self, event):
        super().showEvent(event)
        if not self._restored:  # restore once, after every dock exists
            self._restored = True
            self.restore_layout()
            # Qt, numba and the panels' start-up objects live until exit: exempting them from
            # the cyclic collector keeps its full passes (60-130 ms) off the display path
            QTimer.singleShot(0, gc.freeze)


    # ---- misc ----
    def _about(self) -> None:
        QMessageBox.about(self, "About isinglab",
                          f"isinglab {__version__}\n\nThe 2D Ising model live: criticality, the "
                          "renormalization group and the Hamiltonian a network learns (after Lin, "
                          "Tegmark & Rolnick, arXiv 1608.08225).")

    def _save_screenshot_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self, "Save window as PNG", "isinglab.png", "PNG (*.png)")
        if path:
            try:
                self.statusBar().showMessage(f"Saved {self.save_screenshot(path)}", 5000)
            except IsingLabError as exc:
                QMessageBox.warning(self, "Could not save", str(exc))

    def save_screenshot(self, path: str) -> str:
        """Write a PNG of the window; returns the path written, raises IsingLabError."""
        from isinglab.app.output.screenshot import grab_window_png
        return grab_window_png(self, path)

    def closeEvent(self, event):
        # within a second, whatever runs: with the MCRG estimate running it took 4.3 s once,
        # a dozen waits of up to a second each, in turn, while the jobs not yet told to stop
        # and the child process shared the CPU. Now everything is told to stop first, the
        # waits share one deadline, and what is still busy then is abandoned (cancelled daemon
        # threads end at their next check; the child is killed and its block removed).
        self.timer.stop()
        self._status_timer.stop()
        self._frame_retry.stop()
        self.engine.request_stop()
        workers.stop_all(self)
        with workers.close_deadline(CLOSE_WAIT_S):
            for fn in self._closers:
                fn()
            self.restore_user_layout()  # a scene still shown: the user's docks come back first
            self.save_layout()
            self.observables.shutdown()
            for panel in self.analysis_panels:
                panel.shutdown()
            self.engine.stop(timeout=workers.time_left(1.0))
        self.lattice.close_view()
        super().closeEvent(event)
