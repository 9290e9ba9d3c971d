"""The main window's layout: the default proportions, the user's layout saved to and restored
from the settings, and the user's layout held while a scene shows its own docks (a scene's
layout is never saved as the user's). A mixin of MainWindow: it uses its docks, settings and
status bar."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import QToolBar

from isinglab.app.window.settings import LAYOUT_VERSION


class WindowLayout:
    _user_layout = None  # (saveState, dock visibility) held while a scene shows its docks

    def fit_lattice_dock(self, min_side: int = 512) -> None:
        """Give the lattice dock at least min_side x min_side on screen (default layout sizes)."""
        self.resizeDocks([self.docks["latticeDock"]], [max(min_side, self.width() * 3 // 5)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["controlsDock"], self.docks["observablesDock"]],
                         [self.height() * 3 // 10, self.height() * 7 // 10], Qt.Orientation.Vertical)

    def restore_layout(self) -> None:
        geometry = self.settings.bytes_value("window/geometry")
        state = self.settings.bytes_value("window/state")
        try:
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            if not isinstance(state, QByteArray):
                QTimer.singleShot(0, self.fit_lattice_dock)  # first start: default proportions
            elif not self.restoreState(state, LAYOUT_VERSION):
                self.statusBar().showMessage("Saved layout is from another version: using the default", 5000)
                QTimer.singleShot(0, self.fit_lattice_dock)
        except (TypeError, ValueError):
            self.statusBar().showMessage("Saved layout unreadable: using the default", 5000)

    def save_layout(self) -> None:
        """Write the user's layout to the settings: while a scene shows its own docks, the one
        held from before the scene (a scene's layout is never saved as the user's)."""
        held = self._user_layout
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", held[0] if held is not None else self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        self._user_layout = None  # also during a scene: the default is the user's layout now
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self.fit_lattice_dock()

    def hold_user_layout(self) -> None:
        """Remember the user's layout (dock state and visibility) before a scene shows its own
        docks; while one is held, later calls keep it (scene after scene)."""
        if self._user_layout is None:
            self._user_layout = (self.saveState(LAYOUT_VERSION), self._dock_visibility())

    def restore_user_layout(self) -> bool:
        """Put back the layout held by hold_user_layout (the scene stopped, finished or was
        cancelled; the window closes). Toolbars keep their current visibility (presenter mode
        hides them itself). Returns whether one was held."""
        held, self._user_layout = self._user_layout, None
        if held is None:
            return False
        state, visible = held
        bars = {bar: bar.isHidden() for bar in self.findChildren(QToolBar)}
        self.restoreState(state, LAYOUT_VERSION)
        for bar, hidden in bars.items():
            bar.setHidden(hidden)
        self._show_docks(visible)
        self._shown_serial = 0  # docks shown again get the newest snapshot, also while paused
        return True

    @property
    def scene_layout_held(self) -> bool:
        """True while a scene's docks are shown and the user's layout is held."""
        return self._user_layout is not None

    def _dock_visibility(self) -> dict[str, bool]:
        """Dock name -> whether the user has it open (a dock tabbed behind another counts)."""
        return {name: not dock.isHidden() for name, dock in self.docks.items()}

    def _show_docks(self, visible: dict) -> None:
        for name, dock in self.docks.items():
            want = visible.get(name, True)
            if dock.isHidden() == want:
                dock.setVisible(want)
