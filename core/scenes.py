"""Scripted scenes for lectures: JSON data files, validated on load, never executed.

A scene fixes a starting model, the visible panels, and keyframes that animate parameters over
time. Scene time advances by exactly 1/fps per frame and every frame runs exactly
`sweeps_per_frame` sweeps, so a scene replays identically live (app/lecture/scene_player.py) and
headless (`frames()` here, used for movies). Numeric parameters (temperature, coupling, field)
interpolate linearly between the keyframes that set them; discrete ones (algorithm, size, seed,
reset) take effect at the first frame at or after their keyframe time.

Files are read by core/json_files.py (size cap, UTF-8, strict JSON, no duplicate keys, bounded
nesting) and then every field is checked here: its type (an integer field takes no float and no
bool), its range, unknown keys, and every frame's parameters. A valid scene can still ask for a
lot of work (L = 4096, 120 fps for an hour, 10000 sweeps per frame): `Scene.spin_updates()`
counts it and `check_replay_work` refuses more than core/limits.py allows unless the user
says so (`--allow-long` on the command line).
"""
from __future__ import annotations

import bisect
import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Iterator

import numpy as np

from .backends import make_sampler
from .backends.base import INITIAL_STATES, initial_spins
from .errors import IsingLabError
from .json_files import MAX_JSON_BYTES, load_json_object, parse_json_object, show_path
from .panel_ids import PANEL_IDS
from .params import ALGORITHMS, ModelParams

FORMAT = 1
PANELS = PANEL_IDS
NUMERIC = ("temperature", "coupling", "field")
DISCRETE = ("algorithm", "size", "seed")
MAX_FPS, MAX_DURATION, MAX_SWEEPS_PER_FRAME = 120, 3600.0, 10000
MAX_FILE_BYTES = MAX_JSON_BYTES
MAX_SIZE = 4096
MAX_KEYFRAMES = 1000
MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 200, 4000
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

TOP_KEYS = {"format": True, "id": True, "name": True, "description": False, "model": True,
            "panels": True, "fps": True, "sweeps_per_frame": True, "duration": True,
            "keyframes": True, "overlay": False, "movie": False}  # key: required
MODEL_KEYS = {"size", "temperature", "coupling", "field", "algorithm", "seed", "initial"}
KEYFRAME_KEYS = {"t", *NUMERIC, *DISCRETE, "reset"}
OVERLAY_KEYS = {"show_tc_ratio", "show_xi"}
MOVIE_KEYS = {"block_levels"}
MAX_BLOCK_LEVELS = 4


