"""Scene files: the built-ins validate, bad files are rejected with a clear message, replay is exact."""
import json

import numpy as np
import pytest

from isinglab.core import scenes
from isinglab.core.errors import IsingLabError

REQUIRED_IDS = {"cool-through-tc", "quench-coarsening", "critical-self-similarity", "hysteresis-field",
                "antiferromagnet", "network-learns-h"}


def tiny(**overrides) -> dict:
    data = {"format": 1, "id": "tiny", "name": "Tiny", "description": "test scene",
            "model": {"size": 16, "temperature": 3.0, "algorithm": "metropolis", "seed": 7},
            "panels": ["latticeDock"], "fps": 10, "sweeps_per_frame": 2, "duration": 1.0,
            "keyframes": [{"t": 0.5, "temperature": 2.0}, {"t": 0.8, "reset": "up", "seed": 9}]}
    data.update(overrides)
    return data


def write(tmp_path, data, name="scene.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_builtin_scenes_validate_and_round_trip():
    infos = scenes.list_scenes()
    assert REQUIRED_IDS <= {i.id for i in infos}
    for info in infos:
        scene = scenes.load_scene(info.id)
        assert scene.name == info.name and scene.description
        assert scenes.parse_scene(scene.to_json()).to_dict() == scene.to_dict()
        for k in (0, scene.n_frames // 2, scene.n_frames - 1):
            scene.params_at_frame(k).validated()


def test_interpolation_and_discrete_events(tmp_path):
    s = scenes.load_scene(write(tmp_path, tiny()))
    assert s.n_frames == 10
    assert s.params_at(0.0).temperature == 3.0
    assert s.params_at(0.25).temperature == pytest.approx(2.5)
    assert s.params_at(0.9).temperature == 2.0  # held after the last keyframe
    assert s.params_at_frame(7).seed == 7 and s.params_at_frame(8).seed == 9
    assert s.events_at_frame(0) == ["random"] and s.events_at_frame(8) == ["up"]
    assert s.events_at_frame(5) == []


BAD = [
    ("{not json", "not valid JSON"),
    (tiny(colour="red"), "unknown key(s) 'colour'"),
    (tiny(fps="30"), "fps must be an integer"),
    (tiny(fps=0), "fps must be between"),
    (tiny(duration=-1), "duration must be"),
    (tiny(panels=["latticeDock", "nopeDock"]), "panels[1] must be one of"),
    (tiny(model={"size": 16, "temperature": -1.0}), "model.temperature"),
    (tiny(model={"size": 15, "temperature": 2.0}), "even L"),
    (tiny(keyframes=[{"t": 0.5, "temperature": 2.0}, {"t": 0.4, "temperature": 2.5}]), "must increase"),
    (tiny(keyframes=[{"t": 2.0, "temperature": 2.0}]), "keyframes[0].t"),
    (tiny(keyframes=[{"temperature": 2.0}]), "missing 't'"),
    (tiny(keyframes=[{"t": 0.5, "spin": 1}]), "unknown key(s) 'spin'"),
    (tiny(keyframes=[{"t": 0.5, "reset": "sideways"}]), "reset must be one of"),
    (tiny(keyframes=[{"t": 0.5, "algorithm": "wolff"}, {"t": 0.7, "field": 0.5}]), "does not support a field"),
    (tiny(format=2), "format must be 1"),
    (tiny(id="Bad Id"), "id must be"),
    ('{"format": 1, "temperature": NaN}', "not valid JSON"),
]


@pytest.mark.parametrize("data,message", BAD, ids=[m for _, m in BAD])
def test_bad_scene_is_rejected_with_a_message(tmp_path, data, message):
    with pytest.raises(IsingLabError) as info:
        scenes.load_scene(write(tmp_path, data))
    assert message in str(info.value)
    assert "scene" in str(info.value)


def test_unknown_scene_names_the_choices(tmp_path):
    with pytest.raises(IsingLabError, match="unknown scene 'no-such-scene'.*cool-through-tc"):
        scenes.load_scene("no-such-scene")
    with pytest.raises(IsingLabError, match="does not exist"):
        scenes.load_scene(str(tmp_path / "missing.json"))


def test_headless_replay_is_deterministic(tmp_path):
    s = scenes.load_scene(write(tmp_path, tiny()))
    a = [f.spins for f in scenes.frames(s)]
    b = [f.spins for f in scenes.frames(s)]
    assert len(a) == s.n_frames
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert a[8].mean() > 0.8  # mostly up right after the reset at T = 2 < T_c
    part = list(scenes.frames(s, start=3, stop=5))
    assert [f.index for f in part] == [3, 4] and np.array_equal(part[0].spins, a[3])
