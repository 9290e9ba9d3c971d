"""isinglab sweep: one task per (L, T, seed) on a dask cluster, each stored in a Zarr store as it finishes."""
import sys
import time

from ...params import ALGORITHMS
from ...sampling import AUTO
from ...sweep import SweepPlan, parse_sizes, parse_temperatures
from ...sweep.plan import MAX_SEEDS, MIN_SWEEPS
from ...sweep.runner import MAX_WORKERS, run_sweep
from ..options import _wrap, add_allow_long, bounded_int, nonneg_int, path, positive_int, seed

NAME = "sweep"
HELP = ("run Monte Carlo over sizes x temperatures x seeds on a dask cluster (embedded or remote), "
        "storing each task's e and m series in a Zarr store; rerun to resume")
ORDER = 60


def add_arguments(p):
    p.add_argument("--sizes", type=_wrap(parse_sizes), required=True,
                   help="lattice sizes, comma-separated, e.g. 16,32,64,128")
    p.add_argument("--temperatures", type=_wrap(parse_temperatures), required=True,
                   help="START:STOP:STEP (STOP included), e.g. 2.22:2.32:0.005, or a comma-separated list")
    p.add_argument("--seeds", type=bounded_int("--seeds", 1, MAX_SEEDS), default=4,
                   help="independent runs per (L, T), each with its own random stream (default 4)")
    p.add_argument("--sweeps", type=bounded_int("--sweeps", MIN_SWEEPS, 10**12), default=10000,
                   help=f"measured sweeps per task, at least {MIN_SWEEPS}; e and m are stored after each "
                        "(default 10000)")
    p.add_argument("--thermalize", type=nonneg_int("--thermalize"), default=None,
                   help="sweeps discarded before measuring (default max(100, sweeps/10))")
    p.add_argument("--algorithm", "-a", choices=(AUTO,) + ALGORITHMS, default=AUTO,
                   help="update algorithm (default auto: Wolff, since the sweep is at h = 0)")
    p.add_argument("--seed", type=seed, default=0,
                   help="global seed; a task's stream derives from (seed, L, T, seed index) only (default 0)")
    p.add_argument("--store", type=path("--store"), required=True,
                   help="the Zarr store (a folder, e.g. RESULTS.zarr); an existing one of the same sweep is resumed")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="use a running dask cluster, e.g. tcp://HOST:8786 (default: an embedded cluster)")
    where.add_argument("--workers", type=positive_int("--workers", MAX_WORKERS), default=None,
                       help="worker processes of the embedded cluster (default: one per core)")
    p.add_argument("--json", action="store_true", help="print the store summary as one JSON object")
    add_allow_long(p)


class ProgressLine:
    """done/running/queued/failed and the ETA on stderr, only when it is a terminal (<= 5 per second)."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._width = 0

    def __call__(self, state) -> None:
        now = time.monotonic()
        finished = state.in_flight == 0
        if not self.enabled or (now - self._last < 0.2 and not finished):
            return
        self._last = now
        line = state.line()
        self._width = max(self._width, len(line))
        sys.stderr.write("\r" + line.ljust(self._width))
        if finished:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run(args, hooks):
    plan = SweepPlan.build(args.sizes, args.temperatures, args.seeds, args.sweeps, args.thermalize,
                           args.algorithm, args.seed)
    out = run_sweep(plan, args.store, scheduler=args.scheduler, workers=args.workers,
                    allow_long=args.allow_long, progress=ProgressLine())
    if not args.json:  # the table shows counts; the per-point summary is for --json
        out["points"] = f"{len(out['points'])} (L, T) points; --json lists them"
    return out
