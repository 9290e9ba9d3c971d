"""Presenter mode (F5): the lattice and one analysis panel, full screen, for a projector.

On entering: full screen; menus, toolbars, status bar and every dock but the lattice and ONE
analysis panel hidden (the playing scene's first analysis panel, else the user's choice, else
the one in front); the lattice takes 55-58 % of the width and the whole height; the docks'
fonts x1.6; in every plot larger tick labels, axis titles, titles and legends (sized for the
panel's width: presenter_plots) and lines >= 4 px; the high-contrast colour map; and a text
box drawn inside the lattice's own scene (so it shows on the OpenGL view too) with T/T_c, xi
(measured by the correlations panel at this model and temperature when it has a fit, else
Onsager's exact infinite-lattice value) and the scene's title and progress.

Keys while it is on (application-wide: they work whichever widget, the lattice's GL window
included, has the focus): Tab / Shift+Tab cycle the analysis panel, B (or '.') blanks the
screen, O toggles the text box, Esc or F5 leave. PageUp / PageDown (the scene player) change
scene; the new scene's panel is shown.

Leaving restores the window exactly: its dock layout (saveState / restoreState, applied again
once the window manager has given back the window's size), bars, fonts, pens, plot texts and
colour map.
"""
from __future__ import annotations

import math
import time

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph/vispy load)
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QToolBar, QWidget

from isinglab.core import exact
from isinglab.app.lecture.presenter_plots import MIN_LINE_WIDTH, PlotStyle  # noqa: F401 (re-exported)
from isinglab.app.ui import make_action

FONT_SCALE = 1.6  # the docks' fonts
OVERLAY_REFRESH_MS = 250
COLORMAP = "high-contrast"
LATTICE_SHARE = (0.55, 0.58)  # the lattice's share of the width: height/width, clamped to this
FIXED_DOCKS = ("latticeDock", "controlsDock")  # the docks that are not analysis panels
LAYOUT_STATE_VERSION = 17  # any number: presenter mode only restores what it saved itself
RESTORE_SETTLE_S = 2.0  # how long after leaving a late resize (window manager) gets the layout again
XI_MEASURED_MAX_DT = 0.02  # the correlations panel's bin is "this temperature" within this


def lattice_share(width: int, height: int) -> float:
    """The lattice's share of the window's width in presenter mode: square (height / width)
    where that lies in LATTICE_SHARE, else its nearer end."""
    return min(max(height / width, LATTICE_SHARE[0]), LATTICE_SHARE[1])


def overlay_text(params, show_tc_ratio: bool = True, show_xi: bool = True, xi_measured=None) -> str:
    """'T/T_c = 1.000   ξ = ∞' for the overlay. xi: `xi_measured` = (value, error) when the
    correlations panel has one for these parameters, else Onsager's exact value for L = infinity
    (h = 0 only)."""
    parts = []
    tc = abs(params.coupling) * exact.TC
    if show_tc_ratio:
        parts.append(f"T/T_c = {params.temperature / tc:.3f}" if tc else "T/T_c = —")
    if show_xi:
        if xi_measured is not None:
            value, err = xi_measured
            parts.append(f"ξ = {value:.1f} ± {err:.1f} (measured)" if math.isfinite(err)
                         else f"ξ = {value:.1f} (measured)")
        elif params.coupling == 0 or params.field != 0:
            parts.append("ξ = —")  # Onsager's xi holds for h = 0 only
        else:
            xi = float(exact.onsager_correlation_length(params.temperature, abs(params.coupling)))
            parts.append("ξ = ∞" if math.isinf(xi) else f"ξ = {xi:.1f}")
    return "   ".join(parts)


def measured_xi(panel, params):
    """(xi, error) from the correlations panel's newest fit when it was measured on this model
    (L, J, h) at this temperature, else None. Reads only its public `latest_update`."""
    update = getattr(panel, "latest_update", None)
    result = getattr(update, "result", None)
    if result is None:
        return None
    same = (result.size, result.coupling, result.field) == (params.size, params.coupling, params.field)
    if not same or abs(result.temperature - params.temperature) > XI_MEASURED_MAX_DT:
        return None
    for estimate in (result.xi_exp, result.xi_2nd):
        if estimate.ok:
            return float(estimate.value), float(estimate.err)
    return None


