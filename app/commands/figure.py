"""`isinglab figure`: regenerate exported figures headless, from a sidecar or a scene.

  isinglab figure --from out/lattice.png.json --out regenerated/          # the same figure, redrawn
  isinglab figure --from out/lattice.png.json --out rerun/ --resimulate   # a new run, same statistics
  isinglab figure --scene cool-through-tc --out figures/ [--style publication]

From a publication sidecar (app/output/sidecar.py) the figure is redrawn from its recorded data
file S.data.npz (its sha256 must match the sidecar's; a missing or changed file is refused), by
the same matplotlib code and with the recorded preset, font size and DPI: the PNG is identical
to the original on the same versions, and nothing is simulated. A screen look or an older
sidecar has no data: `--from` refuses it and says to use --resimulate.

--resimulate (and --scene) re-runs the simulation instead: a fresh sampler with the recorded
parameters and seed, started from the recorded initial state, runs the recorded sweeps (a scene:
frame by frame, exactly `sweeps_per_frame` sweeps per frame with its keyframed parameters), so
the run is deterministic; it equals the live run when that kept its parameters from the start
(the app does not record slider history) and, for the cluster algorithms, its chunking of sweeps.
The window is built offscreen (QT_QPA_PLATFORM=offscreen when no display is set) with the
software lattice view. Analysis panels get the final state as one snapshot and a short time to
draw it, so panels that need many snapshots (correlations, network training) show what one
snapshot gives. Only the statistics agree with the original figure, never its pixels.

Everything is checked before any work: the options (bounded numbers, known and distinct
formats, an output folder that can be created), the sidecar (app/output/sidecar.py) or scene
(core/scenes.py), the data file, the work a re-run asks for (spin updates, limited unless
--allow-long) and whether Qt can open a window.
"""
from __future__ import annotations

import datetime
import os
import time

import numpy as np

from isinglab.core.cli.options import add_allow_long, float_range, int_range
from isinglab.core.errors import IsingLabError
from isinglab.app.output.sidecar import (DPI_RANGE, FONT_RANGE, PRESETS, SCALE_RANGE, _scene_from,
                                         check_sidecar, has_data, load_sidecar, recorded_data)  # noqa: F401

NAME = "figure"
HELP = "redraw a figure from its sidecar's recorded data, or re-run a sidecar or a scene (PNG, SVG, PDF + sidecars)"
ORDER = 61
MAX_TRACE = 2000  # measurements kept for the observables traces (as the live panel)
SETTLE_SWEEPS = 100  # sweeps after a start or reset before samples enter the T-scan
PANEL_WAIT_S = 2.0  # time the analysis panels get to draw the final snapshot
_APP = None


def add_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="sidecar", metavar="SIDECAR", help="a .json sidecar written by an export")
    src.add_argument("--scene", metavar="NAME", help="a scene id (see resources/scenes/) or a scene file")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the figures (created if missing)")
    p.add_argument("--formats", default="png,svg,pdf", help="comma-separated subset of png,svg,pdf")
    p.add_argument("--resimulate", action="store_true",
                   help="with --from: re-run the recorded seed and parameters instead of redrawing the recorded "
                        "data (only the statistics agree with the original figure)")
    p.add_argument("--style", choices=("screen", "publication"), default=None,
                   help="with --scene: the panels as they look (screen, the default) or publication figures "
                        "drawn from their data")
    p.add_argument("--preset", choices=PRESETS, default=None,
                   help="publication figure width: single (3.4 in) or double column (7 in); default: the "
                        "sidecar's, else single")
    p.add_argument("--font-size", type=float_range("--font-size", *FONT_RANGE), default=None,
                   help="publication text size in points, 5-14 (default: the sidecar's, else 8)")
    p.add_argument("--scale", type=float_range("--scale", *SCALE_RANGE), default=2.0,
                   help="screen look: output pixels per screen pixel, 0.1-16 (default 2)")
    p.add_argument("--dpi", type=int_range("--dpi", *DPI_RANGE), default=None,
                   help="PNG pixels per inch (publication) or resolution tag (screen), 30-2400 (default: "
                        "the sidecar's, else 150)")
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


