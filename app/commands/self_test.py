"""`isinglab self-test` (and `isinglab --self-test`): check an installation or a frozen bundle.

Imports every isinglab module, loads every scene, runs a tiny simulation, renders a movie frame
and opens the main window offscreen for about a second. Prints one line per check; exit 0 when
all pass, 1 otherwise.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
import traceback

NAME = "self-test"
HELP = "check that this installation (or app bundle) works: imports, scenes, a tiny simulation, a window"
ORDER = 90
# not needed at run time: the GPU backend and the benchmark tool (torch-only modules are skipped
# with a note when torch is not installed, as in the default app bundle)
OPTIONAL_PREFIXES = ("isinglab.core.backends.torch", "isinglab.app.commands.gui_bench")


MAX_WINDOW_SECONDS = 600.0


def add_arguments(p):
    from isinglab.core.cli.options import float_range
    p.add_argument("--window-seconds", type=float_range("--window-seconds", 0.0, MAX_WINDOW_SECONDS, lo_open=True),
                   default=1.0,
                   help="how long the offscreen window runs (default 1, at most 600)")


def check_imports() -> str:
    import isinglab.app
    import isinglab.core
    names, failed, no_torch = [], [], []
    for pkg in (isinglab.core, isinglab.app):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if mod.name.startswith(OPTIONAL_PREFIXES):
                continue
            try:
                importlib.import_module(mod.name)
                names.append(mod.name)
            except ModuleNotFoundError as exc:
                (no_torch if exc.name == "torch" else failed).append(mod.name)
            except Exception as exc:
                failed.append(f"{mod.name} ({type(exc).__name__}: {exc})")
    if failed:
        raise RuntimeError("import failed: " + "; ".join(failed))
    skipped = f", {len(no_torch)} skipped (torch not installed: no network learning)" if no_torch else ""
    return f"{len(names)} modules{skipped}"


def check_scenes() -> str:
    from isinglab.core.scenes import list_scenes, load_scene
    infos = list_scenes()
    for info in infos:
        load_scene(info.id)
    if len(infos) < 6:
        raise RuntimeError(f"only {len(infos)} scenes found")
    return f"{len(infos)} scenes"


def check_simulation() -> str:
    from isinglab.core.backends import make_sampler
    from isinglab.core.params import ModelParams
    s = make_sampler(ModelParams(size=16, temperature=1.0, seed=1), initial="up")
    s.sweep(20)
    e, m = s.energy_magnetisation()
    if not (e < -1.9 and m > 0.9):  # T = 1 is deep in the ordered phase: e ~ -2, m ~ 1
        raise RuntimeError(f"unexpected e = {e:.3f}, m = {m:.3f} at T = 1")
    return f"e = {e:.3f}, m = {m:.3f}"


def check_movie_frame() -> str:
    import numpy as np

    from isinglab.app.output.movie import index_frame
    idx = index_frame(np.ones((16, 16), np.int8), (64, 32), levels=1)
    return f"frame {idx.shape[1]}x{idx.shape[0]}"


def check_window(seconds: float) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from isinglab.app import qt  # noqa: F401
    from PySide6.QtCore import QTimer

    from isinglab.core.params import ModelParams

    from isinglab.app.window.application import make_app
    from isinglab.app.window.main_window import MainWindow
    app = make_app()
    win = MainWindow(ModelParams(size=32, temperature=2.5, seed=1), no_gl=True)
    win.resize(800, 600)
    win.show()
    win.named_actions["run"].setChecked(True)
    start = time.monotonic()

    def wait_then_run():  # the simulation process starts first (seconds when numba loads its cache)
        if win.engine.latest().sweeps == 0 and win.engine.error is None \
                and time.monotonic() - start < START_TIMEOUT_S:
            QTimer.singleShot(50, wait_then_run)
        else:
            QTimer.singleShot(int(seconds * 1000), app.quit)

    wait_then_run()
    app.exec()
    error, sweeps = win.engine.error, win.engine.latest().sweeps
    win.close()
    if error:
        raise RuntimeError(error)
    if sweeps <= 0:
        raise RuntimeError(f"the engine did not advance within {START_TIMEOUT_S:g} s")
    return f"{sweeps} sweeps in {seconds:g} s ({win.lattice.backend} view)"


START_TIMEOUT_S = 60.0


def run(args, hooks):
    # the window check runs offscreen unless QT_QPA_PLATFORM says otherwise; a platform that
    # cannot open (e.g. xcb without an X server) is refused here, before any check runs, instead
    # of Qt aborting the process in the middle of them
    if not os.environ.get("QT_QPA_PLATFORM", "").strip():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from isinglab.app.qt import check_display
    check_display()
    checks = [("imports", check_imports), ("scenes", check_scenes), ("simulation", check_simulation),
              ("movie frame", check_movie_frame), ("window", lambda: check_window(args.window_seconds))]
    results, ok = {}, True
    for name, fn in checks:
        t0 = time.perf_counter()
        try:
            detail = fn()
            results[name] = f"ok: {detail} ({time.perf_counter() - t0:.1f} s)"
        except Exception as exc:
            ok = False
            results[name] = f"FAILED: {type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
    for name, text in results.items():
        print(f"{name:12s} {text}")
    print("self-test passed" if ok else "self-test FAILED")
    return 0 if ok else 1
