"""Headless automation of the window: `isinglab gui --run-seconds N` with --json, --export-data,
--export-figures [--formats] (docs/guide/automation.md). Every test runs the real command in a
subprocess, offscreen, with the software lattice view."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from isinglab.app.output.data_export import read_csv, read_npz
from isinglab.core.panel_ids import PANEL_IDS, file_stem

RUN = ["--no-gl", "--size", "32", "--run-seconds", "2"]


def _gui(*args, env_extra=None, timeout=150):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", "gui", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def _report(res) -> dict:
    """The one JSON object --json prints on stdout."""
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1, res.stdout
    return json.loads(lines[0])


def _errors(res) -> list[str]:
    return [line for line in res.stderr.splitlines() if line.startswith("isinglab: error")]


def test_json_reports_the_run_and_the_model_asked_for():
    res = _gui(*RUN, "--temperature", "3.1", "--coupling", "0.9", "--field", "0.05",
               "--algorithm", "heatbath", "--seed", "11", "--json")
    out = _report(res)
    assert out["model"] == {"size": 32, "temperature": 3.1, "coupling": 0.9, "field": 0.05,
                            "algorithm": "heatbath", "seed": 11}
    assert out["sweeps"] > 0 and out["sweeps_per_s"] > 0 and out["display_fps"] > 0
    assert out["seconds"] >= 1.95 and out["run_seconds"] == 2.0
    assert isinstance(out["equilibrium"], bool) and out["since_change"] > 0
    eq = out["equilibration"]
    assert {"equilibrated", "samples", "drift", "reason", "state"} <= set(eq)
    assert out["files"] == {"screenshot": None, "data": [], "figures": [], "sidecars": [], "figure_data": []}
    assert out["errors"] == []


def test_export_data_writes_the_data_sets_labelled_with_the_model(tmp_path):
    folder = tmp_path / "data"  # a new folder in an existing one: created at the end
    res = _gui("--no-gl", "--size", "32", "--run-seconds", "3", "--temperature", "3.0", "--seed", "5",
               "--export-data", str(folder), "--json")
    out = _report(res)
    assert out["sweeps"] > 0
    names = sorted(os.listdir(folder))
    assert {"tscan.csv", "tscan.npz", "lattice.npz", "lattice.png"} <= set(names), names
    assert sorted(out["files"]["data"]) == sorted(str(folder / n) for n in names)
    cols, meta = read_csv(str(folder / "tscan.csv"))
    assert meta["params"] == {"size": 32, "coupling": 1.0, "field": 0.0, "algorithm": "metropolis"}
    assert cols["T"].size >= 1 and np.all(cols["n"] > 0)
    assert abs(cols["T"][0] - 3.0) < 0.02
    table = np.loadtxt(folder / "tscan.csv", delimiter=",", skiprows=2, ndmin=2)  # comment line, header
    assert table.shape == (cols["T"].size, len(cols))
    arrays, meta = read_npz(str(folder / "lattice.npz"))
    assert meta["params"] == {"size": 32, "temperature": 3.0, "coupling": 1.0, "field": 0.0,
                              "algorithm": "metropolis", "seed": 5}
    spins = arrays["spins"]
    assert spins.shape == (32, 32) and set(np.unique(spins)) <= {-1, 1}


def test_export_figures_writes_every_panel_with_sidecars(tmp_path):
    """What File > Export > Export figure set writes, for every panel: each panel's figure as a
    PNG with its sidecar, and the panels with data in every format export supports."""
    from PySide6.QtGui import QImage
    folder = tmp_path / "figures"
    folder.mkdir()  # an existing folder is fine too
    res = _gui(*RUN, "--temperature", "2.5", "--export-figures", str(folder), "--json")
    out = _report(res)
    names = set(os.listdir(folder))
    files = out["files"]
    assert names == {os.path.basename(p) for p in files["figures"] + files["sidecars"] + files["figure_data"]}
    figures = [n for n in names if not n.endswith((".json", ".npz"))]
    assert all(f"{n}.json" in names for n in figures)  # every figure has its sidecar
    for panel in PANEL_IDS:
        stem = file_stem(panel)
        pngs = [n for n in figures if n.startswith(f"{stem}.") and n.endswith(".png")]
        assert pngs, f"no figure of {panel}: {sorted(names)}"
        for png in pngs:
            img = QImage(str(folder / png))
            assert not img.isNull() and img.width() > 50 and img.height() > 50, png
            sidecar = json.loads((folder / f"{png}.json").read_text())
            assert sidecar["panel"] == panel and sidecar["sweeps"] > 0
            assert sidecar["params"]["size"] == 32 and sidecar["params"]["temperature"] == 2.5
    for fmt in ("png", "svg", "pdf"):  # default: every format export supports
        assert {f"lattice.{fmt}", f"lattice.{fmt}.json"} <= names
    assert (folder / "lattice.svg").read_text().lstrip().startswith("<?xml")
    assert (folder / "lattice.pdf").read_bytes().startswith(b"%PDF")


def test_formats_and_screenshot_with_the_exports(tmp_path):
    figures, shot = tmp_path / "f", tmp_path / "shot.png"
    res = _gui(*RUN, "--export-figures", str(figures), "--formats", "svg,png", "--screenshot", str(shot), "--json")
    out = _report(res)
    names = os.listdir(figures)
    assert {"lattice.png", "lattice.svg"} <= set(names)
    assert not [n for n in names if ".pdf" in n]
    assert out["files"]["screenshot"] == str(shot) and shot.stat().st_size > 1000


def test_an_output_option_implies_a_one_second_run(tmp_path):
    t0 = time.monotonic()
    res = _gui("--no-gl", "--size", "32", "--export-data", str(tmp_path / "d"), "--json")
    out = _report(res)
    assert out["run_seconds"] == 1.0 and out["sweeps"] > 0
    assert (tmp_path / "d" / "lattice.npz").exists()
    assert time.monotonic() - t0 < 120


def _bad_cases(d):
    os.mkdir(os.path.join(d, "folder"))
    open(os.path.join(d, "file"), "w").close()
    missing = os.path.join(d, "missing", "out")
    return [
        (["--export-data", missing], "does not exist"),
        (["--export-figures", missing], "does not exist"),
        (["--export-data", os.path.join(d, "file")], "is a file"),
        (["--export-figures", os.path.join(d, "file")], "is a file"),
        (["--export-data", os.path.join(d, "file", "sub")], "not a folder"),
        (["--export-data", "/dev/null"], "not a folder"),
        (["--export-figures", "/dev/full"], "not a folder"),
        (["--export-figures", ""], "not a valid folder name"),
        (["--export-figures", os.path.join(d, "folder"), "--formats", "png,gif"], "unknown 'gif'"),
        (["--export-figures", os.path.join(d, "folder"), "--formats", "png,png"], "given twice"),
        (["--formats", "png"], "only with --export-figures"),
        (["--export-data", os.path.join(d, "folder"), "--export-figures", os.path.join(d, "folder")],
         "two different folders"),
    ]


@pytest.mark.parametrize("index", range(12))
def test_bad_paths_are_one_line_and_write_nothing(tmp_path, index):
    work = tmp_path / "work"
    work.mkdir()
    argv, reason = _bad_cases(str(work))[index]
    before = sorted(os.listdir(work))
    t0 = time.monotonic()
    res = _gui("--no-gl", "--size", "16", *argv, "--json", timeout=60)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isinglab: error: "), res.stderr
    assert reason in lines[0], lines[0]
    assert res.stdout == ""
    assert sorted(os.listdir(work)) == before and os.listdir(work / "folder") == []
    assert time.monotonic() - t0 < 30  # refused before the window opened (no run)
    assert os.path.exists("/dev/null") and not os.path.exists("/dev/null.json")


@pytest.mark.parametrize("option", ["--export-data", "--export-figures"])
def test_a_failed_export_at_the_end_is_one_line_and_exit_2(tmp_path, option):
    """The folder passed the check, but a folder sits where lattice.png/.npz goes: the export
    fails at the end of the run; the window still closes and the report says why."""
    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("lattice.npz", "lattice.png", "lattice.png.json", "lattice.screen.png", "lattice.data.npz"):
        (folder / name).mkdir()
    t0 = time.monotonic()
    res = _gui("--no-gl", "--size", "32", "--run-seconds", "1", option, str(folder), "--json", timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    errors = _errors(res)
    assert len(errors) == 1 and errors[0].startswith(f"isinglab: error: {option}: "), res.stderr
    assert "it is a folder" in errors[0]
    out = json.loads(res.stdout)
    assert out["sweeps"] > 0 and len(out["errors"]) == 1
    assert not [n for n in os.listdir(folder) if n.startswith(".isinglab-tmp")]
    assert time.monotonic() - t0 < 120


@pytest.mark.slow
def test_a_cold_kernel_cache_is_waited_for_before_the_clock(tmp_path):
    """The first run after an install compiles the kernels (about 25 s on the 2-core test
    machine): the clock starts with the first sweep, so the run still does sweeps."""
    res = _gui("--no-gl", "--size", "32", "--run-seconds", "1", "--json",
               env_extra={"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}, timeout=600)
    out = _report(res)
    assert out["sweeps"] > 0 and out["sweeps_per_s"] > 0
    assert out["waited_for_first_sweep_s"] > 0
    if out["waited_for_first_sweep_s"] > 3.5:  # the note comes after 3 s without a sweep
        assert "compiling kernels" in res.stderr


def test_window_size_and_scene_without_presenter_mode(tmp_path):
    """--window-size and --scene alone: the report gives the rectangles and colours a script
    needs to read the screenshot (tests/cli/test_presenter_automation.py: with --presenter)."""
    from PySide6.QtGui import QImage
    shot = tmp_path / "shot.png"
    res = _gui("--no-gl", "--scene", "antiferromagnet", "--window-size", "1600x1000", "--run-seconds", "1",
               "--screenshot", str(shot), "--json", env_extra={"ISINGLAB_CONFIG_DIR": str(tmp_path / "config")})
    out = _report(res)
    assert out["window_rect"]["width"] == 1600 and out["window_rect"]["height"] == 1000
    img = QImage(str(shot))
    ratio = out["device_pixel_ratio"]
    assert (img.width(), img.height()) == (round(1600 * ratio), round(1000 * ratio))
    lat = out["lattice_rect"]
    assert lat["width"] > 0 and lat["height"] > 0
    assert lat["x"] + lat["width"] <= 1600 and lat["y"] + lat["height"] <= 1000
    assert out["spin_colours"] == {"colormap": "classic", "up": [24, 42, 110], "down": [250, 236, 160]}
    assert out["overlay_rect"] is None and out["presenter"] == {"active": False, "panel": None}
    scene = out["scene"]
    assert scene["id"] == "antiferromagnet" and scene["frame"] >= 1 and scene["frames"] > scene["frame"]
    assert out["model"]["coupling"] < 0  # the scene's model (J = -1), not the command line's
    assert out["sweeps"] > 0


def test_the_report_has_the_rectangles_without_lecture_options():
    out = _report(_gui(*RUN, "--json"))
    assert out["window_rect"]["width"] >= 1280 and out["lattice_rect"]["width"] > 0
    assert out["overlay_rect"] is None and out["scene"] is None and not out["presenter"]["active"]
