"""isinglab exact: exact finite-size (Kaufman, enumeration) and infinite-lattice (Onsager) values."""
from ... import exact
from ...params import check_size
from ..options import add_model_arguments

NAME = "exact"
HELP = "exact results: Kaufman's finite L x L torus, enumeration for L <= 4, Onsager's infinite lattice"
ORDER = 30


def add_arguments(p):
    add_model_arguments(p, size=16, algorithm=False)
    p.set_defaults(seed=0)


def run(args, hooks):
    check_size(args.size, "exact")
    return exact.exact_summary(args.size, args.temperature, coupling=args.coupling, field=args.field)
