"""`isinglab figure`: headless re-runs from sidecars (--resimulate) and scenes; bad input exits 2.
Redrawing a publication figure from its recorded data: tests/cli/test_figure_replay.py."""
import json
import os

import numpy as np
import pytest
from PySide6.QtGui import QImage

from isinglab.app.output import export, sidecar

from isinglab.app.commands import figure as figure_command
from isinglab.app.window.main_window import MainWindow
from isinglab.core.cli import main
from isinglab.core.params import ModelParams


def cli(*argv) -> int:
    return main(["figure", *argv], extra_commands=[figure_command])


def spins_of(png: str, size: int) -> np.ndarray:
    """The spin pattern of a lattice PNG: the centre pixel of each spin's square, as booleans."""
    img = QImage(png)
    per = img.width() // size
    c = [[img.pixelColor(j * per + per // 2, i * per + per // 2).name() for j in range(size)] for i in range(size)]
    first = c[0][0]
    return np.array([[x == first for x in row] for row in c])


def test_sidecar_regenerates_the_same_lattice(qtbot, tmp_path):
    params = ModelParams(size=16, temperature=2.1, seed=5)  # metropolis: independent of sweep chunking
    win = MainWindow(params)
    qtbot.addWidget(win)
    win.show()
    win.engine.step(7)
    qtbot.waitUntil(lambda: win.engine.latest().sweeps >= 7, timeout=120000)
    fig, side = export.export_panel(win, "latticeDock", str(tmp_path / "live.png"),
                                    opts=export.ExportOptions(scale=1.0))
    win.close()
    out = tmp_path / "regen"
    assert cli("--from", side, "--out", str(out), "--scale", "1") == 2  # a screen look has no data to redraw
    assert not out.exists()
    assert cli("--from", side, "--out", str(out), "--scale", "1", "--resimulate") == 0
    assert sorted(os.listdir(out)) == ["lattice.pdf", "lattice.pdf.json", "lattice.png", "lattice.png.json",
                                       "lattice.svg", "lattice.svg.json"]
    np.testing.assert_array_equal(spins_of(fig, 16), spins_of(str(out / "lattice.png"), 16))
    again = sidecar.load_sidecar(str(out / "lattice.png.json"))
    assert again["params"] == params and again["sweeps"] == 7 and again["style"] == "screen"


def test_scene_renders_its_panels(tmp_path):
    scene = {"format": 1, "id": "tiny", "name": "Tiny", "description": "a test scene",
             "model": {"size": 16, "temperature": 3.0, "coupling": 1.0, "field": 0.0,
                       "algorithm": "metropolis", "seed": 2, "initial": "random"},
             "panels": ["latticeDock", "observablesDock"], "fps": 20, "sweeps_per_frame": 20,
             "duration": 1.0, "keyframes": [{"t": 0.0, "temperature": 3.0}, {"t": 0.45, "temperature": 2.0},
                                            {"t": 1.0, "temperature": 2.0}],
             "overlay": {"show_tc_ratio": True, "show_xi": False}}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(scene))
    out = tmp_path / "out"
    assert cli("--scene", str(path), "--out", str(out), "--formats", "png,pdf") == 0
    names = sorted(os.listdir(out))
    assert names == ["lattice.pdf", "lattice.pdf.json", "lattice.png", "lattice.png.json",
                     "observables.pdf", "observables.pdf.json", "observables.png", "observables.png.json"]
    side = sidecar.load_sidecar(str(out / "observables.png.json"))
    assert side["sweeps"] == 20 * 20 and side["scene"].id == "tiny" and side["style"] == "screen"
    assert side["params"].temperature == pytest.approx(2.0)
    assert side["panel_state"]["scan"]["n"] == [11]  # frames 9..19 at T = 2, after the settle sweeps
    # the sidecar of a scene figure re-runs the scene: same lattice again
    again = tmp_path / "again"
    assert cli("--from", str(out / "lattice.png.json"), "--out", str(again), "--formats", "png", "--resimulate") == 0
    np.testing.assert_array_equal(spins_of(str(out / "lattice.png"), 16), spins_of(str(again / "lattice.png"), 16))
    # publication figures of the scene's panels, drawn from their data at the end
    pub = tmp_path / "pub"
    assert cli("--scene", str(path), "--out", str(pub), "--formats", "png", "--style", "publication") == 0
    assert sorted(os.listdir(pub)) == ["lattice.data.npz", "lattice.png", "lattice.png.json", "observables.data.npz",
                                       "observables.png", "observables.png.json"]
    side = sidecar.load_sidecar(str(pub / "observables.png.json"))
    assert side["style"] == "publication" and side["scene"].id == "tiny" and side["data"]["file"] == "observables.data.npz"


@pytest.mark.parametrize("args, message", [
    (["--from", "{missing}", "--out", "{tmp}/o"], "does not exist"),
    (["--from", "{bad}", "--out", "{tmp}/o"], "not valid JSON"),
    (["--scene", "no-such-scene", "--out", "{tmp}/o"], "no-such-scene"),
    (["--from", "{good}", "--out", "{tmp}/o", "--formats", "gif"], "gif"),
    (["--from", "{good}", "--out", "{file}/o"], "output folder"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, args, message):
    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "file").write_text("x")
    good = {"panel": "latticeDock", "sweeps": 1, "params": {"size": 16, "temperature": 2.0}}
    (tmp_path / "good.json").write_text(json.dumps(good))
    fill = {"missing": tmp_path / "nope.json", "bad": tmp_path / "bad.json", "good": tmp_path / "good.json",
            "tmp": tmp_path, "file": tmp_path / "file"}
    assert cli(*[a.format(**fill) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")


GOOD = {"panel": "latticeDock", "sweeps": 1, "params": {"size": 16, "temperature": 2.0}}


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown key(s) 'colour'"),
    ({"sweeps": 1.0}, "sweeps must be an integer"),
    ({"sweeps": True}, "sweeps must be an integer"),
    ({"sweeps": -1}, "sweeps must be between 0"),
    ({"params": {"size": True, "temperature": 2.0}}, "params.size must be an integer"),
    ({"params": {"size": 16, "temperature": "2.0"}}, "params.temperature must be a number"),
    ({"params": {"size": 16, "temperature": 2.0, "spin": 1}}, "unknown key(s) 'spin' in params"),
    ({"params": {"size": 16, "temperature": 2.0, "algorithm": "wolff", "field": 0.5}}, "does not support a field"),
    ({"panel": "nopeDock"}, "panel must be one of"),
    ({"panel_state": {"colormap": "jet"}}, "panel_state.colormap must be one of"),
    ({"panel_state": {"colormap": ["classic"]}}, "panel_state.colormap must be one of"),
    ({"panel_state": {"inputs": {"seedSpin": 2**40}}}, "panel_state.inputs.seedSpin must be between"),
    ({"panel_state": {"inputs": []}}, "panel_state.inputs must be an object"),
    ({"panel_state": {"scan": {}}}, "unknown key(s) 'scan' in panel_state"),  # an observables key
    ({"seed": 5}, "differs from params.seed"),
    ({"scale": 100}, "scale must be"),
    ({"schema": 2}, "schema must be 1"),
    ({"scene": "cool-through-tc"}, "scene must be an object"),
    ({"scene": {"format": 1}}, "is missing"),
])
def test_every_sidecar_field_is_checked(tmp_path, capsys, change, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**GOOD, **change}))
    assert cli("--from", str(path), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_work_limit_and_option_bounds(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**GOOD, "params": {"size": 4096, "temperature": 2.0}, "sweeps": 10**9}))
    assert cli("--from", str(path), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "sweeps x L^2 = 1000000000 x 4096^2" in err and "--allow-long" in err
    for option in (["--scale", "nan"], ["--scale", "0"], ["--dpi", "0"], ["--dpi", "1e9"], ["--formats", "png,png"],
                   ["--formats", ""], ["--formats", "png,jpg"]):
        assert cli("--from", str(path), "--out", str(tmp_path / "o"), "--allow-long", *option) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "o").exists()
