"""Sidecars: the JSON file beside every exported figure that says how it was made, and the one
strict reader of them (`isinglab figure --from`, tests).

A sidecar is data: read by core/json_files.py (size, encoding, strict JSON), then every field is
typed and ranged here and unknown keys are refused, each refusal one line naming the field and
the rule. Publication figures (style "publication") also name their data file S.data.npz and its
sha256 (`data`), and how they were drawn (`figure`: preset, font size, size in inches); screen
looks (style "screen", S.screen.png) and sidecars written before publication figures existed have
no data file. No Qt here: `figure --from` redraws a publication figure without a window.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import asdict

from isinglab.core import __version__
from isinglab.core.errors import IsingLabError
from isinglab.core.json_files import strict_json
from isinglab.core.panel_ids import PANEL_IDS

SIDECAR_SCHEMA = 1
FORMATS = ("png", "svg", "pdf")  # the figure formats, in the order a set is written


def parse_formats(text: str) -> list[str]:
    """--formats "png,svg": known, distinct formats, or IsingLabError naming the bad ones."""
    out = [f.strip().lower() for f in text.split(",")]
    if out == [""]:
        raise IsingLabError(f"--formats: empty; choose from {', '.join(FORMATS)}")
    bad = [f for f in out if f not in FORMATS]
    if bad:
        shown = ", ".join(ascii(f) if f else "(empty)" for f in dict.fromkeys(bad[:5]))
        raise IsingLabError(f"--formats: unknown {shown}; choose from {', '.join(FORMATS)}")
    twice = sorted({f for f in out if out.count(f) > 1})
    if twice:
        raise IsingLabError(f"--formats: {', '.join(twice)} given twice")
    return out
PANELS = PANEL_IDS
STYLES = ("publication", "screen")
SIDECAR_KEYS = {"isinglab_version", "schema", "panel", "format", "file", "created", "params", "sweeps",
                "algorithm", "backend", "seed", "initial", "panel_state", "scale", "dpi", "size_px", "scene",
                "style", "data", "figure"}
SCALE_RANGE, DPI_RANGE = (0.1, 16.0), (30, 2400)  # app/output/export.py ExportOptions.validated
FONT_RANGE = (5.0, 14.0)  # app/output/figures/style.py
PRESETS = ("single", "double")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
DATA_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.data\.npz")


# ---------------------------------------------------------------------------- writing

def panel_state(window, panel_id: str) -> dict:
    """What regenerating the panel needs beyond the model parameters: its contract's state()."""
    return strict_json(window.panels[panel_id].state())


def make_sidecar(window, panel_id: str, fmt: str, filename: str, dpi: int, size, snapshot=None,
                 scale: float | None = None) -> dict:
    """The fields every sidecar has: the model, the run, the backend and the panel's state."""
    snap = snapshot if snapshot is not None else window.engine.latest()
    p = snap.params
    out = {
        "isinglab_version": __version__,
        "schema": SIDECAR_SCHEMA,
        "panel": panel_id,
        "format": fmt,
        "file": filename,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "params": asdict(p),
        "sweeps": int(snap.sweeps),
        "algorithm": p.algorithm,
        "backend": {"engine": getattr(window.engine, "_backend", "numba"), "kernel": snap.kernel,
                    "view": window.lattice.backend},
        "seed": p.seed,
        "initial": "random",
        "dpi": int(dpi),
        "size_px": [int(size[0]), int(size[1])],
        "panel_state": panel_state(window, panel_id),
    }
    if scale is not None:
        out["scale"] = scale
    return out


# ---------------------------------------------------------------------------- reading

MAX_SIDECAR_SWEEPS = 10**9
MAX_INPUTS, MAX_TEXT = 200, 1000  # panel_state.inputs: entries, characters of a text value
MAX_INPUT_INT = 2**31 - 1  # what a Qt spin box holds
MAX_MODEL_KEYS = 12
MAX_MODEL_LIST = 10000  # entries of one list in panel_state.model
PANEL_STATE_KEYS = {  # what each panel's state() writes; "inputs" and "model" for every panel
    "latticeDock": {"colormap", "show_domain_walls", "show_cluster", "view_backend"},
    "observablesDock": {"scan", "trace_points"},
    "blocksDock": {"rule", "block", "flow", "mcrg"},
    "correlationDock": {"current_temperature", "xi_points"},
    "networkDock": {"distilled", "pl_fit"},
    "controlsDock": set(),
    "fssDock": {"store", "tasks", "summary", "collapse", "message"},
}


