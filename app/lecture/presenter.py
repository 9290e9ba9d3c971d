"""Presenter mode (F5): full screen, large fonts, thick plot lines, no toolbars or menus, the
high-contrast colour map, and an optional overlay on the lattice with T/T_c and the exact
(Onsager, infinite-lattice) correlation length xi. Toggling back restores every setting it changed.
"""
from __future__ import annotations

import math

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph/vispy load)
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QLabel, QToolBar

from isinglab.core import exact
from isinglab.app.ui import make_action

FONT_SCALE = 1.6
MIN_LINE_WIDTH = 4.0
TICK_POINT_SIZE = 16
OVERLAY_REFRESH_MS = 250
COLORMAP = "high-contrast"


def overlay_text(params, show_tc_ratio: bool = True, show_xi: bool = True) -> str:
    """'T/T_c = 1.000   xi = inf' for the overlay (xi: Onsager's exact value for L = infinity)."""
    parts = []
    tc = abs(params.coupling) * exact.TC
    if show_tc_ratio:
        parts.append(f"T/T_c = {params.temperature / tc:.3f}" if tc else "T/T_c = —")
    if show_xi:
        if params.coupling == 0 or params.field != 0:
            parts.append("ξ = —")  # Onsager's xi holds for h = 0 only
        else:
            xi = float(exact.onsager_correlation_length(params.temperature, abs(params.coupling)))
            parts.append("ξ = ∞" if math.isinf(xi) else f"ξ = {xi:.1f}")
    return "   ".join(parts)


class PresenterMode(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: dict = {}
        self.action = self._make_action("presenterAction", "Presenter mode",
                                        "Full screen, large fonts, thick lines, no toolbars (F5)", "F5")
        self.overlay_action = self._make_action("presenterOverlayAction", "Presenter overlay",
                                                "Show T/T_c and ξ on the lattice in presenter mode (O)", "O")
        self.overlay_action.setChecked(True)
        self.escape_action = self._make_action("presenterEscapeAction", "Leave presenter mode",
                                               "Leave presenter mode (Esc)", "Esc")
        self.escape_action.setCheckable(False)
        self.escape_action.setEnabled(False)  # Esc keeps its usual meaning outside presenter mode
        self.escape_action.triggered.connect(lambda: self.set_active(False))
        self.action.toggled.connect(self.set_active)
        self.overlay_action.toggled.connect(lambda _on: self._update_overlay())
        self.overlay = QLabel(window.lattice)
        self.overlay.setObjectName("presenterOverlay")
        self.overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.overlay.setStyleSheet("QLabel { color: white; background: rgba(0, 0, 0, 170); "
                                   "padding: 6px 12px; border-radius: 6px; }")
        font = QFont(self.overlay.font())
        font.setPointSize(22)
        font.setBold(True)
        self.overlay.setFont(font)
        self.overlay.hide()
        self.timer = QTimer(self)
        self.timer.setObjectName("presenterOverlayTimer")
        self.timer.setInterval(OVERLAY_REFRESH_MS)
        self.timer.timeout.connect(self._update_overlay)

    def _make_action(self, name, text, tip, shortcut) -> QAction:
        # application-wide: works with the menu bar hidden
        return make_action(self.window, text, name, tip, shortcuts=shortcut, checkable=True,
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
        self.escape_action.setEnabled(self.active)
        if self.action.isChecked() != self.active:
            self.action.setChecked(self.active)

    def _enter(self) -> None:
        w = self.window
        s = self._saved = {"state": w.windowState(), "font": QFont(w.font()),
                           "font_set": w.testAttribute(Qt.WidgetAttribute.WA_SetFont),
                           "hidden": [], "pens": [], "ticks": [], "colormap": w.lattice.colormap}
        for bar in w.findChildren(QToolBar) + [w.menuBar(), w.statusBar()]:
            if not bar.isHidden():
                s["hidden"].append(bar)
                bar.hide()
        big = QFont(s["font"])
        big.setPointSizeF(s["font"].pointSizeF() * FONT_SCALE)
        w.setFont(big)
        self._thicken_plots()
        self._set_colormap(COLORMAP)
        w.setWindowState(s["state"] | Qt.WindowState.WindowFullScreen)
        self.timer.start()
        self.active = True
        self._update_overlay()

    def _leave(self) -> None:
        w, s = self.window, self._saved
        self.timer.stop()
        self.overlay.hide()
        w.setWindowState(s["state"])
        for bar in s["hidden"]:
            bar.show()
        w.setFont(s["font"])
        if not s["font_set"]:
            w.setAttribute(Qt.WidgetAttribute.WA_SetFont, False)
        for item, pen in s["pens"]:
            item.setPen(pen)
        for axis, font in s["ticks"]:
            axis.setTickFont(font)
        self._set_colormap(s["colormap"])
        self._saved = {}

    # ---- plots and colours ----
    def _thicken_plots(self) -> None:
        """Thicker pens on every curve and larger tick labels on every axis (saved for restore)."""
        tick_font = QFont()
        tick_font.setPointSize(TICK_POINT_SIZE)
        for view in self.window.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, pg.PlotDataItem) or (
                        isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem)):
                    pen = pg.mkPen(item.opts["pen"])
                    self._saved["pens"].append((item, pg.mkPen(pen)))
                    pen.setWidthF(max(MIN_LINE_WIDTH, 2.5 * pen.widthF()))
                    item.setPen(pen)
                elif isinstance(item, pg.AxisItem):
                    self._saved["ticks"].append((item, item.style.get("tickFont")))
                    item.setTickFont(tick_font)

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

    def _update_overlay(self) -> None:
        snap = self.window.engine.latest()
        show_ratio, show_xi = self._overlay_flags()
        want = self.active and self.overlay_action.isChecked() and snap is not None and (show_ratio or show_xi)
        if not want:
            self.overlay.hide()
            return
        self.overlay.setText(overlay_text(snap.params, show_ratio, show_xi))
        self.overlay.adjustSize()
        self.overlay.move(16, 16)
        self.overlay.show()
        self.overlay.raise_()

    def shutdown(self) -> None:
        self.timer.stop()


def install(window) -> PresenterMode:
    """Add presenter mode (F5 toggles, Esc leaves) and its overlay toggle to a MainWindow's View menu."""
    presenter = PresenterMode(window)
    window.presenter = presenter
    view = window.menu("&View")
    view.addSeparator()
    view.addActions([presenter.action, presenter.overlay_action])
    window.on_close(presenter.shutdown)
    return presenter
