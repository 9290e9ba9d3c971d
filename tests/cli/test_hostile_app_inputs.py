"""Hostile input to the app's commands and the files they read: every refusal is exactly one line
on stderr, exit status 2, no traceback, nothing written, no hang.

Property-based (hypothesis) for files: valid scenes and sidecars are mutated (wrong types,
out-of-range and overflowing numbers, unknown keys, NaN literals, deep nesting, huge files, wrong
encodings, truncated JSON) and fed to `isinglab figure --from`, `figure --scene`, `movie --scene`
and core.scenes.load_scene. Table-driven and property-based for the numeric options of figure,
movie, self-test and gui. Every hostile strategy generates only inputs that must be refused (a
valid one would start real work); valid but long jobs are generated with a margin above the
work limit. Commands run in-process (`isinglab.app.commands.entry.main`) where they stop before Qt
starts, in a subprocess where Qt's platform choice matters.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isinglab.app.commands import entry
from isinglab.core import json_files, scenes
from isinglab.core.errors import IsingLabError
from isinglab.core.limits import MAX_WORK_SECONDS, estimate_seconds

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=20)

SCENE = {"format": 1, "id": "tiny", "name": "Tiny", "description": "a small valid scene",
         "model": {"size": 16, "temperature": 3.0, "coupling": 1.0, "field": 0.0,
                   "algorithm": "metropolis", "seed": 2, "initial": "random"},
         "panels": ["latticeDock", "observablesDock"], "fps": 10, "sweeps_per_frame": 2, "duration": 1.0,
         "keyframes": [{"t": 0.5, "temperature": 2.0}, {"t": 0.8, "reset": "up"}],
         "overlay": {"show_tc_ratio": True, "show_xi": False}, "movie": {"block_levels": 1}}

SIDECAR = {"isinglab_version": "0.1.0", "schema": 1, "panel": "latticeDock", "format": "png",
           "file": "lattice.png", "created": "2026-01-01T00:00:00+00:00",
           "params": {"size": 16, "temperature": 2.0, "coupling": 1.0, "field": 0.0,
                      "algorithm": "metropolis", "seed": 2},
           "sweeps": 20, "algorithm": "metropolis", "backend": {"engine": ["numba", None],
                                                               "kernel": "numba:metropolis", "view": "pyqtgraph"},
           "seed": 2, "initial": "random", "scale": 2.0, "dpi": 150, "size_px": [1120, 1120],
           "panel_state": {"inputs": {"seedSpin": 2, "colormapCombo": "classic"}, "colormap": "classic",
                           "show_domain_walls": False, "show_cluster": False, "view_backend": "pyqtgraph"}}

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


# ------------------------------------------------------------------------------ harness

def run_cli(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    rc = entry.main([str(a) for a in argv])
    return rc, capsys.readouterr().err


def assert_refused(rc: int, err: str, folder=None) -> str:
    assert "Traceback" not in err, err
    assert rc == 2, (rc, err)
    assert err.endswith("\n") and err.count("\n") == 1, f"not exactly one line: {err!r}"
    assert err.strip(), "empty message"
    if folder is not None:
        assert not os.path.exists(folder) or os.listdir(folder) == [], os.listdir(folder)
    return err


def set_at(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def del_at(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


PLACEHOLDER = "\x00HOSTILE\x00"


def text_with_literal(base: dict, path, literal: str) -> str:
    """json text of base with the value at path replaced by raw JSON text `literal`."""
    data = copy.deepcopy(base)
    set_at(data, path, PLACEHOLDER)
    return json.dumps(data).replace(json.dumps(PLACEHOLDER), literal)


# ------------------------------------------------------------------------------ hostile values

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=6)
containers = st.one_of(st.lists(json_scalars, max_size=3), st.dictionaries(st.text(max_size=5), json_scalars,
                                                                           max_size=3))


def not_int(lo, hi):
    """Anything an integer field in [lo, hi] must refuse (floats, even 16.0, and bools included)."""
    return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1),
                     st.integers(min_value=10**45),  # longer than the loader allows
                     st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
                     st.text(max_size=10), containers)


def not_number(lo, hi, lo_open=False):
    low = st.floats(max_value=lo, exclude_max=not lo_open, allow_nan=False, allow_infinity=False)
    return st.one_of(low, st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False),
                     st.integers(max_value=math.floor(lo) - (0 if lo_open else 1)),
                     st.integers(min_value=math.floor(hi) + 1),
                     st.booleans(), st.none(), st.text(max_size=10).filter(lambda s: s != ""), containers)


def not_choice(choices):
    return st.one_of(st.text(max_size=20).filter(lambda s: s not in choices), st.booleans(), st.none(),
                     st.integers(), containers, st.just([choices[0]]))


def not_bool():
    return st.one_of(st.integers(0, 1), st.text(max_size=5), st.none(), containers)


def not_text(max_len):
    return st.one_of(st.integers(), st.booleans(), st.none(), containers,
                     st.integers(max_len + 1, max_len + 50).map(lambda n: "x" * n))


ALGOS = ("metropolis", "heatbath", "wolff", "swendsen-wang", "multispin")
SCENE_FIELDS = {
    ("format",): not_int(1, 1),
    ("id",): st.one_of(st.text(max_size=70).filter(lambda s: not ID_RE.fullmatch(s)), st.integers(), st.none()),
    ("name",): st.one_of(not_text(200), st.sampled_from(["", "   ", "two\nlines", "tab\there"])),
    ("description",): not_text(4000),
    ("model",): st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(json_scalars, max_size=2)),
    ("model", "size"): not_int(2, 4096),
    ("model", "temperature"): not_number(0.0, 1e6, lo_open=True),
    ("model", "coupling"): not_number(-1e6, 1e6),
    ("model", "field"): not_number(-1e6, 1e6),
    ("model", "algorithm"): not_choice(ALGOS),
    ("model", "seed"): not_int(0, 2**63 - 1),
    ("model", "initial"): not_choice(("random", "up", "down")),
    ("panels",): st.one_of(st.just([]), st.just(["latticeDock", "latticeDock"]), st.just(["nopeDock"]),
                           st.text(max_size=5), st.none(), st.just(["latticeDock"] * 7), st.just([1])),
    ("fps",): not_int(1, 120),
    ("sweeps_per_frame",): not_int(1, 10000),
    ("duration",): not_number(0.0, 3600.0, lo_open=True),
    ("keyframes",): st.one_of(st.none(), st.text(max_size=5), st.integers(), st.dictionaries(st.text(max_size=3),
                                                                                            json_scalars, max_size=2)),
    ("keyframes", 0): st.one_of(st.none(), st.integers(), st.just({"t": 0.5}), st.just({"temperature": 2.0}),
                                st.just({"t": 0.5, "spin": 1}), st.just({"t": 0.9, "temperature": 2.0})),
    ("keyframes", 0, "t"): st.one_of(not_number(0.0, 0.8), st.just(0.8)),  # 0.8 does not increase
    ("keyframes", 0, "temperature"): not_number(0.0, 1e6, lo_open=True),
    ("keyframes", 1, "reset"): not_choice(("random", "up", "down")),
    ("overlay",): st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(json_scalars, max_size=2)),
    ("overlay", "show_xi"): not_bool(),
    ("movie", "block_levels"): not_int(0, 4),
}

SIDECAR_FIELDS = {
    ("panel",): not_choice(("latticeDock", "controlsDock", "observablesDock", "blocksDock",
                            "correlationDock", "networkDock")),
    ("sweeps",): not_int(0, 10**9),
    ("params",): st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(json_scalars, max_size=2)),
    ("params", "size"): not_int(2, 4096),
    ("params", "temperature"): not_number(0.0, 1e6, lo_open=True),
    ("params", "coupling"): not_number(-1e6, 1e6),
    ("params", "field"): not_number(-1e6, 1e6),
    ("params", "algorithm"): not_choice(ALGOS),
    ("params", "seed"): not_int(0, 2**63 - 1),
    ("schema",): not_int(1, 1),
    ("format",): not_choice(("png", "svg", "pdf")),
    ("isinglab_version",): not_text(64),
    ("initial",): not_choice(("random", "up", "down")),
    ("seed",): st.one_of(st.integers(3, 2**63 - 1), st.integers(max_value=1), not_int(0, 2**63 - 1)),
    ("algorithm",): not_choice(("metropolis",)),
    ("scale",): not_number(0.1, 16.0),
    ("dpi",): not_int(30, 2400),
    ("size_px",): st.one_of(st.just([1]), st.just([1, 2, 3]), st.just(["a", 1]), st.none(), st.text(max_size=3),
                            st.just([-1, 5]), st.just([1.5, 2])),
    ("backend",): st.one_of(st.none(), st.integers(), st.text(max_size=3), st.just({"gpu": "yes"})),
    ("panel_state",): st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(json_scalars, max_size=2)),
    ("panel_state", "colormap"): not_choice(("classic", "grey", "high-contrast")),
    ("panel_state", "show_domain_walls"): not_bool(),
    ("panel_state", "inputs"): st.one_of(st.none(), st.integers(), st.text(max_size=3),
                                         st.lists(json_scalars, max_size=2)),
    ("panel_state", "inputs", "seedSpin"): st.one_of(st.integers(min_value=2**31), st.integers(max_value=-2**31),
                                                     st.none(), containers,
                                                     st.integers(1001, 1100).map(lambda n: "9" * n)),
    ("scene",): st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(json_scalars, max_size=2)),
}


@st.composite
def hostile_json(draw, base: dict, fields: dict, allowed_keys: dict, required: list):
    """(bytes of a file that must be refused, what was done): one mutation of a valid document."""
    kind = draw(st.sampled_from(["field", "field", "field", "unknown", "missing", "literal", "nesting",
                                 "truncate", "duplicate", "encoding", "top", "surrogate", "garbage"]))
    data = copy.deepcopy(base)
    if kind == "field":
        path = draw(st.sampled_from(sorted(fields, key=repr)))
        set_at(data, path, draw(fields[path]))
        return json.dumps(data).encode(), f"{path} mutated"
    if kind == "unknown":
        where = draw(st.sampled_from(sorted(allowed_keys, key=repr)))
        key = draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in allowed_keys[where]))
        target = data
        for p in where:
            target = target[p]
        target[key] = draw(json_scalars)
        return json.dumps(data).encode(), f"unknown key {key!r} in {where}"
    if kind == "missing":
        path = draw(st.sampled_from(required))
        del_at(data, path)
        return json.dumps(data).encode(), f"missing {path}"
    if kind == "literal":
        path = draw(st.sampled_from([p for p in sorted(fields, key=repr) if _is_number(base, p)]))
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * 400,
                                        "9" * 60]))
        return text_with_literal(base, path, literal).encode(), f"{path} = {literal[:20]}"
    if kind == "nesting":
        depth = draw(st.integers(33, 3000))
        path = draw(st.sampled_from(sorted(fields, key=repr)))
        deep = draw(st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth]))
        return text_with_literal(base, path, deep).encode(), f"{path} nested {depth} deep"
    text = json.dumps(base)
    if kind == "truncate":
        cut = draw(st.integers(0, len(text) - 1))
        return text[:cut].encode(), f"truncated at {cut}"
    if kind == "duplicate":
        key = draw(st.sampled_from(sorted(base)))
        return ('{' + json.dumps(key) + ': ' + json.dumps(base[key]) + ', ' + text[1:]).encode(), f"{key} twice"
    if kind == "encoding":
        data["name" if "name" in data else "file"] = "Zürich ∞"
        text = json.dumps(data, ensure_ascii=False)
        enc = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "latin-1", "cp1252"]))
        return text.encode(enc, errors="replace"), f"encoded {enc}"
    if kind == "top":
        top = draw(st.one_of(st.lists(json_scalars, max_size=3), json_scalars, st.just([base])))
        return json.dumps(top).encode(), "top level not an object"
    if kind == "surrogate":
        key = "name" if "name" in base else "file"
        return text.replace(json.dumps(base[key]), '"\\ud800 lone"', 1).encode(), "lone surrogate"
    blob = draw(st.binary(max_size=200))
    return blob, "garbage"


SCENE_REQUIRED = [("format",), ("id",), ("name",), ("model",), ("model", "size"), ("model", "temperature"),
                  ("panels",), ("fps",), ("sweeps_per_frame",), ("duration",), ("keyframes",), ("keyframes", 0, "t")]
SIDECAR_REQUIRED = [("panel",), ("params",), ("sweeps",)]


def _is_number(obj, path):
    try:
        for p in path:
            obj = obj[p]
    except (KeyError, IndexError, TypeError):
        return False
    return type(obj) in (int, float)


SCENE_KEYS = {(): set(scenes.TOP_KEYS), ("model",): scenes.MODEL_KEYS, ("keyframes", 0): scenes.KEYFRAME_KEYS,
              ("overlay",): scenes.OVERLAY_KEYS, ("movie",): scenes.MOVIE_KEYS}
SIDECAR_KEYS = {(): {"isinglab_version", "schema", "panel", "format", "file", "created", "params", "sweeps",
                     "algorithm", "backend", "seed", "initial", "panel_state", "scale", "dpi", "size_px", "scene"},
                ("params",): {"size", "temperature", "coupling", "field", "algorithm", "seed"},
                ("backend",): {"engine", "kernel", "view"},
                ("panel_state",): {"inputs", "colormap", "show_domain_walls", "show_cluster", "view_backend"}}

hostile_scenes = hostile_json(SCENE, SCENE_FIELDS, SCENE_KEYS, SCENE_REQUIRED)
hostile_sidecars = hostile_json(SIDECAR, SIDECAR_FIELDS, SIDECAR_KEYS, SIDECAR_REQUIRED)


@st.composite
def sidecars_with_hostile_scene(draw):
    blob, what = draw(hostile_scenes)
    try:
        scene = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        scene = None
    if not isinstance(scene, dict):  # not an object after all: still hostile as a sidecar's scene
        return json.dumps({**SIDECAR, "scene": scene}).encode(), f"scene: {what}"
    try:  # the mutation may have made it invalid only as a file (encoding...); skip those
        json_files.parse_json_object(blob, "x")
    except IsingLabError:
        return json.dumps({**SIDECAR, "scene": "cool-through-tc"}).encode(), "scene given as a name"
    return json.dumps({**SIDECAR, "scene": scene}).encode(), f"scene: {what}"


# ------------------------------------------------------------------------------ the base files are valid

def test_the_bases_are_valid(tmp_path):
    from isinglab.app.commands.figure import load_sidecar
    (tmp_path / "s.json").write_text(json.dumps(SCENE))
    scenes.load_scene(str(tmp_path / "s.json"))
    (tmp_path / "c.json").write_text(json.dumps(SIDECAR))
    load_sidecar(str(tmp_path / "c.json"))
    (tmp_path / "c2.json").write_text(json.dumps({**SIDECAR, "scene": SCENE}))
    assert load_sidecar(str(tmp_path / "c2.json"))["scene"].id == "tiny"


# ------------------------------------------------------------------------------ files: property-based

@SETTINGS
@given(case=hostile_scenes)
def test_load_scene_refuses_hostile_files(case):
    blob, what = case
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scene.json")
        with open(path, "wb") as f:
            f.write(blob)
        with pytest.raises(IsingLabError) as info:
            scenes.load_scene(path)
    msg = str(info.value)
    assert "\n" not in msg and "scene" in msg, (what, msg)


@SETTINGS
@given(case=hostile_sidecars)
def test_figure_from_hostile_sidecar(capsys, case):
    blob, what = case
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "lattice.png.json"), os.path.join(d, "out")
        with open(path, "wb") as f:
            f.write(blob)
        assert_refused(*run_cli(capsys, "figure", "--from", path, "--out", out, "--formats", "png"), out)


@FEW
@given(case=sidecars_with_hostile_scene())
def test_figure_from_sidecar_with_hostile_scene(capsys, case):
    blob, what = case
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "lattice.png.json"), os.path.join(d, "out")
        with open(path, "wb") as f:
            f.write(blob)
        assert_refused(*run_cli(capsys, "figure", "--from", path, "--out", out, "--formats", "png"), out)


@SETTINGS
@given(case=hostile_scenes)
def test_figure_scene_refuses_hostile_files(capsys, case):
    blob, what = case
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "scene.json"), os.path.join(d, "out")
        with open(path, "wb") as f:
            f.write(blob)
        assert_refused(*run_cli(capsys, "figure", "--scene", path, "--out", out), out)


@SETTINGS
@given(case=hostile_scenes)
def test_movie_scene_refuses_hostile_files(capsys, case):
    blob, what = case
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "scene.json"), os.path.join(d, "out")
        os.mkdir(out)
        with open(path, "wb") as f:
            f.write(blob)
        assert_refused(*run_cli(capsys, "movie", "--scene", path, "--out", os.path.join(out, "m.gif"),
                                "--size", "32x32"), out)


# ------------------------------------------------------------------------------ files: tables

def _sparse(path, size):
    with open(path, "wb") as f:
        f.write(b'{"format": 1, ')
        f.truncate(size)  # a 100 MB file that takes no disk space


SPECIAL_FILES = ["folder", "fifo", "/dev/zero", "sparse-100MB", "empty", "missing", "bom-utf16", "nul-in-name"]


def _special(d, kind):
    path = os.path.join(d, "x.json")
    if kind == "folder":
        os.mkdir(path)
    elif kind == "fifo":
        os.mkfifo(path)  # a blocking read would hang forever
    elif kind == "/dev/zero":
        return "/dev/zero"
    elif kind == "sparse-100MB":
        _sparse(path, 100 * 2**20)
    elif kind == "empty":
        open(path, "wb").close()
    elif kind == "bom-utf16":
        with open(path, "wb") as f:
            f.write(json.dumps(SCENE).encode("utf-16"))
    elif kind == "nul-in-name":
        return path + "\0.json"
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", SPECIAL_FILES)
@pytest.mark.parametrize("command", ["figure --from", "figure --scene", "movie --scene"])
def test_special_files_are_refused_without_reading(capsys, tmp_path, kind, command):
    src = _special(str(tmp_path), kind)
    out = tmp_path / "out"
    if command.startswith("movie"):
        out.mkdir()
        argv = ["movie", "--scene", src, "--out", out / "m.mp4"]
    else:
        argv = [*command.split(), src, "--out", out]
    err = assert_refused(*run_cli(capsys, *argv), out)
    if kind == "sparse-100MB":
        assert "larger than the limit" in err
    if kind == "bom-utf16":
        assert "UTF-16" in err and "UTF-8" in err


def test_loader_rules():
    parse = json_files.parse_json_object
    assert parse(b"\xef\xbb\xbf" + b'{"a": 1}', "x") == {"a": 1}  # a UTF-8 BOM is skipped
    for text, message in [(b'{"a": 1, "a": 2}', "appears twice"), (b'{"a": NaN}', "NaN"),
                          (b'{"a": 1e400}', "out of range"), (b"[1]", "top level must be a JSON object"),
                          (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
                          ('{"a": 1}'.encode("utf-16-le"), "UTF-16"), (b'{"a": "\xff"}', "not UTF-8"),
                          (b'{"a": "\\udc00"}', "surrogate")]:
        with pytest.raises(IsingLabError, match=message):
            parse(text, "x")
    # deep nesting never reaches Python's recursion limit, even far beyond it
    with pytest.raises(IsingLabError, match="nested deeper"):
        parse("[" * 200000 + "]" * 200000, "x")


# ------------------------------------------------------------------------------ valid but too long

@st.composite
def long_scenes(draw):
    """Valid scenes that ask for more than the work limit, with a margin (metropolis, even L)."""
    size = draw(st.integers(8, 2048).map(lambda n: 2 * n))
    fps = draw(st.integers(1, 120))
    spf = draw(st.integers(1, 10000))
    min_duration = 3 * MAX_WORK_SECONDS / estimate_seconds(fps * spf * size * size, "metropolis")
    if min_duration > 3600:
        size, fps, spf = 4096, 120, 10000
        min_duration = 3 * MAX_WORK_SECONDS / estimate_seconds(fps * spf * size * size, "metropolis")
    # at least one frame: n_frames = round(duration * fps) >= duration * fps / 2 keeps the margin
    duration = draw(st.floats(max(min_duration, 1.0 / fps), 3600.0))
    return {**SCENE, "model": {**SCENE["model"], "size": size}, "fps": fps, "sweeps_per_frame": spf,
            "duration": duration, "keyframes": [], "movie": {}}


@FEW
@given(scene=long_scenes(), command=st.sampled_from(["figure", "movie"]))
def test_long_scene_jobs_are_refused_unless_allowed(capsys, scene, command):
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "long.json"), os.path.join(d, "out")
        with open(path, "w") as f:
            json.dump(scene, f)
        os.mkdir(out)
        argv = (["figure", "--scene", path, "--out", out] if command == "figure"
                else ["movie", "--scene", path, "--out", os.path.join(out, "m.mp4"), "--size", "16x16"])
        err = assert_refused(*run_cli(capsys, *argv), out)
        assert "--allow-long" in err and "spin updates" in err and "limit" in err


@FEW
@given(size=st.integers(256, 2048).map(lambda n: 2 * n), sweeps=st.integers(10**6, 10**9))
def test_long_sidecar_jobs_are_refused(capsys, size, sweeps):
    if estimate_seconds(sweeps * size * size, "metropolis") < 2 * MAX_WORK_SECONDS:
        sweeps = 10**9
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "lattice.png.json"), os.path.join(d, "out")
        with open(path, "w") as f:
            json.dump({**SIDECAR, "params": {**SIDECAR["params"], "size": size}, "sweeps": sweeps}, f)
        err = assert_refused(*run_cli(capsys, "figure", "--from", path, "--out", out), out)
        assert "--allow-long" in err


def test_allow_long_lifts_the_work_limit():
    with pytest.raises(IsingLabError, match="--allow-long"):
        scenes.check_replay_work("x", {"metropolis": 10**13})
    assert scenes.check_replay_work("x", {"metropolis": 10**13}, allow_long=True) > MAX_WORK_SECONDS


# ------------------------------------------------------------------------------ options

BAD_FLOATS = ["0", "-1", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "", "abc", "1,5", "0x10", " "]
BAD_INTS = ["0", "-1", "nan", "inf", "1.5", "", "abc", "9" * 50, "1e400", "1" * 5000]


def _scene_file(d):
    path = os.path.join(d, "tiny.json")
    with open(path, "w") as f:
        json.dump(SCENE, f)
    return path


OPTION_CASES = (
    [("figure", "--scale", v) for v in BAD_FLOATS + ["0.09", "16.5", "1e9"]]
    + [("figure", "--dpi", v) for v in BAD_INTS + ["29", "2401", "150.5"]]
    + [("figure", "--formats", v) for v in ["", "gif", "png,png", "png,,svg", "PNG,png", "png;svg", ",", "png,jpg"]]
    + [("movie", "--fps", v) for v in BAD_INTS + ["121", "1000"]]
    + [("movie", "--frames", v) for v in BAD_INTS + ["432001"]]
    + [("movie", "--levels", v) for v in ["-1", "5", "1.5", "nan", "9" * 50, "x"]]
    + [("movie", "--size", v) for v in ["0x0", "15x15", "16x4098", "axb", "512", "512x512x2", "-16x16", "nanxnan",
                                         "1e3x16", "", "9" * 50 + "x16", "16x16.5"]]
    + [("movie", "--colormap", v) for v in ["jet", "", "CLASSIC", "classic "]]
    + [("self-test", "--window-seconds", v) for v in BAD_FLOATS + ["601", "1e9"]]
    + [("gui", "--run-seconds", v) for v in BAD_FLOATS + ["3601", "1e9"]]
    + [("gui", "--sweeps-per-frame", v) for v in ["-1", "10001", "1.5", "nan", "inf", "9" * 50, "x"]]
    + [("gui", "--seed", v) for v in ["-1", str(2**31), str(2**63), "nan", "1.5", "9" * 50]]
    + [("gui", "--size", v) for v in ["0", "1", "3", "4098", "8192", "65536", "nan", "-16", "9" * 50]]
    + [("gui", "--temperature", v) for v in ["0", "-1", "nan", "inf", "1e400"]]
    + [("gui", "--coupling", v) for v in ["nan", "inf", "-inf", "1e400"]]
    + [("gui", "--field", v) for v in ["nan", "inf", "-inf", "1e400"]]
)


def _argv_for(command, option, value, d, out):
    if command == "figure":
        return ["figure", "--scene", _scene_file(d), "--out", out, f"{option}={value}"]
    if command == "movie":
        return ["movie", "--scene", _scene_file(d), "--out", os.path.join(out, "m.gif"), "--size", "32x32",
                f"{option}={value}"]
    if command == "self-test":
        return ["self-test", f"{option}={value}"]
    # gui: always a short run, so that a wrongly accepted value could not open a window for good
    extra = [] if option == "--run-seconds" else ["--run-seconds", "0.1"]
    size = [] if option == "--size" else ["--size", "16"]
    return ["gui", *size, *extra, f"{option}={value}"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command,option,value", OPTION_CASES,
                         ids=[f"{c}{o}={v[:12]!r}" for c, o, v in OPTION_CASES])
def test_hostile_option_values(capsys, tmp_path, command, option, value):
    out = tmp_path / "out"
    out.mkdir()
    assert_refused(*run_cli(capsys, *_argv_for(command, option, value, str(tmp_path), str(out))), out)


@st.composite
def hostile_numbers(draw):
    command, option, lo, hi, integer = draw(st.sampled_from([
        ("figure", "--scale", 0.1, 16.0, False), ("figure", "--dpi", 30, 2400, True),
        ("movie", "--fps", 1, 120, True), ("movie", "--frames", 1, 432000, True), ("movie", "--levels", 0, 4, True),
        ("self-test", "--window-seconds", 0.0, 600.0, False), ("gui", "--run-seconds", 0.0, 3600.0, False),
        ("gui", "--sweeps-per-frame", 0, 10000, True)]))
    open_low = option in ("--window-seconds", "--run-seconds")
    below = (st.floats(max_value=lo, exclude_max=not open_low, allow_nan=False)
             if not integer else st.integers(max_value=lo - 1))
    above = st.floats(min_value=hi, exclude_min=True) if not integer else st.integers(min_value=hi + 1)
    odd = st.sampled_from(["nan", "inf", "-inf", "1e999"])
    fractional = st.floats(lo, hi).filter(lambda v: v != int(v)).map(repr) if integer else odd
    value = draw(st.one_of(below.map(str), above.map(str), odd, fractional))
    return command, option, value


@SETTINGS
@given(case=hostile_numbers())
def test_generated_out_of_range_numbers(capsys, case):
    command, option, value = case
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        os.mkdir(out)
        assert_refused(*run_cli(capsys, *_argv_for(command, option, value, d, out)), out)


# ------------------------------------------------------------------------------ output paths

def _output_cases(d):
    os.mkdir(os.path.join(d, "folder.mp4"))
    open(os.path.join(d, "file"), "w").close()
    os.mkfifo(os.path.join(d, "fifo.gif"))
    scene = _scene_file(d)
    return [
        ["movie", "--scene", scene, "--out", os.path.join(d, "m.avi")],
        ["movie", "--scene", scene, "--out", os.path.join(d, "m")],
        ["movie", "--scene", scene, "--out", os.path.join(d, "folder.mp4")],
        ["movie", "--scene", scene, "--out", os.path.join(d, "fifo.gif")],
        ["movie", "--scene", scene, "--out", "/dev/full"],
        ["movie", "--scene", scene, "--out", os.path.join(d, "missing", "m.mp4")],
        ["movie", "--scene", scene, "--out", os.path.join(d, "file", "m.mp4")],
        ["movie", "--scene", scene, "--out", os.path.join(d, "new\nline.avi")],
        ["figure", "--scene", scene, "--out", os.path.join(d, "file")],
        ["figure", "--scene", scene, "--out", os.path.join(d, "file", "sub")],
        ["figure", "--scene", scene, "--out", os.path.join(d, "fifo.gif")],
        ["figure", "--scene", scene, "--out", ""],
        ["gui", "--size", "16", "--screenshot", os.path.join(d, "missing", "x.png")],
        ["gui", "--size", "16", "--screenshot", os.path.join(d, "folder.mp4")],
        ["gui", "--size", "16", "--screenshot", "/dev/full"],
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("index", range(15))
def test_bad_output_paths_are_refused_before_work(capsys, tmp_path, index):
    argv = _output_cases(str(tmp_path))[index]
    before = sorted(os.listdir(tmp_path))
    assert_refused(*run_cli(capsys, *argv))
    assert sorted(os.listdir(tmp_path)) == before
    assert not os.path.exists("/dev/full.isinglab") and os.path.exists("/dev/full")


# ------------------------------------------------------------------------------ no display (subprocess)

def _run(argv, env_changes, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", *argv], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _free_display() -> str:
    n = 1731
    while os.path.exists(f"/tmp/.X11-unix/X{n}"):
        n += 1
    return f":{n}"


ENVIRONMENTS = {
    "xcb-no-display": {"QT_QPA_PLATFORM": "xcb"},
    "xcb-dead-display": {"QT_QPA_PLATFORM": "xcb", "DISPLAY": _free_display()},
    "wayland-none": {"QT_QPA_PLATFORM": "wayland", "XDG_RUNTIME_DIR": tempfile.gettempdir(),
                     "WAYLAND_DISPLAY": "isinglab-no-such-compositor"},
    "no-such-platform": {"QT_QPA_PLATFORM": "bogus"},
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_no_display_is_one_line_for_every_qt_command(tmp_path, env):
    scene = _scene_file(str(tmp_path))
    out = tmp_path / "out"
    commands = [["bench", "--gui", "--size", "64"], ["gui", "--size", "16", "--run-seconds", "0.5"],
                ["figure", "--scene", scene, "--out", str(out)], ["self-test"]]
    if env != "xcb-no-display":
        commands = commands[:1]  # the same check; one command is enough for the other environments
    for argv in commands:
        res = _run(argv, ENVIRONMENTS[env])
        err = assert_refused(res.returncode, res.stderr, out)
        assert "xvfb-run" in err and "QT_QPA_PLATFORM=offscreen" in err, err
    assert not out.exists()


@pytest.mark.timeout(300)
def test_figure_falls_back_to_offscreen_without_a_display(tmp_path):
    """No QT_QPA_PLATFORM and no display: the headless command still works (offscreen)."""
    scene = dict(SCENE, panels=["latticeDock"])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scene))
    res = _run(["figure", "--scene", str(path), "--out", str(tmp_path / "out"), "--formats", "png"], {})
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["lattice.png", "lattice.png.json"]
