"""isinglab rg: renormalised couplings level by level, or T_c and nu by Monte Carlo RG."""
from ... import rg
from ...errors import IsingLabError
from ...params import ALGORITHMS, ModelParams
from ...tasks import TaskState
from ..options import add_model_arguments, nonneg_int
from ..output import ProgressBar

NAME = "rg"
HELP = ("block-spin renormalization group: couplings K_nn, K_nnn, K_plaquette, h per level; "
        "--estimate-tc gives T_c and nu by Monte Carlo RG")
ORDER = 35
FLOW_SWEEPS = 1000


def add_arguments(p):
    add_model_arguments(p, size=64, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=("auto",) + ALGORITHMS, default="auto",
                   help="update algorithm (default auto: wolff when h = 0, else heat-bath)")
    p.add_argument("--block", "-b", type=int, default=2, help="block side b (default 2)")
    p.add_argument("--levels", "-k", type=nonneg_int("levels"), default=None,
                   help="blocking levels (default: as many as L allows down to side 4)")
    p.add_argument("--rule", choices=rg.RULES, default="majority",
                   help="block-spin rule (default majority; b = 2 ties go to a seeded coin)")
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=None,
                   help=f"measured sweeps, one snapshot each (default {FLOW_SWEEPS}; "
                        f"with --estimate-tc: snapshots of the final run, default {rg.DEFAULT_SNAPSHOTS})")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=None,
                   help="sweeps discarded first (default: 200 for cluster updates, ~L^2/4 otherwise)")
    p.add_argument("--estimate-tc", action="store_true",
                   help="estimate T_c and nu of the J = 1 ferromagnet by MCRG matching of L and L/b "
                        "lattices (ignores --temperature)")


def run(args, hooks):
    task = TaskState(ProgressBar())
    if args.estimate_tc:
        if args.coupling != 1.0 or args.field != 0.0:
            raise IsingLabError("--estimate-tc measures T_c of the ferromagnet with J = 1 and h = 0; "
                                "leave out --coupling and --field")
        snapshots = rg.DEFAULT_SNAPSHOTS if args.sweeps is None else args.sweeps
        res = rg.estimate_tc(args.size, args.block, args.rule, snapshots, seed=args.seed, task=task)
        return res.to_json() if args.json else _tc_table(res)
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, seed=args.seed)  # the algorithm is picked by rg_flow
    res = rg.rg_flow(params, args.block, args.levels, args.rule,
                     FLOW_SWEEPS if args.sweeps is None else args.sweeps, args.thermalize,
                     args.algorithm, task)
    return res.to_json() if args.json else _flow_table(res)


def _tc_table(res) -> dict:
    out = {"T_c": res.tc, "T_c systematic": res.tc_systematic, "nu": res.nu,
           "nu systematic": res.nu_systematic, "K_c": res.kc}
    out["per level"] = {f"T_c, matched at side {m['side']}": m["tc"] for m in res.match}
    out["per level"].update({f"nu, {e['from']} -> {e['to']}": e["nu"] for e in res.eigen})
    out["final run"] = {"L": res.size, "b": res.block, "rule": res.rule, "K": res.coupling,
                        "snapshots": res.snapshots, "seconds": round(res.seconds, 1)}
    return out


def _flow_table(res) -> dict:
    out = {"T": res.params.temperature, "algorithm": res.params.algorithm, "sweeps": res.sweeps}
    for lv in res.levels:
        fit = lv.couplings
        row = ({f"K_{n}" if n != "h" else "h": _entry(*fit[n]) for n in rg.COUPLINGS}
               if fit.ok else {"couplings": fit.message})
        row["|m|"] = _entry(*lv.m_abs)
        out[f"level {lv.level} (L = {lv.size})"] = row
    return out


def _entry(mean, err):
    return {"mean": mean, "err": err}
