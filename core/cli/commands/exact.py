"""isinglab exact: exact finite-size (Kaufman, enumeration) and infinite-lattice (Onsager) values."""
from ... import exact
from ...errors import IsingLabError
from ...params import EXACT_MIN_SIZE, check_model, check_size
from ..options import add_model_arguments

NAME = "exact"
HELP = "exact results: Kaufman's finite L x L torus, enumeration for L <= 4, Onsager's infinite lattice"
ORDER = 30


def add_arguments(p):
    add_model_arguments(p, size=16, algorithm=False, min_size=EXACT_MIN_SIZE)
    p.set_defaults(seed=0)


def unavailable(L: int, J: float, h: float) -> dict:
    """Why each family of exact results that does not apply to (L, J, h) is missing."""
    out = {}
    if h != 0.0 or J == 0.0:
        need = "h = 0" if J != 0.0 else ("J != 0 and h = 0" if h != 0.0 else "J != 0")
        out["finite_size"] = f"Kaufman's torus needs {need}"
        out["onsager"] = f"Onsager's solution needs {need}"
    elif J < 0.0 and L % 2:
        out["finite_size"] = "Kaufman's torus with J < 0 needs an even L (odd L is frustrated)"
    if L > exact.ENUMERATION_MAX_SIZE:
        out["enumeration"] = f"enumeration is for L <= {exact.ENUMERATION_MAX_SIZE}"
    return out


def run(args, hooks):
    L = check_size(args.size, "exact")
    T, J, h = check_model(args.temperature, args.coupling, args.field)
    missing = unavailable(L, J, h)
    if {"finite_size", "onsager", "enumeration"} <= set(missing):
        raise IsingLabError(f"no exact result for L = {L}, J = {J:g}, h = {h:g}: {missing['finite_size']}, "
                            f"and so does Onsager's solution; {missing['enumeration']}")
    out = exact.exact_summary(L, T, coupling=J, field=h)
    enum = out.get("enumeration")
    if enum is not None and enum.get("u4") != enum.get("u4"):  # nan: no magnetisation at all
        missing["enumeration u4"] = "<m^2> = 0 to double precision: the Binder cumulant is undefined"
    if missing:
        out["unavailable"] = missing
    return out