def scene_caption(player) -> str:
    """'Cool through T_c · scene 2/6 · frame 120/480' for the loaded scene, else ''."""
    scene = getattr(player, "scene", None)
    if scene is None:
        return ""
    parts = [scene.name]
    ids = [info.id for info in getattr(player, "infos", ())]
    if scene.id in ids:
        parts.append(f"scene {ids.index(scene.id) + 1}/{len(ids)}")
    driver = getattr(player, "driver", None)
    if driver is not None:
        parts.append(f"frame {min(driver.frame, scene.n_frames)}/{scene.n_frames}")
    return "  ·  ".join(parts)


class PresenterMode(QObject):
    full_screen = True  # False: keep the window's size (a second screen shown in a window, tests)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self.panel_id: str | None = None  # the analysis dock shown in presenter mode
        self._chosen: str | None = None  # the user's choice (Tab), until the next scene
        self._saved: dict = {}
        self._late_restore = None  # (layout, deadline, scene layout held): again on a late resize
        self._fit_queued = False
        self._blank_layout = None  # the presenter layout while the screen is black
        self.plot_style = PlotStyle()  # the plots' larger texts and thicker lines
        self.action = self._make_action("presenterAction", "Presenter mode",
                                        "Full screen: the lattice beside one panel, large fonts (F5)", "F5")
        self.overlay_action = self._make_action(
            "presenterOverlayAction", "Presenter overlay",
            "Show T/T_c, ξ and the scene on the lattice in presenter mode (O)", "O")
        self.overlay_action.setChecked(True)
        self.escape_action = self._make_action("presenterEscapeAction", "Leave presenter mode",
                                               "Leave presenter mode (Esc)", "Esc", checkable=False)
        self.next_panel_action = self._make_action("presenterNextPanelAction", "Next panel",
                                                   "Presenter mode: show the next analysis panel (Tab)",
                                                   "Tab", checkable=False)
        self.previous_panel_action = self._make_action("presenterPreviousPanelAction", "Previous panel",
                                                       "Presenter mode: show the previous analysis panel "
                                                       "(Shift+Tab)", "Shift+Tab", checkable=False)
        self.blank_action = self._make_action("presenterBlankAction", "Blank screen",
                                              "Presenter mode: black screen, again to come back (B or ., "
                                              "the clicker's blank button)", ["B", "."])
        # these keys keep their usual meaning outside presenter mode (Esc closes dialogs, Tab
        # moves the focus, B and . are typed)
        self._presenter_only = (self.escape_action, self.next_panel_action, self.previous_panel_action,
                                self.blank_action)
        for a in self._presenter_only:
            a.setEnabled(False)
        self.escape_action.triggered.connect(lambda: self.set_active(False))
        self.next_panel_action.triggered.connect(lambda: self.cycle_panel(+1))
        self.previous_panel_action.triggered.connect(lambda: self.cycle_panel(-1))
        self.blank_action.toggled.connect(self.set_blank)
        self.action.toggled.connect(self.set_active)
        self.overlay_action.toggled.connect(lambda _on: self._update_overlay())
        self.blank_cover = QWidget(window)
        self.blank_cover.setObjectName("presenterBlank")
        self.blank_cover.setAutoFillBackground(True)
        palette = self.blank_cover.palette()
        palette.setColor(QPalette.ColorRole.Window, Qt.GlobalColor.black)
        self.blank_cover.setPalette(palette)
        self.blank_cover.hide()
        self.timer = QTimer(self)
        self.timer.setObjectName("presenterOverlayTimer")
        self.timer.setInterval(OVERLAY_REFRESH_MS)
        self.timer.timeout.connect(self._update_overlay)
        window.installEventFilter(self)
        self._arranging = False  # show_panel / set_blank are moving docks
        self._check_queued = False
        for dock in window.docks.values():
            dock.visibilityChanged.connect(self._dock_visibility_changed)
        player = getattr(window, "scene_player", None)
        if player is not None:
            player.scene_changed.connect(self._scene_changed)

    def _make_action(self, name, text, tip, shortcut, checkable=True) -> QAction:
        # application-wide: works with the menu bar hidden and with the focus in the lattice's
        # GL window
        return make_action(self.window, text, name, tip, shortcuts=shortcut, checkable=checkable,
                           application_wide=True)

    # ---- toggling ----
    def toggle(self) -> None:
        self.action.setChecked(not self.action.isChecked())

    def set_active(self, on: bool) -> None:
        if bool(on) == self.active:
            return
        if on:
            self._enter()
        else:
            self._leave()
        self.active = bool(on)
        for a in self._presenter_only:
            a.setEnabled(self.active)
        if self.action.isChecked() != self.active:
            self.action.setChecked(self.active)

    def _enter(self) -> None:
        w = self.window
        self._late_restore = None
        s = self._saved = {"layout": w.saveState(LAYOUT_STATE_VERSION), "state": w.windowState(),
                           "fonts": [(d, QFont(d.font()), d.testAttribute(Qt.WidgetAttribute.WA_SetFont))
                                     for d in w.docks.values()],
                           "hidden": [], "wrapped": [], "colormap": w.lattice.colormap}
        for bar in w.findChildren(QToolBar) + [w.menuBar(), w.statusBar()]:
            if not bar.isHidden():
                s["hidden"].append(bar)
                bar.hide()
        for dock, font, _explicit in s["fonts"]:  # the docks only: bars keep their sizes
            big = QFont(font)
            big.setPointSizeF(font.pointSizeF() * FONT_SCALE)
            dock.setFont(big)
        self.plot_style.enlarge(w.findChildren(pg.GraphicsView), self._panel_width())
        self._wrap_labels()
        self._set_colormap(COLORMAP)
        w.lattice.set_tooltip_enabled(False)
        if self.full_screen:
            w.setWindowState(s["state"] | Qt.WindowState.WindowFullScreen)
        self.active = True
        self.show_panel(self._initial_panel())
        self.timer.start()
        self._update_overlay()

    def _leave(self) -> None:
        w, s = self.window, self._saved
        self.timer.stop()
        self.set_blank(False)
        w.lattice.set_text_overlay(None)
        # fonts first: the layout is restored with the minimum sizes it was saved with
        for dock, font, explicit in s["fonts"]:
            dock.setFont(font if explicit else QFont())  # QFont(): inherit again
        self.plot_style.restore()
        for label in s["wrapped"]:
            label.setWordWrap(False)
        self._set_colormap(s["colormap"])
        w.lattice.set_tooltip_enabled(True)
        for bar in s["hidden"]:
            bar.show()
        w.setWindowState(s["state"])
        # the docks' minimum sizes in the old font first
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        w.layout().activate()
        w.restoreState(s["layout"], LAYOUT_STATE_VERSION)
        # once the layout has settled, and again when a window manager gives the window its
        # size back (later, asynchronously): the same layout
        self._late_restore = (s["layout"], time.monotonic() + RESTORE_SETTLE_S,
                              getattr(w, "scene_layout_held", False))
        QTimer.singleShot(0, lambda: self._restore_late(s["layout"]))
        self.panel_id = None
        self._saved = {}

    # ---- the panel beside the lattice ----
    def analysis_panels(self) -> list[str]:
        """The docks presenter mode can show beside the lattice, in dock order."""
        return [name for name in self.window.docks if name not in FIXED_DOCKS]

    def _scene_panel(self, scene) -> str | None:
        """The scene's first panel that is neither the lattice nor the controls."""
        if scene is None:
            return None
        return next((p for p in scene.panels if p in self.window.docks and p not in FIXED_DOCKS), None)

    def _playing_scene(self):
        """The scene being played (also paused half-way), else None."""
        player = getattr(self.window, "scene_player", None)
        driver = getattr(player, "driver", None)
        if getattr(player, "playing", False) or (driver is not None and not driver.done):
            return player.scene
        return None

    def _initial_panel(self) -> str:
        names = self.analysis_panels()
        for name in (self._scene_panel(self._playing_scene()), self._chosen):
            if name in names:
                return name
        docks = self.window.docks
        in_front = [n for n in names if docks[n].isVisible() and not docks[n].visibleRegion().isEmpty()]
        return (in_front or names)[0]

    def _scene_changed(self, scene) -> None:
        """A scene was loaded (PageDown, PageUp, the menu): its panel beside the lattice."""
        self._chosen = None
        if self.active:
            name = self._scene_panel(scene)
            self.show_panel(name if name in self.analysis_panels() else self._initial_panel())

    def cycle_panel(self, delta: int) -> None:
        """Tab / Shift+Tab: the next / previous analysis panel beside the lattice."""
        names = self.analysis_panels()
        if not self.active or not names:
            return
        k = names.index(self.panel_id) if self.panel_id in names else -delta
        self._chosen = names[(k + delta) % len(names)]
        self.show_panel(self._chosen)

    def _dock_visibility_changed(self, _visible: bool) -> None:
        """Someone else showed or hid a dock in presenter mode (the scene player replaying a
        scene shows its docks, the controls among them): lay out the presenter's two again."""
        if self.active and not self._arranging and not self._check_queued:
            self._check_queued = True
            QTimer.singleShot(0, self._check_docks)

    def _check_docks(self) -> None:
        self._check_queued = False
        if not self.active or self.panel_id is None:
            return
        shown = {name for name, dock in self.window.docks.items() if not dock.isHidden()}
        want = set() if self.blanked else {"latticeDock", self.panel_id}
        if shown != want:
            scene_panel = self._scene_panel(self._playing_scene())
            self.show_panel(scene_panel if scene_panel and self.panel_id not in shown else self.panel_id)

    def show_panel(self, panel_id: str) -> None:
        """The lattice on the left, this dock on the right, every other dock hidden."""
        self._arranging = True
        try:
            self._show_panel(panel_id)
        finally:
            self._arranging = False

    def _show_panel(self, panel_id: str) -> None:
        w = self.window
        docks = w.docks
        lattice, panel = docks["latticeDock"], docks[panel_id]
        self.panel_id = panel_id
        for dock in docks.values():
            if dock not in (lattice, panel):
                dock.hide()
        for dock in (lattice, panel):
            if dock.isFloating():
                dock.setFloating(False)
        w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, lattice)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
        if self.blanked:  # stays black; coming back shows this panel
            self._blank_layout = None
            lattice.hide()
            panel.hide()
            return
        lattice.show()
        panel.show()
        panel.raise_()
        self.fit()
        self._queue_fit()  # again once the moved docks have their places

    def _queue_fit(self) -> None:
        if not self._fit_queued:
            self._fit_queued = True
            QTimer.singleShot(0, self.fit)

    def fit(self) -> None:
        """The lattice's share of the width: square where the screen is wide enough."""
        self._fit_queued = False
        if not self.active or self.panel_id is None:
            return
        w = self.window
        width = max(w.width(), 1)
        left = int(round(width * lattice_share(width, w.height())))
        w.resizeDocks([w.docks["latticeDock"], w.docks[self.panel_id]], [left, width - left],
                      Qt.Orientation.Horizontal)
        QTimer.singleShot(0, w.lattice.reset_view)  # once the dock has its new size

    def eventFilter(self, obj, event):
        if obj is self.window and event.type() == QEvent.Type.Resize:
            self.blank_cover.setGeometry(self.window.rect())
            if self.active:
                self._queue_fit()
            elif not self.active and self._late_restore is not None:
                layout, deadline, _held = self._late_restore
                if time.monotonic() < deadline:
                    QTimer.singleShot(0, lambda: self._restore_late(layout))
                else:
                    self._late_restore = None
        return False

    def _restore_late(self, layout) -> None:
        if self.active or self._late_restore is None:
            return
        if self._late_restore[2] and not getattr(self.window, "scene_layout_held", False):
            # the scene player has given the user's own layout back since: that one stays
            self._late_restore = None
            return
        self.window.restoreState(layout, LAYOUT_STATE_VERSION)

    # ---- blank screen ----
    def set_blank(self, on: bool) -> None:
        """B: every dock hidden behind black (the lattice's GL window too: it hides with its
        dock); again: the presenter layout as it was."""
        on = bool(on) and self.active
        if on != self.blanked:
            self._arranging = True
            try:
                self._blank(on)
            finally:
                self._arranging = False
        if self.blank_action.isChecked() != on:
            self.blank_action.setChecked(on)  # (toggled: set_blank again, which finds it done)

    def _blank(self, on: bool) -> None:
        w = self.window
        if on:
            self._blank_layout = w.saveState(LAYOUT_STATE_VERSION)
            for dock in w.docks.values():
                dock.hide()
            self.blank_cover.setGeometry(w.rect())
            self.blank_cover.show()
            self.blank_cover.raise_()
            return
        self.blank_cover.hide()
        layout, self._blank_layout = self._blank_layout, None
        if not self.active:
            return
        if layout is not None:
            w.restoreState(layout, LAYOUT_STATE_VERSION)
        else:  # the panel changed while black
            self._show_panel(self.panel_id)

    @property
    def blanked(self) -> bool:
        return self.blank_cover.isVisible()

    # ---- plots and colours ----
    def _screen_size(self) -> tuple[int, int]:
        """The size the window will have in presenter mode (full screen: its screen's)."""
        w = self.window
        screen = w.screen()
        if self.full_screen and screen is not None:
            return screen.geometry().width(), screen.geometry().height()
        return w.width(), w.height()

    def _panel_width(self) -> float:
        """The width the panel beside the lattice will have, in pixels."""
        width, height = self._screen_size()
        return max(width, 1) * (1 - lattice_share(max(width, 1), height))

    def _wrap_labels(self) -> None:
        """Word wrap for the panels' one-line labels (status lines): at 1.6 x the font a long
        one would otherwise widen its panel past the lattice's share of a 1024 px screen."""
        for name in self.analysis_panels():
            for label in self.window.docks[name].findChildren(QLabel):
                if not label.wordWrap():
                    label.setWordWrap(True)
                    self._saved["wrapped"].append(label)

    def _set_colormap(self, name: str) -> None:
        combo = getattr(getattr(self.window, "controls", None), "colormap", None)
        if combo is not None and combo.findText(name) >= 0:
            combo.setCurrentText(name)  # the combo drives the lattice view and stays in sync
        if self.window.lattice.colormap != name:
            self.window.lattice.set_colormap(name)

    # ---- overlay ----
    def _overlay_flags(self) -> tuple[bool, bool]:
        player = getattr(self.window, "scene_player", None)
        scene = getattr(player, "scene", None)
        if scene is not None and scene.overlay:
            return scene.overlay.get("show_tc_ratio", True), scene.overlay.get("show_xi", True)
        return True, True

    def overlay_lines(self) -> list[str]:
        """What the text box shows now: T/T_c and xi, then the scene's caption."""
        snap = self.window.engine.latest()
        if snap is None:
            return []
        show_ratio, show_xi = self._overlay_flags()
        lines = []
        if show_ratio or show_xi:
            xi = measured_xi(self.window.panels.get("correlationDock"), snap.params) if show_xi else None
            lines.append(overlay_text(snap.params, show_ratio, show_xi, xi))
        lines.append(scene_caption(getattr(self.window, "scene_player", None)))
        return [line for line in lines if line]

    def _update_overlay(self) -> None:
        want = self.active and self.overlay_action.isChecked()
        self.window.lattice.set_text_overlay(self.overlay_lines() if want else None)

    def overlay_rect(self):
        """The text box's rectangle in the window's coordinates (None while none is shown)."""
        lattice = self.window.lattice
        rect = lattice.text_overlay_rect()
        if rect is None:
            return None
        return rect.translated(lattice.mapTo(self.window, QPoint(0, 0)))

    def shutdown(self) -> None:
        self.timer.stop()


def install(window) -> PresenterMode:
    """Add presenter mode (F5 toggles, Esc leaves), its panel, blank and overlay keys to a
    MainWindow's View menu."""
    presenter = PresenterMode(window)
    window.presenter = presenter
    view = window.menu("&View")
    view.addSeparator()
    view.addActions([presenter.action, presenter.overlay_action, presenter.next_panel_action,
                     presenter.previous_panel_action, presenter.blank_action])
    window.on_close(presenter.shutdown)
    return presenter
