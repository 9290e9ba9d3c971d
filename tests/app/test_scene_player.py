"""The scene player drives the live engine deterministically and shows the scene's panels."""
import json

import numpy as np
import pytest
from PySide6.QtGui import QAction

from isinglab.app.lecture import scene_player
from isinglab.core import scenes
from isinglab.core.params import ModelParams

SCENE = {"format": 1, "id": "player-test", "name": "Player test", "description": "two resets, a T ramp",
         "model": {"size": 32, "temperature": 3.0, "algorithm": "metropolis", "seed": 11},
         "panels": ["latticeDock", "controlsDock"], "fps": 60, "sweeps_per_frame": 3, "duration": 0.25,
         "keyframes": [{"t": 0.1, "temperature": 1.8}, {"t": 0.15, "reset": "down", "seed": 12},
                       {"t": 0.2, "algorithm": "heatbath"}]}


@pytest.fixture
def window(open_window):
    return open_window(ModelParams(size=64, temperature=2.0, seed=1), (1100, 700), no_gl=True)


@pytest.fixture
def scene_file(tmp_path):
    path = tmp_path / "player-test.json"
    path.write_text(json.dumps(SCENE))
    return str(path)


def test_driver_matches_headless_replay_and_repeats(window, scene_file):
    scene = scenes.load_scene(scene_file)
    expected = list(scenes.frames(scene))[-1]
    window.engine.set_running(True)  # free running must not disturb the scene
    finals = []
    for _ in range(2):
        driver = scene_player.SceneDriver(window.engine, scene)
        driver.run_blocking(timeout=60)
        snap = window.engine.latest()
        finals.append(snap.spins.copy())
        assert snap.params == expected.params
        assert window.engine.publish_interval > 0  # restored after the scene
    assert np.array_equal(finals[0], finals[1])
    assert np.array_equal(finals[0], expected.spins)


def test_driver_sends_only_changes_and_announces_resets(window, scene_file):
    """A frame that changes nothing sends nothing, so the engine's count of sweeps since the last
    change grows through a hold (it was reset every frame: nothing ever reached equilibrium in
    a scene); each reset is announced with its request serial."""
    scene = scenes.load_scene(scene_file)
    resets = []
    driver = scene_player.SceneDriver(window.engine, scene, on_reset=resets.append)
    driver.run_blocking(timeout=60)
    snap = window.engine.latest()
    last_change = scene.frame_of(0.2)  # the algorithm keyframe; T, seed and the rest held after it
    assert snap.since_change == (scene.n_frames - last_change) * scene.sweeps_per_frame
    assert len(resets) == 2  # the model's initial state at frame 0, "down" at t = 0.15
    assert resets == sorted(resets) and snap.request_serial > resets[-1]


def test_player_plays_a_scene_with_panels_and_progress(window, qtbot, scene_file):
    player = window.scene_player
    assert window.findChild(QAction, "scenePlayAction") is not None
    assert [a.shortcut().toString() for a in (player.next_action, player.previous_action)] == ["PgDown", "PgUp"]
    user = {name for name, dock in window.docks.items() if dock.isVisible()}
    frames, shown = [], []
    player.frame_done.connect(frames.append)
    player.frame_done.connect(lambda _k: shown.append({n for n, d in window.docks.items() if d.isVisible()}))
    with qtbot.waitSignal(player.finished, timeout=60000):
        player.load(scene_file, play=True)
    scene = player.scene
    assert frames == list(range(scene.n_frames))
    assert player.progress.value() == scene.n_frames
    assert all(s == {"latticeDock", "controlsDock"} for s in shown)  # the scene's docks while it plays
    assert {name for name, dock in window.docks.items() if dock.isVisible()} == user  # then the user's
    assert not window.named_actions["run"].isChecked() and not player.playing
    expected = list(scenes.frames(scene))[-1].spins
    assert np.array_equal(window.engine.latest().spins, expected)
    assert window.controls.temperature == pytest.approx(1.8)


def test_clicker_keys_step_through_scenes_and_bad_scene_is_reported(window, qtbot, tmp_path):
    player = window.scene_player
    ids = [i.id for i in scenes.list_scenes()]
    player.next_action.trigger()
    assert player.scene.id == ids[0] and player.playing
    player.previous_action.trigger()
    assert player.scene.id == ids[-1]
    player.play_action.trigger()  # pause
    assert not player.playing
    assert set(player.scene.panels) == {n for n, d in window.docks.items() if d.isVisible()}
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1')
    assert player.load(str(bad)) is None
    assert "not valid JSON" in window.statusBar().currentMessage()
    assert player.scene.id == ids[-1]  # the previous scene stays
