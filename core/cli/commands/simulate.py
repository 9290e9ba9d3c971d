"""isinglab simulate: a measured run with error bars."""
from ... import simulation
from ...backends import BACKENDS
from ...params import ModelParams
from ...tasks import TaskState
from ..options import add_model_arguments, nonneg_int
from ..output import ProgressBar

NAME = "simulate"
HELP = "run Monte Carlo at one temperature and report observables with error bars"
ORDER = 10


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=2000, help="measured sweeps (default 2000)")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=500,
                   help="sweeps discarded before measuring (default 500)")
    p.add_argument("--initial", choices=("random", "up", "down"), default="random",
                   help="initial configuration (default random)")
    p.add_argument("--measure-every", type=nonneg_int("measure-every"), default=1,
                   help="sweeps between measurements (default 1)")
    add_backend_arguments(p)


def add_backend_arguments(p):
    p.add_argument("--backend", choices=BACKENDS, default="numba",
                   help="numba (CPU kernels) or torch (CUDA when available; metropolis and heatbath)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="torch device (default auto: CUDA when available); cuda without a GPU is an error")


def run(args, hooks):
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, algorithm=args.algorithm, seed=args.seed).validated()
    every = max(1, args.measure_every)
    res = simulation.run(params, sweeps=args.sweeps, thermalize=args.thermalize, initial=args.initial,
                         measure_every=every, task=TaskState(ProgressBar()), backend=args.backend,
                         device=args.device)
    out = res.to_json()
    out["tau_int"] = res.tau_int
    return out
