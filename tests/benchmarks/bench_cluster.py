"""Cluster kernel speed at T_c: ns per flipped spin (Wolff, one thread) and ns per spin per
update (Swendsen-Wang, one thread and all of numba's threads).

    python tests/benchmarks/bench_cluster.py [--size 1024] [--repeats 3]

Each figure is the best of --repeats timed runs, after an untimed warm-up that compiles the
kernels and equilibrates the lattice from the ordered state. One-thread runs also report CPU
time of the calling thread, which stays meaningful on a machine shared with other jobs.
"""
import argparse
import time

import numba
import numpy as np

from isinglab.core.kernels.swendsen_wang import sw_workspace, swendsen_wang_sweeps
from isinglab.core.kernels.wolff import wolff_sweeps, wolff_workspace

TC = 2.269185314213022


def best_of(repeats, run):
    """Best wall and thread-CPU ns per unit of work over repeats; run() returns its units."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        units = run()
        wall = min(wall, (time.perf_counter() - w0) / units * 1e9)
        cpu = min(cpu, (time.thread_time() - c0) / units * 1e9)
    return wall, cpu


def bench_wolff(L, sweeps, repeats):
    spins = np.ones((L, L), np.int8)
    state = np.array([1], np.uint64)
    ws = wolff_workspace(L)
    wolff_sweeps(spins, 1 / TC, 1.0, 50, state, *ws)  # compile + equilibrate
    wall, cpu = best_of(repeats, lambda: wolff_sweeps(spins, 1 / TC, 1.0, sweeps, state, *ws)[1])
    print(f"wolff  L={L} T=Tc  {wall:6.2f} ns per flipped spin (CPU {cpu:.2f}; 1 thread)")


def bench_sw(L, sweeps, repeats, n_threads):
    spins = np.ones((L, L), np.int8)
    state = np.array([1], np.uint64)
    parent = sw_workspace(L)
    swendsen_wang_sweeps(spins, 1 / TC, 1.0, 20, state, parent, n_threads)  # compile + equilibrate

    def run():
        swendsen_wang_sweeps(spins, 1 / TC, 1.0, sweeps, state, parent, n_threads)
        return sweeps * L * L
    wall, cpu = best_of(repeats, run)
    cpu_note = f"CPU {cpu:.2f}; " if n_threads == 1 else ""
    print(f"sw     L={L} T=Tc  {wall:6.2f} ns per spin per update "
          f"({cpu_note}{n_threads} thread{'s' if n_threads > 1 else ''})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    L = args.size
    sweeps = max(5, int(2e7 / (L * L)))
    bench_wolff(L, sweeps, args.repeats)
    bench_sw(L, sweeps, args.repeats, 1)
    threads = numba.config.NUMBA_NUM_THREADS
    if threads > 1:
        bench_sw(L, sweeps, args.repeats, threads)


if __name__ == "__main__":
    main()
