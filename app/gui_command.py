"""`isinglab gui`: open the desktop app (also what `isinglab` alone does)."""
from isinglab.core.cli.options import add_model_arguments, nonneg_int
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

NAME = "gui"
HELP = "open the desktop app (the default when no command is given)"
ORDER = 0


def add_arguments(p):
    add_model_arguments(p, size=256)
    p.add_argument("--run-seconds", type=float, default=None,
                   help="start running at once, and quit after this many seconds")
    p.add_argument("--screenshot", metavar="PNG", default=None,
                   help="with --run-seconds: save a PNG of the whole window before quitting")
    p.add_argument("--no-gl", action="store_true", help="use the software image view instead of OpenGL")
    p.add_argument("--sweeps-per-frame", type=nonneg_int("sweeps-per-frame"), default=0,
                   help="sweeps per frame (default 0 = auto)")


def run(args, hooks):
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, algorithm=args.algorithm, seed=args.seed).validated()
    if args.screenshot and args.run_seconds is None:
        args.run_seconds = 1.0
    if args.run_seconds is not None and not (0 <= args.run_seconds <= 3600):
        raise IsingLabError("--run-seconds must be between 0 and 3600")
    from .application import run_app
    return run_app(params, run_seconds=args.run_seconds, screenshot=args.screenshot,
                   no_gl=args.no_gl, sweeps_per_frame=args.sweeps_per_frame or None,
                   as_json=args.json)
