"""Presenter mode toggles with one key and restores every setting it changed."""
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from isinglab.app.lecture import presenter as presenter_mod
from isinglab.core import exact
from isinglab.core.params import ModelParams


@pytest.fixture
def window(open_window):
    return open_window(ModelParams(size=32, temperature=exact.TC, seed=1), (1000, 700), no_gl=True)


def pens(win):
    out = {}
    for view in win.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.PlotDataItem):
                out[id(item)] = pg.mkPen(item.opts["pen"]).widthF()
    return out


def test_presenter_mode_toggles_and_restores(window, qtbot):
    p = window.presenter
    before_font = window.font().pointSizeF()
    before_pens = pens(window)
    assert before_pens
    toolbars = [t for t in window.findChildren(QToolBar) if t.isVisible()]
    assert toolbars  # the scene player's toolbar

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert p.active and window.isFullScreen()
    assert window.font().pointSizeF() == pytest.approx(before_font * presenter_mod.FONT_SCALE)
    assert all(not t.isVisible() for t in toolbars) and not window.menuBar().isVisible()
    assert window.lattice.colormap == "high-contrast"
    assert window.controls.colormap.currentText() == "high-contrast"
    assert min(pens(window)[k] for k in before_pens) >= presenter_mod.MIN_LINE_WIDTH
    qtbot.waitUntil(lambda: p.overlay.isVisible(), timeout=2000)
    assert "T/T_c = 1.000" in p.overlay.text() and "ξ = ∞" in p.overlay.text()
    p.overlay_action.trigger()
    assert not p.overlay.isVisible()

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not p.active and not window.isFullScreen()
    assert window.font().pointSizeF() == pytest.approx(before_font)
    assert all(t.isVisible() for t in toolbars) and window.menuBar().isVisible()
    assert window.lattice.colormap == "classic" and window.controls.colormap.currentText() == "classic"
    assert pens(window) == before_pens
    assert not p.overlay.isVisible()


def test_escape_leaves_presenter_mode(window, qtbot):
    p = window.presenter
    p.set_active(True)
    assert p.escape_action.isEnabled()
    p.escape_action.trigger()
    assert not p.active and not p.action.isChecked() and not window.isFullScreen()
    assert not p.escape_action.isEnabled()


def test_overlay_text():
    params = ModelParams(size=32, temperature=2 * exact.TC)
    text = presenter_mod.overlay_text(params)
    xi = float(exact.onsager_correlation_length(2 * exact.TC))
    assert text == f"T/T_c = 2.000   ξ = {xi:.1f}"
    assert presenter_mod.overlay_text(params.with_(field=0.5), show_tc_ratio=False) == "ξ = —"
