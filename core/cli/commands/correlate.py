"""isinglab correlate: G(r), S(k), xi (exponential and second-moment) and eta with jackknife errors."""
from ... import correlation
from ...errors import IsingLabError
from ...limits import check_work
from ...params import ALGORITHMS, ModelParams
from ...tasks import TaskState
from ..options import add_allow_long, add_model_arguments, nonneg_int
from ..output import ProgressBar

NAME = "correlate"
HELP = "measure the correlation function G(r) and the correlation length against Onsager's exact xi"
ORDER = 40
MEASURE_NS_PER_SPIN = 50.0  # G(r), C(t), S(k) (FFTs) of one configuration, per spin, when measured every sweep


def add_arguments(p):
    add_model_arguments(p, size=64, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default=None,
                   help="update algorithm (default: wolff for h = 0, else heatbath)")
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=4000,
                   help=f"measured sweeps, at least {correlation.MIN_SAMPLES}; G is measured every ~tau_int "
                        "of them (default 4000)")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=None,
                   help="sweeps discarded first (default max(200, sweeps/10))")
    p.add_argument("--no-radial", action="store_true", help="skip the radial average (one FFT less)")
    add_allow_long(p)


def run(args, hooks):
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, algorithm="metropolis", seed=args.seed)
    params = params.with_(algorithm=args.algorithm or correlation.auto_algorithm(params)).validated()
    if params.coupling < 0.0 and params.size % 2:
        raise IsingLabError(f"J < 0 correlations use the staggered spins, which need an even L, got {params.size}")
    if args.sweeps < correlation.MIN_SAMPLES:
        raise IsingLabError(f"sweeps must be at least {correlation.MIN_SAMPLES}, got {args.sweeps}")
    # as correlation.sample counts them: thermalisation, a pilot run for tau, the measured sweeps
    therm = max(200, args.sweeps // 10) if args.thermalize is None else args.thermalize
    total = therm + min(2000, max(100, args.sweeps // 10)) + args.sweeps
    check_work("correlate", params.size ** 2 * total, algorithm=params.algorithm, extra_ns=MEASURE_NS_PER_SPIN,
               allow_long=args.allow_long, detail=f"L^2 x sweeps = {params.size}^2 x {total}")
    result, info = correlation.sample(params, sweeps=args.sweeps, thermalize=args.thermalize,
                                      radial=not args.no_radial, task=TaskState(ProgressBar()))
    out = result.to_json()
    head = {k: out.pop(k) for k in ("size", "temperature", "coupling", "field")}
    return {**head, **info, "seed": params.seed, **out}
