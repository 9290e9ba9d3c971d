"""`isinglab figure`: regenerate exported figures headless, from a sidecar or a scene.

  isinglab figure --from out/lattice.png.json --out regenerated/
  isinglab figure --scene cool-through-tc --out figures/

The run is deterministic: a fresh sampler with the recorded parameters and seed, started from
the recorded initial state, runs the recorded sweeps (a scene: frame by frame, exactly
`sweeps_per_frame` sweeps per frame with its keyframed parameters). So the same sidecar or scene
always gives the same figure. It equals the live figure when the live run kept its parameters
from the start (the live app does not record slider history) and, for the cluster algorithms,
also its chunking of sweeps. The window is built offscreen (QT_QPA_PLATFORM=offscreen when no
display is set) with the software lattice view; each panel is written as PNG, SVG and PDF with
sidecars. Analysis panels get the final state as one snapshot and a short time to draw it, so
panels that need many snapshots (correlations, network training) show what one snapshot gives.

Everything is checked before any work: the options (bounded numbers, known and distinct
formats, an output folder that can be created), the sidecar (read by core/json_files.py, then
every field typed and ranged here, unknown keys refused) or scene (core/scenes.py), the work it
asks for (spin updates, limited unless --allow-long) and whether Qt can open a window.
"""
from __future__ import annotations

import os
import time

import numpy as np

from isinglab.core.cli.options import add_allow_long, float_range, int_range
from isinglab.core.errors import IsingLabError

NAME = "figure"
HELP = "regenerate figures headless from an export sidecar or a scene (PNG, SVG, PDF + sidecars)"
ORDER = 61
MAX_TRACE = 2000  # measurements kept for the observables traces (as the live panel)
SETTLE_SWEEPS = 100  # sweeps after a start or reset before samples enter the T-scan
PANEL_WAIT_S = 2.0  # time the analysis panels get to draw the final snapshot
SCALE_RANGE, DPI_RANGE = (0.1, 16.0), (30, 2400)  # as app/output/export.py ExportOptions.validated
_APP = None


