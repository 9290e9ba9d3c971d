"""Movies: playable MP4/GIF with the expected frame count, atomic writes, CLI errors, live recording."""
import json
import os

import numpy as np
import pytest

from isinglab.app.output import movie

from isinglab.app.commands import movie as movie_command
from isinglab.core.cli import main as cli_main
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams
from isinglab.core.scenes import load_scene
from isinglab.core.tasks import Cancelled, TaskState

SCENE = {"format": 1, "id": "movie-test", "name": "Movie test", "description": "small and short",
         "model": {"size": 32, "temperature": 2.0, "algorithm": "metropolis", "seed": 3},
         "panels": ["latticeDock"], "fps": 10, "sweeps_per_frame": 1, "duration": 1.2,
         "keyframes": [{"t": 1.0, "temperature": 3.0}], "movie": {"block_levels": 2}}


@pytest.fixture
def scene_file(tmp_path):
    path = tmp_path / "movie-test.json"
    path.write_text(json.dumps(SCENE))
    return str(path)


def leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".isinglab")]


@pytest.mark.parametrize("ext", ["mp4", "gif"])
def test_scene_movie_has_expected_frames_and_size(tmp_path, scene_file, ext):
    out = tmp_path / f"m.{ext}"
    info = movie.record_scene(scene_file, out, size=(96, 32))
    assert info["frames"] == 12 and info["block_levels"] == 2
    assert movie.count_frames(out) == 12
    import imageio.v3 as iio
    first = next(iter(iio.imiter(out)))
    assert first.shape[:2] == (32, 96)
    assert leftovers(tmp_path) == []


def test_frames_show_the_lattice_and_its_levels(scene_file):
    spins = np.ones((32, 32), np.int8)
    spins[:16] = -1
    idx = movie.index_frame(spins, (96, 32), levels=2)
    side, xs, y0 = movie.layout((96, 32), 3)
    assert idx.shape == (32, 96) and set(np.unique(idx)) == {0, 1, 2}
    for x in xs:  # each panel: down on top, up below
        panel = idx[y0:y0 + side, x:x + side]
        assert (panel[: side // 2 - 1] == 0).all() and (panel[side // 2 + 1:] == 1).all()


def test_bad_output_is_refused_and_nothing_is_written(tmp_path, scene_file):
    with pytest.raises(IsingLabError, match="must end in .mp4 or .gif"):
        movie.record_scene(scene_file, tmp_path / "m.avi", size=(32, 32))
    with pytest.raises(IsingLabError, match="does not exist"):
        movie.record_scene(scene_file, tmp_path / "no" / "m.mp4", size=(32, 32))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root can write anywhere
            with pytest.raises(IsingLabError, match="no permission to write"):
                movie.record_scene(scene_file, locked / "m.mp4", size=(32, 32))
    finally:
        locked.chmod(0o700)
    with pytest.raises(IsingLabError, match="between 0 and 4"):
        movie.record_scene(load_scene(scene_file), tmp_path / "m.mp4", size=(32, 32), levels=5)
    with pytest.raises(IsingLabError, match="cannot be blocked"):
        movie.check_levels(36, 3)
    with pytest.raises(IsingLabError, match="write /proc/m.mp4"):  # unwritable even for root
        movie.record_scene(scene_file, "/proc/m.mp4", size=(32, 32))
    for text in ("512", "511x512", "8x8"):
        with pytest.raises(IsingLabError):
            movie.parse_size(text)
    assert movie.parse_size("640x360") == (640, 360)


def test_cancel_leaves_nothing(tmp_path, scene_file):
    task = TaskState()
    calls = []

    def progress(fraction, text):
        calls.append(fraction)
        if len(calls) == 3:
            task.cancel()
    task._on_progress = progress
    with pytest.raises(Cancelled):
        movie.record_scene(scene_file, tmp_path / "m.mp4", size=(32, 32), task=task)
    assert os.listdir(tmp_path) == ["movie-test.json"]


def test_cli_movie_and_its_errors(tmp_path, scene_file, capsys):
    out = tmp_path / "cli.gif"
    argv = ["movie", "--scene", scene_file, "--out", str(out), "--size", "64x32", "--frames", "5", "--json"]
    assert cli_main(argv, extra_commands=[movie_command]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 5 and movie.count_frames(out) == 5
    assert cli_main(["movie", "--scene", "no-such-scene", "--out", str(tmp_path / "x.mp4")],
                    extra_commands=[movie_command]) == 2
    assert "unknown scene 'no-such-scene'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "id": "bad"}')
    assert cli_main(["movie", "--scene", str(bad), "--out", str(tmp_path / "x.mp4")],
                    extra_commands=[movie_command]) == 2
    assert "missing" in capsys.readouterr().err
    assert cli_main(["movie", "--scene", scene_file, "--out", str(tmp_path / "nope" / "x.mp4")],
                    extra_commands=[movie_command]) == 2
    assert not (tmp_path / "x.mp4").exists() and leftovers(tmp_path) == []


def test_gui_scene_movie_and_live_recording(qtbot, tmp_path, scene_file):
    from isinglab.app.window.main_window import MainWindow
    win = MainWindow(ModelParams(size=32, temperature=2.5, seed=1), no_gl=True)
    qtbot.addWidget(win)
    win.show()
    try:
        actions = win.movies
        with qtbot.waitSignal(actions.runner.finished, timeout=60000):
            actions.record_scene(scene_file, str(tmp_path / "scene.mp4"), size=(64, 32))
        assert actions.last_result["frames"] == 12 and movie.count_frames(tmp_path / "scene.mp4") == 12
        win.named_actions["run"].setChecked(True)
        assert actions.start_live(str(tmp_path / "live.mp4"), size=(64, 64), fps=30)
        assert actions.live_action.isChecked()
        qtbot.waitUntil(lambda: actions.live.frames >= 10, timeout=20000)
        result = actions.stop_live()
        assert result["frames"] >= 10 and movie.count_frames(tmp_path / "live.mp4") == result["frames"]
        assert not actions.live_action.isChecked() and leftovers(tmp_path) == []
    finally:
        win.close()


@pytest.mark.parametrize("option", [["--fps", "0"], ["--fps", "121"], ["--frames", "0"], ["--frames", "-3"],
                                    ["--levels", "5"], ["--levels", "nan"], ["--colormap", "jet"],
                                    ["--size", "15x15"]])
def test_cli_movie_refuses_zero_and_out_of_range_options(tmp_path, scene_file, capsys, option):
    out = tmp_path / "o.gif"
    assert cli_main(["movie", "--scene", scene_file, "--out", str(out), *option], extra_commands=[movie_command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []


def test_cli_movie_checks_the_output_and_the_work_before_starting(tmp_path, scene_file, capsys):
    for out in (tmp_path / "m.avi", tmp_path, tmp_path / "missing" / "m.mp4"):
        assert cli_main(["movie", "--scene", scene_file, "--out", str(out)], extra_commands=[movie_command]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    long = tmp_path / "long.json"
    long.write_text(json.dumps({**SCENE, "model": {**SCENE["model"], "size": 4096}, "fps": 120,
                                "sweeps_per_frame": 10000, "duration": 3600.0, "movie": {}}))
    assert cli_main(["movie", "--scene", str(long), "--out", str(tmp_path / "m.mp4")],
                    extra_commands=[movie_command]) == 2
    err = capsys.readouterr().err
    assert "--allow-long" in err and "spin updates" in err and "limit" in err
    assert not (tmp_path / "m.mp4").exists() and leftovers(tmp_path) == []