class _Bad(Exception):
    pass


def _scene_from(spec, where: str = "sidecar"):
    from isinglab.core.scenes import load_scene, scene_from_dict
    if isinstance(spec, dict):
        return scene_from_dict(spec, f"in {where}")
    return load_scene(spec)


def load_sidecar(path: str) -> dict:
    """Read a sidecar (core/json_files.py rules) and check every field (check_sidecar)."""
    from isinglab.core.json_files import load_json_object, show_path
    data = load_json_object(path, "sidecar")
    return check_sidecar(data, f"sidecar {show_path(path)}")


def check_sidecar(data, where: str = "sidecar") -> dict:
    """A sidecar's fields, typed and ranged; returns a new dict with `params` as ModelParams
    (and `scene` as a Scene when present). IsingLabError names the field and the rule."""
    try:
        return _check_sidecar(data, where)
    except _Bad as exc:
        raise IsingLabError(f"{where}: {exc}") from None


def _check_sidecar(data, where):
    _obj(data, "the sidecar", SIDECAR_KEYS, ("panel", "params", "sweeps"))
    out = dict(data)
    for key in ("isinglab_version", "created"):
        if key in data:
            _text(data[key], key, 64)
    if "file" in data:
        _text(data["file"], "file", 255)
    if "schema" in data and (type(data["schema"]) is not int or data["schema"] != SIDECAR_SCHEMA):
        raise _Bad(f"schema must be {SIDECAR_SCHEMA}, got {_show(data['schema'])}")
    panel = _choice(data["panel"], "panel", PANELS)
    if "format" in data:
        _choice(data["format"], "format", FORMATS)
    params = out["params"] = _params(data["params"])
    out["sweeps"] = _integer(data["sweeps"], "sweeps", 0, MAX_SIDECAR_SWEEPS)
    if "algorithm" in data and _text(data["algorithm"], "algorithm", 64) != params.algorithm:
        raise _Bad(f"algorithm {_show(data['algorithm'])} differs from params.algorithm {params.algorithm!r}")
    if "seed" in data and _integer(data["seed"], "seed", 0, 2**63 - 1) != params.seed:
        raise _Bad(f"seed {data['seed']} differs from params.seed {params.seed}")
    if "initial" in data:
        _choice(data["initial"], "initial", ("random", "up", "down"))
    if "backend" in data:
        _obj(data["backend"], "backend", {"engine", "kernel", "view"})
        for k, v in data["backend"].items():  # informational: a name, or [backend, device]
            for i, item in enumerate(v if isinstance(v, list) and len(v) <= 4 else [v]):
                if item is not None:
                    _text(item, f"backend.{k}" + (f"[{i}]" if isinstance(v, list) else ""), 64)
    if "scale" in data:
        _number(data["scale"], "scale", *SCALE_RANGE)
    if "dpi" in data:
        _integer(data["dpi"], "dpi", *DPI_RANGE)
    if "size_px" in data:
        v = data["size_px"]
        if not isinstance(v, list) or len(v) != 2:
            raise _Bad(f"size_px must be [width, height], got {_show(v)}")
        for i, n in enumerate(v):
            _integer(n, f"size_px[{i}]", 0, 10**6)
    out["panel_state"] = _panel_state(data.get("panel_state", {}), panel)
    _figure_fields(data, panel)
    if "scene" in data:
        if not isinstance(data["scene"], dict):
            raise _Bad(f"scene must be an object, got {_kind(data['scene'])}")
        out["scene"] = _scene_from(data["scene"], where)
    return out


def _params(d):
    from isinglab.core.params import ALGORITHMS, ModelParams
    from isinglab.core.scenes import MAX_SIZE
    fields = ModelParams.__dataclass_fields__
    _obj(d, "params", set(fields))
    values = {}
    for k, v in d.items():
        where = f"params.{k}"
        if k == "size":
            values[k] = _integer(v, where, 2, MAX_SIZE)
        elif k == "temperature":
            values[k] = _number(v, where, 0.0, 1e6, lo_open=True)
        elif k in ("coupling", "field"):
            values[k] = _number(v, where, -1e6, 1e6)
        elif k == "algorithm":
            values[k] = _choice(v, where, ALGORITHMS)
        elif k == "seed":
            values[k] = _integer(v, where, 0, 2**63 - 1)
    try:
        return ModelParams(**values).validated()
    except IsingLabError as exc:
        raise _Bad(f"params: {exc}") from None


