"""Torch backend on the CPU against the numba checkerboard kernel, in one run.

    python tests/benchmarks/bench_torch.py [--size 1024] [--threads 1,2] [--seconds 1] [--json]

For each thread count: numba Metropolis, torch eager and torch fused (torch.compile) Metropolis at
T_c, as flips/ns (attempted updates per ns) of wall time, best of 3 timed runs after an untimed
warm-up (compile or cache load, reported as first_sweep_s). Also flips per ns of process CPU time,
which stays meaningful when other jobs share the machine (with 1 thread it is the cost per flip).
The target: torch on the CPU within 3x of numba (ratio = numba / torch <= 3).
"""
import argparse
import json
import os
import time

import numba
import torch

from isinglab.core.backends import make_sampler
from isinglab.core.backends.torch_backend import FUSED_ENV
from isinglab.core.exact import TC
from isinglab.core.params import ModelParams

KERNELS = (("numba", "numba", None), ("torch eager", "torch", "0"), ("torch fused", "torch", "1"))


def time_kernel(size, backend, fused_env, seconds, repeats=3):
    if fused_env is not None:
        os.environ[FUSED_ENV] = fused_env
    sampler = make_sampler(ModelParams(size=size, temperature=TC), backend=backend, device="cpu")
    t0 = time.perf_counter()
    sampler.sweep(1)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sampler.sweep(2)
    per_sweep = max((time.perf_counter() - t0) / 2, 1e-6)
    n = max(1, int(seconds / per_sweep))
    wall = cpu = 0.0
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        sampler.sweep(n)
        flips = n * sampler.n_spins
        wall = max(wall, flips / (time.perf_counter() - w0) / 1e9)
        cpu = max(cpu, flips / max(time.process_time() - c0, 1e-9) / 1e9)
    return {"kernel": sampler.kernel_name, "flips_per_ns": wall, "flips_per_cpu_ns": cpu,
            "first_sweep_s": first, "sweeps_timed": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds per timed run (default 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {"size": args.size, "temperature": TC, "cpu_count": os.cpu_count(),
              "load_average": os.getloadavg(), "torch": torch.__version__, "runs": []}
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        numba.set_num_threads(threads)
        rows = {name: time_kernel(args.size, backend, env, args.seconds) for name, backend, env in KERNELS}
        base = rows["numba"]
        for r in rows.values():
            r["ratio_wall"] = base["flips_per_ns"] / r["flips_per_ns"]
            r["ratio_cpu"] = base["flips_per_cpu_ns"] / r["flips_per_cpu_ns"]
        report["runs"].append({"threads": threads, "kernels": rows})
    report["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"L = {args.size}, T = T_c, Metropolis, {report['cpu_count']} CPUs, "
          f"load average {report['load_average'][0]:.1f} -> {report['load_average_after'][0]:.1f}")
    for run in report["runs"]:
        print(f"  {run['threads']} thread(s):")
        for name, r in run["kernels"].items():
            print(f"    {name:12s} {r['flips_per_ns']:7.3f} flips/ns (numba/torch x{r['ratio_wall']:4.1f})  "
                  f"{r['flips_per_cpu_ns']:7.3f} flips/CPU-ns (x{r['ratio_cpu']:4.1f})  "
                  f"first sweep {r['first_sweep_s']:6.2f} s  [{r['kernel']}]")


if __name__ == "__main__":
    main()
