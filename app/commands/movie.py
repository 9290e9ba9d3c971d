"""`isinglab movie`: write a scene as an MP4 or GIF without a display.

Every option and the scene are checked before any frame is computed; so is the work the movie
asks for (the scene's spin updates plus the pixels to encode, as an estimated run time that
core/limits.py bounds and --allow-long lifts) and, for a GIF, the memory its frames take."""
import os

from isinglab.core.cli.options import add_allow_long, int_range
from isinglab.core.cli.output import ProgressBar
from isinglab.core.errors import IsingLabError
from isinglab.core.scenes import MAX_DURATION, MAX_FPS
from isinglab.core.tasks import TaskState

NAME = "movie"
HELP = "record a scene (see resources/scenes) to an MP4 or GIF movie, headless"
ORDER = 61
MAX_FRAMES = int(MAX_FPS * MAX_DURATION)  # the most frames a scene can have
# rendering + encoding cost per output pixel, rounded up from docs/performance.md ("Movies": 90 frames of 512x512 MP4
# in 2.9 s, of 256x256 GIF in 0.1 s); a GIF also holds every frame (1 byte per pixel) in memory
NS_PER_PIXEL = {".mp4": 120.0, ".gif": 20.0}


def add_arguments(p):
    p.add_argument("--scene", required=True, metavar="NAME",
                   help="scene id (e.g. cool-through-tc) or path to a scene .json file")
    p.add_argument("--out", required=True, metavar="FILE", help="output file ending in .mp4 or .gif")
    p.add_argument("--fps", type=int_range("--fps", 1, MAX_FPS), default=None,
                   help=f"frames per second of the movie, 1-{MAX_FPS} (default: the scene's)")
    p.add_argument("--size", default="512x512", metavar="WxH", help="frame size in pixels (default 512x512)")
    p.add_argument("--levels", type=int_range("--levels", 0, 4), default=None,
                   help="block-spin RG levels shown beside the lattice, 0-4 (default: the scene's)")
    p.add_argument("--frames", type=int_range("--frames", 1, MAX_FRAMES), default=None,
                   help="stop after this many frames, at least 1 (default: the whole scene)")
    p.add_argument("--colormap", default="classic", help="classic, grey or high-contrast")
    add_allow_long(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def check_out(path: str) -> str:
    """The movie file: .mp4 or .gif, in an existing writable folder, not a folder or a device."""
    from isinglab.core.atomic_io import resolve_target

    from isinglab.app.output.movie import FORMATS
    target, _ = resolve_target(path)  # a folder, a device or a missing folder: refused here
    ext = os.path.splitext(target)[1].lower()
    if ext not in FORMATS:
        raise IsingLabError(f"--out: a movie file must end in {' or '.join(FORMATS)}, "
                            f"got {ascii(os.path.basename(target))}")
    return ext


def run(args, hooks):
    from isinglab.core.limits import check_memory, show_number
    from isinglab.core.scenes import check_replay_work, load_scene

    from isinglab.app.output.movie import _colors, check_levels, layout, parse_size, record_scene
    size = parse_size(args.size)
    _colors(args.colormap)  # an unknown colormap: refused now, not after the scene has loaded
    ext = check_out(args.out)
    scene = load_scene(args.scene)  # unknown scene / bad file: clear message, exit 2
    n_frames = scene.n_frames if args.frames is None else min(args.frames, scene.n_frames)
    levels = scene.movie.get("block_levels", 0) if args.levels is None else args.levels
    for n in scene.sizes(n_frames):
        check_levels(n, levels)
    layout(size, levels + 1)  # the lattice and its levels must fit the frame side by side
    pixels = n_frames * size[0] * size[1]
    if ext == ".gif":
        check_memory(f"movie: a GIF of {n_frames} frames of {size[0]}x{size[1]}", pixels)
    check_replay_work(f"movie of scene {scene.id}", scene.spin_updates_by_algorithm(n_frames), args.allow_long,
                      extra_seconds=pixels * NS_PER_PIXEL[ext] * 1e-9,
                      detail=f"frames x sweeps per frame x L^2, plus {show_number(pixels)} pixels to encode")
    return record_scene(scene, args.out, size, fps=args.fps, levels=levels,
                        colormap=args.colormap, max_frames=n_frames,
                        task=TaskState(ProgressBar()))
