"""Scene files: the built-ins validate, bad files are rejected with a clear message, replay is exact."""
import json
import os
import time

import numpy as np
import pytest

from isinglab.core import scenes
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

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


# ---------------------------------------------------------------------------------- strict files and types

STRICT = [
    (tiny(format=1.0), "format must be 1"),
    (tiny(format=True), "format must be 1"),
    (tiny(fps=True), "fps must be an integer"),
    (tiny(fps=10.0), "fps must be an integer"),
    (tiny(sweeps_per_frame=10001), "sweeps_per_frame must be between"),
    (tiny(duration=3600.5), "duration must be"),
    (tiny(model={"size": 16.0, "temperature": 2.0}), "model.size must be an integer"),
    (tiny(model={"size": True, "temperature": 2.0}), "model.size must be an integer"),
    (tiny(model={"size": 16, "temperature": "2.0"}), "model.temperature must be a number"),
    (tiny(model={"size": 16, "temperature": 10**30}), "model.temperature must be"),
    (tiny(model={"size": 8192, "temperature": 2.0}), "model.size must be between 2 and 4096"),
    (tiny(name="two\nlines"), "name must be one line"),
    (tiny(name="x" * 201), "name must be at most 200"),
    (tiny(id="tiny\n"), "id must be"),
    (tiny(overlay={"show_xi": 1}), "overlay.show_xi must be true or false"),
    (tiny(movie={"block_levels": True}), "movie.block_levels must be an integer"),
    (tiny(keyframes=[{"t": 0.001 * i, "temperature": 2.0} for i in range(1, 1002)]), "at most 1000"),
    (tiny(panels=["latticeDock"] * (len(scenes.PANELS) + 1)), "panels must be a non-empty list"),
]


@pytest.mark.parametrize("data,message", STRICT, ids=[m for _, m in STRICT])
def test_strict_types_and_ranges(tmp_path, data, message):
    with pytest.raises(IsingLabError) as info:
        scenes.load_scene(write(tmp_path, data))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("blob,message", [
    (b'{"format": 1, "format": 1}', "appears twice"),
    (b'{"a": 1e400}', "out of range"),
    (b'{"a": Infinity}', "not valid JSON"),
    (b"[" * 100 + b"]" * 100, "nested deeper"),
    (json.dumps(tiny()).encode("utf-16"), "UTF-16"),
    (json.dumps(tiny()).encode("utf-32-le"), "UTF-32"),
    (b'{"name": "caf\xe9"}', "not UTF-8"),
    (b"[]", "top level must be a JSON object"),
    (b"", "not valid JSON"),
])
def test_file_rules_of_the_shared_loader(tmp_path, blob, message):
    path = tmp_path / "s.json"
    path.write_bytes(blob)
    with pytest.raises(IsingLabError, match=message):
        scenes.load_scene(str(path))


def test_a_utf8_bom_is_accepted_and_big_files_are_refused_before_reading(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(tiny()).encode())
    assert scenes.load_scene(str(path)).id == "tiny"
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(100 * 2**20)  # sparse: refused by its size, never read
    with pytest.raises(IsingLabError, match="larger than the limit of 1.0 MiB"):
        scenes.load_scene(str(big))
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # a blocking read would never return
    with pytest.raises(IsingLabError, match="not a regular file"):
        scenes.load_scene(str(fifo))


def test_timeline_matches_the_keyframes_and_an_hour_long_scene_loads_fast(tmp_path):
    s = scenes.load_scene(write(tmp_path, tiny(keyframes=[
        {"t": 0.0, "temperature": 2.5, "reset": "down"}, {"t": 0.3, "size": 32, "coupling": 0.5},
        {"t": 0.31, "size": 16, "seed": 3}, {"t": 0.5, "temperature": 2.0, "reset": "up"}])))
    cols = list(zip(*s.frame_columns()))
    for k in range(s.n_frames):
        p = s.params_at_frame(k)
        assert ModelParams(*cols[k]) == p
        assert p.size == (32 if k == 3 else 16)
    assert s.events_at_frame(0) == ["down"] and s.events_at_frame(5) == ["up"] and s.events_at_frame(1) == []
    assert s.sizes() == {16: 9, 32: 1}
    assert s.spin_updates() == 2 * (9 * 16**2 + 32**2) == sum(s.spin_updates_by_algorithm().values())
    assert s.spin_updates(stop=3) == 3 * 2 * 16**2
    long = tiny(fps=120, duration=3600.0, sweeps_per_frame=10000, model={"size": 4096, "temperature": 2.0},
                keyframes=[{"t": 3.6 * i, "temperature": 2.0 + (i % 7) / 10} for i in range(1000)])
    t0 = time.perf_counter()
    s = scenes.load_scene(write(tmp_path, long, "long.json"))
    assert time.perf_counter() - t0 < 20  # was O(frames x keyframes): minutes
    assert s.spin_updates() == 432000 * 10000 * 4096**2
    with pytest.raises(IsingLabError, match="--allow-long"):
        scenes.check_replay_work("scene long", s.spin_updates_by_algorithm())
