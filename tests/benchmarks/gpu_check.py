"""Device check for the torch backend: physics on the GPU, then flips/ns, in one time-boxed run.

    python tests/benchmarks/gpu_check.py [--budget 420] [--json] [--quick]

On a machine with CUDA, in order (each section guarded: an error is printed and the run goes on;
a section that no longer fits in the budget is skipped and says so):
  1. the fused CUDA path against the numba CPU kernels, bit for bit (L = 64, with a field);
  2. throughput, Metropolis at T_c: numba (CPU, all cores), torch eager and torch fused (CUDA) at
     L = 4096 and 16384, as flips/ns (first sweep, compile included, reported separately);
  3. display path: ms per display_spins(4096) and per spins() snapshot at those sizes;
  4. physics on the GPU, eager and fused: 4x4 against exact enumeration, L = 16 and 64 against
     Kaufman's finite-lattice e and c (4 error bars, error bars bounded); cases that no longer
     fit in the budget are skipped one by one.
Without CUDA it says so, runs the CPU parts (numba throughput, fused CPU path against numba) and
exits 0. --json prints one JSON object at the end; --quick shortens every section, and
--quick --device cpu runs every section on the CPU (a dry run of the script without a GPU).
"""
import argparse
import json
import os
import sys
import time
import traceback

import numba
import numpy as np
import torch

from isinglab.core import exact, simulation
from isinglab.core.backends import make_sampler
from isinglab.core.backends import torch_backend as tb
from isinglab.core.backends.torch_device import cuda_status
from isinglab.core.params import ModelParams

TC = exact.TC


class Budget:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    @property
    def left(self):
        return self.end - time.monotonic()


def section(report, name, budget, needs_s, fn):
    """Run fn() into report[name]; print and record any error instead of stopping."""
    if budget.left < needs_s:
        report[name] = {"skipped": f"needs ~{needs_s:.0f} s, {budget.left:.0f} s left"}
        print(f"[{name}] skipped: {report[name]['skipped']}", flush=True)
        return
    print(f"[{name}] ...", flush=True)
    t0 = time.monotonic()
    try:
        report[name] = fn()
    except Exception as exc:  # keep going: later sections still report
        report[name] = {"error": f"{type(exc).__name__}: {exc}"}
        traceback.print_exc()
    print(f"[{name}] {time.monotonic() - t0:.1f} s: {json.dumps(report[name], default=str)}", flush=True)


def set_path(path):
    os.environ[tb.FUSED_ENV] = "1" if path == "fused" else "0"


# ---- 1. bit-for-bit against numba ----

def bitwise(device, size=64, sweeps=30):
    out = {}
    for algorithm in ("metropolis", "heatbath"):
        p = ModelParams(size=size, temperature=2.3, field=0.1, algorithm=algorithm, seed=2)
        ref = make_sampler(p)
        s = tb.TorchSampler(p, ref.spins(), device=device, fused=True)
        s.sweep(sweeps)
        ref.sweep(sweeps)
        same = bool(np.array_equal(s.spins(), ref.spins()))
        out[algorithm] = {"kernel": s.kernel_name, "identical_to_numba": same,
                          "fallback_reason": s.fallback_reason, "compile_s": s.compile_seconds}
    return out


# ---- 2. physics ----

def check(obs, name, exact_value, max_err):
    mean, err = obs[name]["mean"], obs[name]["err"]
    ok = err <= max_err and abs(mean - exact_value) <= 4 * err
    return {"mean": mean, "err": err, "exact": exact_value, "sigma": abs(mean - exact_value) / err, "ok": ok}


def physics(device, quick, budget):
    """Each case is skipped (and says so) once the budget cannot hold it."""
    scale = 0.25 if quick else 1.0
    cases = [  # (size, T, sweeps, exact source, rough GPU seconds)
        (4, 2.0, 32000, "enumeration", 20),
        (16, 2.0, 10000, "kaufman", 8), (16, TC, 30000, "kaufman", 20), (16, 3.0, 10000, "kaufman", 8),
        (64, 3.0, 16000, "kaufman", 15),
    ]
    out = {}
    for path in ("eager", "fused"):
        set_path(path)
        for size, T, sweeps, source, needs_s in cases:
            key = f"{path} L={size} T={T:.3f}"
            if budget.left < needs_s * scale + 30:
                out[key] = {"skipped": f"{budget.left:.0f} s left"}
                continue
            t0 = time.monotonic()
            res = simulation.run(ModelParams(size=size, temperature=T, seed=3), sweeps=int(sweeps * scale),
                                 thermalize=1000, measure_every=2, backend="torch", device=device)
            obs = res.observables
            loose = scale ** -0.5  # --quick: fewer sweeps, proportionally larger error bars allowed
            if source == "enumeration":
                ex = exact.enumeration_observables(size, T)
                row = {"e": check(obs, "e", ex["e"], 0.005 * loose), "m2": check(obs, "m2", ex["m2"], 0.005 * loose)}
            else:
                c = exact.kaufman_specific_heat(size, T)
                row = {"e": check(obs, "e", exact.kaufman_energy(size, T), 0.006 * loose),
                       "c": check(obs, "c", c, 0.06 * c * loose)}
            row["seconds"] = time.monotonic() - t0
            out[key] = row
    set_path("fused")
    checks = [v["ok"] for row in out.values() for v in row.values() if isinstance(v, dict)]
    out["all_ok"] = bool(checks) and all(checks)
    return out