@dataclass(frozen=True)
class SceneInfo:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Scene:
    id: str
    name: str
    description: str
    model: ModelParams
    initial: str
    panels: tuple[str, ...]
    fps: int
    sweeps_per_frame: int
    duration: float
    keyframes: tuple[dict, ...]
    overlay: dict = field(default_factory=dict)
    movie: dict = field(default_factory=dict)
    source: str = ""

    @property
    def n_frames(self) -> int:
        """Frames k = 0 .. n_frames - 1 at scene times k / fps."""
        return max(1, int(round(self.duration * self.fps)))

    def frame_time(self, k: int) -> float:
        return k / self.fps

    def frame_of(self, t: float) -> int:
        """First frame whose time is at or after t (discrete changes take effect there)."""
        return int(math.ceil(t * self.fps - 1e-9))

    def params_at(self, t: float) -> ModelParams:
        """Parameters in force at scene time t (discrete ones as of the frame that reached t)."""
        tl = self._timeline
        values = {name: float(np.interp(t, *tl["numeric"][name])) for name in NUMERIC}
        k = self.frame_of(t) if t > 0 else 0
        for name in DISCRETE:
            at, vals = tl["discrete"][name]  # keyframe frames (non-decreasing) and their values
            i = bisect.bisect_right(at, k)
            values[name] = vals[i - 1] if i else getattr(self.model, name)
        return ModelParams(**values)

    def params_at_frame(self, k: int) -> ModelParams:
        return self.params_at(self.frame_time(k))

    @cached_property
    def _timeline(self) -> dict:
        """Keyframes per parameter, prepared once, so a lookup costs O(log keyframes)."""
        numeric = {}
        for name in NUMERIC:
            points = [(0.0, float(getattr(self.model, name)))]
            points += [(float(kf["t"]), float(kf[name])) for kf in self.keyframes if name in kf]
            times = np.array([p[0] for p in points])
            values = np.array([p[1] for p in points])
            if len(points) > 1 and times[1] == 0.0:
                times, values = times[1:], values[1:]  # a keyframe at t = 0 overrides the model
            numeric[name] = (times, values)
        discrete = {name: ([self.frame_of(kf["t"]) for kf in self.keyframes if name in kf],
                           [kf[name] for kf in self.keyframes if name in kf]) for name in DISCRETE}
        resets = {}
        for kf in self.keyframes:
            if "reset" in kf:
                resets[self.frame_of(kf["t"])] = kf["reset"]  # several in one frame: the last wins
        return {"numeric": numeric, "discrete": discrete, "resets": resets}

    def events_at_frame(self, k: int) -> list[str]:
        """Reset states ("random" | "up" | "down") that take effect at frame k, after its parameter
        changes and before its sweeps (several in one frame: the last wins). Frame 0 starts from
        the model's `initial` state unless a keyframe resets it there."""
        reset = self._timeline["resets"].get(k)
        if reset is None and k == 0:
            reset = self.initial
        return [reset] if reset is not None else []

    def frame_columns(self, stop: int | None = None) -> tuple[list, ...]:
        """The parameters of frames 0 .. stop - 1 (default all) as columns in ModelParams field
        order (size, temperature, coupling, field, algorithm, seed): params_at_frame(k) ==
        ModelParams(*row k), computed at once for all frames."""
        ks = np.arange(self.n_frames if stop is None else max(0, min(stop, self.n_frames)))
        times = ks / self.fps  # the same division as frame_time(k)
        tl = self._timeline
        cols = {name: np.interp(times, *tl["numeric"][name]).tolist() for name in NUMERIC}
        for name in DISCRETE:
            at, vals = tl["discrete"][name]
            idx = np.searchsorted(np.asarray(at, dtype=np.int64), ks, side="right")
            table = [getattr(self.model, name), *vals]
            cols[name] = [table[i] for i in idx.tolist()]
        return tuple(cols[name] for name in ModelParams.__dataclass_fields__)

    def frame_counts(self, stop: int | None = None) -> dict[tuple[int, str], int]:
        """(lattice side, algorithm) -> number of frames (of the first `stop`) that run with it."""
        n = self.n_frames if stop is None else max(0, min(stop, self.n_frames))
        cols = self.frame_columns(n)
        out: dict[tuple[int, str], int] = {}
        for key in zip(cols[0], cols[4]):  # size, algorithm
            out[key] = out.get(key, 0) + 1
        return out

    def sizes(self, stop: int | None = None) -> dict[int, int]:
        """Lattice side -> number of frames (of the first `stop`) that run at it."""
        out: dict[int, int] = {}
        for (size, _), count in self.frame_counts(stop).items():
            out[size] = out.get(size, 0) + count
        return out

    def spin_updates_by_algorithm(self, stop: int | None = None) -> dict[str, int]:
        """Work of replaying the first `stop` frames (default all): sweeps x spins per algorithm."""
        out: dict[str, int] = {}
        for (size, algorithm), count in self.frame_counts(stop).items():
            out[algorithm] = out.get(algorithm, 0) + count * self.sweeps_per_frame * size * size
        return out

    def spin_updates(self, stop: int | None = None) -> int:
        return sum(self.spin_updates_by_algorithm(stop).values())

    def info(self) -> SceneInfo:
        return SceneInfo(self.id, self.name, self.description)

    def to_dict(self) -> dict:
        m = self.model
        out = {"format": FORMAT, "id": self.id, "name": self.name, "description": self.description,
               "model": {"size": m.size, "temperature": m.temperature, "coupling": m.coupling,
                         "field": m.field, "algorithm": m.algorithm, "seed": m.seed,
                         "initial": self.initial},
               "panels": list(self.panels), "fps": self.fps, "sweeps_per_frame": self.sweeps_per_frame,
               "duration": self.duration, "keyframes": [dict(kf) for kf in self.keyframes],
               "overlay": dict(self.overlay)}
        if self.movie:
            out["movie"] = dict(self.movie)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


