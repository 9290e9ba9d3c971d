"""isinglab simulate: a measured run with error bars."""
from ... import simulation
from ...backends import BACKENDS
from ...errors import IsingLabError
from ...limits import check_memory, check_work
from ...params import ModelParams
from ...tasks import TaskState
from ..options import add_allow_long, add_model_arguments, nonneg_int, positive_int
from ..output import ProgressBar

NAME = "simulate"
HELP = "run Monte Carlo at one temperature and report observables with error bars"
ORDER = 10
BYTES_PER_MEASUREMENT = 32  # e and m as float64, in the growing buffer and the result's copies


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=2000, help="measured sweeps (default 2000)")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=500,
                   help="sweeps discarded before measuring (default 500)")
    p.add_argument("--initial", choices=("random", "up", "down"), default="random",
                   help="initial configuration (default random)")
    p.add_argument("--measure-every", type=positive_int("measure-every"), default=1,
                   help="sweeps between measurements (default 1)")
    add_backend_arguments(p)
    add_allow_long(p)


def add_backend_arguments(p):
    p.add_argument("--backend", choices=BACKENDS, default="numba",
                   help="numba (CPU kernels) or torch (CUDA when available; metropolis and heatbath)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="torch device (default auto: CUDA when available); cuda without a GPU is an error")


def check_run(what, params: ModelParams, sweeps: int, thermalize: int, measure_every: int = 1,
              allow_long: bool = False, extra_ns: float = 0.0) -> None:
    """The work and memory of thermalize + sweeps sweeps of params (validated) within the limits."""
    n = params.size ** 2
    total = thermalize + sweeps
    check_work(what, n * total, algorithm=params.algorithm, extra_ns=extra_ns, allow_long=allow_long,
               detail=f"L^2 x sweeps = {params.size}^2 x {total}")
    check_memory(f"{what}: {sweeps // measure_every} measurements", sweeps // measure_every * BYTES_PER_MEASUREMENT)


def run(args, hooks):
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, algorithm=args.algorithm, seed=args.seed).validated()
    if args.sweeps < 2 * args.measure_every:  # as simulation.run says, but before any work
        raise IsingLabError(f"need at least {2 * args.measure_every} measured sweeps for error bars "
                            f"(2 x --measure-every), got {args.sweeps}")
    check_run("simulate", params, args.sweeps, args.thermalize, args.measure_every, args.allow_long)
    res = simulation.run(params, sweeps=args.sweeps, thermalize=args.thermalize, initial=args.initial,
                         measure_every=args.measure_every, task=TaskState(ProgressBar()), backend=args.backend,
                         device=args.device)
    out = res.to_json()
    out["tau_int"] = res.tau_int
    return out