# ---- 3. throughput ----

def throughput(params, backend, device, seconds):
    sampler = make_sampler(params, backend=backend, device=device)
    t0 = time.perf_counter()
    sampler.sweep(1)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sampler.sweep(1)
    per_sweep = max(time.perf_counter() - t0, 1e-6)
    n = max(2, int(seconds / per_sweep))
    t0 = time.perf_counter()
    sampler.sweep(n)
    wall = time.perf_counter() - t0
    return {"kernel": sampler.kernel_name, "flips_per_ns": n * sampler.n_spins / wall / 1e9,
            "sweeps": n, "first_sweep_s": first, "ms_per_sweep": wall / n * 1e3}


def speed(device, sizes, seconds, torch_paths):
    out = {}
    for size in sizes:
        p = ModelParams(size=size, temperature=TC)
        out[f"numba L={size}"] = throughput(p, "numba", "cpu", seconds)
        for path in torch_paths:
            set_path(path)
            out[f"torch {path} L={size}"] = throughput(p, "torch", device, seconds)
            if device == "cuda":
                torch.cuda.empty_cache()  # the next size starts from a clean pool
    set_path("fused")
    return out


# ---- 4. display ----

def display(device, sizes, repeats=20):
    out = {}
    for size in sizes:
        s = tb.TorchSampler(ModelParams(size=size), np.ones((size, size), np.int8), device=device, fused=False)
        s.sweep(1)
        for name, fn in (("display_spins(4096)", lambda: s.display_spins(4096)), ("spins()", s.spins)):
            fn()
            t0 = time.perf_counter()
            for _ in range(repeats):
                shape = fn().shape
            out[f"L={size} {name}"] = {"ms": (time.perf_counter() - t0) / repeats * 1e3, "shape": shape}
        del s
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=420.0, help="seconds for the whole run (default 420)")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ap.add_argument("--quick", action="store_true", help="short sections (smoke test of this script)")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                    help="cpu: run the GPU sections on the CPU (a dry run of this script; use with --quick)")
    args = ap.parse_args()
    budget = Budget(args.budget)
    has_cuda, gpu = cuda_status()
    report = {"torch": torch.__version__, "cuda_runtime": torch.version.cuda, "cuda_available": has_cuda,
              "gpu": gpu if has_cuda else None, "cpu_count": os.cpu_count(),
              "numba_threads": numba.get_num_threads(), "python": sys.version.split()[0]}
    if has_cuda:
        free, total = torch.cuda.mem_get_info()
        report["gpu_memory_gb"] = {"free": free / 1e9, "total": total / 1e9}
    print(json.dumps(report, indent=2), flush=True)
    seconds = 0.5 if args.quick else 2.0
    sizes = (1024,) if args.quick else (4096, 16384)
    if args.device == "cpu":
        has_cuda = True  # dry run: every section, on the CPU
    if not has_cuda:
        print(f"no CUDA GPU ({gpu}): running the CPU parts only; the GPU figures need a CUDA machine",
              flush=True)
        section(report, "fused_cpu_vs_numba", budget, 30, lambda: bitwise("cpu", size=16))
        section(report, "speed_cpu", budget, 20, lambda: speed("cpu", sizes, seconds, ()))
    else:
        dev = args.device
        section(report, "fused_vs_numba", budget, 30, lambda: bitwise(dev))
        section(report, "speed", budget, 60, lambda: speed(dev, sizes, seconds, ("eager", "fused")))
        section(report, "display", budget, 15, lambda: display(dev, sizes))
        section(report, "physics", budget, 40, lambda: physics(dev, args.quick, budget))
    report["seconds_used"] = args.budget - budget.left
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
