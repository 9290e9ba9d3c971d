"""Presenter mode toggles with one key and restores every setting it changed; the overlay's text."""
from types import SimpleNamespace

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from isinglab.app.lattice.view import TOOLTIP
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


def dock_fonts(win):
    return {name: dock.font().pointSizeF() for name, dock in win.docks.items()}


def test_presenter_mode_toggles_and_restores(window, qtbot):
    p = window.presenter
    before_fonts = dock_fonts(window)
    bar_font = window.statusBar().font().pointSizeF()
    before_pens = pens(window)
    assert before_pens
    toolbars = [t for t in window.findChildren(QToolBar) if t.isVisible()]
    assert toolbars  # the scene player's toolbar

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert p.active and window.isFullScreen()
    assert dock_fonts(window) == pytest.approx({k: v * presenter_mod.FONT_SCALE for k, v in before_fonts.items()})
    assert window.statusBar().font().pointSizeF() == bar_font  # hidden bars keep their size
    assert all(not t.isVisible() for t in toolbars) and not window.menuBar().isVisible()
    assert not window.statusBar().isVisible()
    assert window.lattice.colormap == "high-contrast"
    assert window.controls.colormap.currentText() == "high-contrast"
    assert window.lattice.toolTip() == ""  # no pan/zoom hint on the projector
    assert min(pens(window)[k] for k in before_pens) >= presenter_mod.MIN_LINE_WIDTH
    qtbot.waitUntil(lambda: bool(window.lattice.text_overlay), timeout=2000)
    assert window.lattice.text_overlay[0] == "T/T_c = 1.000   ξ = ∞"
    assert p.overlay_rect() is not None
    p.overlay_action.trigger()
    assert not window.lattice.text_overlay and p.overlay_rect() is None
    p.overlay_action.trigger()
    assert window.lattice.text_overlay

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not p.active and not window.isFullScreen()
    assert dock_fonts(window) == before_fonts
    assert all(t.isVisible() for t in toolbars) and window.menuBar().isVisible()
    assert window.statusBar().isVisible()
    assert window.lattice.colormap == "classic" and window.controls.colormap.currentText() == "classic"
    assert window.lattice.toolTip() == TOOLTIP
    assert pens(window) == before_pens
    assert not window.lattice.text_overlay


def test_escape_leaves_presenter_mode(window, qtbot):
    p = window.presenter
    presenter_only = [p.escape_action, p.next_panel_action, p.previous_panel_action, p.blank_action]
    assert not any(a.isEnabled() for a in presenter_only)  # Esc, Tab, B keep their usual meaning
    p.set_active(True)
    assert all(a.isEnabled() for a in presenter_only)
    p.escape_action.trigger()
    assert not p.active and not p.action.isChecked() and not window.isFullScreen()
    assert not any(a.isEnabled() for a in presenter_only)


def test_overlay_text():
    params = ModelParams(size=32, temperature=2 * exact.TC)
    text = presenter_mod.overlay_text(params)
    xi = float(exact.onsager_correlation_length(2 * exact.TC))
    assert text == f"T/T_c = 2.000   ξ = {xi:.1f}"
    assert presenter_mod.overlay_text(params.with_(field=0.5), show_tc_ratio=False) == "ξ = —"
    assert presenter_mod.overlay_text(params, show_tc_ratio=False, xi_measured=(1.234, 0.12)) == \
        "ξ = 1.2 ± 0.1 (measured)"


def _estimate(value, ok=True):
    return SimpleNamespace(value=value, err=0.2, ok=ok)


def test_measured_xi_only_for_the_same_model_and_temperature():
    params = ModelParams(size=64, temperature=2.5)
    result = SimpleNamespace(size=64, coupling=1.0, field=0.0, temperature=2.505,
                             xi_exp=_estimate(3.0), xi_2nd=_estimate(2.8))
    panel = SimpleNamespace(latest_update=SimpleNamespace(result=result))
    assert presenter_mod.measured_xi(panel, params) == (3.0, 0.2)
    result.xi_exp = _estimate(float("nan"), ok=False)
    assert presenter_mod.measured_xi(panel, params) == (2.8, 0.2)  # the second-moment one then
    assert presenter_mod.measured_xi(panel, params.with_(temperature=2.6)) is None
    assert presenter_mod.measured_xi(panel, params.with_(size=32)) is None
    assert presenter_mod.measured_xi(SimpleNamespace(latest_update=None), params) is None
    assert presenter_mod.measured_xi(None, params) is None


def test_scene_caption():
    scene = SimpleNamespace(id="b", name="Cool through T_c", n_frames=480)
    player = SimpleNamespace(scene=scene, infos=[SimpleNamespace(id="a"), SimpleNamespace(id="b")],
                             driver=SimpleNamespace(frame=120))
    assert presenter_mod.scene_caption(player) == "Cool through T_c  ·  scene 2/2  ·  frame 120/480"
    player.driver = None
    assert presenter_mod.scene_caption(player) == "Cool through T_c  ·  scene 2/2"
    assert presenter_mod.scene_caption(SimpleNamespace(scene=None)) == ""
    assert presenter_mod.scene_caption(None) == ""


def test_text_box_fits_the_view(qtbot):
    from isinglab.app.lattice.text_overlay import MARGIN, paint_text_box
    lines = ["T/T_c = 1.000   ξ = ∞", "A scene with a very long title · scene 2/6 · frame 120/480"]
    small, large = paint_text_box(lines, 400, 300), paint_text_box(lines, 1000, 1000)
    assert small.rect.topLeft().toTuple() == (MARGIN, MARGIN)
    assert small.rect.right() < 400 - MARGIN  # elided to the view's width
    assert large.rect.height() > small.rect.height()  # the font follows the view's height
    assert small.image.width() == small.rect.width() and small.image.height() == small.rect.height()
    hidpi = paint_text_box(lines, 400, 300, ratio=2.0)
    assert hidpi.rect == small.rect and hidpi.image.width() == 2 * small.rect.width()
    assert paint_text_box([], 400, 300) is None and paint_text_box(["x"], 10, 10) is None
