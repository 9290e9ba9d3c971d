"""Multi-spin coded Metropolis against the plain numba checkerboard baseline, 1 and 2 threads.

    python tests/benchmarks/bench_multispin.py [--size 1024] [--seconds 2] [--field 0] [--spin-wait]

flips/ns = attempted spin updates (L^2 per sweep) per ns at T = T_c, after warm-up. Each
figure is the best of several timed blocks (the median is shown too: on a shared machine
other processes steal whole time slices). --spin-wait sets OMP_WAIT_POLICY=active, which
avoids slow thread wake-ups on some virtual machines.
"""
import argparse
import os
import sys
import time


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per figure")
    ap.add_argument("--field", type=float, default=0.0)
    ap.add_argument("--spin-wait", action="store_true")
    return ap.parse_args()


def timed_blocks(step, sweeps_per_block, seconds):
    """Seconds per sweep of repeated blocks: (best, median)."""
    times = []
    while sum(times) < seconds or len(times) < 5:
        t0 = time.perf_counter()
        step(sweeps_per_block)
        times.append((time.perf_counter() - t0) / sweeps_per_block)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    args = parse()
    if args.spin_wait:
        os.environ["OMP_WAIT_POLICY"] = "active"   # read when the OpenMP runtime loads
    import numba
    import numpy as np

    sys.path.insert(0, os.path.dirname(__file__))
    from baseline_metropolis import baseline_sweeps

    from isinglab.core.kernels import multispin as ms

    L, tc = args.size, 2.0 / np.log(1.0 + np.sqrt(2.0))
    spins = np.where(np.random.default_rng(0).random((L, L)) < 0.5, 1, -1).astype(np.int8)
    black, white = ms.pack(spins)
    table = ms.flip_probability_table(1.0 / tc, 1.0, args.field)
    done = [0]

    def multispin(n):
        ms.multispin_sweeps(black, white, table, np.uint64(12345), done[0], n)
        done[0] += n

    def baseline(n):
        baseline_sweeps(spins, 1.0 / tc, 1.0, args.field, n)

    print(f"L = {L}, T = T_c, h = {args.field}, numba {numba.__version__}, "
          f"threading layer after warm-up:", end=" ")
    baseline(1)
    multispin(200)                                  # compile, then equilibrate a little
    print(numba.threading_layer())
    block = max(1, (1 << 26) // (L * L))            # ~64 M spin updates per timed block
    results = {}
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for name, step, n in (("baseline", baseline, 1), ("multispin", multispin, block)):
            step(n)
            best, median = timed_blocks(step, n, args.seconds)
            results[name, threads] = L * L / best / 1e9
            print(f"  {name:9s} {numba.get_num_threads()} thread(s): {L * L / best / 1e9:8.3f} flips/ns "
                  f"(median {L * L / median / 1e9:.3f})")
    for threads in (1, 2):
        print(f"  speed-up with {threads} thread(s): "
              f"x{results['multispin', threads] / results['baseline', threads]:.0f}")


if __name__ == "__main__":
    main()
