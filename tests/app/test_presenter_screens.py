"""Presenter mode on a projector: the layout at 1024x768, 1280x720 and 1920x1080, larger plot
texts, exact restore, the clicker keys sent to the lattice, the overlay drawn inside the GL view
(a real screenshot under Xvfb), and the Run and Full screen actions following what they stand for.

The layout tests run on Qt's offscreen platform with the window at the projector's size (presenter
mode keeps the window's size there: `full_screen = False`; full screen on a projector gives the
window exactly that size). The GL test runs in a subprocess on the xcb platform of the X display
xvfb-run provides, as the GL tests of test_lattice_view.py do.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolButton

from isinglab.app.lattice.colours import TEXT_RGB
from isinglab.app.lecture import presenter as presenter_mod
from isinglab.core import exact
from isinglab.core.params import ModelParams

SIZES = [(1024, 768), (1280, 720), (1920, 1080)]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def open_presenter_window(open_window, qtbot, size):
    win = open_window(ModelParams(size=64, temperature=exact.TC, seed=1), size, no_gl=True)
    win.presenter.full_screen = False  # the window is the projector's screen
    qtbot.wait(150)  # the first layout (fit_lattice_dock) is applied after the first show
    assert (win.width(), win.height()) == size
    return win


def shown_docks(win):
    """Dock name -> geometry of every dock the user can see (not hidden, not behind a tab)."""
    return {name: dock.geometry().getRect() for name, dock in win.docks.items()
            if dock.isVisible() and not dock.visibleRegion().isEmpty()}


def lattice_share(win):
    g = win.docks["latticeDock"].geometry()
    return g.width() * g.height() / (win.width() * win.height())


def plot_text_sizes(dock):
    """(kind, item id) -> size of every plot text in the dock that is shown: tick fonts (pt),
    axis titles, plot titles and legend entries (their rendered height in pixels)."""
    out = {}
    for view in dock.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem) and item.isVisible():
                out[("tick", id(item))] = (item.style.get("tickFont") or item.font()).pointSizeF()
                if item.label.isVisible() and item.labelText:
                    out[("axis title", id(item))] = item.label.boundingRect().height()
            elif isinstance(item, pg.PlotItem) and item.titleLabel.isVisible() and item.titleLabel.text:
                out[("title", id(item))] = item.titleLabel.item.boundingRect().height()
            elif isinstance(item, pg.LegendItem):
                for _sample, label in item.items:
                    out[("legend", id(label))] = label.item.boundingRect().height()
    return out


def visible_analysis_docks(win):
    return [name for name in win.presenter.analysis_panels() if win.docks[name].isVisible()]


def yellow_pixels(rgb):
    return int((np.abs(rgb.astype(int) - np.array(TEXT_RGB)).max(axis=-1) <= 40).sum())


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_presenter_layout_on_a_projector(open_window, qtbot, size):
    win = open_presenter_window(open_window, qtbot, size)
    p = win.presenter
    state = bytes(win.saveState(presenter_mod.LAYOUT_STATE_VERSION))
    docks = shown_docks(win)
    assert "controlsDock" in docks and "observablesDock" in docks
    texts = plot_text_sizes(win.docks["observablesDock"])
    assert {kind for kind, _ in texts} == {"tick", "axis title", "title", "legend"}

    qtbot.keyClick(win.lattice._impl.widget, Qt.Key.Key_F5)
    qtbot.wait(150)
    assert p.active and p.panel_id == "observablesDock"  # the one in front
    assert visible_analysis_docks(win) == ["observablesDock"]
    assert not win.docks["controlsDock"].isVisible()
    assert lattice_share(win) >= 0.5, shown_docks(win)
    larger = plot_text_sizes(win.docks["observablesDock"])
    assert larger.keys() == texts.keys()
    assert all(larger[k] > texts[k] for k in texts), [(k[0], texts[k], larger[k]) for k in texts
                                                       if larger[k] <= texts[k]]
    # the text box is drawn by the view itself (here the pyqtgraph fallback): in its grab
    assert win.lattice.text_overlay and win.lattice.text_overlay[0].startswith("T/T_c = 1.000")
    r = win.lattice.text_overlay_rect()
    assert yellow_pixels(win.lattice.grab_rgb()[r.top():r.bottom(), r.left():r.right()]) > 50

    # Tab (sent to the lattice) cycles the panel: always one, always beside a large lattice
    for expected in ["blocksDock", "correlationDock", "networkDock", "fssDock", "observablesDock"]:
        qtbot.keyClick(win.lattice._impl.widget, Qt.Key.Key_Tab)
        qtbot.wait(100)
        assert p.panel_id == expected and visible_analysis_docks(win) == [expected]
        assert lattice_share(win) >= 0.5, (expected, shown_docks(win))
        if expected == "networkDock":  # shown, it imports torch on a worker: let it finish
            qtbot.waitUntil(lambda: win.panels["networkDock"].device_text != "", timeout=120000)
    qtbot.keyClick(win.lattice._impl.widget, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert p.panel_id == "fssDock"

    qtbot.keyClick(win.lattice._impl.widget, Qt.Key.Key_Escape)
    qtbot.wait(150)
    assert not p.active and not win.lattice.text_overlay
    assert bytes(win.saveState(presenter_mod.LAYOUT_STATE_VERSION)) == state
    assert shown_docks(win) == docks
    assert plot_text_sizes(win.docks["observablesDock"]) == texts


def test_clicker_keys_work_with_the_lattice_focused(open_window, qtbot):
    win = open_presenter_window(open_window, qtbot, (1280, 720))
    p, player = win.presenter, win.scene_player
    target = win.lattice._impl.widget
    target.setFocus()
    qtbot.keyClick(target, Qt.Key.Key_B)
    assert not p.blanked  # outside presenter mode B is an ordinary key
    qtbot.keyClick(target, Qt.Key.Key_F5)
    assert p.active

    qtbot.keyClick(target, Qt.Key.Key_PageDown)  # clicker forward: the first scene
    first = player.scene
    assert first is not None and player.playing
    want = next(x for x in first.panels if x not in presenter_mod.FIXED_DOCKS)
    assert p.panel_id == want and visible_analysis_docks(win) == [want]
    qtbot.keyClick(target, Qt.Key.Key_PageDown)
    assert player.scene.id != first.id
    qtbot.keyClick(target, Qt.Key.Key_PageUp)  # clicker back
    assert player.scene.id == first.id
    qtbot.waitUntil(lambda: any(first.name in line for line in win.lattice.text_overlay), timeout=2000)
    player.show_panels(["latticeDock", "controlsDock", *first.panels])  # as a scene's replay does
    qtbot.waitUntil(lambda: visible_analysis_docks(win) == [want], timeout=2000)
    assert not win.docks["controlsDock"].isVisible() and win.docks["latticeDock"].isVisible()
    player.stop()

    qtbot.keyClick(target, Qt.Key.Key_B)  # the clicker's blank button
    assert p.blanked and p.blank_cover.isVisible()
    assert not any(dock.isVisible() for dock in win.docks.values())
    qtbot.keyClick(win, Qt.Key.Key_B)
    assert not p.blanked and win.docks["latticeDock"].isVisible()
    assert visible_analysis_docks(win) == [p.panel_id]
    qtbot.keyClick(target, Qt.Key.Key_B)
    qtbot.keyClick(target, Qt.Key.Key_Escape)  # leaves, also from black
    assert not p.active and not p.blanked
    assert win.docks["latticeDock"].isVisible() and win.docks["controlsDock"].isVisible()


# ----------------------------------------------------------------------------- Run, F11
def test_run_button_follows_the_engine(open_window, qtbot):
    win = open_window(ModelParams(size=64, temperature=2.0, seed=1), (1024, 768), no_gl=True, steps=1)
    run = win.named_actions["run"]
    button = win.controls.findChild(QToolButton, "runButton")
    assert button.defaultAction() is run and button.isCheckable() and not button.isChecked()
    toggles = []
    run.toggled.connect(toggles.append)

    win.engine.set_running(True)  # not through the action: a script, --run-seconds
    qtbot.waitUntil(lambda: run.isChecked() and button.isChecked(), timeout=5000)
    win.engine.set_running(False)  # what a scene does when it starts
    qtbot.waitUntil(lambda: not run.isChecked() and not button.isChecked(), timeout=5000)
    assert toggles == []  # following sent nothing back to the engine

    button.click()  # and the button drives the engine
    assert run.isChecked() and win.engine.running
    win.scene_player.load("antiferromagnet", play=True)  # a scene pauses free running
    assert not run.isChecked() and not button.isChecked() and not win.engine.running
    qtbot.wait(300)
    assert not run.isChecked()  # and stays paused while the scene plays
    win.scene_player.stop()


def test_f11_toggles_full_screen_and_follows_the_window(open_window, qtbot):
    win = open_window(ModelParams(size=32, seed=1), (1024, 768), no_gl=True)
    full = win.named_actions["full_screen"]
    win.activateWindow()  # F11 is a window shortcut: it needs the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: win.isFullScreen(), timeout=2000)
    assert full.isChecked()
    win.showNormal()  # the window manager left full screen (its own key, the title bar)
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=2000)
    assert not full.isChecked()
    qtbot.keyClick(win, Qt.Key.Key_F11)  # one press goes full screen again
    qtbot.waitUntil(lambda: win.isFullScreen(), timeout=2000)
    assert full.isChecked()
    qtbot.keyClick(win, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=2000)
    assert not full.isChecked()
    win.presenter.set_active(True)  # presenter mode goes full screen: the check mark follows
    assert win.isFullScreen() and full.isChecked()
    win.presenter.set_active(False)
    assert not win.isFullScreen() and not full.isChecked()


# ----------------------------------------------------------------------------- GL overlay
GL_PRELUDE = """
import json, os, sys, tempfile, time
os.environ["ISINGLAB_CONFIG_DIR"] = tempfile.mkdtemp()
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])

