"""`isinglab gui --presenter --scene NAME --window-size WxH --run-seconds N --screenshot PNG --json`
(issue 17, point 7): the JSON gives the window's, the lattice view's and the overlay's rectangles
and the spin colours; the screenshot must agree with them at a projector's 1024x768, 1280x720
and 1920x1080. Bad scenes and sizes are one line and exit 2, before any window opens.

The runs use the xcb platform with OpenGL (the vispy view and its overlay) when an X display is
there (run under `xvfb-run -s "-screen 0 1920x1200x24"`); without one, Qt's offscreen platform
with the software view, and the OpenGL part is skipped with its reason.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PySide6.QtGui import QImage

SIZES = [(1024, 768), (1280, 720), (1920, 1080)]
SCENE = "cool-through-tc"
COLOUR_TOLERANCE = 12  # per channel: the spin colours are drawn flat, scaled by whole pixels
TEXT_TOLERANCE = 40  # the overlay text is anti-aliased


def _gui(args, platform, tmp_path, timeout=240):
    env = dict(os.environ, QT_QPA_PLATFORM=platform, ISINGLAB_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("ISINGLAB_NO_GL", None)
    return subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", "gui", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def platform():
    """("xcb", None) with an X display large enough for 1920x1080, else ("offscreen", why)."""
    if not os.environ.get("DISPLAY"):
        return "offscreen", "no X display: run under xvfb-run -s '-screen 0 1920x1200x24'"
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from PySide6.QtWidgets import QApplication; "
                               "app = QApplication(sys.argv[:1]); g = app.primaryScreen().geometry(); "
                               "print(g.width(), g.height())"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ, QT_QPA_PLATFORM="xcb"))
    if probe.returncode != 0:
        return "offscreen", f"the xcb platform does not start here: {probe.stderr.strip()[-200:]}"
    width, height = (int(v) for v in probe.stdout.split()[-2:])
    if width < 1920 or height < 1080:
        return "offscreen", f"the X screen is {width}x{height}, smaller than 1920x1080"
    return "xcb", None


def _rgb(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def _crop(rgb, rect, ratio=1.0):
    x, y = int(round(rect["x"] * ratio)), int(round(rect["y"] * ratio))
    w, h = int(round(rect["width"] * ratio)), int(round(rect["height"] * ratio))
    return rgb[y:y + h, x:x + w]


def _near(rgb, colour, tolerance) -> np.ndarray:
    return np.abs(rgb.astype(int) - np.array(colour)).max(axis=-1) <= tolerance


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_presenter_screenshot_matches_the_json(size, platform, tmp_path):
    mode, why = platform
    shot = tmp_path / "shot.png"
    args = ["--presenter", "--scene", SCENE, "--window-size", f"{size[0]}x{size[1]}", "--run-seconds", "1.5",
            "--screenshot", str(shot), "--json"] + (["--no-gl"] if mode == "offscreen" else [])
    res = _gui(args, mode, tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["errors"] == []
    assert out["presenter"] == {"active": True, "panel": "observablesDock"}  # the scene's panel
    assert out["scene"]["id"] == SCENE and out["scene"]["frame"] >= 1
    assert out["view"] == ("vispy" if mode == "xcb" else "pyqtgraph")

    # the screenshot is the window: its size is the window rectangle's, which is the size asked for
    win, ratio = out["window_rect"], out["device_pixel_ratio"]
    assert (win["width"], win["height"]) == size
    rgb = _rgb(shot)
    assert rgb.shape[:2] == (round(size[1] * ratio), round(size[0] * ratio))

    # the lattice takes more than half of the window, and shows the two spin colours
    lat = out["lattice_rect"]
    assert lat["x"] >= 0 and lat["y"] >= 0
    assert lat["x"] + lat["width"] <= win["width"] and lat["y"] + lat["height"] <= win["height"]
    assert lat["width"] * lat["height"] >= 0.5 * win["width"] * win["height"], (lat, win)
    colours = out["spin_colours"]
    assert colours["colormap"] == "high-contrast"  # presenter mode's
    inside = _crop(rgb, lat, ratio)
    spins = _near(inside, colours["up"], COLOUR_TOLERANCE) | _near(inside, colours["down"], COLOUR_TOLERANCE)
    assert spins.mean() >= 0.6, f"only {spins.mean():.2f} of the lattice rectangle shows spin colours"
    assert _near(inside, colours["up"], COLOUR_TOLERANCE).mean() > 0.1  # both colours, not a blank view
    assert _near(inside, colours["down"], COLOUR_TOLERANCE).mean() > 0.1

    # the overlay: inside the lattice view, its text colour inside its rectangle and nowhere else
    box = out["overlay_rect"]
    assert box is not None
    assert lat["x"] <= box["x"] and box["x"] + box["width"] <= lat["x"] + lat["width"]
    assert lat["y"] <= box["y"] and box["y"] + box["height"] <= lat["y"] + lat["height"]
    text = out["overlay_text_colour"]
    in_box = int(_near(_crop(rgb, box, ratio), text, TEXT_TOLERANCE).sum())
    assert in_box > 100, f"{in_box} overlay-coloured pixels in the overlay rectangle"
    everywhere = int(_near(inside, text, TEXT_TOLERANCE).sum())
    assert everywhere - in_box < 50, "overlay-coloured pixels outside the overlay rectangle"


def test_gl_view_and_overlay_under_xcb(platform):
    """The runs above used the OpenGL view and its overlay (drawn inside the GL scene)."""
    mode, why = platform
    if mode != "xcb":
        pytest.skip(f"OpenGL overlay pixels not checked: {why}; the runs above used the software view")


BAD = [
    (["--scene", "no-such-scene"], "--scene: unknown scene 'no-such-scene'"),
    (["--window-size", "100x100"], "out of range"),
    (["--window-size", "7681x1080"], "out of range"),
    (["--window-size", "1920x4321"], "out of range"),
    (["--window-size", "319x240"], "out of range"),
    (["--window-size", "1280"], "expected WIDTHxHEIGHT"),
    (["--window-size", "1280x720x2"], "expected WIDTHxHEIGHT"),
    (["--window-size", "widexhigh"], "expected WIDTHxHEIGHT"),
    (["--window-size=-1280x720"], "expected WIDTHxHEIGHT"),
]


@pytest.mark.parametrize("argv,reason", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_scene_or_size_is_one_line_and_exit_2(argv, reason, tmp_path):
    shot = tmp_path / "shot.png"
    t0 = time.monotonic()
    res = _gui(["--presenter", *argv, "--run-seconds", "1", "--screenshot", str(shot), "--json"], "offscreen",
               tmp_path, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isinglab: error: "), res.stderr
    assert reason in lines[0], lines[0]
    assert res.stdout == "" and not shot.exists()
    assert time.monotonic() - t0 < 30  # refused before the window opened


def test_a_bad_scene_file_is_one_line(tmp_path):
    bad = tmp_path / "bad-scene.json"
    bad.write_text('{"format": 1, "id": "x"')
    res = _gui(["--scene", str(bad), "--json"], "offscreen", tmp_path, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isinglab: error: --scene: "), res.stderr