def _panel_state(state, panel):
    _obj(state, "panel_state", {"inputs", "model", *PANEL_STATE_KEYS[panel]})
    if state.get("model") is not None:
        _model(state["model"])
    if "inputs" in state:
        inputs = state["inputs"]
        _obj(inputs, "panel_state.inputs", None)
        if len(inputs) > MAX_INPUTS:
            raise _Bad(f"panel_state.inputs: at most {MAX_INPUTS} entries, got {len(inputs)}")
        for name, v in inputs.items():
            where = f"panel_state.inputs.{_short(name, 40)}"
            if not name or len(name) > 100:
                raise _Bad("panel_state.inputs: a name must have 1-100 characters")
            if isinstance(v, bool):
                continue
            if type(v) is int:
                _integer(v, where, -MAX_INPUT_INT, MAX_INPUT_INT)
            elif type(v) is float:
                _number(v, where, -1e15, 1e15)
            elif isinstance(v, str):
                _text(v, where, MAX_TEXT)
            else:
                raise _Bad(f"{where} must be a number, a string or true/false, got {_kind(v)}")
    for key in ("show_domain_walls", "show_cluster"):
        if key in state and not isinstance(state[key], bool):
            raise _Bad(f"panel_state.{key} must be true or false, got {_show(state[key])}")
    if "colormap" in state:
        from isinglab.app.lattice.colours import COLOR_SCHEMES
        _choice(state["colormap"], "panel_state.colormap", tuple(COLOR_SCHEMES))
    for key in ("view_backend", "rule"):
        if key in state:
            _text(state[key], f"panel_state.{key}", 64)
    for key in ("store", "message"):
        if key in state:
            _text(state[key], f"panel_state.{key}", MAX_TEXT)
    for key in ("trace_points", "block"):
        if key in state:
            _integer(state[key], f"panel_state.{key}", 0, 10**9)
    if state.get("current_temperature") is not None:
        _number(state["current_temperature"], "panel_state.current_temperature", 0.0, 1e6)
    for key, kind in (("scan", dict), ("mcrg", dict), ("xi_points", dict), ("distilled", dict),
                      ("pl_fit", dict), ("flow", list), ("tasks", dict), ("summary", dict), ("collapse", dict)):
        if key in state and not isinstance(state[key], kind):  # recorded, not replayed
            raise _Bad(f"panel_state.{key} must be {'an object' if kind is dict else 'a list'}, "
                       f"got {_kind(state[key])}")
    return state


def _figure_fields(data, panel) -> None:
    """style, data (file name and sha256) and figure (how a publication figure was drawn)."""
    style = _choice(data["style"], "style", STYLES) if "style" in data else None
    if "data" in data:
        if style != "publication":
            raise _Bad("data: only a publication figure (style publication) has a data file")
        _obj(data["data"], "data", {"file", "sha256"}, ("file", "sha256"))
        name = _text(data["data"]["file"], "data.file", 255)
        if not DATA_NAME_RE.fullmatch(name):
            raise _Bad(f"data.file must be a file name ending in .data.npz (no folder), got {_show(name)}")
        if not isinstance(data["data"]["sha256"], str) or not SHA256_RE.fullmatch(data["data"]["sha256"]):
            raise _Bad("data.sha256 must be 64 lower-case hexadecimal digits")
    if "figure" in data:
        if style != "publication":
            raise _Bad("figure: only a publication figure (style publication) has figure settings")
        fig = data["figure"]
        _obj(fig, "figure", {"preset", "font_size", "width_in", "height_in"}, ("preset", "font_size"))
        _choice(fig["preset"], "figure.preset", PRESETS)
        _number(fig["font_size"], "figure.font_size", *FONT_RANGE)
        for key in ("width_in", "height_in"):
            if key in fig:
                _number(fig[key], f"figure.{key}", 0.1, 100.0)
    if style == "publication" and panel == "controlsDock":
        raise _Bad("the controls panel has no publication figure")