def settle(seconds):
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.005)

def wait_for(condition, timeout=30.0):
    end = time.time() + timeout
    while not condition() and time.time() < end:
        app.processEvents()
        time.sleep(0.005)
    if not condition():
        raise RuntimeError("timed out")

def screen_rgb(win):
    # what the X server shows: the window with its native GL child, not a re-render
    g = win.mapToGlobal(QPoint(0, 0))
    img = app.primaryScreen().grabWindow(0, g.x(), g.y(), win.width(), win.height()).toImage()
    img = img.convertToFormat(img.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()

result = {}
"""


def run_gl(snippet, timeout=240):
    code = GL_PRELUDE + textwrap.dedent(snippet) + '\nprint("GLRESULT " + json.dumps(result))\n'
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    env.pop("ISINGLAB_NO_GL", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, timeout=timeout,
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("GLRESULT ")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"GL subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("GLRESULT "):])


@pytest.fixture(scope="module")
def gl_display():
    """Skip unless an X display with working OpenGL (plain vispy, not our code) is there."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs OpenGL: run under xvfb-run")
    try:
        probe = run_gl("""
            import vispy
            vispy.use("pyside6")
            from vispy import scene
            canvas = scene.SceneCanvas(keys=None, size=(64, 64), show=True)
            drawn = []
            canvas.events.draw.connect(lambda e: drawn.append(1))
            end = time.time() + 15
            while not drawn and time.time() < end:
                app.processEvents(); time.sleep(0.005)
            result = {"drawn": bool(drawn)}
            canvas.close()
        """, timeout=120)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"needs OpenGL: run under xvfb-run ({str(exc)[-300:]})")
    if not probe["drawn"]:
        pytest.skip("needs OpenGL: run under xvfb-run (a probe canvas never drew)")
    return probe


