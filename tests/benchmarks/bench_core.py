"""Core speed in one run: every kernel against the plain baseline at L = 1024, T = T_c.

    python tests/benchmarks/bench_core.py [--size 1024] [--seconds 3] [--json]

Prints flips/ns (attempted single-spin updates per ns; for cluster algorithms N spins per sweep)
and the ratio to the baseline kernel measured in the same process; Wolff also as ns per flipped
spin on one thread. Then starts `isinglab bench` twice in fresh processes to show that the second
start loads every kernel from numba's cache (first sweep time).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from baseline_metropolis import baseline_sweeps  # noqa: E402

from isinglab.core.cli.commands.bench import measure  # noqa: E402
from isinglab.core.exact import TC  # noqa: E402
from isinglab.core.params import ModelParams  # noqa: E402


def baseline_flips_per_ns(size, seconds):
    spins = np.where(np.random.default_rng(0).random((size, size)) < 0.5, 1, -1).astype(np.int8)
    baseline_sweeps(spins, 1 / TC, 1.0, 0.0, 1)
    n, t = 0, 0.0
    while t < seconds:
        t0 = time.perf_counter()
        baseline_sweeps(spins, 1 / TC, 1.0, 0.0, 2)
        t += time.perf_counter() - t0
        n += 2
    return n * size * size / t / 1e9


def cold_and_warm_start(size):
    out = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", "bench", "--size", str(size),
                              "--seconds", "0.2", "--json"], capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout)["first_sweep_s"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    threads = numba.config.NUMBA_NUM_THREADS
    base = baseline_flips_per_ns(args.size, args.seconds)
    rows = {"baseline": {"flips_per_ns": base, "ratio": 1.0, "threads": threads}}
    for algo in ("metropolis", "heatbath", "multispin", "swendsen-wang", "wolff"):
        numba.set_num_threads(1 if algo == "wolff" else threads)
        m = measure(ModelParams(size=args.size, temperature=TC, algorithm=algo), args.seconds)
        rows[algo] = {"flips_per_ns": m["flips_per_ns"], "ratio": m["flips_per_ns"] / base,
                      "threads": numba.get_num_threads()}
        if "ns_per_flipped_spin" in m:
            rows[algo]["ns_per_flipped_spin"] = m["ns_per_flipped_spin"]
    first, second = cold_and_warm_start(args.size)
    report = {"size": args.size, "temperature": TC, "kernels": rows,
              "first_sweep_s": {"first_start": first, "second_start": second}}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"L = {args.size}, T = T_c, {threads} threads (Wolff: 1)")
    for name, r in rows.items():
        extra = f"  {r['ns_per_flipped_spin']:.1f} ns/flipped spin" if "ns_per_flipped_spin" in r else ""
        print(f"  {name:14s} {r['flips_per_ns']:8.3f} flips/ns  x{r['ratio']:6.1f}{extra}")
    print(f"  first sweep: {first:.2f} s in a first process, {second:.2f} s in the next one")


if __name__ == "__main__":
    main()