# ---------------------------------------------------------------------------------- files
def scenes_dir():
    """The folder of built-in scenes (inside the installed package, or a frozen bundle)."""
    return resources.files("isinglab.resources").joinpath("scenes")


def list_scenes() -> list[SceneInfo]:
    """Every built-in scene that validates, sorted by id (a broken file is skipped here and
    reported by load_scene)."""
    out = []
    for entry in scenes_dir().iterdir():
        if entry.name.endswith(".json"):
            try:
                out.append(parse_scene(entry.read_bytes(), entry.name).info())
            except IsingLabError:
                continue
    return sorted(out, key=lambda s: s.id)


def scene_ids() -> list[str]:
    return [s.id for s in list_scenes()]


def load_scene(id_or_path) -> Scene:
    """A built-in scene by id, or a scene file by path; IsingLabError with a clear message."""
    try:
        text_id = os.fspath(id_or_path)
    except TypeError:
        raise IsingLabError(f"a scene is an id or a path, got {type(id_or_path).__name__}") from None
    if isinstance(text_id, bytes):
        text_id = os.fsdecode(text_id)
    if text_id.endswith(".json") or os.sep in text_id or os.path.exists(text_id):
        data = load_json_object(text_id, "scene file")
        return scene_from_dict(data, text_id)
    entry = scenes_dir().joinpath(f"{text_id}.json")
    if not _ID.fullmatch(text_id) or not entry.is_file():
        known = ", ".join(scene_ids()) or "none"
        raise IsingLabError(f"unknown scene {_short(text_id)!r}; choose one of: {known}")
    return parse_scene(entry.read_bytes(), entry.name)


def parse_scene(text, source: str = "<scene>") -> Scene:
    """A scene from JSON text or UTF-8 bytes (the rules of core/json_files.py, then the fields)."""
    return scene_from_dict(parse_json_object(text, f"scene {show_path(source)}"), source)


def scene_from_dict(data, source: str = "<scene>") -> Scene:
    """A scene from parsed JSON (e.g. the `scene` object of a figure's sidecar)."""
    try:
        return _build(data, source)
    except _Invalid as exc:
        raise IsingLabError(f"scene {show_path(source)}: {exc}") from None


def check_replay_work(what: str, updates_by_algorithm: dict[str, int], allow_long: bool = False,
                      extra_seconds: float = 0.0, detail: str = "frames x sweeps per frame x L^2") -> float:
    """The estimated seconds of replaying `updates_by_algorithm` spin updates (plus
    `extra_seconds` of other work, e.g. encoding a movie); IsingLabError when core/limits.py
    says that is too long and `allow_long` is false."""
    from .limits import check_seconds_of_work, estimate_seconds, show_number
    total = sum(updates_by_algorithm.values())
    seconds = sum(estimate_seconds(u, a) for a, u in updates_by_algorithm.items()) + extra_seconds
    return check_seconds_of_work(what, seconds, allow_long=allow_long,
                                 detail=f"{show_number(total)} spin updates = {detail}")


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------------------------- validation
class _Invalid(Exception):
    pass


