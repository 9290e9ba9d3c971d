"""The scene player: a toolbar that plays scripted scenes (core/scenes.py) on the live engine.

Playing a scene pauses free running and drives the engine one frame at a time: apply the frame's
parameters that changed (and reset), wait until the engine has applied them, ask for exactly
`sweeps_per_frame` sweeps, wait until they are done. Each step waits for the engine's own
snapshot to confirm the previous one, so two runs of a scene give identical lattices however
fast or slow the machine is; wall-clock pacing only decides when the next frame may start.
A frame that changes nothing sends nothing: the engine's settle count (sweeps since the last
change) keeps growing through a scene's holds, so the analyses fill there.

While a scene plays, its docks are shown and the others hidden; the user's layout (dock state
and visibility) is held by the window and comes back when the scene stops, finishes or is
replaced by none, and is what the window saves on close (never the scene's).

PageDown / PageUp (what presenter clickers send) go to the next / previous scene and play it.
"""
from __future__ import annotations

import time

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph/vispy load)
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QProgressBar, QToolBar

from isinglab.core.errors import IsingLabError
from isinglab.core.scenes import Scene, list_scenes, load_scene
from isinglab.app.ui import make_action

POLL_MS = 4  # the engine confirms a step within a few ms; poll faster than any scene's fps
PARAM_FIELDS = ("size", "temperature", "coupling", "field", "algorithm", "seed")


def _fields(params) -> dict:
    return {name: getattr(params, name) for name in PARAM_FIELDS}


class SceneDriver:
    """Qt-free state machine that replays a scene on an Engine; call poll() often.

    poll() returns the index of a frame whose sweeps have just finished, else None. The engine's
    snapshot after frame k equals core.scenes.frames(scene)[k] (same sampler operations)."""

    def __init__(self, engine, scene: Scene, on_reset=None):
        """on_reset(request_serial) is called after each reset the scene asks for (the window
        breaks its live traces there)."""
        self.engine, self.scene = engine, scene
        self.on_reset = on_reset
        self.frame = 0  # the frame being prepared or swept
        self.done = False
        self._stage = None
        self._wait_serial = 0
        self._target_sweeps = 0
        self._saved_interval = None

    def start(self) -> None:
        """Pause the engine and give it a fresh sampler (a seed change forces one), so the scene
        starts from the same RNG state every time."""
        eng = self.engine
        eng.set_running(False)
        if self._saved_interval is None:
            self._saved_interval = eng.publish_interval
        eng.publish_interval = 0.0  # every finished step is published, so poll() sees it
        p0 = self.scene.params_at_frame(0)
        other = p0.seed + 1 if p0.seed < 2**62 else p0.seed - 1
        self._wait_serial = eng.request(**_fields(p0.with_(seed=other)))
        self._stage = "prime"
        self.frame, self.done = 0, False

    def finish(self) -> None:
        """Give the engine its publishing rate back (also when stopped early)."""
        if self._saved_interval is not None:
            self.engine.publish_interval = self._saved_interval
            self._saved_interval = None

    def ready(self) -> bool:
        """True when the next poll() would start a new frame (used for wall-clock pacing)."""
        return self._stage == "params"

    def poll(self) -> int | None:
        if self.done or self._stage is None:
            return None
        snap = self.engine.latest()
        if self._stage in ("prime", "applying"):
            if snap.request_serial < self._wait_serial:
                return None
            if self._stage == "prime":
                self._stage = "params"
                return None
            self._target_sweeps = snap.sweeps + self.scene.sweeps_per_frame
            self.engine.step(self.scene.sweeps_per_frame)
            self._stage = "sweeping"
            return None
        if self._stage == "params":
            self._apply_frame_params()
            return None
        if self._stage == "sweeping" and snap.sweeps >= self._target_sweeps:
            k = self.frame
            self.frame += 1
            self._stage = "params"
            if self.frame >= self.scene.n_frames:
                self.done = True
                self.finish()
            return k
        return None

    def _apply_frame_params(self) -> None:
        """Request what this frame changes (nothing when nothing changes: the engine then counts
        on towards equilibrium) and its resets; with neither, sweep at once."""
        eng = self.engine
        params = self.scene.params_at_frame(self.frame)
        current = eng.params  # what the engine has, including requests not yet applied
        changes = {k: v for k, v in _fields(params).items() if getattr(current, k) != v}
        resets = self.scene.events_at_frame(self.frame)
        if not changes and not resets:
            self._target_sweeps = eng.latest().sweeps + self.scene.sweeps_per_frame
            eng.step(self.scene.sweeps_per_frame)
            self._stage = "sweeping"
            return
        serial = eng.request(**changes)  # (without changes, before a reset: it only takes a serial)
        for state in resets:
            eng.reset(state)  # after the request: same order as core.scenes.frames
            serial += 1  # reset() takes the next request serial
            if self.on_reset is not None:
                self.on_reset(serial)
        self._wait_serial = serial
        self._stage = "applying"

    def run_blocking(self, timeout: float = 60.0, sleep: float = 0.001) -> None:
        """Play the whole scene as fast as the engine allows (tests, headless use)."""
        deadline = time.monotonic() + timeout
        if self._stage is None:
            self.start()
        while not self.done:
            if time.monotonic() > deadline:
                self.finish()
                raise TimeoutError(f"scene {self.scene.id} did not finish in {timeout} s")
            if self.poll() is None:
                time.sleep(sleep)


