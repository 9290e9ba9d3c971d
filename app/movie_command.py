"""`isinglab movie`: write a scene as an MP4 or GIF without a display."""
from isinglab.core.cli.options import nonneg_int
from isinglab.core.cli.output import ProgressBar
from isinglab.core.tasks import TaskState

NAME = "movie"
HELP = "record a scene (see resources/scenes) to an MP4 or GIF movie, headless"
ORDER = 61


def add_arguments(p):
    p.add_argument("--scene", required=True, metavar="NAME",
                   help="scene id (e.g. cool-through-tc) or path to a scene .json file")
    p.add_argument("--out", required=True, metavar="FILE", help="output file ending in .mp4 or .gif")
    p.add_argument("--fps", type=nonneg_int("fps"), default=0,
                   help="frames per second of the movie (default: the scene's)")
    p.add_argument("--size", default="512x512", metavar="WxH", help="frame size in pixels (default 512x512)")
    p.add_argument("--levels", type=int, default=None,
                   help="block-spin RG levels shown beside the lattice, 0-4 (default: the scene's)")
    p.add_argument("--frames", type=nonneg_int("frames"), default=0,
                   help="stop after this many frames (default: the whole scene)")
    p.add_argument("--colormap", default="classic", help="classic, grey or high-contrast")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args, hooks):
    from isinglab.core.errors import IsingLabError
    from isinglab.core.scenes import load_scene

    from .movie import parse_size, record_scene
    if args.fps and args.fps > 120:
        raise IsingLabError(f"--fps must be between 1 and 120, got {args.fps}")
    size = parse_size(args.size)
    scene = load_scene(args.scene)  # unknown scene / bad file: clear message, exit 2
    return record_scene(scene, args.out, size, fps=args.fps or None, levels=args.levels,
                        colormap=args.colormap, max_frames=args.frames or None,
                        task=TaskState(ProgressBar()))
