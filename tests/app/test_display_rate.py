"""View > Display rate: auto follows the renderer (35 fps when the CPU draws, else 60), a chosen
rate sets the display timer and is kept in the settings, a bad saved value means auto."""
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from isinglab.app.window.display_rate import SETTINGS_KEY
from isinglab.app.lattice.gl_support import is_software_renderer
from isinglab.core.params import ModelParams

PARAMS = ModelParams(size=32, temperature=2.5, seed=1)


def test_software_renderers_are_recognised():
    assert is_software_renderer("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert is_software_renderer("Mesa OffScreen / softpipe")
    assert not is_software_renderer("NVIDIA GeForce RTX 4090/PCIe/SSE2")
    assert not is_software_renderer("AMD Radeon Pro 5500M OpenGL Engine")


def test_auto_follows_the_renderer(open_window, qtbot):
    win = open_window(PARAMS, no_gl=True)
    qtbot.waitUntil(lambda: win.lattice.renderer is not None, timeout=10000)
    assert win.lattice.software_rendering  # the CPU fallback draws
    assert win.display_rate.choice == "auto" and win.timer.interval() == 28  # 35 fps
    assert "(presented by: painter)" in _status_tip(win, qtbot)
    win.lattice.software_rendering = False  # as with a GPU
    win.lattice.rendererKnown.emit("a GPU")
    assert win.timer.interval() == 16
    assert "display rate: at most 60 fps (auto)" in _status_tip(win, qtbot)


def _status_tip(win, qtbot):
    win._update_status()
    return win.status_label.toolTip()


def test_a_chosen_rate_is_applied_and_kept(open_window, qtbot):
    win = open_window(PARAMS, no_gl=True)
    win.findChild(QAction, "displayRate20Action").trigger()
    assert win.timer.interval() == 50 and win.display_rate.choice == "20"
    assert win.settings.value(SETTINGS_KEY) == "20"
    win.close()
    again = open_window(PARAMS, no_gl=True)
    assert again.display_rate.choice == "20" and again.timer.interval() == 50
    assert again.display_rate.actions["20"].isChecked()
    again.display_rate.choose("auto")
    assert again.display_rate.actions["auto"].isChecked() and not again.display_rate.actions["20"].isChecked()


def test_a_bad_saved_rate_means_auto(open_window):
    from isinglab.app.window.settings import open_settings
    settings, _ = open_settings()
    settings.setValue(SETTINGS_KEY, "ludicrous")
    settings.sync()
    win = open_window(PARAMS, no_gl=True)
    assert win.display_rate.choice == "auto" and win.display_rate.actions["auto"].isChecked()


def test_the_menu_lists_every_rate(open_window):
    win = open_window(PARAMS, no_gl=True)
    names = [a.objectName() for a in win.findChild(QMenu, "displayRateMenu").actions()]
    assert names == ["displayRateAutoAction", "displayRate60Action", "displayRate30Action",
                     "displayRate20Action"]
    assert all(a.toolTip() for a in win.display_rate.actions.values())


def test_auto_keeps_full_rate_while_a_live_movie_records(open_window, qtbot, tmp_path):
    win = open_window(PARAMS, no_gl=True)
    qtbot.waitUntil(lambda: win.lattice.renderer is not None, timeout=10000)
    assert win.timer.interval() == 28
    assert win.movies.start_live(str(tmp_path / "live.gif"), size=(64, 64), fps=10)
    assert win.timer.interval() == 16  # the view must not fall behind the movie
    win.movies.stop_live(keep=False)
    assert win.timer.interval() == 28
    win.display_rate.choose("20")
    assert win.movies.start_live(str(tmp_path / "live2.gif"), size=(64, 64), fps=10)
    assert win.timer.interval() == 50, "a chosen rate stays chosen"
    win.movies.stop_live(keep=False)