def render(replay: Replay, out: str, formats, opts, mode: str = "screen") -> list[str]:
    """Simulate the replay and write its panels into `out`: mode "screen" the screen look as
    <stem>.<fmt>, "screen.png" as <stem>.screen.png, "publication" the publication figures of the
    panels that have data after the run (IsingLabError when none has)."""
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
        for name in replay.panels:
            dock = window.docks[name]
            export.bring_forward(dock)
            if name != "latticeDock" and hasattr(dock.widget(), "on_snapshot"):
                dock.widget().on_snapshot(snap)
                _wait(app, PANEL_WAIT_S, lambda: getattr(dock.widget(), "shown_serial", None) == snap.serial)
        window.observables.refresh()
        drawn = [n for n in replay.panels if mode != "publication" or export.has_publication(window, n)]
        if not drawn:
            raise IsingLabError(f"no publication figure: after the re-run none of {', '.join(replay.panels)} "
                                "has data to draw")
        out = _make_out_folder(out)  # only now: a refusal before this point leaves nothing behind
        extra = {"scene": replay.scene.to_dict()} if replay.scene is not None else None
        written = []
        for name in drawn:
            if mode == "publication":
                written += export.export_publication(window, name, out, formats, opts, snap, extra)
            elif mode == "screen.png":
                written += export.export_screen(window, name, out, opts, snap, extra)
            else:
                for fmt in formats:
                    path = os.path.join(out, f"{export.FILE_STEMS[name]}.{fmt}")
                    written += export.export_panel(window, name, path, fmt, opts, snap, extra)
        return written
    finally:
        window.close()  # stops the engine and the panels' workers
        window.deleteLater()
        app.processEvents()


def redraw(sidecar_path: str, sidecar: dict, out: str, formats, args) -> list[str]:
    """The publication figure of `sidecar` drawn again from its recorded data file, without
    simulating (no window, no Qt): the same data, code and style give the same PNG."""
    from isinglab.core.json_files import load_json_object, show_path
    from isinglab.app.output.figures.data import unpack
    from isinglab.app.output.figures.style import Style
    from isinglab.app.output.publication import write_publication
    data_path, blob = recorded_data(sidecar_path, sidecar)
    panel, tables = unpack(blob, f"data file {show_path(data_path)}")
    if panel != sidecar["panel"]:
        raise IsingLabError(f"data file {show_path(data_path)} holds the {panel} panel, the sidecar the {sidecar['panel']}")
    fig = sidecar.get("figure") or {}
    style = Style(args.preset or fig.get("preset", "single"),
                  args.font_size if args.font_size is not None else fig.get("font_size", 8.0),
                  args.dpi if args.dpi is not None else sidecar.get("dpi", 150)).validated()
    base = load_json_object(sidecar_path, "sidecar")  # checked above: the fields to carry over
    base["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return write_publication(out, panel, tables, style, formats, base, data_blob=blob, create=True)


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
    from isinglab.app.output.sidecar import parse_formats
    return parse_formats(text)


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


# ---------------------------------------------------------------------------- command

def run(args, hooks):
    formats = _formats(args.formats)
    out = check_out_folder(args.out)
    if args.resimulate and not args.sidecar:
        raise IsingLabError("--resimulate: only with --from (a scene is always simulated)")
    if args.style and not args.scene:
        raise IsingLabError("--style: only with --scene (a sidecar's figure keeps its own style)")
    t0 = time.perf_counter()
    if args.sidecar:
        sidecar = load_sidecar(args.sidecar)
        if not args.resimulate:
            if not has_data(sidecar):  # what a re-run would ask for is said first, then that it is needed
                check_work(sidecar, sidecar.get("scene"), args.allow_long)
            written = redraw(args.sidecar, sidecar, out, formats, args)
            return {"figures": len(_figures(written)), "panels": sidecar["panel"], "sweeps": 0,
                    "replay": "redrawn from the recorded data (no simulation): the same figure",
                    "folder": os.path.dirname(written[0]), "seconds": round(time.perf_counter() - t0, 2)}
        check_work(sidecar, sidecar.get("scene"), args.allow_long)
        replay = replay_from_sidecar(sidecar)
        mode = ("publication" if sidecar.get("style") == "publication" else
                "screen.png" if str(sidecar.get("file", "")).endswith(".screen.png") else "screen")
        fig = sidecar.get("figure") or {}
        preset, font = args.preset or fig.get("preset", "single"), args.font_size or fig.get("font_size", 8.0)
        dpi = args.dpi or sidecar.get("dpi", 150)
    else:
        scene = _scene_from(args.scene)
        check_work(None, scene, args.allow_long)
        replay = replay_from_scene(scene)
        mode = args.style or "screen"
        preset, font, dpi = args.preset or "single", args.font_size or 8.0, args.dpi or 150
    from isinglab.app.output.export import ExportOptions  # Qt: only for a re-run
    opts = ExportOptions(scale=args.scale, dpi=dpi, preset=preset, font_size=font).validated()
    written = render(replay, out, formats, opts, mode)
    result = {"figures": len(_figures(written)), "panels": ", ".join(replay.panels),
              "sweeps": sum(n for _, _, n in replay.frames), "folder": out,
              "seconds": round(time.perf_counter() - t0, 2)}
    if args.sidecar:
        result["note"] = ("re-simulated from the recorded seed and parameters: only the statistics agree "
                          "with the original figure, not its pixels")
    return result


def _figures(written) -> list[str]:
    return [p for p in written if not p.endswith((".json", ".data.npz"))]
