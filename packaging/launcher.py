"""Entry point of the frozen app bundle: the same as the `isinglab` console script."""
import multiprocessing
import os
import sys

if getattr(sys, "frozen", False):
    # numba's on-disk cache sits next to the sources by default; a bundle has none (read-only)
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "isinglab", "numba"))

from isinglab.app.commands.entry import main  # noqa: E402


def run(argv) -> int:
    if argv[:1] in (["--self-test"], ["self-test"]):
        # also before app/commands/entry.py lists the self-test command itself
        from isinglab.app.commands import self_test
        from isinglab.core.cli import main as cli_main
        return cli_main(["self-test", *argv[1:]], extra_commands=[self_test])
    return main(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(run(sys.argv[1:]))
