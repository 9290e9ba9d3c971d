"""Scripted scenes for lectures: JSON data files, validated on load, never executed.

A scene fixes a starting model, the visible panels, and keyframes that animate parameters over
time. Scene time advances by exactly 1/fps per frame and every frame runs exactly
`sweeps_per_frame` sweeps, so a scene replays identically live (app/scene_player.py) and
headless (`frames()` here, used for movies). Numeric parameters (temperature, coupling, field)
interpolate linearly between the keyframes that set them; discrete ones (algorithm, size, seed,
reset) take effect at the first frame at or after their keyframe time.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterator

import numpy as np

from .backends import make_sampler
from .backends.base import INITIAL_STATES, initial_spins
from .errors import IsingLabError
from .params import ALGORITHMS, ModelParams

FORMAT = 1
PANELS = ("latticeDock", "controlsDock", "observablesDock", "blocksDock", "correlationDock", "networkDock")
NUMERIC = ("temperature", "coupling", "field")
DISCRETE = ("algorithm", "size", "seed")
MAX_FPS, MAX_DURATION, MAX_SWEEPS_PER_FRAME = 120, 3600.0, 10000
MAX_FILE_BYTES = 1 << 20
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
        values = {}
        for name in NUMERIC:
            values[name] = self._interpolate(name, t)
        k = self.frame_of(t) if t > 0 else 0
        for name in DISCRETE:
            values[name] = getattr(self.model, name)
            for kf in self.keyframes:
                if name in kf and self.frame_of(kf["t"]) <= k:
                    values[name] = kf[name]
        return ModelParams(**values)

    def params_at_frame(self, k: int) -> ModelParams:
        return self.params_at(self.frame_time(k))

    def _interpolate(self, name: str, t: float) -> float:
        points = [(0.0, float(getattr(self.model, name)))]
        points += [(float(kf["t"]), float(kf[name])) for kf in self.keyframes if name in kf]
        times = np.array([p[0] for p in points])
        values = np.array([p[1] for p in points])
        if len(points) > 1 and times[1] == 0.0:
            times, values = times[1:], values[1:]  # a keyframe at t = 0 overrides the model
        return float(np.interp(t, times, values))

    def events_at_frame(self, k: int) -> list[str]:
        """Reset states ("random" | "up" | "down") that take effect at frame k, after its parameter
        changes and before its sweeps (several in one frame: the last wins). Frame 0 starts from
        the model's `initial` state unless a keyframe resets it there."""
        resets = [kf["reset"] for kf in self.keyframes if "reset" in kf and self.frame_of(kf["t"]) == k]
        if k == 0:
            resets.insert(0, self.initial)
        return resets[-1:]

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
                out.append(parse_scene(entry.read_text(encoding="utf-8"), entry.name).info())
            except IsingLabError:
                continue
    return sorted(out, key=lambda s: s.id)


def scene_ids() -> list[str]:
    return [s.id for s in list_scenes()]


def load_scene(id_or_path) -> Scene:
    """A built-in scene by id, or a scene file by path; IsingLabError with a clear message."""
    text_id = os.fspath(id_or_path)
    if text_id.endswith(".json") or os.sep in text_id or os.path.exists(text_id):
        path = text_id
        if not os.path.isfile(path):
            raise IsingLabError(f"scene file {path} does not exist")
        try:
            if os.path.getsize(path) > MAX_FILE_BYTES:
                raise IsingLabError(f"scene file {path} is larger than {MAX_FILE_BYTES // 1024} KiB")
            with open(path, encoding="utf-8") as fh:
                return parse_scene(fh.read(), path)
        except (OSError, UnicodeDecodeError) as exc:
            raise IsingLabError(f"cannot read scene file {path}: {exc}") from None
    entry = scenes_dir().joinpath(f"{text_id}.json")
    if not _ID.match(text_id) or not entry.is_file():
        known = ", ".join(scene_ids()) or "none"
        raise IsingLabError(f"unknown scene {text_id!r}; choose one of: {known}")
    return parse_scene(entry.read_text(encoding="utf-8"), entry.name)


def parse_scene(text: str, source: str = "<scene>") -> Scene:
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise IsingLabError(f"scene {source}: not valid JSON ({exc})") from None
    try:
        return _build(data, source)
    except _Invalid as exc:
        raise IsingLabError(f"scene {source}: {exc}") from None


# ---------------------------------------------------------------------------------- validation
class _Invalid(Exception):
    pass


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed")


def _keys(obj, allowed, where, required=()):
    if not isinstance(obj, dict):
        raise _Invalid(f"{where} must be an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise _Invalid(f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
                       f"allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise _Invalid(f"{where} is missing {', '.join(map(repr, missing))}")


def _int(v, where, lo, hi):
    if not isinstance(v, int) or isinstance(v, bool):
        raise _Invalid(f"{where} must be an integer, got {v!r}")
    if not lo <= v <= hi:
        raise _Invalid(f"{where} must be between {lo} and {hi}, got {v}")
    return v


def _num(v, where, lo=-math.inf, hi=math.inf, lo_open=False):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise _Invalid(f"{where} must be a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise _Invalid(f"{where} must be {bound} and <= {hi:g}, got {v:g}")
    return v


def _str(v, where, choices=None):
    if not isinstance(v, str):
        raise _Invalid(f"{where} must be a string, got {v!r}")
    if choices is not None and v not in choices:
        raise _Invalid(f"{where} must be one of {', '.join(choices)}, got {v!r}")
    return v


def _bool(v, where):
    if not isinstance(v, bool):
        raise _Invalid(f"{where} must be true or false, got {v!r}")
    return v


def _param_value(name, v, where):
    if name in ("temperature",):
        return _num(v, where, 0.0, 1e6, lo_open=True)
    if name in ("coupling", "field"):
        return _num(v, where, -1e6, 1e6)
    if name == "algorithm":
        return _str(v, where, ALGORITHMS)
    if name == "size":
        return _int(v, where, 2, 4096)
    if name == "seed":
        return _int(v, where, 0, 2**63 - 1)
    if name in ("initial", "reset"):
        return _str(v, where, INITIAL_STATES)
    raise _Invalid(f"unknown parameter {name!r} in {where}")


def _build(data, source) -> Scene:
    _keys(data, TOP_KEYS, "the scene", [k for k, req in TOP_KEYS.items() if req])
    if data["format"] != FORMAT or isinstance(data["format"], bool):
        raise _Invalid(f"format must be {FORMAT}, got {data['format']!r}")
    sid = _str(data["id"], "id")
    if not _ID.match(sid):
        raise _Invalid(f"id must be lower-case letters, digits and '-', got {sid!r}")
    name = _str(data["name"], "name").strip()
    if not name:
        raise _Invalid("name must not be empty")
    description = _str(data.get("description", ""), "description")
    model = _model(data["model"])
    initial = model.pop("initial", "random")
    panels = data["panels"]
    if not isinstance(panels, list) or not panels:
        raise _Invalid("panels must be a non-empty list of dock names")
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
        raise _Invalid("keyframes must be a list")
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
    """Every frame's parameters must be simulatable (e.g. no field with a cluster algorithm)."""
    seen = set()
    for k in range(scene.n_frames):
        p = scene.params_at_frame(k)
        if p in seen:
            continue
        seen.add(p)
        try:
            p.validated()
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
