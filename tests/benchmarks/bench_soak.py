"""Soak: the main window running at L = --size for --minutes while the temperature jitters (as if
the slider were dragged back and forth). Prints the resident memory (RSS) of the window's process
and of the simulation process, the display frame rate and the simulation's sweeps/s at intervals,
then start -> end. Targets: memory growth < 20 MB in either process over an hour, frame rate held.
Run under a display for the vispy view:

    xvfb-run -a .venv/bin/python tests/benchmarks/bench_soak.py --minutes 60 --size 1024

(Linux: RSS from /proc. "start" is taken after --warmup seconds: first frames, kernel caches,
the plots' buffers filling.)
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time

T_CENTRE, T_JITTER = 2.27, 0.15  # T jumps within T_c +- 0.15 ...
JITTER_MS = 100  # ... ten times a second


def rss_mb(pid) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds before the start figures")
    ap.add_argument("--every", type=float, default=None,
                    help="seconds between samples (default: 20 samples over the run, at least 10 s)")
    ap.add_argument("--json", action="store_true", help="also print the samples as JSON")
    args = ap.parse_args()
    every = args.every or max(10.0, args.minutes * 60 / 20)

    with tempfile.TemporaryDirectory(prefix="isinglab-soak-") as config:
        os.environ["ISINGLAB_CONFIG_DIR"] = config  # default layout, no saved settings
        from PySide6.QtCore import QEventLoop, QTimer

        from isinglab.app.window.application import make_app
        from isinglab.app.window.main_window import MainWindow
        from isinglab.core.params import ModelParams

        app = make_app()
        win = MainWindow(ModelParams(size=args.size, temperature=T_CENTRE, seed=1))
        win.resize(1280, 800)
        win.show()
        win.named_actions["run"].setChecked(True)
        rng = random.Random(1)
        jitter = QTimer(interval=JITTER_MS)
        jitter.timeout.connect(lambda: win.set_temperature(T_CENTRE + rng.uniform(-T_JITTER, T_JITTER)))

        def run_for(seconds: float) -> None:
            loop = QEventLoop()  # not app.exec(): quitting the application would close the window
            QTimer.singleShot(int(seconds * 1000), loop.quit)
            loop.exec()

        mark = [time.perf_counter(), win.lattice.frames_drawn, win.engine.latest().sweeps]

        def sample(t0, rates=True) -> dict:
            """Memory now; frame rate and sweeps/s since the last sample."""
            now, drawn, sweeps = time.perf_counter(), win.lattice.frames_drawn, win.engine.latest().sweeps
            dt = max(now - mark[0], 1e-9)
            row = {"minute": round((now - t0) / 60, 2), "gui_rss_mb": rss_mb(os.getpid()),
                   "child_rss_mb": rss_mb(win.engine.pid),
                   "fps": (drawn - mark[1]) / dt if rates else None,
                   "sweeps_per_s": (sweeps - mark[2]) / dt if rates else None}
            mark[:] = [now, drawn, sweeps]
            text = f"{row['fps']:5.1f} fps  {row['sweeps_per_s']:7.1f} sweeps/s" if rates else "(start)"
            print(f"{row['minute']:7.2f} min  GUI {row['gui_rss_mb']:7.1f} MB  simulation "
                  f"{row['child_rss_mb']:7.1f} MB  {text}", flush=True)
            return row

        print(f"L = {args.size}, {args.minutes:g} min, T = {T_CENTRE} +- {T_JITTER} every {JITTER_MS} ms, "
              f"view: {win.lattice.backend}, platform: {app.platformName()}", flush=True)
        jitter.start()
        run_for(args.warmup)
        t0 = time.perf_counter()
        mark[:] = [t0, win.lattice.frames_drawn, win.engine.latest().sweeps]
        rows = [sample(t0, rates=False)]
        end = t0 + args.minutes * 60
        while (left := end - time.perf_counter()) > 0.5:
            run_for(min(every, left))
            rows.append(sample(t0))
        jitter.stop()
        died = win.engine.died
        win.close()

    first, last = rows[0], rows[-1]
    rates = [r["fps"] for r in rows[1:]]
    summary = {"size": args.size, "minutes": args.minutes,
               "gui_rss_mb": [first["gui_rss_mb"], last["gui_rss_mb"]],
               "child_rss_mb": [first["child_rss_mb"], last["child_rss_mb"]],
               "gui_growth_mb": last["gui_rss_mb"] - first["gui_rss_mb"],
               "child_growth_mb": last["child_rss_mb"] - first["child_rss_mb"],
               "fps_first_last_min_max": [rates[0], rates[-1], min(rates), max(rates)] if rates else None,
               "engine_died": died}
    print(f"GUI RSS {first['gui_rss_mb']:.1f} -> {last['gui_rss_mb']:.1f} MB "
          f"({summary['gui_growth_mb']:+.1f}); simulation RSS {first['child_rss_mb']:.1f} -> "
          f"{last['child_rss_mb']:.1f} MB ({summary['child_growth_mb']:+.1f})")
    if rates:
        print("fps first {:.1f}, last {:.1f}, min {:.1f}, max {:.1f}".format(*summary["fps_first_last_min_max"]))
    if args.json:
        print(json.dumps({"summary": summary, "samples": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
