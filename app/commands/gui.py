"""`isinglab gui`: open the desktop app (also what `isinglab` alone does)."""
from isinglab.core.cli.options import add_model_arguments, float_range, int_range
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

NAME = "gui"
HELP = "open the desktop app (the default when no command is given)"
ORDER = 0
MAX_RUN_SECONDS = 3600.0
# what the window's own controls can show (app/window/controls.py: the L menu, the seed and
# sweeps-per-frame boxes): larger values would not fit them
MAX_GUI_SIZE, MAX_GUI_SEED, MAX_SWEEPS_PER_FRAME = 4096, 2**31 - 1, 10000


def add_arguments(p):
    add_model_arguments(p, size=256)
    p.add_argument("--run-seconds", type=float_range("--run-seconds", 0.0, MAX_RUN_SECONDS, lo_open=True), default=None,
                   help="start running at once, and quit after this many seconds (at most 3600)")
    p.add_argument("--screenshot", metavar="PNG", default=None,
                   help="with --run-seconds: save a PNG of the whole window before quitting")
    p.add_argument("--no-gl", action="store_true", help="use the software image view instead of OpenGL")
    p.add_argument("--sweeps-per-frame", type=int_range("--sweeps-per-frame", 0, MAX_SWEEPS_PER_FRAME),
                   default=0, help="sweeps per frame, at most 10000 (default 0 = auto)")


def check_gui_params(params: ModelParams) -> ModelParams:
    """Model parameters the window can show: validated, and within its controls' ranges."""
    params = params.validated()
    if params.size > MAX_GUI_SIZE:
        raise IsingLabError(f"--size: the desktop app shows lattices up to L = {MAX_GUI_SIZE}, got {params.size}")
    if params.seed > MAX_GUI_SEED:
        raise IsingLabError(f"--seed: the desktop app takes seeds up to {MAX_GUI_SEED}, got {params.seed}")
    return params


def run(args, hooks):
    params = check_gui_params(ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                                          field=args.field, algorithm=args.algorithm, seed=args.seed))
    if args.screenshot is not None:
        from isinglab.core.atomic_io import resolve_target
        try:
            resolve_target(args.screenshot)  # a missing folder, a folder or a device: before the window opens
        except IsingLabError as exc:
            raise IsingLabError(f"could not save screenshot: {exc}") from None
        if args.run_seconds is None:
            args.run_seconds = 1.0
    from isinglab.app.window.application import run_app
    return run_app(params, run_seconds=args.run_seconds, screenshot=args.screenshot,
                   no_gl=args.no_gl, sweeps_per_frame=args.sweeps_per_frame or None,
                   as_json=args.json)
