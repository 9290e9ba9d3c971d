"""`isinglab gui`: open the desktop app (also what `isinglab` alone does).

Headless automation (docs/guide/automation.md): `--run-seconds N` runs the simulation for N
seconds and closes the window; at the end `--screenshot`, `--export-data` and
`--export-figures` write what the window's own menu entries write, and `--json` prints one JSON
object that sums the run up. `--presenter`, `--scene NAME` and `--window-size WxH` open the
window as a lecture shows it (presenter mode, a scene playing, a projector's size); the JSON then
also gives the window's, the lattice view's and the overlay's rectangles and the spin colours, so
a script can check the screenshot against them. Every output path, the scene and the size are
checked here, before the window opens.
"""
import os

from isinglab.core.cli.options import add_model_arguments, float_range, int_range
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

NAME = "gui"
HELP = "open the desktop app (the default when no command is given)"
ORDER = 0
MAX_RUN_SECONDS = 3600.0
IMPLIED_RUN_SECONDS = 1.0  # an output option without --run-seconds: run this long, write, quit
# what the window's own controls can show (app/window/controls.py: the L menu, the seed and
# sweeps-per-frame boxes): larger values would not fit them
MAX_GUI_SIZE, MAX_GUI_SEED, MAX_SWEEPS_PER_FRAME = 4096, 2**31 - 1, 10000
# --window-size: from a small beamer to an 8K screen
MIN_WINDOW, MAX_WINDOW = (320, 240), (7680, 4320)


def add_arguments(p):
    add_model_arguments(p, size=256)
    p.add_argument("--run-seconds", type=float_range("--run-seconds", 0.0, MAX_RUN_SECONDS, lo_open=True), default=None,
                   help="start running at once, and quit after this many seconds (at most 3600); the "
                        "clock starts with the first sweep, once the kernels are compiled")
    p.add_argument("--screenshot", metavar="PNG", default=None,
                   help="at the end of the run: save a PNG of the whole window (implies --run-seconds 1)")
    p.add_argument("--export-data", metavar="DIR", default=None,
                   help="at the end of the run: write what File > Export > Export data... writes (CSV/NPZ/JSON) "
                        "into DIR, created if its parent exists (implies --run-seconds 1)")
    p.add_argument("--export-figures", metavar="DIR", default=None,
                   help="at the end of the run: write what File > Export > Export figure set writes, for every "
                        "panel, into DIR, created if its parent exists (implies --run-seconds 1)")
    p.add_argument("--formats", default=None,
                   help="with --export-figures: the figure formats, a comma-separated subset of png,svg,pdf "
                        "(default all three)")
    p.add_argument("--presenter", action="store_true",
                   help="open in presenter mode (F5): the lattice beside one panel, the overlay; full screen "
                        "unless --window-size is given")
    p.add_argument("--scene", metavar="NAME", default=None,
                   help="play this scene (an id, e.g. cool-through-tc, or a scene file) from the start")
    p.add_argument("--window-size", metavar="WxH", default=None,
                   help=f"the window's size in pixels, {MIN_WINDOW[0]}x{MIN_WINDOW[1]} to "
                        f"{MAX_WINDOW[0]}x{MAX_WINDOW[1]} (default 1280x800; with --presenter: the projector's "
                        "size, instead of full screen)")
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


def check_formats(text: str | None) -> tuple[str, ...]:
    """--formats: known, distinct figure formats; None: every format export writes."""
    from isinglab.app.output.sidecar import FORMATS, parse_formats
    return tuple(FORMATS) if text is None else tuple(parse_formats(text))


def check_window_size(text: str | None) -> tuple[int, int] | None:
    """--window-size WxH: (width, height) within MIN_WINDOW..MAX_WINDOW; None: not given."""
    if text is None:
        return None
    parts = text.strip().lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and p.strip().isascii() for p in parts):
        shown = ascii(text[:40]) if text else "''"
        raise IsingLabError(f"--window-size: expected WIDTHxHEIGHT in pixels, e.g. 1280x720, got {shown}")
    width, height = (int(p) for p in parts)
    (w0, h0), (w1, h1) = MIN_WINDOW, MAX_WINDOW
    if not (w0 <= width <= w1 and h0 <= height <= h1):
        raise IsingLabError(f"--window-size: {width}x{height} is out of range: the width must lie in "
                            f"{w0}..{w1} and the height in {h0}..{h1} pixels")
    return width, height