def _keys(obj, allowed, where, required=()):
    if not isinstance(obj, dict):
        raise _Invalid(f"{where} must be an object, got {_kind(obj)}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        shown = ", ".join(_short(repr(k), 40) for k in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise _Invalid(f"unknown key(s) {shown} in {where}; "
                       f"allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise _Invalid(f"{where} is missing {', '.join(map(repr, missing))}")


def _kind(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _show(v) -> str:
    """A value as it may appear in a one-line message (long ones cut, containers named)."""
    if isinstance(v, (dict, list)):
        return _kind(v)
    return _short(repr(v), 60)


def _int(v, where, lo, hi):
    if type(v) is not int:  # not a float, not a bool (bool is an int subclass)
        raise _Invalid(f"{where} must be an integer, got {_show(v)}")
    if not lo <= v <= hi:
        raise _Invalid(f"{where} must be between {lo} and {hi}, got {_short(str(v), 60)}")
    return v


def _num(v, where, lo=-math.inf, hi=math.inf, lo_open=False):
    if type(v) not in (int, float):
        raise _Invalid(f"{where} must be a number, got {_show(v)}")
    try:
        v = float(v)
    except OverflowError:  # an integer beyond the range of a double
        v = math.inf
    if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise _Invalid(f"{where} must be {bound} and <= {hi:g}, got {v:g}")
    return v


def _str(v, where, choices=None, max_len=None):
    if not isinstance(v, str):
        raise _Invalid(f"{where} must be a string, got {_show(v)}")
    if choices is not None and v not in choices:
        raise _Invalid(f"{where} must be one of {', '.join(choices)}, got {_show(v)}")
    if max_len is not None and len(v) > max_len:
        raise _Invalid(f"{where} must be at most {max_len} characters, got {len(v)}")
    return v


def _bool(v, where):
    if not isinstance(v, bool):
        raise _Invalid(f"{where} must be true or false, got {_show(v)}")
    return v


def _param_value(name, v, where):
    if name in ("temperature",):
        return _num(v, where, 0.0, 1e6, lo_open=True)
    if name in ("coupling", "field"):
        return _num(v, where, -1e6, 1e6)
    if name == "algorithm":
        return _str(v, where, ALGORITHMS)
    if name == "size":
        return _int(v, where, 2, MAX_SIZE)
    if name == "seed":
        return _int(v, where, 0, 2**63 - 1)
    if name in ("initial", "reset"):
        return _str(v, where, INITIAL_STATES)
    raise _Invalid(f"unknown parameter {name!r} in {where}")


def _build(data, source) -> Scene:
    _keys(data, TOP_KEYS, "the scene", [k for k, req in TOP_KEYS.items() if req])
    if type(data["format"]) is not int or data["format"] != FORMAT:
        raise _Invalid(f"format must be {FORMAT}, got {_show(data['format'])}")
    sid = _str(data["id"], "id")
    if not _ID.fullmatch(sid):
        raise _Invalid(f"id must be 1-64 lower-case letters, digits and '-', got {_show(sid)}")
    name = _str(data["name"], "name", max_len=MAX_NAME_CHARS).strip()
    if not name:
        raise _Invalid("name must not be empty")
    if not name.isprintable():
        raise _Invalid("name must be one line of printable characters")
    description = _str(data.get("description", ""), "description", max_len=MAX_DESCRIPTION_CHARS)
    model = _model(data["model"])
    initial = model.pop("initial", "random")
    panels = data["panels"]
    if not isinstance(panels, list) or not panels or len(panels) > len(PANELS):
        raise _Invalid("panels must be a non-empty list of dock names, each at most once")
    for i, p in enumerate(panels):
        _str(p, f"panels[{i}]", PANELS)
    if len(set(panels)) != len(panels):
        raise _Invalid("panels lists a dock twice")
    fps = _int(data["fps"], "fps", 1, MAX_FPS)
    spf = _int(data["sweeps_per_frame"], "sweeps_per_frame", 1, MAX_SWEEPS_PER_FRAME)
    duration = _num(data["duration"], "duration", 0.0, MAX_DURATION, lo_open=True)
    keyframes = _keyframes(data["keyframes"], duration)
    overlay = data.get("overlay", {})
    _keys(overlay, OVERLAY_KEYS, "overlay")
    for k, v in overlay.items():
        _bool(v, f"overlay.{k}")
    movie = data.get("movie", {})
    _keys(movie, MOVIE_KEYS, "movie")
    if "block_levels" in movie:
        _int(movie["block_levels"], "movie.block_levels", 0, MAX_BLOCK_LEVELS)
    scene = Scene(sid, name, description, ModelParams(**model), initial, tuple(panels), fps, spf,
                  duration, tuple(keyframes), dict(overlay), dict(movie), source)
    _check_every_frame(scene)
    return scene


def _model(obj) -> dict:
    _keys(obj, MODEL_KEYS, "model", ["size", "temperature"])
    return {k: _param_value(k, v, f"model.{k}") for k, v in obj.items()}


def _keyframes(items, duration) -> list[dict]:
    if not isinstance(items, list):
        raise _Invalid(f"keyframes must be a list, got {_kind(items)}")
    if len(items) > MAX_KEYFRAMES:
        raise _Invalid(f"keyframes: at most {MAX_KEYFRAMES}, got {len(items)}")
    out, last = [], -math.inf
    for i, kf in enumerate(items):
        where = f"keyframes[{i}]"
        _keys(kf, KEYFRAME_KEYS, where, ["t"])
        t = _num(kf["t"], f"{where}.t", 0.0, duration)
        if t <= last:
            raise _Invalid(f"keyframe times must increase: {where}.t = {t:g} after {last:g}")
        last = t
        if len(kf) == 1:
            raise _Invalid(f"{where} sets nothing besides t")
        out.append({"t": t, **{k: _param_value(k, v, f"{where}.{k}") for k, v in kf.items() if k != "t"}})
    return out


def _check_every_frame(scene: Scene) -> None:
    """Every frame's parameters must be simulatable (e.g. no field with a cluster algorithm).
    Each distinct parameter set is validated once (an hour at 120 fps loads in about a second)."""
    seen = set()
    for k, values in enumerate(zip(*scene.frame_columns())):
        if values in seen:
            continue
        seen.add(values)
        try:
            ModelParams(*values).validated()
        except IsingLabError as exc:
            raise _Invalid(f"at t = {scene.frame_time(k):g} s: {exc}") from None


# ---------------------------------------------------------------------------------- headless replay
@dataclass(frozen=True)
class Frame:
    index: int
    time: float
    params: ModelParams
    spins: np.ndarray  # (L, L) int8, a private copy
    sweeps: int  # sweeps done by the current sampler


def frames(scene: Scene, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
    """Replay the scene without a display, frame by frame, exactly as the player drives the
    engine: a fresh sampler per size/algorithm/seed change (keeping the spins when L is unchanged),
    set_params for T/J/h, resets before the frame's sweeps, then sweeps_per_frame sweeps."""
    stop = scene.n_frames if stop is None else min(stop, scene.n_frames)
    params = scene.params_at_frame(0)
    state = scene.events_at_frame(0)[0]
    sampler = make_sampler(params, spins=initial_spins(params.size, state, params.seed))
    for k in range(stop):
        new = scene.params_at_frame(k)
        if k > 0 and new != params:
            sampler = apply_params(sampler, params, new)
            params = new
        for state in (scene.events_at_frame(k) if k > 0 else []):
            sampler.load(initial_spins(params.size, state, params.seed + sampler.sweeps_done))
        sampler.sweep(scene.sweeps_per_frame)
        if k >= start:
            yield Frame(k, scene.frame_time(k), params, sampler.spins(), sampler.sweeps_done)


def apply_params(sampler, old: ModelParams, new: ModelParams):
    """The engine's rule for a parameter change (core/engine.py _apply_pending), Qt-free."""
    if new.size != old.size or new.algorithm != old.algorithm or new.seed != old.seed:
        spins = None if new.size != old.size else sampler.spins()
        return make_sampler(new, spins=spins)
    sampler.set_params(new)
    return sampler
