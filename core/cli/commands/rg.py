"""isinglab rg: renormalised couplings level by level, or T_c and nu by Monte Carlo RG."""
from ... import rg
from ...errors import IsingLabError
from ...limits import check_memory, check_work
from ...params import ALGORITHMS, MAX_SIZE, ModelParams
from ...rg.blocking import MAX_LEVELS
from ...rg.couplings import MIN_SIDE
from ...rg.flow import DEFAULT_MIN_SIDE, MIN_SWEEPS
from ...rg.mcrg import MIN_SNAPSHOTS, ladder, measured_levels
from ...rg.sampling import pick_algorithm, thermalisation_sweeps
from ...tasks import TaskState
from ..options import add_allow_long, add_model_arguments, int_range, nonneg_int
from ..output import ProgressBar

NAME = "rg"
HELP = ("block-spin renormalization group: couplings K_nn, K_nnn, K_plaquette, h per level; "
        "--estimate-tc gives T_c, nu and the RG eigenvalue spectrum by Monte Carlo RG")
ORDER = 35
FLOW_SWEEPS = 1000
SNAPSHOT_NS_PER_SPIN = 20.0  # blocking and neighbourhood histograms of one snapshot, per spin of level 0
MCRG_NS_PER_SPIN = 100.0  # one MCRG snapshot (Wolff sweep + operator sums of every level), per spin
BYTES_PER_LEVEL_SNAPSHOT = 40  # the flow's |m| series: one Python float per level and snapshot
MCRG_BYTES_PER_LEVEL_SNAPSHOT = 6 * 8 * 3  # six operator sums, int64 then float64 copies


def add_arguments(p):
    add_model_arguments(p, size=64, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=("auto",) + ALGORITHMS, default="auto",
                   help="update algorithm (default auto: wolff when h = 0, else heat-bath)")
    p.add_argument("--block", "-b", type=int_range("block size b", 2, MAX_SIZE), default=2,
                   help="block side b (default 2)")
    p.add_argument("--levels", "-k", type=nonneg_int("levels", MAX_LEVELS), default=None,
                   help=f"blocking levels (default: as many as L allows down to side {DEFAULT_MIN_SIDE})")
    p.add_argument("--rule", choices=rg.RULES, default="majority",
                   help="block-spin rule (default majority; b = 2 ties go to a seeded coin)")
    p.add_argument("--sweeps", type=nonneg_int("sweeps"), default=None,
                   help=f"measured sweeps, one snapshot each (default {FLOW_SWEEPS}, at least {MIN_SWEEPS}; "
                        f"with --estimate-tc: snapshots of the final run, default {rg.DEFAULT_SNAPSHOTS}, "
                        f"at least {MIN_SNAPSHOTS})")
    p.add_argument("--thermalize", type=nonneg_int("thermalize"), default=None,
                   help="sweeps discarded first (default: 200 for cluster updates, ~L^2/4 otherwise)")
    p.add_argument("--estimate-tc", action="store_true",
                   help="estimate T_c and nu of the J = 1 ferromagnet by MCRG matching of L and L/b "
                        "lattices (ignores --temperature)")
    add_allow_long(p)


def run(args, hooks):
    task = TaskState(ProgressBar())
    if args.estimate_tc:
        if args.coupling != 1.0 or args.field != 0.0:
            raise IsingLabError("--estimate-tc measures T_c of the ferromagnet with J = 1 and h = 0; "
                                "leave out --coupling and --field")
        snapshots = rg.DEFAULT_SNAPSHOTS if args.sweeps is None else args.sweeps
        _check_mcrg(args.size, args.block, args.rule, snapshots, args.allow_long)
        res = rg.estimate_tc(args.size, args.block, args.rule, snapshots, seed=args.seed, task=task)
        return res.to_json() if args.json else _tc_table(res)
    params = ModelParams(size=args.size, temperature=args.temperature, coupling=args.coupling,
                         field=args.field, seed=args.seed)
    params = params.with_(algorithm=pick_algorithm(params, args.algorithm)).validated()
    sweeps = FLOW_SWEEPS if args.sweeps is None else args.sweeps
    if sweeps < MIN_SWEEPS:
        raise IsingLabError(f"the RG flow needs at least {MIN_SWEEPS} measured sweeps, got {sweeps}")
    levels = args.levels
    if levels is None:
        levels = rg.default_levels(params.size, args.block)
        if levels == 0:
            raise IsingLabError(
                f"L = {params.size} allows no blocking level with b = {args.block} (a level needs L divisible "
                f"by b and a side of at least {DEFAULT_MIN_SIDE}); choose another L or -b, or --levels 0 "
                f"for the unblocked lattice only")
    rg.check_blocking(params.size, args.block, levels, MIN_SIDE)
    therm = thermalisation_sweeps(params.size, params.algorithm) if args.thermalize is None else args.thermalize
    check_work("rg", params.size ** 2 * (therm + sweeps), algorithm=params.algorithm,
               extra_ns=SNAPSHOT_NS_PER_SPIN * sweeps / (therm + sweeps), allow_long=args.allow_long,
               detail=f"L^2 x sweeps = {params.size}^2 x {therm + sweeps}")
    check_memory(f"rg: {sweeps} snapshots", sweeps * (levels + 1) * BYTES_PER_LEVEL_SNAPSHOT)
    res = rg.rg_flow(params, args.block, levels, args.rule, sweeps, args.thermalize, params.algorithm, task)
    return res.to_json() if args.json else _flow_table(res)


def _check_mcrg(size, block, rule, snapshots, allow_long):
    """What rg.estimate_tc will ask for (its plan: ~3 search runs per ladder size, then the final run)."""
    rg.check_mcrg(size, block, rule, snapshots)
    pre = max(MIN_SNAPSHOTS, snapshots // 8)
    work = sum(3 * pre * 1.25 * s * s for s in ladder(size, block)) + snapshots * 1.25 * size * size
    check_work("rg --estimate-tc", work, algorithm=None, extra_ns=MCRG_NS_PER_SPIN - 1.0, allow_long=allow_long,
               detail=f"snapshots x L^2 over the search ladder and the final run (L = {size}, {snapshots} snapshots)")
    check_memory(f"rg --estimate-tc: {snapshots} snapshots",
                 snapshots * (measured_levels(size, block) + 1) * MCRG_BYTES_PER_LEVEL_SNAPSHOT)


def _tc_table(res) -> dict:
    out = {"T_c": res.tc, "T_c systematic": res.tc_systematic, "nu": res.nu,
           "nu systematic": res.nu_systematic, "K_c": res.kc}
    out["per level"] = {f"T_c, matched at side {m['side']}": m["tc"] for m in res.match}
    out["per level"].update({f"nu, {e['from']} -> {e['to']}": e["nu"] for e in res.eigen})
    out["spectrum (y = ln|lambda| / ln b)"] = {
        f"step {sp['from']} -> {sp['to']}": ", ".join(f"{y:+.3f} ± {e:.2g}" for y, e in zip(sp["y"], sp["y_err"]))
        + f"  ({sp['relevant']} relevant)" for sp in res.spectrum}
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
