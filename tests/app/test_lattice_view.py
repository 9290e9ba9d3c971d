"""LatticeView: CPU kernels, the pyqtgraph fallback (in process, offscreen) and the vispy view.

Qt's offscreen platform cannot draw QOpenGLWidgets (without a display it has no GL at all;
with one it makes a GLX context but the widget never paints), so the GL tests run their code
in a subprocess on the xcb platform of the X display that xvfb-run provides.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtGui import QImage

from isinglab.app.lattice.colours import COLOR_SCHEMES
from isinglab.app.lattice.downsample import block_up_fraction, blocks_shape, overlay_codes
from isinglab.app.lattice.view import TOOLTIP, LatticeView

UP, DOWN = (np.array(c) for c in COLOR_SCHEMES["classic"])
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def halves(size, axis=1):
    """+1 in the first half along axis (left, or top for axis=0), -1 in the second."""
    spins = np.full((size, size), -1, np.int8)
    if axis == 1:
        spins[:, : size // 2] = 1
    else:
        spins[: size // 2] = 1
    return spins


def pixel(img, fx, fy):
    """Pixel at fractional position (fx across, fy down)."""
    h, w = img.shape[:2]
    return img[int(fy * (h - 1)), int(fx * (w - 1))].astype(int)


def close_to(rgb, expected, tol=3):
    return bool(np.all(np.abs(np.asarray(rgb, int) - np.asarray(expected, int)) <= tol))


# ----------------------------------------------------------------------------- kernels
def reference_walls(spins):
    return (spins != np.roll(spins, -1, 1)) | (spins != np.roll(spins, -1, 0))


def reference_pool(a, b, op):
    """Block reduce with partial edge blocks, the slow obvious way."""
    n0, n1 = blocks_shape(a.shape, b)
    return np.array([[op(a[i * b:(i + 1) * b, j * b:(j + 1) * b]) for j in range(n1)]
                     for i in range(n0)])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("size,b", [(12, 3), (10, 3), (16, 1), (9, 4)])
def test_block_up_fraction_matches_mean(size, b, dtype):
    rng = np.random.default_rng(size * b)
    up = rng.random((size, size)) < 0.4
    spins = np.where(up, 1, -1).astype(np.int8) if dtype == np.int8 else up.astype(np.uint8)
    out = np.empty(blocks_shape(spins.shape, b), np.uint8)
    block_up_fraction(spins, b, out)
    expected = np.floor(255 * reference_pool(up, b, np.mean) + 0.5)
    assert np.abs(out.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("size,b", [(8, 1), (11, 1), (12, 4), (10, 3)])
def test_overlay_codes_match_reference(size, b):
    rng = np.random.default_rng(size + b)
    spins = np.where(rng.random((size, size)) < 0.5, 1, -1).astype(np.int8)
    mask = rng.random((size, size)) < 0.2
    codes = reference_walls(spins).astype(np.uint8) | (mask.astype(np.uint8) << 1)
    expected = reference_pool(codes, b, lambda block: np.bitwise_or.reduce(block, axis=None))
    out = np.empty(blocks_shape(spins.shape, b), np.uint8)
    overlay_codes(spins, True, mask, b, out)
    np.testing.assert_array_equal(out, expected)
    overlay_codes(spins, False, np.zeros((0, 0), bool), b, out)
    assert not out.any()


def test_domain_walls_are_periodic():
    spins = halves(8)  # walls between columns 3|4 and, across the boundary, 7|0
    out = np.empty((8, 8), np.uint8)
    overlay_codes(spins, True, np.zeros((0, 0), bool), 1, out)
    assert set(np.nonzero(out.any(axis=0))[0]) == {3, 7}


# ----------------------------------------------------------------------------- fallback view
@pytest.fixture
def fallback_view(qtbot):
    view = LatticeView(force_fallback=True)
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.close_view()


def shown(qtbot, view, spins=None):
    """Set spins (if given), let Qt paint, return the grabbed picture."""
    if spins is not None:
        view.set_spins(spins)
    qtbot.wait(20)
    return view.grab_rgb()


def test_fallback_shows_two_halves(qtbot, fallback_view):
    assert fallback_view.backend == "pyqtgraph" and fallback_view.presentation == "painter"
    assert fallback_view.fallback_reason == "forced by caller"
    img = shown(qtbot, fallback_view, halves(64))
    assert img.dtype == np.uint8 and img.shape[2] == 3
    assert close_to(pixel(img, 0.25, 0.5), UP)
    assert close_to(pixel(img, 0.75, 0.5), DOWN)
    assert fallback_view.frames_drawn > 0
    assert fallback_view.frame_ms_app > 0


def test_fallback_row_zero_is_on_top(qtbot, fallback_view):
    img = shown(qtbot, fallback_view, halves(64, axis=0))
    assert close_to(pixel(img, 0.5, 0.25), UP)
    assert close_to(pixel(img, 0.5, 0.75), DOWN)


def test_uint8_input_looks_like_int8(qtbot, fallback_view):
    spins = np.where(np.random.default_rng(1).random((32, 32)) < 0.5, 1, -1).astype(np.int8)
    a = shown(qtbot, fallback_view, spins)
    b = shown(qtbot, fallback_view, (spins > 0).view(np.uint8))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        fallback_view.set_spins(np.zeros(16, np.int8))


def test_colormaps(qtbot, fallback_view):
    fallback_view.set_colormap("high-contrast")
    img = shown(qtbot, fallback_view, halves(32))
    up, down = COLOR_SCHEMES["high-contrast"]
    assert close_to(pixel(img, 0.25, 0.5), up) and close_to(pixel(img, 0.75, 0.5), down)
    fallback_view.set_colormap("grey")
    assert close_to(pixel(shown(qtbot, fallback_view), 0.25, 0.5), COLOR_SCHEMES["grey"][0])
    with pytest.raises(ValueError):
        fallback_view.set_colormap("rainbow")


def test_new_size_resets_view(qtbot, fallback_view):
    shown(qtbot, fallback_view, np.ones((16, 16), np.int8))
    img = shown(qtbot, fallback_view, halves(256))  # a stale 16x16 view would be all "up"
    assert close_to(pixel(img, 0.75, 0.5), DOWN)
    assert fallback_view.lattice_size == 256


def test_fallback_overlays_toggle(qtbot, fallback_view):
    spins = halves(64)
    base = shown(qtbot, fallback_view, spins)
    fallback_view.set_show_domain_walls(True)
    walls = shown(qtbot, fallback_view)
    changed = (walls != base).any(axis=2)
    assert changed[:, 140:160].any()  # the wall after column 31, near x = 150 of 300
    assert not changed[:, 40:100].any()  # deep inside a domain nothing changes

    mask = np.zeros_like(spins, bool)
    mask[:16, 40:56] = True  # inside the right ("down") domain, away from walls
    fallback_view.set_cluster_mask(mask)
    assert not (shown(qtbot, fallback_view) != walls).any()  # hidden until enabled
    fallback_view.set_show_cluster(True)
    cluster = shown(qtbot, fallback_view)
    assert not close_to(pixel(cluster, 0.75, 0.1), pixel(walls, 0.75, 0.1))
    fallback_view.set_show_cluster(False)
    fallback_view.set_show_domain_walls(False)
    np.testing.assert_array_equal(shown(qtbot, fallback_view), base)
    with pytest.raises(ValueError):
        fallback_view.set_cluster_mask(np.zeros((8, 8), bool))


def test_fallback_downsamples_above_texture_limit(qtbot):
    view = LatticeView(force_fallback=True, max_texture_size=16)
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    img = shown(qtbot, view, halves(64))
    assert view.downsample == 4
    assert close_to(pixel(img, 0.25, 0.5), UP) and close_to(pixel(img, 0.75, 0.5), DOWN)
    view.close_view()


def test_offscreen_platform_falls_back_by_itself(qtbot):
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.platformName() != "offscreen":
        pytest.skip("checks the offscreen platform")
    view = LatticeView()
    qtbot.addWidget(view)
    assert view.backend == "pyqtgraph"
    assert "offscreen" in view.fallback_reason
    view.close_view()
    view.close_view()  # idempotent
    view.set_spins(halves(16))  # ignored after close, no error


def test_env_var_forces_fallback(qtbot, monkeypatch):
    monkeypatch.setenv("ISINGLAB_NO_GL", "1")
    view = LatticeView()
    qtbot.addWidget(view)
    assert view.backend == "pyqtgraph" and "ISINGLAB_NO_GL" in view.fallback_reason


def test_export_png_native_resolution(tmp_path, fallback_view):
    spins = halves(20, axis=0)
    fallback_view.set_spins(spins)
    path = tmp_path / "lattice.png"
    path.write_bytes(b"old")  # replaced atomically
    fallback_view.export_png(path, scale=3)
    img = QImage(str(path))
    assert (img.width(), img.height()) == (60, 60)
    top, bottom = img.pixelColor(5, 5), img.pixelColor(5, 55)
    assert (top.red(), top.green(), top.blue()) == tuple(UP)
    assert (bottom.red(), bottom.green(), bottom.blue()) == tuple(DOWN)
    assert os.listdir(tmp_path) == ["lattice.png"]  # no temp file left behind
    with pytest.raises(ValueError):
        fallback_view.export_png(path, scale=0)


def test_export_needs_a_lattice(tmp_path, fallback_view):
    with pytest.raises(RuntimeError):
        fallback_view.export_png(tmp_path / "x.png")


# ----------------------------------------------------------------------------- GL (vispy)
GL_PRELUDE = """
import json, os, sys, time
import numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])

