"""Checkerboard sweeps when another program wants a core: barrier-free shared sweeps against
numba's prange kernel (one barrier per colour per sweep), in one process.

    python tests/benchmarks/bench_contention.py [--size 1024] [--seconds 3] [--json]

For each kernel: sweeps/s on an idle machine and while a busy-looping process competes for the
CPUs (what the desktop app's drawing does to the simulation). Both kernels give identical lattices.
"""
import argparse
import json
import multiprocessing as mp
import time

import numba
import numpy as np

from isinglab.core.exact import TC
from isinglab.core.kernels import checkerboard as cb
from isinglab.core.kernels.rng import stream_key
from isinglab.core.kernels.shared_sweeps import shared_sweeps

CHUNK = 18  # sweeps per call: what the engine runs per 16 ms chunk at L = 1024


def _busy(stop):
    while not stop.is_set():
        pass


def rate(kernel, size, seconds):
    rng = np.random.default_rng(0)
    sub = cb.split(np.where(rng.random((size, size)) < 0.5, 1, -1).astype(np.int8))
    thr, key = cb.metropolis_table(1 / TC, 1.0, 0.0), stream_key(1, 1)
    threads = numba.get_num_threads()
    run = {"prange": lambda s0: cb.checkerboard_sweeps(sub, thr, key, s0, CHUNK, False),
           "shared": lambda s0: shared_sweeps(sub, thr, key, s0, CHUNK, False, threads)}[kernel]
    run(0)
    done, t0 = CHUNK, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        run(done)
        done += CHUNK
    return (done - CHUNK) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {"size": args.size, "threads": numba.get_num_threads()}
    for load in ("idle", "one busy process"):
        stop = mp.Event()
        hog = mp.Process(target=_busy, args=(stop,), daemon=True) if load != "idle" else None
        if hog:
            hog.start()
        try:
            for kernel in ("prange", "shared"):
                out[f"{kernel}, {load}"] = rate(kernel, args.size, args.seconds)
        finally:
            if hog:
                stop.set()
                hog.join()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"L = {args.size}, {out['threads']} threads, Metropolis at T_c, sweeps/s")
    for k, v in out.items():
        if k not in ("size", "threads"):
            print(f"  {k:28s} {v:8.0f}")


if __name__ == "__main__":
    main()
