"""Entry point of the frozen app bundle: the same as the `isinglab` console script."""
import multiprocessing
import sys

from isinglab.app.entry import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if argv[:1] == ["--self-test"]:  # until entry.py maps the flag itself
        argv = ["self-test", *argv[1:]]
    sys.exit(main(argv))