def wait_drawn(view, frames=1, timeout=15.0):
    end = time.time() + timeout
    while view.frames_drawn < frames and time.time() < end:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    if view.frames_drawn < frames:
        raise RuntimeError("view did not draw")

def show_and_draw(view, spins=None):
    if spins is not None:
        view.set_spins(spins)
    wait_drawn(view, view.frames_drawn + 1)
    return view.grab_rgb()

def settle(seconds):
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.005)

def px(img, fx, fy):
    h, w = img.shape[:2]
    return img[int(fy * (h - 1)), int(fx * (w - 1))].tolist()

result = {}
"""


def run_gl(snippet, timeout=180):
    """Run a snippet in a fresh Python on the xcb platform; return its `result` dict."""
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
def test_gl_view_shows_two_halves(gl_display):
    r = run_gl("""
        from isinglab.app.lattice.view import LatticeView
        view = LatticeView()
        view.resize(400, 400)
        result["backend"], result["reason"] = view.backend, view.fallback_reason
        try:
            view.grab_rgb()  # never render() a canvas that was not shown
        except RuntimeError:
            result["early_grab_refused"] = True
        view.show()
        s = np.full((64, 64), -1, np.int8); s[:, :32] = 1
        img = show_and_draw(view, s)
        result["left"], result["right"] = px(img, 0.25, 0.5), px(img, 0.75, 0.5)
        t = np.full((64, 64), -1, np.int8); t[:32] = 1
        img = show_and_draw(view, t)
        result["top"], result["bottom"] = px(img, 0.5, 0.25), px(img, 0.5, 0.75)
        view.set_colormap("high-contrast")
        img = show_and_draw(view)
        result["hc_top"] = px(img, 0.5, 0.25)
        result["frames"] = view.frames_drawn
        result["renderer"], result["software"] = view.renderer, view.software_rendering
        view.close_view(); view.close_view()
    """)
    assert r["backend"] == "vispy" and r["reason"] is None
    assert r.get("early_grab_refused")
    assert close_to(r["left"], UP) and close_to(r["right"], DOWN)
    assert close_to(r["top"], UP) and close_to(r["bottom"], DOWN)
    assert close_to(r["hc_top"], COLOR_SCHEMES["high-contrast"][0])
    assert r["frames"] >= 3
    # Xvfb has no GPU: Mesa rasterises on the CPU, and the view knows it (display rate auto)
    assert r["renderer"] and r["software"] is True, r["renderer"]


@pytest.mark.gl
def test_gl_downsamples_8192(gl_display):
    r = run_gl("""
        from isinglab.app.lattice.view import LatticeView
        s = np.full((8192, 8192), -1, np.int8); s[:, :4096] = 1
        view = LatticeView(max_texture_size=1024)
        view.resize(400, 400); view.show()
        img = show_and_draw(view, s)
        result["downsample"] = view.downsample
        result["left"], result["right"] = px(img, 0.25, 0.5), px(img, 0.75, 0.5)
        half = s.copy()
        half[:, :4096] = np.where(np.indices((8192, 4096)).sum(axis=0) % 2 == 0, 1, -1)
        result["half_up"] = px(show_and_draw(view, half), 0.25, 0.5)  # every block half up
        view.set_show_domain_walls(True)
        show_and_draw(view)
        view.close_view()
        # no override: the limit queried from GL decides after the first draw
        auto = LatticeView()
        auto.resize(300, 300)
        auto.set_spins(s)  # before any draw: blocked for the assumed 4096
        result["assumed_downsample"] = auto.downsample
        auto.show()
        wait_drawn(auto, 2)
        settle(0.5)  # the re-upload once the first draws revealed the GL limit
        result["gl_limit"] = auto.max_texture_size
        result["auto_downsample"] = auto.downsample
        auto.close_view()
    """)
    assert r["downsample"] == 8
    assert close_to(r["left"], UP) and close_to(r["right"], DOWN)
    assert close_to(r["half_up"], (UP + DOWN) / 2), "a block average shows the colour halfway"
    assert r["gl_limit"] >= 1024
    assert r["assumed_downsample"] == 2
    assert r["auto_downsample"] == -(-8192 // r["gl_limit"])


@pytest.mark.gl
def test_gl_overlays_toggle(gl_display):
    r = run_gl("""
        from isinglab.app.lattice.view import LatticeView
        view = LatticeView()
        view.resize(400, 400); view.show()
        s = np.full((64, 64), -1, np.int8); s[:, :32] = 1
        base = show_and_draw(view, s)
        view.set_show_domain_walls(True)
        walls = show_and_draw(view)
        changed = (walls != base).any(axis=2)
        result["wall_changed"] = int(changed[:, 190:210].sum())
        result["inside_changed"] = int(changed[:, 50:150].sum())
        m = np.zeros((64, 64), bool); m[:16, 40:56] = True
        view.set_cluster_mask(m); view.set_show_cluster(True)
        cluster = show_and_draw(view)
        result["cluster"], result["no_cluster"] = px(cluster, 0.75, 0.1), px(walls, 0.75, 0.1)
        view.set_show_domain_walls(False); view.set_show_cluster(False)
        result["restored"] = bool((show_and_draw(view) == base).all())
        view.close_view()
    """)
    assert r["wall_changed"] > 0 and r["inside_changed"] == 0
    assert not close_to(r["cluster"], r["no_cluster"], tol=10)
    assert r["restored"]


SCREEN_GRAB = """
from PySide6.QtCore import QPoint

