"""Every QAction of the main window: objectName, tooltip and standard shortcut in one table, and
what keeps the two checkable ones true to what they stand for (ActionStates)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

from isinglab.app.ui import make_action

# name: (text, shortcut(s), tooltip, checkable)
ACTIONS = {
    "run": ("Run", "Space", "Run or pause the simulation (Space); pressed while it runs", True),
    "step": ("Step", "S", "Advance one sweep while paused (S)", False),
    "snap_tc": ("Snap to T_c", "Ctrl+T", "Set T to the critical temperature |J| x 2.269 (Ctrl+T)", False),
    "nudge_up": ("Warmer", "Right", "Raise T by 0.01 (Right)", False),
    "nudge_down": ("Cooler", "Left", "Lower T by 0.01 (Left)", False),
    "fine_up": ("Warmer (fine)", "Shift+Right", "Raise T by 0.001 (Shift+Right)", False),
    "fine_down": ("Cooler (fine)", "Shift+Left", "Lower T by 0.001 (Shift+Left)", False),
    "reset_random": ("Random", "Ctrl+R", "Reset to a random (infinite-temperature) state (Ctrl+R)", False),
    "reset_up": ("All up", None, "Reset to all spins up", False),
    "reset_down": ("All down", None, "Reset to all spins down", False),
    "clear_scan": ("Clear T-scan", "Ctrl+K", "Forget the accumulated observables per temperature (Ctrl+K)", False),
    "screenshot": ("Save window as PNG…", "Ctrl+Shift+S", "Save a PNG of the whole window", False),
    "full_screen": ("Full screen", "F11", "Toggle full screen (F11); checked while full screen", True),
    "reset_layout": ("Reset layout", None, "Put every panel back where it started", False),
    "quit": ("Quit", QKeySequence.StandardKey.Quit, "Quit isinglab (Ctrl+Q)", False),
    "about": ("About isinglab", None, "Version and the ideas behind the app", False),
}


def object_name(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.capitalize() for w in rest) + "Action"


def create_actions(parent) -> dict[str, QAction]:
    """The actions, added to `parent` (the main window). When `parent` has an `engine`, Run
    follows the engine and Full screen the window's state (ActionStates)."""
    out = {}
    for key, (text, shortcut, tip, checkable) in ACTIONS.items():
        out[key] = make_action(parent, text, object_name(key), tip, shortcuts=shortcut, checkable=checkable)
    if getattr(parent, "engine", None) is not None:
        parent.action_states = ActionStates(parent, out)
    return out


RUN_POLL_MS = 100


class ActionStates(QObject):
    """Keeps Run checked exactly while the engine runs and Full screen checked exactly while
    the window is full screen, whoever changed them: a scene pausing the engine, a script or
    `--run-seconds` starting it, an engine error, the window manager leaving full screen (then
    one F11 goes full screen again, not two). The check marks are set without emitting
    `toggled`, so following never sends a command back.

    Run: `window.engine.running` is read at 10 Hz (the engine has no signal), and followed
    once two reads agree; Full screen: the window's WindowStateChange events."""

    def __init__(self, window, actions: dict):
        super().__init__(window)
        self.window = window
        self.run, self.full_screen = actions["run"], actions["full_screen"]
        self._pending = None  # the engine's running state seen to differ on the last tick
        self.timer = QTimer(self, interval=RUN_POLL_MS)
        self.timer.setObjectName("runStateTimer")
        self.timer.timeout.connect(self.sync_run)
        self.timer.start()
        window.installEventFilter(self)

    @staticmethod
    def _show(action: QAction, on: bool) -> None:
        if action.isChecked() != on:
            was = action.blockSignals(True)  # the check mark only: no toggled (buttons and
            try:  # menus follow through their ActionChanged events)
                action.setChecked(on)
            finally:
                action.blockSignals(was)

    def sync_run(self) -> None:
        """A difference must be seen on two ticks in a row, with the engine alive both times:
        a dying engine clears `running` a moment before it sets `died`, and the window's own
        handling of a death or an error (restart with Run as it was) comes first."""
        engine = getattr(self.window, "engine", None)
        if engine is None:
            return
        running = bool(engine.running)
        healthy = getattr(engine, "died", None) is None and not getattr(engine, "error", None)
        if not healthy or running == self.run.isChecked():
            self._pending = None
        elif self._pending == running:
            self._pending = None
            self._show(self.run, running)
        else:
            self._pending = running

    def sync_full_screen(self) -> None:
        self._show(self.full_screen, self.window.isFullScreen())

    def eventFilter(self, obj, event):
        if obj is self.window and event.type() == QEvent.Type.WindowStateChange:
            self.sync_full_screen()
        return False
