"""How long torch's background import keeps other threads from Python's lock (the GUI thread).

    python tests/benchmarks/bench_torch_import.py [--plain] [--json]

A probe thread sleeps 1 ms in a loop while core/torch_loader imports torch on its thread (numpy
and numba imported first, as in the app); the probe's longest gaps are the longest stretches the
import held the lock. --plain imports as torch_loader did before its GIL measures: no library
preloading without the lock, the collector left on. Run it in a fresh interpreter each time (torch
imports once per process).
"""
import argparse
import gc
import json
import threading
import time

import numba  # noqa: F401  (as in the app: its modules are there before torch's)
import numpy as np

from isinglab.core import torch_loader


class _CollectorLeftOn:
    """--plain: torch_loader's gc.disable() does nothing."""

    def __getattr__(self, name):
        return getattr(gc, name)

    @staticmethod
    def disable():
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plain", action="store_true", help="without the preload and with the collector on")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if "torch" in __import__("sys").modules:
        raise SystemExit("torch is imported already: run in a fresh interpreter")
    if args.plain:
        torch_loader._preload_libraries = lambda: None
        torch_loader.gc = _CollectorLeftOn()
    gaps, stop = [], threading.Event()

    def probe():
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    thread = threading.Thread(target=probe)
    thread.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    torch_loader.start(background=True)
    torch_loader.wait()
    seconds = time.perf_counter() - t0
    time.sleep(0.1)
    stop.set()
    thread.join()
    g = np.sort(np.array(gaps)) * 1e3
    out = {"plain": args.plain, "ready": torch_loader.ready(), "import_s": round(seconds, 2),
           "longest_ms": [round(float(x), 1) for x in g[-5:][::-1]], "over_20ms": int((g > 20).sum()),
           "over_100ms": int((g > 100).sum())}
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
