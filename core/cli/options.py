"""Argument types shared by CLI commands: each rejects bad values with a one-line message.

Every numeric option of a core command is parsed by one of these types, so the rules (the
ranges of core/params.py, the counts and durations of core/limits.py) hold for every command
alike and a bad value stops the command before any work starts. Whole-request limits (work,
memory) are checked by the commands through core/limits.py; `--allow-long` lifts the work limit.
"""
from __future__ import annotations

import argparse
import math

from ..errors import IsingLabError
from ..exact import TC
from ..limits import ALLOW_LONG_FLAG, MAX_COUNT, MAX_SECONDS, check_count, check_seconds
from ..params import (ALGORITHMS, MAX_SEED, MAX_SIZE, MIN_SIZE, check_coupling, check_field, check_finite,
                      check_temperature)

MAX_TEXT = 40  # characters of a bad value quoted in a message


def _wrap(check):
    def parse(text):
        try:
            return check(text)
        except IsingLabError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = getattr(check, "__name__", "value")
    return parse


def quote(text) -> str:
    """repr() of a user's text, shortened: always one line, never a wall of digits."""
    s = str(text)
    return repr(s if len(s) <= MAX_TEXT else s[:MAX_TEXT] + "...")


def _float(text, name):
    try:
        return float(text)
    except (TypeError, ValueError):
        raise IsingLabError(f"{name} must be a number, got {quote(text)}") from None


def _int(text, name):
    s = str(text).strip()
    if len(s) > 1000:  # Python refuses int() of more than 4300 digits; nothing that long is in range
        raise IsingLabError(f"{name} must be an integer in range, got a {len(s)}-character value")
    try:
        return int(s)
    except ValueError:
        pass
    try:  # "1e6" and "2000.0" are integers too, "1.5" and "nan" are not
        v = float(s)
    except ValueError:
        raise IsingLabError(f"{name} must be an integer, got {quote(text)}") from None
    if not math.isfinite(v) or v != math.floor(v) or abs(v) > 2**63:
        raise IsingLabError(f"{name} must be an integer, got {quote(text)}")
    return int(v)


# ----------------------------------------------------------------------------- checks (text -> value)

def _positive_temperature(text):
    return check_temperature(_float(text, "temperature T"))


def _finite(name):
    return lambda text: check_finite(name, _float(text, name))


def _count(name, lo=0, hi=MAX_COUNT):
    def parse(text):
        return check_count(name, _int(text, name), lo, hi)
    return parse


def _size(lo):
    def parse(text):
        return check_count("lattice size L", _int(text, "lattice size L"), lo, MAX_SIZE)
    return parse


def _seed(text):
    v = _int(text, "seed")
    if not 0 <= v < MAX_SEED:
        raise IsingLabError(f"seed must be an integer in [0, 2^63), got {quote(text)}")
    return v


def _seconds(name):
    return lambda text: check_seconds(name, _float(text, name), allow_long=True)


def _bounded_float(name, lo, hi, lo_open=False):
    def parse(text):
        v = _float(text, name)
        if not math.isfinite(v) or v > hi or (v <= lo if lo_open else v < lo):
            low = f"> {lo:g}" if lo_open else f">= {lo:g}"
            raise IsingLabError(f"{name} must be a finite number {low} and <= {hi:g}, got {quote(text)}")
        return v
    return parse


def _fraction(name):
    def parse(text):
        v = _float(text, name)
        if not 0.0 < v < 1.0:  # also refuses nan
            raise IsingLabError(f"{name} must be between 0 and 1 (exclusive), got {v:g}")
        return v
    return parse


def _path(name):
    def parse(text):
        if not str(text).strip():
            raise IsingLabError(f"{name} needs a file name, got an empty one")
        if "\0" in str(text):
            raise IsingLabError(f"{name}: a file name cannot contain a NUL character")
        return str(text)
    return parse


# ----------------------------------------------------------------------------- argparse types

temperature = _wrap(_positive_temperature)
coupling = _wrap(lambda text: check_coupling(_float(text, "coupling J")))
field = _wrap(lambda text: check_field(_float(text, "field h")))
lattice_size = _wrap(_size(MIN_SIZE))  # sampled lattices; the exact command takes L >= 2
seed = _wrap(_seed)


def nonneg_int(name, hi=MAX_COUNT):
    """An integer in [0, hi]."""
    return _wrap(_count(name, 0, hi))


def positive_int(name, hi=MAX_COUNT):
    """An integer in [1, hi]."""
    return _wrap(_count(name, 1, hi))


def bounded_int(name, lo, hi):
    """An integer in [lo, hi]."""
    return _wrap(_count(name, lo, hi))


def bounded_float(name, lo, hi, lo_open=False):
    """A finite number in [lo, hi] ((lo, hi] with lo_open)."""
    return _wrap(_bounded_float(name, lo, hi, lo_open))


int_range = bounded_int  # the names other modules use
float_range = bounded_float


def positive_float(name, hi):
    """A finite number in (0, hi]."""
    return _wrap(_bounded_float(name, 0.0, hi, lo_open=True))


finite = lambda name: _wrap(_finite(name))  # noqa: E731
seconds = lambda name: _wrap(_seconds(name))  # noqa: E731
fraction = lambda name: _wrap(_fraction(name))  # noqa: E731
path = lambda name: _wrap(_path(name))  # noqa: E731


def add_model_arguments(p: argparse.ArgumentParser, size=128, algorithm=True, min_size=MIN_SIZE) -> None:
    p.add_argument("--size", "-L", type=_wrap(_size(min_size)), default=size,
                   help=f"lattice side L, {min_size} to {MAX_SIZE} (default {size})")
    p.add_argument("--temperature", "-T", type=temperature, default=TC,
                   help="temperature in units of J/k_B, 0.001 to 1000 (default T_c)")
    p.add_argument("--coupling", "-J", type=coupling, default=1.0,
                   help="coupling J, -1000 to 1000; negative = antiferromagnet (default 1)")
    p.add_argument("--field", type=field, default=0.0, help="external field h, -1000 to 1000 (default 0)")
    if algorithm:
        p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default="metropolis",
                       help="update algorithm (default metropolis)")
    p.add_argument("--seed", type=seed, default=0, help="random seed, 0 <= seed < 2^63 (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_allow_long(p: argparse.ArgumentParser) -> None:
    """The one flag that lifts the work limit of core/limits.py (never the memory limit)."""
    p.add_argument(ALLOW_LONG_FLAG, dest="allow_long", action="store_true",
                   help=f"run even when the estimated work exceeds the limit (10 minutes); time budgets "
                        f"up to {MAX_SECONDS / 3600:g} h")


def _float_range(name, lo, hi, lo_open=False):
    def parse(text):
        try:
            v = float(text)
        except (TypeError, ValueError):
            raise IsingLabError(f"{name} must be a number, got {quote(text)}") from None
        if not (v > lo if lo_open else v >= lo) or not v <= hi:  # also refuses nan
            low = f"> {lo:g}" if lo_open else f">= {lo:g}"
            raise IsingLabError(f"{name} must be {low} and <= {hi:g}, got {quote(text)}")
        return v
    return parse


def float_range(name: str, lo: float, hi: float, lo_open: bool = False):
    """An argparse type: a finite number in [lo, hi], or (lo, hi] with lo_open (app commands:
    figure --scale, gui --run-seconds, self-test --window-seconds)."""
    return _wrap(_float_range(name, lo, hi, lo_open))
