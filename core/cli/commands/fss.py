"""isinglab fss: finite-size scaling of a sweep store (Binder crossings, exponents, data collapse)."""
from ...fss import analyse_store
from ..options import bounded_float, path

NAME = "fss"
HELP = ("finite-size scaling of a sweep store: multi-histogram reweighting, Binder crossings and T_c, "
        "gamma/nu and 1/nu from peaks, a data collapse; errors by jackknife over seeds")
ORDER = 61


def add_arguments(p):
    p.add_argument("store", type=path("store"), help="the Zarr store written by isinglab sweep")
    p.add_argument("--omega", type=bounded_float("--omega", 0.1, 10.0), default=None,
                   help="correction-to-scaling exponent of the crossing extrapolation (default 1.75, 2D Ising)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args, hooks):
    out = analyse_store(args.store, args.omega)
    if not args.json:  # the table: the headline numbers, then the crossings one line each
        head = {k: out[k] for k in ("tc", "u4_star", "gamma_over_nu", "nu")}
        head["one_over_nu"] = out["one_over_nu"] or "n/a"
        head["crossings"] = {f"L = {c['sizes'][0]}/{c['sizes'][1]}": c["t"] for c in out["crossings"]}
        head["collapse"] = {k: out["collapse"][k] for k in ("tc", "nu", "gamma_over_nu", "quality")}
        head["sizes"] = ", ".join(str(s["size"]) for s in out["sizes"])
        head["store"] = f"{out['store']} ({out['finished']} of {out['tasks']} tasks)"
        return head
    return out
