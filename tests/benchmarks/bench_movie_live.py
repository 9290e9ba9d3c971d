"""Display frame rate of the main window while a live 512x512 MP4 is recorded (target: the live
view stays >= 30 fps). L = 512, default layout at 1280 x 800; the lattice view's drawn frames are
counted for SECONDS without recording, then SECONDS while recording. Run under a display for the
vispy view (e.g. `xvfb-run -a` with QT_QPA_PLATFORM=xcb); offscreen Qt uses the software view.

    .venv/bin/python tests/benchmarks/bench_movie_live.py [--json]
"""
import json
import os
import sys
import tempfile
import time

SECONDS = 6.0


def _drawn_per_second(app, win, seconds: float) -> tuple[float, float]:
    """(frames the lattice view drew, snapshots the engine published) per second while the
    event loop ran normally."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()  # not app.exec(): quitting the application would shut the window down
    start, serial, t0 = win.lattice.frames_drawn, win.engine.latest().serial, time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    dt = time.perf_counter() - t0
    return (win.lattice.frames_drawn - start) / dt, (win.engine.latest().serial - serial) / dt


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="isinglab-movie-bench-") as tmp:
        os.environ["ISINGLAB_CONFIG_DIR"] = tmp  # default layout
        from isinglab.app.window.application import make_app
        from isinglab.app.window.main_window import MainWindow
        from isinglab.core.params import ModelParams

        app = make_app()
        win = MainWindow(ModelParams(size=512, temperature=2.27, seed=1))
        win.show()
        win.resize(1280, 800)
        win.named_actions["run"].setChecked(True)
        _drawn_per_second(app, win, 2.0)  # warm up: first draws, kernel caches
        plain, plain_snaps = _drawn_per_second(app, win, SECONDS)
        movie = win.movies
        path = os.path.join(tmp, "live.mp4")
        movie.start_live(path, size=(512, 512), fps=30)
        recording, recording_snaps = _drawn_per_second(app, win, SECONDS)
        result = movie.stop_live(keep=True)
        out = {"view": win.lattice.backend, "fps_without_recording": plain, "fps_while_recording": recording,
               "snapshots_per_s_without": plain_snaps, "snapshots_per_s_while": recording_snaps,
               "movie_frames": result["frames"], "dropped": result["dropped"], "seconds": SECONDS}
        win.close()
    print(json.dumps(out, indent=2) if "--json" in sys.argv else
          " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