def check_scene(name: str | None) -> str | None:
    """--scene: an id or a scene file, loaded and validated here (an unknown id or a bad file:
    one line); returns what the window's scene player loads (a file as an absolute path)."""
    if name is None:
        return None
    from isinglab.core.json_files import one_line
    from isinglab.core.scenes import load_scene
    try:
        load_scene(name)
    except IsingLabError as exc:
        raise IsingLabError(one_line(f"--scene: {exc}")) from None
    is_file = name.endswith(".json") or os.sep in name or os.path.exists(name)  # load_scene's rule
    return os.path.abspath(name) if is_file else name


def check_export_folder(option: str, path: str) -> str:
    """The absolute folder an export option names, checked but not created: an existing,
    writable folder, or a new name in one (created at the end of the run, so that a run that
    fails writes nothing). A missing parent, a file or a device is refused with one line."""
    from isinglab.core.atomic_io import check_folder
    from isinglab.core.json_files import one_line, show_path
    if not path or "\0" in path:
        raise IsingLabError(f"{option}: not a valid folder name: {show_path(path) or repr(path)}")
    folder = os.path.abspath(os.path.expanduser(path))
    try:
        if os.path.lexists(folder) and not os.path.isdir(folder):
            what = "is a file" if os.path.isfile(folder) else "exists and is not a folder"
            raise IsingLabError(f"{option}: {show_path(folder)} {what}; give a folder")
        parent = folder if os.path.isdir(folder) else os.path.dirname(folder)
        if not os.path.isdir(parent):
            what = "does not exist" if not os.path.lexists(parent) else "is not a folder"
            raise IsingLabError(f"{option}: cannot create {show_path(folder)}: the folder "
                                f"{show_path(parent)} {what}")
        check_folder(parent)
    except IsingLabError as exc:
        raise IsingLabError(one_line(str(exc) if str(exc).startswith(option) else f"{option}: {exc}")) from None
    except OSError as exc:  # e.g. a name too long for the file system
        raise IsingLabError(one_line(f"{option}: cannot use {show_path(folder)}: {exc.strerror or exc}")) from None
    return folder


def run(args, hooks):
    params = check_gui_params(ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                                          field=args.field, algorithm=args.algorithm, seed=args.seed))
    if args.formats is not None and args.export_figures is None:
        raise IsingLabError("--formats: only with --export-figures")
    formats = check_formats(args.formats)
    window_size = check_window_size(args.window_size)
    scene = check_scene(args.scene)
    screenshot = data_dir = figures_dir = None
    if args.screenshot is not None:
        from isinglab.core.atomic_io import resolve_target
        try:
            # a missing folder, a folder or a device: before the window opens
            screenshot, _ = resolve_target(args.screenshot)
        except IsingLabError as exc:
            raise IsingLabError(f"could not save screenshot: {exc}") from None
    if args.export_data is not None:
        data_dir = check_export_folder("--export-data", args.export_data)
    if args.export_figures is not None:
        figures_dir = check_export_folder("--export-figures", args.export_figures)
    if data_dir is not None and data_dir == figures_dir:  # both would write lattice.png
        raise IsingLabError("--export-data and --export-figures need two different folders "
                            "(both write lattice.png)")
    if args.run_seconds is None and (screenshot or data_dir or figures_dir):
        args.run_seconds = IMPLIED_RUN_SECONDS
    from isinglab.app.window.application import Automation, run_app
    job = Automation(run_seconds=args.run_seconds, screenshot=screenshot, export_data=data_dir,
                     export_figures=figures_dir, formats=formats, as_json=args.json,
                     presenter=args.presenter, scene=scene, window_size=window_size)
    return run_app(params, no_gl=args.no_gl, sweeps_per_frame=args.sweeps_per_frame or None, automation=job)
