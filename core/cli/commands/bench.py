"""isinglab bench: kernel throughput in spin flips per ns (attempted updates for local moves)."""
from __future__ import annotations

import time

import numba

from ...backends import make_sampler
from ...errors import IsingLabError
from ...exact import TC
from ...limits import check_seconds, check_work
from ...params import ALGORITHMS, CLUSTER_ALGORITHMS, ModelParams
from ..options import add_allow_long, lattice_size, nonneg_int, seconds, temperature
from .simulate import add_backend_arguments

NAME = "bench"
HELP = "measure simulation speed (flips/ns); --gui measures the desktop app's frame rate and latency"
ORDER = 20
WHILE_JOBS = ("mcrg", "dataset", "train", "torch")  # bench --gui --while: what runs meanwhile


def add_arguments(p):
    p.add_argument("--size", "-L", type=lattice_size, default=1024, help="lattice side (default 1024)")
    p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default="metropolis")
    p.add_argument("--temperature", "-T", type=temperature, default=TC, help="temperature (default T_c)")
    p.add_argument("--threads", type=nonneg_int("threads"), default=0,
                   help=f"numba threads (default: all {numba.config.NUMBA_NUM_THREADS})")
    p.add_argument("--seconds", type=seconds("--seconds"), default=2.0,
                   help="time to measure for, > 0 (default 2; more than 600 needs --allow-long)")
    p.add_argument("--gui", action="store_true", help="benchmark the desktop app instead (needs a display)")
    p.add_argument("--while", dest="while_job", choices=WHILE_JOBS, default=None,
                   help="with --gui: measure while this runs in the window: the MCRG estimate (blocks panel), "
                        "a dataset being sampled or a network training (network panel), or torch's import")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_backend_arguments(p)
    add_allow_long(p)


def set_threads(n: int, apply: bool = True) -> int:
    """Check (and with apply, set) the number of numba threads; 0 means all."""
    top = numba.config.NUMBA_NUM_THREADS
    if n == 0:
        n = top
    if not 1 <= n <= top:
        raise IsingLabError(f"--threads must be between 1 and {top}, got {n}")
    if apply:
        numba.set_num_threads(n)
    return n


def run(args, hooks):
    check_seconds("--seconds", args.seconds, allow_long=args.allow_long)
    set_threads(args.threads, apply=False)
    params = ModelParams(size=args.size, temperature=args.temperature, algorithm=args.algorithm).validated()
    # the first sweep, the settling sweeps (~0.5 s) and at least one timed sweep run whatever --seconds says
    check_work("bench", 3 * params.size ** 2, algorithm=params.algorithm, allow_long=args.allow_long,
               detail=f"3 sweeps of L^2 = {params.size}^2")
    if args.while_job is not None and not args.gui:
        raise IsingLabError("--while: only with --gui")
    if args.gui:
        if "bench_gui" not in hooks:
            raise IsingLabError("the GUI benchmark needs the desktop app (run the installed `isinglab`)")
        return hooks["bench_gui"](args)
    threads = set_threads(args.threads)
    return {"size": params.size, "algorithm": params.algorithm, "temperature": params.temperature,
            "threads": threads, **measure(params, args.seconds, args.backend, args.device)}


def measure(params: ModelParams, seconds: float = 2.0, backend: str = "numba", device: str | None = None) -> dict:
    """Time the first sweep (compile or cache load included), then sweep for about `seconds`."""
    check_seconds("bench seconds", seconds, allow_long=True)
    sampler = make_sampler(params, backend=backend, device=device)
    t0 = time.perf_counter()
    sampler.sweep(1)
    first = time.perf_counter() - t0
    sampler.sweep(max(1, int(0.5 / max(first, 1e-4))))  # settle (clusters grow, caches warm)
    sweeps, flipped, elapsed, n = 0, 0, 0.0, 1
    while elapsed < seconds:
        t0 = time.perf_counter()
        flipped += sampler.sweep(n)
        elapsed += time.perf_counter() - t0
        sweeps += n
        n = min(2 * n, 1 + int(sweeps * (seconds - elapsed) / max(elapsed, 1e-9)))
        n = max(1, n)
    elapsed = max(elapsed, 1e-9)
    out = {"sweeps": sweeps, "seconds": elapsed, "first_sweep_s": first,
           "sweeps_per_s": sweeps / elapsed,
           "flips_per_ns": sweeps * sampler.n_spins / elapsed / 1e9, "kernel": sampler.kernel_name}
    if params.algorithm in CLUSTER_ALGORITHMS:
        out["flipped_spins"] = flipped
        out["ns_per_flipped_spin"] = elapsed * 1e9 / max(flipped, 1)
    return out
