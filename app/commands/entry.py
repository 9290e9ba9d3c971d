"""The `isinglab` console script: the desktop app by default, the headless CLI for commands.

Qt is imported only when a GUI command runs, so `isinglab simulate ...` starts fast and works
on machines without a display.
"""
import sys

from isinglab.core.cli import main as cli_main

from isinglab.app.commands import figure as figure_command

from isinglab.app.commands import gui as gui_command

from isinglab.app.commands import movie as movie_command

from isinglab.app.commands import self_test


def _bench_gui(args):
    from isinglab.app.commands.gui_bench import run_gui_benchmark
    return run_gui_benchmark(args)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--self-test"]:  # what the packaged bundle is checked with
        argv[0] = "self-test"
    return cli_main(argv, extra_commands=[gui_command, figure_command, movie_command, self_test],
                    hooks={"bench_gui": _bench_gui}, default_command="gui")


if __name__ == "__main__":
    sys.exit(main())
