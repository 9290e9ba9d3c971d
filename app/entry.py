"""The `isinglab` console script: the desktop app by default, the headless CLI for commands.

Qt is imported only when a GUI command runs, so `isinglab simulate ...` starts fast and works
on machines without a display.
"""
import sys

from isinglab.core.cli import main as cli_main

from . import figure_command, gui_command


def _bench_gui(args):
    from .gui_bench import run_gui_benchmark
    return run_gui_benchmark(args)


def main(argv=None) -> int:
    return cli_main(argv, extra_commands=[gui_command, figure_command], hooks={"bench_gui": _bench_gui},
                    default_command="gui")


if __name__ == "__main__":
    sys.exit(main())