@pytest.mark.gl
def test_overlay_is_drawn_inside_the_gl_view(gl_display):
    """A screenshot of the real window: the overlay's text colour is inside presenter.overlay_rect()
    on the OpenGL view (its own native window), and gone when the overlay visual is hidden."""
    r = run_gl(f"""
        from isinglab.app.window.main_window import MainWindow
        from isinglab.core.params import ModelParams
        TEXT = np.array({list(TEXT_RGB)})
        def yellow(rgb, rect):
            part = rgb[rect.top():rect.bottom() + 1, rect.left():rect.right() + 1].astype(int)
            return int((np.abs(part - TEXT).max(axis=-1) <= 40).sum())

        win = MainWindow(ModelParams(size=64, temperature=2.5, seed=1).validated())
        win.resize(1280, 720)
        win.show()
        view = win.lattice
        wait_for(lambda: view.frames_drawn > 0)
        result["backend"], result["presentation"] = view.backend, view.presentation
        p = win.presenter
        p.full_screen = False  # Xvfb has no window manager: the size stays as it is anyway
        p.set_active(True)
        wait_for(lambda: bool(view.text_overlay))
        n = view.frames_drawn
        wait_for(lambda: view.frames_drawn > n + 1)
        settle(0.5)
        rect = p.overlay_rect()
        result["rect"] = [rect.x(), rect.y(), rect.width(), rect.height()]
        result["lines"] = list(view.text_overlay)
        shot = screen_rgb(win)
        result["shown"] = yellow(shot, rect)
        result["elsewhere"] = yellow(shot, rect.translated(0, rect.height() + 40))
        if os.environ.get("ISINGLAB_SHOT"):
            from PySide6.QtGui import QImage
            QImage(shot.data, shot.shape[1], shot.shape[0], shot.shape[1] * 3,
                   QImage.Format.Format_RGB888).save(os.environ["ISINGLAB_SHOT"])

        # mutation: the same check fails once the overlay visual is hidden
        view._impl.text.visible = False
        n = view.frames_drawn
        wait_for(lambda: view.frames_drawn > n)
        settle(0.5)
        result["hidden"] = yellow(screen_rgb(win), rect)
        view._impl.text.visible = True

        # the clicker keys with the focus in the GL window
        canvas = view._impl.canvas.native
        canvas.requestActivate()
        settle(0.3)
        result["canvas_focused"] = app.focusWindow() is canvas
        QTest.keyClick(canvas, Qt.Key.Key_Tab); settle(0.1)
        result["after_tab"] = p.panel_id
        QTest.keyClick(canvas, Qt.Key.Key_B); settle(0.1)
        result["blanked"] = p.blanked
        QTest.keyClick(win, Qt.Key.Key_B); settle(0.1)
        result["unblanked"] = not p.blanked and win.docks["latticeDock"].isVisible()
        canvas.requestActivate(); settle(0.3)
        QTest.keyClick(canvas, Qt.Key.Key_Escape); settle(0.3)
        result["left"] = not p.active and not view.text_overlay
        win.close()
        settle(0.5)
    """)
    assert r["backend"] == "vispy" and r["presentation"] == "window"
    assert r["lines"] and r["lines"][0].startswith("T/T_c = 1.102")
    def overlay_seen(count):  # the pixel check: the text colour inside the overlay's rectangle
        return count > 100

    assert overlay_seen(r["shown"]), r
    assert r["elsewhere"] == 0, r  # the colour belongs to the text box, not to the lattice
    assert not overlay_seen(r["hidden"]), r  # mutation: without the visual the check fails
    assert r["canvas_focused"]
    assert r["after_tab"] == "blocksDock" and r["blanked"] and r["unblanked"] and r["left"]
