"""Argument types shared by CLI commands: each rejects bad values with a one-line message."""
from __future__ import annotations

import argparse

from ..errors import IsingLabError
from ..exact import TC
from ..params import ALGORITHMS, check_finite, check_temperature


def _wrap(check):
    def parse(text):
        try:
            return check(text)
        except IsingLabError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = check.__name__
    return parse


def _positive_temperature(text):
    return check_temperature(_float(text, "temperature T"))


def _float(text, name):
    try:
        return float(text)
    except ValueError:
        raise IsingLabError(f"{name} must be a number, got {text!r}") from None


def _finite(name):
    return lambda text: check_finite(name, _float(text, name))


def _nonneg_int(name):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise IsingLabError(f"{name} must be an integer, got {text!r}") from None
        if v < 0:
            raise IsingLabError(f"{name} must be >= 0, got {v}")
        return v
    return parse


temperature = _wrap(_positive_temperature)
nonneg_int = lambda name: _wrap(_nonneg_int(name))  # noqa: E731
finite = lambda name: _wrap(_finite(name))  # noqa: E731


def add_model_arguments(p: argparse.ArgumentParser, size=128, algorithm=True) -> None:
    p.add_argument("--size", "-L", type=int, default=size, help=f"lattice side L (default {size})")
    p.add_argument("--temperature", "-T", type=temperature, default=TC,
                   help="temperature in units of J/k_B (default T_c)")
    p.add_argument("--coupling", "-J", type=finite("coupling J"), default=1.0,
                   help="coupling J; negative = antiferromagnet (default 1)")
    p.add_argument("--field", type=finite("field h"), default=0.0, help="external field h (default 0)")
    if algorithm:
        p.add_argument("--algorithm", "-a", choices=ALGORITHMS, default="metropolis",
                       help="update algorithm (default metropolis)")
    p.add_argument("--seed", type=nonneg_int("seed"), default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
