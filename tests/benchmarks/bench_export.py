"""Time "Export figure set" (target <= 3 s): every visible panel as PNG + SVG + PDF with sidecars,
and every panel (all six docks), on a 1600 x 1000 offscreen window, L = 256.

    .venv/bin/python tests/benchmarks/bench_export.py
"""
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    from isinglab.app.output import export
    from isinglab.app.window.main_window import MainWindow
    from isinglab.core.params import ModelParams

    win = MainWindow(ModelParams(size=256, temperature=2.3, seed=1))
    win.resize(1600, 1000)
    win.show()
    win.engine.step(50)
    end = time.monotonic() + 120
    while win.engine.latest().sweeps < 50 and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    try:
        with tempfile.TemporaryDirectory() as d:
            for label, panels in (("visible panels", None), ("all six panels", list(win.docks))):
                best = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    written = export.export_figure_set(win, d, export.FORMATS, panels=panels)
                    best.append(time.perf_counter() - t0)
                n = sum(1 for p in written if not p.endswith(".json"))
                print(f"figure set, {label}: {n} figures (PNG+SVG+PDF, scale 2) in {min(best):.2f} s "
                      f"(best of 3; target <= 3 s)")
    finally:
        win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