def _model(model) -> None:
    """panel_state.model: the parameters a panel's data were measured on (recorded, not replayed)."""
    _obj(model, "panel_state.model", None)
    if len(model) > MAX_MODEL_KEYS:
        raise _Bad(f"panel_state.model: at most {MAX_MODEL_KEYS} entries, got {len(model)}")
    for name, v in model.items():
        where = f"panel_state.model.{_short(name, 40)}"
        for x in (v if isinstance(v, list) else [v]):  # a sweep's sizes and temperatures are lists
            if isinstance(v, list) and len(v) > MAX_MODEL_LIST:
                raise _Bad(f"{where}: at most {MAX_MODEL_LIST} entries, got {len(v)}")
            if isinstance(x, str):
                _text(x, where, 64)
            elif x is not None and not isinstance(x, bool):
                _number(x, where, -1e15, 1e15)


def _obj(v, where, allowed, required=()):
    if not isinstance(v, dict):
        raise _Bad(f"{where} must be an object, got {_kind(v)}")
    if allowed is not None:
        unknown = sorted(set(v) - set(allowed))
        if unknown:
            shown = ", ".join(ascii(_short(k, 40)) for k in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            raise _Bad(f"unknown key(s) {shown} in {where}; allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in required if k not in v]
    if missing:
        raise _Bad(f"{where} is missing {', '.join(missing)}")


def _integer(v, where, lo, hi):
    if type(v) is not int:  # not a float, not a bool
        raise _Bad(f"{where} must be an integer, got {_show(v)}")
    if not lo <= v <= hi:
        raise _Bad(f"{where} must be between {lo} and {hi}, got {_short(str(v), 40)}")
    return v


def _number(v, where, lo, hi, lo_open=False):
    import math
    if type(v) not in (int, float):
        raise _Bad(f"{where} must be a number, got {_show(v)}")
    try:
        x = float(v)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x) or x > hi or (x <= lo if lo_open else x < lo):
        raise _Bad(f"{where} must be {'>' if lo_open else '>='} {lo:g} and <= {hi:g}, got {_short(str(v), 40)}")
    return x


def _choice(v, where, choices):
    if not isinstance(v, str) or v not in choices:
        raise _Bad(f"{where} must be one of {', '.join(choices)}, got {_show(v)}")
    return v


def _text(v, where, max_len):
    if not isinstance(v, str):
        raise _Bad(f"{where} must be a string, got {_show(v)}")
    if len(v) > max_len:
        raise _Bad(f"{where} must be at most {max_len} characters, got {len(v)}")
    return v


def _kind(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _show(v) -> str:
    return _kind(v) if isinstance(v, (dict, list)) else _short(ascii(v), 60)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------------------- the data file

NO_DATA = ("has no recorded data (a screen look, or a sidecar written before figures kept their "
           "data): use --resimulate to re-run it from its seed and parameters")


def has_data(sidecar: dict) -> bool:
    return sidecar.get("style") == "publication" and "data" in sidecar


def recorded_data(sidecar_path: str, sidecar: dict) -> tuple[str, bytes]:
    """(path, bytes) of the data file a publication sidecar names, beside the sidecar.

    One-line IsingLabError when the sidecar records no data file, when the file is missing, or
    when its sha256 differs from the recorded one (the figure would not be the same)."""
    import os
    from isinglab.core.json_files import read_limited, show_path
    from isinglab.app.output.figures.data import MAX_DATA_BYTES, digest
    where = f"sidecar {show_path(sidecar_path)}"
    if not has_data(sidecar):
        raise IsingLabError(f"{where}: this figure {NO_DATA}")
    name = sidecar["data"]["file"]
    path = os.path.join(os.path.dirname(os.path.abspath(sidecar_path)), name)
    if not os.path.lexists(path):
        raise IsingLabError(f"{where}: its data file {show_path(path)} is missing")
    blob = read_limited(path, "data file", MAX_DATA_BYTES)
    if digest(blob) != sidecar["data"]["sha256"]:
        raise IsingLabError(f"{where}: its data file {show_path(path)} has changed (its sha256 differs "
                            "from the one recorded)")
    return path, blob
