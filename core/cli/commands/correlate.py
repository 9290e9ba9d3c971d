"""isinglab correlate: G(r), S(k), xi (exponential and second-moment) and eta with jackknife errors."""
from ... import correlation
from ...params import ALGORITHMS, ModelParams
from ...tasks import TaskState
from ..options import add_model_arguments, nonneg_int
from ..output import ProgressBar

NAME = "correlate"
HELP = "measure the correlation function G(r) and the correlation length against Onsager's exact xi"
ORDER = 40


def add_arguments(p):
    add_model_arguments(p, size=64, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default=None,
                   help="update algorithm (default: wolff for h = 0, else heatbath)")
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=4000,
                   help="measured sweeps; G is measured every ~tau_int of them (default 4000)")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=None,
                   help="sweeps discarded first (default max(200, sweeps/10))")
    p.add_argument("--no-radial", action="store_true", help="skip the radial average (one FFT less)")


def run(args, hooks):
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, algorithm="metropolis", seed=args.seed)
    params = params.with_(algorithm=args.algorithm or correlation.auto_algorithm(params)).validated()
    result, info = correlation.sample(params, sweeps=args.sweeps, thermalize=args.thermalize,
                                      radial=not args.no_radial, task=TaskState(ProgressBar()))
    out = result.to_json()
    head = {k: out.pop(k) for k in ("size", "temperature", "coupling", "field")}
    return {**head, **info, "seed": params.seed, **out}