def screen_px(widget, fx, fy):
    # what the X server shows there: the window's own presentation, not a re-render
    g = widget.mapToGlobal(QPoint(0, 0))
    img = app.primaryScreen().grabWindow(0, g.x(), g.y(), widget.width(), widget.height()).toImage()
    c = img.pixelColor(int(fx * (widget.width() - 1)), int(fy * (widget.height() - 1)))
    return [c.red(), c.green(), c.blue()]
"""


@pytest.mark.gl
def test_gl_view_presents_its_own_window(gl_display):
    """The canvas is a QOpenGLWindow in a container (no composition pass per frame), and what
    it presents reaches the screen."""
    r = run_gl(SCREEN_GRAB + textwrap.dedent("""
        from PySide6.QtOpenGL import QOpenGLWindow
        from isinglab.app.lattice.view import LatticeView
        view = LatticeView()
        view.resize(400, 400); view.show()
        s = np.full((64, 64), -1, np.int8); s[:, :32] = 1
        show_and_draw(view, s)
        settle(0.3)
        impl = view._impl
        result["presentation"] = view.presentation
        result["is_window"] = isinstance(impl.canvas.native, QOpenGLWindow)
        result["tooltip"] = impl.canvas.native.tooltip_widget.toolTip()
        result["left"], result["right"] = screen_px(view, 0.25, 0.5), screen_px(view, 0.75, 0.5)
        view.close_view()
    """))
    assert r["presentation"] == "window" and r["is_window"]
    assert r["tooltip"] == TOOLTIP
    assert close_to(r["left"], UP) and close_to(r["right"], DOWN)


@pytest.mark.gl
def test_gl_canvas_window_in_the_main_window(gl_display):
    """With the canvas window focused, the window's shortcuts still work; the lattice dock
    floats and docks again and goes on drawing."""
    r = run_gl(SCREEN_GRAB + textwrap.dedent("""
        import tempfile
        os.environ["ISINGLAB_CONFIG_DIR"] = tempfile.mkdtemp()
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from isinglab.app.window.main_window import MainWindow
        from isinglab.core.params import ModelParams
        win = MainWindow(ModelParams(size=64, temperature=2.0).validated())
        win.show()
        wait_drawn(win.lattice, 1, timeout=30)
        canvas = win.lattice._impl.canvas.native
        canvas.requestActivate()
        settle(0.5)
        result["canvas_focused"] = app.focusWindow() is canvas
        toggles = []
        for _ in range(2):  # run, then pause again (the engine's snapshots would replace ours)
            run = win.named_actions["run"].isChecked()
            QTest.keyClick(canvas, Qt.Key.Key_Space); settle(0.2)
            toggles.append(win.named_actions["run"].isChecked() != run)
        result["space_toggles_run"] = toggles
        t0 = win.controls.slider.value()
        QTest.keyClick(canvas, Qt.Key.Key_Right); settle(0.5)
        result["right_nudges_t"] = win.controls.slider.value() - t0
        dock = win.docks["latticeDock"]
        for floating in (True, False):
            dock.setFloating(floating)
            settle(0.3)
            n = win.lattice.frames_drawn
            win.lattice.set_spins(np.where(np.arange(64)[None, :] < 32, 1, -1).astype(np.int8).repeat(64, 0))
            wait_drawn(win.lattice, n + 1)
            settle(0.3)
            result[f"floating={floating}"] = [screen_px(win.lattice, 0.25, 0.5),
                                              screen_px(win.lattice, 0.75, 0.5)]
        win.close()
        settle(0.5)
    """))
    assert r["canvas_focused"]
    assert r["space_toggles_run"] == [True, True] and r["right_nudges_t"] > 0
    for floating in (True, False):
        left, right = r[f"floating={floating}"]
        assert close_to(left, UP) and close_to(right, DOWN), (floating, left, right)


@pytest.mark.gl
def test_gl_view_falls_back_to_vispys_own_canvas(gl_display):
    """Should vispy's internals change so that the window canvas cannot be built, the view
    uses vispy's stock (QOpenGLWidget) canvas and still shows the lattice."""
    r = run_gl("""
        import isinglab.app.lattice.vispy_backend as vb
        from isinglab.app.lattice.view import LatticeView
        def broken(**kwargs):
            raise AttributeError("vispy changed")
        vb.make_window_canvas = broken
        view = LatticeView()
        view.resize(400, 400); view.show()
        s = np.full((64, 64), -1, np.int8); s[:, :32] = 1
        img = show_and_draw(view, s)
        result["backend"], result["presentation"] = view.backend, view.presentation
        result["left"], result["right"] = px(img, 0.25, 0.5), px(img, 0.75, 0.5)
        view.close_view()
    """)
    assert r["backend"] == "vispy" and r["presentation"] == "widget"
    assert close_to(r["left"], UP) and close_to(r["right"], DOWN)