class ScenePlayer(QObject):
    """Plays scenes on a MainWindow: chooser, play/pause, previous/next, progress."""

    scene_changed = Signal(object)  # Scene
    frame_done = Signal(int)
    finished = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.scene: Scene | None = None
        self.driver: SceneDriver | None = None
        self.playing = False
        self.speed = 1.0  # scene seconds per wall-clock second (tests play faster; inf: no pacing)
        self._t0 = 0.0
        self._layout_pending = False  # the user's layout comes back once presenter mode is left
        self._presenter_connected = False
        self.timer = QTimer(self)
        self.timer.setObjectName("scenePlayerTimer")
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._tick)
        self.infos = list_scenes()
        self._build_actions()
        self._build_toolbar()

    # ---- construction ----
    def _action(self, key, text, tip, shortcuts=(), checkable=False) -> QAction:
        # application-wide: shortcuts work while the toolbar is hidden (presenter mode)
        return make_action(self.window, text, f"scene{key}Action", tip, shortcuts=list(shortcuts),
                           checkable=checkable, application_wide=True)

    def _build_actions(self) -> None:
        self.play_action = self._action("Play", "Play scene", "Play or pause the scene (P)", ["P"], True)
        self.next_action = self._action("Next", "Next scene", "Next scene (PageDown, clicker forward)",
                                        ["PgDown"])
        self.previous_action = self._action("Previous", "Previous scene",
                                            "Previous scene (PageUp, clicker back)", ["PgUp"])
        self.restart_action = self._action("Restart", "Restart scene", "Play the scene from the start (Home)",
                                           ["Home"])
        self.stop_action = self._action("Stop", "Stop scene", "Stop the scene and free-run again", [])
        self.play_action.toggled.connect(self.set_playing)
        self.next_action.triggered.connect(lambda: self.step_scene(+1))
        self.previous_action.triggered.connect(lambda: self.step_scene(-1))
        self.restart_action.triggered.connect(self.restart)
        self.stop_action.triggered.connect(lambda: self.stop())

    def _build_toolbar(self) -> None:
        bar = self.toolbar = QToolBar("Scenes", self.window)
        bar.setObjectName("sceneToolBar")
        self.combo = QComboBox(bar)
        self.combo.setObjectName("sceneCombo")
        self.combo.setToolTip("Choose a scripted scene for a lecture demonstration")
        self.combo.addItem("— scene —", None)
        for info in self.infos:
            self.combo.addItem(info.name, info.id)
            self.combo.setItemData(self.combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self.combo.activated.connect(self._chosen)
        bar.addWidget(self.combo)
        for a in (self.previous_action, self.play_action, self.next_action, self.restart_action,
                  self.stop_action):
            bar.addAction(a)
        self.progress = QProgressBar(bar)
        self.progress.setObjectName("sceneProgress")
        self.progress.setToolTip("Scene time")
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("%v / %m frames")
        bar.addWidget(self.progress)
        self.description = QLabel("", bar)
        self.description.setObjectName("sceneDescription")
        self.description.setWordWrap(False)
        bar.addWidget(self.description)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.show()  # also when installed into a window that is already shown

    # ---- choosing ----
    def _chosen(self, index: int) -> None:
        sid = self.combo.itemData(index)
        if sid:
            self.load(sid, play=True)

    def load(self, id_or_path, play: bool = True) -> Scene | None:
        """Load a scene, show its panels and (by default) play it; a bad scene -> status message."""
        try:
            scene = load_scene(id_or_path)
        except IsingLabError as exc:
            self._status(f"Scene not loaded: {exc}")
            return None
        self.stop(restore_layout=False)  # scene after scene: the user's layout stays held
        self.scene = scene
        self._select_in_combo(scene.id)
        self.description.setText(scene.description if len(scene.description) < 90
                                 else scene.description[:87] + "…")
        self.description.setToolTip(scene.description)
        self.progress.setRange(0, scene.n_frames)
        self.progress.setValue(0)
        self._show_scene_panels()
        self.scene_changed.emit(scene)
        if play:
            self.restart()
        return scene

    def _select_in_combo(self, sid: str) -> None:
        i = self.combo.findData(sid)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(i, 0))
        self.combo.blockSignals(False)

    def _show_scene_panels(self) -> None:
        """Hold the user's layout (once per run of scenes) and show the scene's docks. Presenter
        mode holds the user's layout itself (it comes back when presenter mode is left) and lays
        out the scene's panel when the scene changes."""
        self._layout_pending = False
        if not self._presenting():
            self.window.hold_user_layout()
        self.show_panels(self.scene.panels)

    def _presenting(self) -> bool:
        presenter = getattr(self.window, "presenter", None)
        if presenter is None:
            return False
        if not self._presenter_connected:
            self._presenter_connected = True
            presenter.action.toggled.connect(self._presenter_toggled)
        return presenter.active

    def show_panels(self, names) -> None:
        docks = self.window.docks
        for name, dock in docks.items():
            dock.setVisible(name in names)
        for name in names:
            if name in docks:
                docks[name].raise_()  # tabbed docks: bring the scene's panel to the front

    def step_scene(self, delta: int) -> None:
        ids = [i.id for i in self.infos]
        if not ids:
            return
        if self.scene is None or self.scene.id not in ids:
            k = 0 if delta > 0 else len(ids) - 1
        else:
            k = (ids.index(self.scene.id) + delta) % len(ids)
        self.load(ids[k], play=True)

    # ---- playing ----
    def restart(self) -> None:
        if self.scene is None:
            self.step_scene(+1)
            return
        if self.driver is not None:
            self.driver.finish()
        if not self.window.scene_layout_held and not self._presenting():  # played again after
            self._show_scene_panels()  # it stopped or finished
        self._pause_free_running()
        self.driver = SceneDriver(self.window.engine, self.scene, on_reset=self.window.break_traces)
        self.driver.start()
        self.progress.setValue(0)
        self.set_playing(True)

    def set_playing(self, on: bool) -> None:
        if on and (self.driver is None or self.driver.done):
            if self.scene is None:
                self.play_action.setChecked(False)
                self.step_scene(+1)  # nothing chosen yet: start with the first scene
                return
            self.restart()
            return
        self.playing = bool(on)
        self.play_action.blockSignals(True)
        self.play_action.setChecked(self.playing)
        self.play_action.blockSignals(False)
        if self.playing:
            self._pause_free_running()
            self._t0 = time.perf_counter() - self.driver.frame / self._frame_rate()
            self.timer.start()
        else:
            self.timer.stop()

    def stop(self, restore_layout: bool = True) -> None:
        """Stop playing; the engine keeps the scene's last state, paused, and (by default) the
        user's layout comes back."""
        self.timer.stop()
        self.playing = False
        self.play_action.blockSignals(True)
        self.play_action.setChecked(False)
        self.play_action.blockSignals(False)
        if self.driver is not None:
            self.driver.finish()
            self.driver = None
        if restore_layout:
            self.restore_layout()

    def restore_layout(self) -> None:
        """Give the user's layout back. In presenter mode, which lays the docks out itself and
        on leaving restores what it saved on entering, that happens once it is left."""
        if self._presenting():
            self._layout_pending = True
            return
        self._layout_pending = False
        self.window.restore_user_layout()

    def _presenter_toggled(self, on: bool) -> None:
        """Presenter mode was left (it has restored the layout it saved on entering)."""
        if on:
            return
        if self.playing and not self.window.scene_layout_held:
            QTimer.singleShot(0, self._show_scene_panels)  # begun in presenter mode: the user's
        elif self._layout_pending and not self.playing:  # layout is held from here on
            QTimer.singleShot(0, self.restore_layout)

    def _frame_rate(self) -> float:
        """Frames per wall-clock second."""
        return self.scene.fps * self.speed

    def _pause_free_running(self) -> None:
        run = self.window.named_actions.get("run")
        if run is not None and run.isChecked():
            run.setChecked(False)  # also pauses the engine through the action's signal
        self.window.engine.set_running(False)

    def _tick(self) -> None:
        d = self.driver
        if d is None:
            self.timer.stop()
            return
        for _ in range(4):  # a few engine confirmations per tick, but at most one frame start
            if d.ready() and time.perf_counter() < self._t0 + d.frame / self._frame_rate():
                return  # wall-clock pacing: this frame's time has not come yet
            if d.ready():
                self.window.controls.set_values(self.scene.params_at_frame(d.frame))
            k = d.poll()
            if k is not None:
                self.progress.setValue(k + 1)
                self.frame_done.emit(k)
                if d.done:
                    self.set_playing(False)
                    self.restore_layout()
                    self._status(f"Scene finished: {self.scene.name}")
                    self.finished.emit()
                return

    def _status(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    def shutdown(self) -> None:
        self.stop()


def install(window) -> ScenePlayer:
    """Add the scene toolbar, a Scenes menu and the clicker shortcuts to a MainWindow."""
    player = ScenePlayer(window)
    window.scene_player = player
    menu = window.menu("S&cenes")
    menu.setObjectName("scenesMenu")
    menu.addActions([player.play_action, player.previous_action, player.next_action,
                     player.restart_action, player.stop_action])
    menu.addSeparator()
    for info in player.infos:
        a = QAction(info.name, window)
        a.setObjectName("scene" + "".join(w.capitalize() for w in info.id.split("-")) + "Action")
        a.setToolTip(info.description)
        a.setStatusTip(info.description)
        a.triggered.connect(lambda _=False, sid=info.id: player.load(sid, play=True))
        menu.addAction(a)
    toggle = player.toolbar.toggleViewAction()
    toggle.setObjectName("sceneToolBarAction")
    toggle.setToolTip("Show or hide the scene player toolbar")
    window.menu("&View").addAction(toggle)
    window.on_close(player.shutdown)
    return player
