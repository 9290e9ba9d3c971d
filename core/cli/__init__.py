"""The headless `isinglab` command line. Imports no Qt: the app adds its commands through
`extra_commands` and `hooks` (see isinglab.app.entry)."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import IsingLabError
from ..tasks import Cancelled
from . import commands
from .output import dump_json, format_table

EXIT_USAGE = 2
EXIT_CANCELLED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and exit 2, as for every other bad input
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def builtin_commands():
    """The command modules in core/cli/commands (each: NAME, HELP, add_arguments, run)."""
    mods = [importlib.import_module(f"{commands.__name__}.{m.name}")
            for m in pkgutil.iter_modules(commands.__path__)]
    return sorted((m for m in mods if hasattr(m, "NAME")), key=lambda m: getattr(m, "ORDER", 50))


def build_parser(command_modules) -> argparse.ArgumentParser:
    from .. import __version__
    parser = _Parser(prog="isinglab", description="The 2D Ising model lab: simulate, measure, "
                     "coarse-grain, learn. Run without a command to open the desktop app.")
    parser.add_argument("--version", action="version", version=f"isinglab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command", parser_class=_Parser)
    for mod in command_modules:
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv=None, extra_commands=(), hooks=None, default_command=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    mods = builtin_commands() + list(extra_commands)
    parser = build_parser(mods)
    if not argv and default_command:
        argv = [default_command]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        result = args._module.run(args, hooks or {})
    except IsingLabError as exc:
        print(f"isinglab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (Cancelled, KeyboardInterrupt):
        print("isinglab: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if isinstance(result, int):  # a command that printed its own output
        return result
    print(dump_json(result) if getattr(args, "json", False) else format_table(result))
    return 0
