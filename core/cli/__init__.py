"""The headless `isinglab` command line. Imports no Qt: the app adds its commands through
`extra_commands` and `hooks` (see isinglab.app.commands.entry)."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from ..errors import IsingLabError
from ..tasks import Cancelled
from . import commands
from .output import dump_json, format_table

EXIT_USAGE = 2
EXIT_CANCELLED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a reader that closed the pipe sees from other tools


def one_line(message: str) -> str:
    """A message as one line: control characters (a newline in a file name) are escaped."""
    text = str(message).strip()
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) or "unknown error"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and exit 2, as for every other bad input
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)}\n")


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


_cleanup_installed = False


def _install_signal_cleanup() -> None:
    """Temporary files of writes in flight go away on SIGTERM/SIGHUP (once per process)."""
    global _cleanup_installed
    if not _cleanup_installed:
        from ..atomic_io import install_signal_cleanup
        install_signal_cleanup()
        _cleanup_installed = True


def _silence_broken_pipe() -> None:
    """The reader went away (`isinglab ... | head -1`): send whatever is still buffered to
    /dev/null, so the flush at exit does not raise again (the recipe of Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):
            pass  # not a real file (captured in tests): nothing to redirect
    os.close(devnull)


def main(argv=None, extra_commands=(), hooks=None, default_command=None) -> int:
    _install_signal_cleanup()
    argv = list(sys.argv[1:] if argv is None else argv)
    mods = builtin_commands() + list(extra_commands)
    parser = build_parser(mods)
    if not argv and default_command:
        argv = [default_command]
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error already printed
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return _run(args, hooks or {})
    except BrokenPipeError:
        _silence_broken_pipe()
        return EXIT_BROKEN_PIPE


def _run(args, hooks) -> int:
    try:
        result = args._module.run(args, hooks)
    except IsingLabError as exc:
        print(f"isinglab: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print(f"isinglab: error: {args.command}: not enough memory for this request", file=sys.stderr)
        return EXIT_USAGE
    except (Cancelled, KeyboardInterrupt):
        print("isinglab: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if isinstance(result, int):  # a command that printed its own output
        return result
    print(dump_json(result) if getattr(args, "json", False) else format_table(result))
    sys.stdout.flush()  # a closed pipe shows here, inside main, not at interpreter exit
    return 0