def add_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="sidecar", metavar="SIDECAR", help="a .json sidecar written by an export")
    src.add_argument("--scene", metavar="NAME", help="a scene id (see resources/scenes/) or a scene file")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the figures (created if missing)")
    p.add_argument("--formats", default="png,svg,pdf", help="comma-separated subset of png,svg,pdf")
    p.add_argument("--scale", type=float_range("--scale", *SCALE_RANGE), default=2.0,
                   help="output pixels per screen pixel, 0.1-16 (default 2)")
    p.add_argument("--dpi", type=int_range("--dpi", *DPI_RANGE), default=150,
                   help="PNG resolution tag and SVG/PDF page size, 30-2400 (default 150)")
    add_allow_long(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")


# ---------------------------------------------------------------------------- plans

class Replay:
    """What to simulate: frames of (params, reset or None, sweeps) from a fresh sampler."""

    def __init__(self, frames, panels, panel_state=None, scene=None):
        self.frames = frames
        self.panels = panels
        self.panel_state = panel_state or {}
        self.scene = scene


def replay_from_sidecar(data: dict) -> Replay:
    if "scene" in data:
        from isinglab.core.scenes import Scene
        scene = data["scene"] if isinstance(data["scene"], Scene) else _scene_from(data["scene"])
        return replay_from_scene(scene, [data["panel"]], data.get("panel_state"))
    p, n = data["params"], data["sweeps"]
    chunk = max(1, -(-n // MAX_TRACE))
    frames = [(p, data.get("initial", "random"), 0)] + [(p, None, min(chunk, n - k)) for k in range(0, n, chunk)]
    return Replay(frames, [data["panel"]], {data["panel"]: data.get("panel_state", {})})


def _scene_from(spec, where: str = "sidecar"):
    from isinglab.core.scenes import load_scene, scene_from_dict
    if isinstance(spec, dict):
        return scene_from_dict(spec, f"in {where}")
    return load_scene(spec)


def check_work(sidecar: dict | None, scene, allow_long: bool) -> float:
    """Refuse (IsingLabError) a replay estimated beyond core/limits.py unless allow_long; this
    runs before the replay's frames are even listed."""
    from isinglab.core.scenes import check_replay_work
    if scene is not None:
        what = "figure: the sidecar's scene" if sidecar is not None else f"figure: scene {scene.id}"
        return check_replay_work(what, scene.spin_updates_by_algorithm(), allow_long)
    p = sidecar["params"]
    return check_replay_work("figure: the sidecar's replay", {p.algorithm: sidecar["sweeps"] * p.size * p.size},
                             allow_long, detail=f"sweeps x L^2 = {sidecar['sweeps']} x {p.size}^2")


def replay_from_scene(scene, panels=None, panel_state=None) -> Replay:
    from isinglab.core.params import ModelParams
    frames = []
    for k, row in enumerate(zip(*scene.frame_columns())):  # == scene.params_at_frame(k), all at once
        resets = scene.events_at_frame(k)
        frames.append((ModelParams(*row), resets[-1] if resets else None, scene.sweeps_per_frame))
    names = list(panels) if panels else list(scene.panels)
    return Replay(frames, names, {names[0]: panel_state} if panel_state and panels else {}, scene)


# ---------------------------------------------------------------------------- simulation

def simulate(replay: Replay):
    """Run the frames; returns (final Snapshot, trace arrays, scan samples)."""
    from isinglab.core.backends import make_sampler
    from isinglab.core.backends.base import initial_spins
    from isinglab.core.engine import Snapshot

    params, state, _ = replay.frames[0]
    sampler = make_sampler(params, initial=state or "random")
    since_reset = 0
    trace, samples = [], []
    for p, reset, n in replay.frames:
        if (p.size, p.algorithm, p.seed) != (params.size, params.algorithm, params.seed):
            spins = sampler.spins() if p.size == params.size else None
            sampler = make_sampler(p, spins=spins)
            since_reset = 0 if spins is None else since_reset
        elif p != params:
            sampler.set_params(p)
        params = p
        if reset is not None and sampler.sweeps_done > 0:
            sampler.load(initial_spins(p.size, reset, p.seed + sampler.sweeps_done))
            since_reset = 0
        if n:
            sampler.sweep(n)
            since_reset += n
            e, m = sampler.energy_magnetisation()
            trace.append((sampler.sweeps_done, e, m))
            if since_reset >= SETTLE_SWEEPS:
                samples.append((p.temperature, e, m))
    e, m = sampler.energy_magnetisation()
    spins = sampler.spins()
    spins.flags.writeable = False
    snap = Snapshot(1, params, spins, sampler.sweeps_done, e, m, 0, 0.0, 0.0, time.perf_counter(),
                    None, sampler.kernel_name)
    return snap, np.array(trace).reshape(-1, 3), np.array(samples).reshape(-1, 3)


# ---------------------------------------------------------------------------- rendering

def _app():
    """The QApplication: offscreen when QT_QPA_PLATFORM is unset and there is no usable display;
    IsingLabError (before Qt could abort the process) when the platform asked for cannot open."""
    from isinglab.app.window.application import make_app
    global _APP
    _APP = make_app(fallback_offscreen=True)
    return _APP  # kept for the process: Qt objects must not outlive their application


def _wait(app, seconds: float, done=lambda: False) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not done():
        app.processEvents()
        time.sleep(0.01)


def render(replay: Replay, out: str, formats, opts) -> list[str]:
    app = _app()
    from isinglab.app.output import export
    from isinglab.app.window.main_window import MainWindow

    snap, trace, samples = simulate(replay)
    window = MainWindow(snap.params, no_gl=True)
    try:
        window.timer.stop()  # the window's own engine stays paused and is never displayed
        window.resize(1600, 1000)
        window.show()
        _feed(window, snap, trace, samples, replay)
        out = _make_out_folder(out)  # only now: a refusal before this point leaves nothing behind
        written = []
        for name in replay.panels:
            dock = window.docks[name]
            export.bring_forward(dock)
            if name != "latticeDock" and hasattr(dock.widget(), "on_snapshot"):
                dock.widget().on_snapshot(snap)
                _wait(app, PANEL_WAIT_S, lambda: getattr(dock.widget(), "shown_serial", None) == snap.serial)
            window.observables.refresh()
            extra = {"scene": replay.scene.to_dict()} if replay.scene is not None else None
            for fmt in formats:
                path = os.path.join(out, f"{export.FILE_STEMS[name]}.{fmt}")
                written += export.export_panel(window, name, path, fmt, opts, snap, extra)
        return written
    finally:
        window.close()  # stops the engine and the panels' workers
        window.deleteLater()
        app.processEvents()


def _feed(window, snap, trace, samples, replay) -> None:
    p = snap.params
    window.controls.set_values(p)
    window.observables.set_model(p.size, p.coupling)
    if len(trace):
        window.observables.add_trace(trace[:, 0], trace[:, 1], trace[:, 2], p)
    if len(samples):
        window.observables.add_samples(samples[:, 0], samples[:, 1], samples[:, 2])
    window.observables.set_current_temperature(p.temperature)
    window.lattice.set_spins(snap.spins)
    for name, state in replay.panel_state.items():
        if name not in window.panels:
            continue
        try:
            window.panels[name].restore(state)
        except (OverflowError, TypeError, ValueError) as exc:  # e.g. a number a spin box cannot hold
            raise IsingLabError(f"sidecar: panel_state.inputs cannot be restored on {name} "
                                f"({type(exc).__name__})") from None


# ---------------------------------------------------------------------------- command

def _formats(text: str):
    from isinglab.app.output.export import FORMATS
    out = [f.strip().lower() for f in text.split(",")]
    bad = [f for f in out if f not in FORMATS]
    if not any(out) and len(out) == 1:
        raise IsingLabError(f"--formats: empty; choose from {', '.join(FORMATS)}")
    if bad:
        shown = ", ".join(ascii(f) if f else "(empty)" for f in dict.fromkeys(bad[:5]))
        raise IsingLabError(f"--formats: unknown {shown}; choose from {', '.join(FORMATS)}")
    twice = sorted({f for f in out if out.count(f) > 1})
    if twice:
        raise IsingLabError(f"--formats: {', '.join(twice)} given twice")
    return out


def check_out_folder(path: str) -> str:
    """The absolute output folder, checked but not created: it is a folder, or its nearest
    existing parent is a writable folder (then it is created just before the first figure)."""
    from isinglab.core.atomic_io import check_folder
    from isinglab.core.json_files import one_line, show_path
    if not path or "\0" in path:
        raise IsingLabError(f"--out: not a valid folder name: {show_path(path)}")
    folder = os.path.abspath(os.path.expanduser(path))
    probe = folder
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        what = "is a file" if os.path.isfile(probe) else "exists and is not a folder"
        raise IsingLabError(f"--out: cannot create output folder {show_path(folder)}: {show_path(probe)} {what}")
    try:
        check_folder(probe)
    except IsingLabError as exc:
        raise IsingLabError(one_line(f"--out: {exc}")) from None
    return folder


def _make_out_folder(folder: str) -> str:
    from isinglab.core.atomic_io import check_folder
    from isinglab.core.json_files import show_path
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise IsingLabError(f"cannot create output folder {show_path(folder)}: {exc.strerror or exc}") from None
    return check_folder(folder)


# ---------------------------------------------------------------------------- sidecars

MAX_SIDECAR_SWEEPS = 10**9
MAX_INPUTS, MAX_TEXT = 200, 1000  # panel_state.inputs: entries, characters of a text value
MAX_INPUT_INT = 2**31 - 1  # what a Qt spin box holds
MAX_MODEL_KEYS = 12
PANEL_STATE_KEYS = {  # what each panel's state() writes; "inputs" and "model" for every panel
    "latticeDock": {"colormap", "show_domain_walls", "show_cluster", "view_backend"},
    "observablesDock": {"scan", "trace_points"},
    "blocksDock": {"rule", "block", "flow", "mcrg"},
    "correlationDock": {"current_temperature", "xi_points"},
    "networkDock": {"distilled", "pl_fit"},
    "controlsDock": set(),
}


class _Bad(Exception):
    pass


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
    from isinglab.app.output.export import FORMATS, PANELS, SIDECAR_KEYS, SIDECAR_SCHEMA
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
    for key in ("trace_points", "block"):
        if key in state:
            _integer(state[key], f"panel_state.{key}", 0, 10**9)
    if state.get("current_temperature") is not None:
        _number(state["current_temperature"], "panel_state.current_temperature", 0.0, 1e6)
    for key, kind in (("scan", dict), ("mcrg", dict), ("xi_points", dict), ("distilled", dict),
                      ("pl_fit", dict), ("flow", list)):
        if key in state and not isinstance(state[key], kind):  # recorded, not replayed
            raise _Bad(f"panel_state.{key} must be {'an object' if kind is dict else 'a list'}, "
                       f"got {_kind(state[key])}")
    return state


def _model(model) -> None:
    """panel_state.model: the parameters a panel's data were measured on (recorded, not replayed)."""
    _obj(model, "panel_state.model", None)
    if len(model) > MAX_MODEL_KEYS:
        raise _Bad(f"panel_state.model: at most {MAX_MODEL_KEYS} entries, got {len(model)}")
    for name, v in model.items():
        where = f"panel_state.model.{_short(name, 40)}"
        if isinstance(v, str):
            _text(v, where, 64)
        elif v is not None and not isinstance(v, bool):
            _number(v, where, -1e15, 1e15)


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


# ---------------------------------------------------------------------------- command

def run(args, hooks):
    from isinglab.app.output.export import ExportOptions
    formats = _formats(args.formats)
    opts = ExportOptions(scale=args.scale, dpi=args.dpi).validated()
    out = check_out_folder(args.out)
    if args.sidecar:
        sidecar = load_sidecar(args.sidecar)
        check_work(sidecar, sidecar.get("scene"), args.allow_long)
        replay = replay_from_sidecar(sidecar)
    else:
        scene = _scene_from(args.scene)
        check_work(None, scene, args.allow_long)
        replay = replay_from_scene(scene)
    t0 = time.perf_counter()
    written = render(replay, out, formats, opts)
    figures = [p for p in written if not p.endswith(".json")]
    return {"figures": len(figures), "panels": ", ".join(replay.panels),
            "sweeps": sum(n for _, _, n in replay.frames), "folder": out,
            "seconds": round(time.perf_counter() - t0, 2)}
