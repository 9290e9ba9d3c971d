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
"""
from __future__ import annotations

import os
import time

import numpy as np

from isinglab.core.errors import IsingLabError

NAME = "figure"
HELP = "regenerate figures headless from an export sidecar or a scene (PNG, SVG, PDF + sidecars)"
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
    p.add_argument("--scale", type=float, default=2.0, help="output pixels per screen pixel (default 2)")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution tag and SVG/PDF page size (default 150)")
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
        return replay_from_scene(_scene_from(data["scene"]), [data["panel"]], data.get("panel_state"))
    p, n = data["params"], data["sweeps"]
    chunk = max(1, -(-n // MAX_TRACE))
    frames = [(p, data.get("initial", "random"), 0)] + [(p, None, min(chunk, n - k)) for k in range(0, n, chunk)]
    return Replay(frames, [data["panel"]], {data["panel"]: data.get("panel_state", {})})


def _scene_from(spec):
    from isinglab.core.scenes import load_scene, parse_scene
    if isinstance(spec, dict):
        import json
        return parse_scene(json.dumps(spec), "sidecar scene")
    return load_scene(spec)


def replay_from_scene(scene, panels=None, panel_state=None) -> Replay:
    frames = []
    for k in range(scene.n_frames):
        resets = scene.events_at_frame(k)
        frames.append((scene.params_at_frame(k), resets[-1] if resets else None, scene.sweeps_per_frame))
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
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from isinglab.app import qt as _qt  # noqa: F401
    from PySide6.QtWidgets import QApplication
    global _APP
    _APP = QApplication.instance() or QApplication(["isinglab"])
    return _APP  # kept for the process: Qt objects must not outlive their application


def _wait(app, seconds: float, done=lambda: False) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not done():
        app.processEvents()
        time.sleep(0.01)


def render(replay: Replay, out: str, formats, opts) -> list[str]:
    app = _app()
    from . import export
    from .main_window import MainWindow

    snap, trace, samples = simulate(replay)
    window = MainWindow(snap.params, no_gl=True)
    try:
        window.timer.stop()  # the window's own engine stays paused and is never displayed
        window.resize(1600, 1000)
        window.show()
        _feed(window, snap, trace, samples, replay)
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
    from . import export
    p = snap.params
    window.controls.set_values(p)
    window.observables.set_model(p.size, p.coupling)
    if len(trace):
        window.observables.add_trace(trace[:, 0], trace[:, 1], trace[:, 2])
    if len(samples):
        window.observables.add_samples(samples[:, 0], samples[:, 1], samples[:, 2])
    window.observables.set_current_temperature(p.temperature)
    window.lattice.set_spins(snap.spins)
    for name, state in replay.panel_state.items():
        if name == "latticeDock" and state.get("colormap"):
            window.lattice.set_colormap(state["colormap"])
        if isinstance(state.get("inputs"), dict) and name in window.docks:
            export.restore_inputs(window.docks[name].widget(), state["inputs"])


# ---------------------------------------------------------------------------- command

def _formats(text: str):
    from .export import FORMATS
    out = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise IsingLabError(f"--formats: unknown {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    return out


def _out_folder(path: str) -> str:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise IsingLabError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
    from .export import check_folder
    return check_folder(path)


def run(args, hooks):
    from .export import ExportOptions, load_sidecar
    formats = _formats(args.formats)
    opts = ExportOptions(scale=args.scale, dpi=args.dpi).validated()
    if args.sidecar:
        replay = replay_from_sidecar(load_sidecar(args.sidecar))
    else:
        replay = replay_from_scene(_scene_from(args.scene))
    out = _out_folder(args.out)
    t0 = time.perf_counter()
    written = render(replay, out, formats, opts)
    figures = [p for p in written if not p.endswith(".json")]
    return {"figures": len(figures), "panels": ", ".join(replay.panels),
            "sweeps": sum(n for _, _, n in replay.frames), "folder": out,
            "seconds": round(time.perf_counter() - t0, 2)}
