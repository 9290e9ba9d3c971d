"""isinglab learn: the Hamiltonian from samples (pseudo-likelihood) or from a trained classifier
(--classify, with --levels on block-spin levels), or deep versus shallow products (--depth)."""
import argparse
import sys

import numpy as np

from ...errors import IsingLabError
from ...limits import check_memory, check_seconds_of_work, estimate_seconds, show_number
from ...params import ALGORITHMS, ModelParams
from ...tasks import TaskState
from ..options import add_allow_long, add_model_arguments, float_range, fraction, int_range, nonneg_int, path, quote
from ..output import ProgressBar

NAME = "learn"
HELP = ("learn the Ising couplings from samples, or train a temperature classifier and compare with Bayes; "
        "--depth: deep versus shallow networks that multiply")
ORDER = 60

DEFAULT_TEMPERATURES = "1.8,2.1,2.4,2.7"
DEFAULT_SAMPLES = 4000
MAX_EPOCHS, MAX_CHANNELS = 100_000, 64  # as core.learning.classifier (not imported here: it loads torch)
# rough costs on the reference machine (README "Learning"), for the work limit of core/limits.py
PL_NS_PER_SITE_OPERATOR = 250.0  # pseudo-likelihood: per configuration, site and operator
FULL_NS_PER_PAIR = 100.0  # full J_ij fit: per configuration and (site, site) pair
HIST_NS_PER_SITE = 10.0  # classifier: patch histograms, per configuration and site
TRAIN_NS = 10.0  # classifier: per epoch iteration, training configuration, patch and channel
BLOCK_NS_PER_SITE = 100.0  # --levels: blocking, per configuration, site and level (one Python call per block step)
# --depth (as core.learning.depth / depth_train, which are not imported at parse time)
DEFAULT_INPUTS = "2-8"
MIN_INPUTS, MAX_INPUTS, MAX_TRAIN_INPUTS = 2, 12, 8
DEFAULT_SCALES = "1,0.3,0.1,0.03,0.01,0.003"
MAX_SCALES = 16
DEFAULT_MAX_WIDTH, MAX_WIDTH = 64, 1024
DEFAULT_SEEDS, MAX_SEEDS = 3, 10
DEFAULT_POINTS, MAX_POINTS = 2000, 100_000
MAX_LEVEL = 6  # as core.learning.hierarchy


def _temperature_list(text):
    from ...learning.datasets import parse_temperatures
    try:
        return parse_temperatures(text)
    except IsingLabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _pair_range(text):
    from ...learning.operators import MAX_RANGE  # loads the learning package only for this command
    return int_range("pair range R", 1, MAX_RANGE)(text)


def _samples(text):
    from ...learning.datasets import check_samples
    n = nonneg_int("samples", hi=10**15)(text)
    try:
        return check_samples(n)
    except IsingLabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _inputs(text):
    """'2-8', '2,4,6' or '5' -> sorted distinct input counts n."""
    values = []
    for part in (q.strip() for q in str(text).split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a, b = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"inputs: {quote(part)} is not an integer or a range a-b") from None
        if not MIN_INPUTS <= a <= b <= MAX_INPUTS:
            raise argparse.ArgumentTypeError(f"inputs must lie in {MIN_INPUTS}..{MAX_INPUTS} (a-b with a <= b), "
                                             f"got {quote(part)}")
        values.extend(range(a, b + 1))
    if not values:
        raise argparse.ArgumentTypeError("inputs: give at least one n, e.g. 2-8")
    return sorted(set(values))


def _scales(text):
    parts = [q.strip() for q in str(text).split(",") if q.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("scales: give at least one lambda, e.g. 0.1,0.01")
    if len(parts) > MAX_SCALES:
        raise argparse.ArgumentTypeError(f"at most {MAX_SCALES} scales, got {len(parts)}")
    return [float_range("scale lambda", 0.0, 10.0, lo_open=True)(q) for q in parts]


def _levels(text):
    from ...learning.hierarchy import parse_levels
    try:
        return parse_levels(text)
    except IsingLabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(p):
    add_model_arguments(p, size=16, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=("auto",) + ALGORITHMS, default="auto",
                   help="sampler (default auto: Wolff near T_c at h = 0, else Metropolis)")
    p.add_argument("--samples", "-n", type=_samples, default=None,
                   help=f"configurations (per temperature with --classify; default {DEFAULT_SAMPLES})")
    p.add_argument("--range", "-R", dest="range_", metavar="R", type=_pair_range, default=2,
                   help="pairs out to this Chebyshev distance in the operator basis, 1 to 6 with L > 2R (default 2)")
    p.add_argument("--full", action="store_true",
                   help="also fit every J_ij without translation invariance (small L only)")
    p.add_argument("--classify", action="store_true",
                   help="train a CNN to tell the temperatures apart and compare its logits with Bayes")
    p.add_argument("--temperatures", type=_temperature_list, default=DEFAULT_TEMPERATURES,
                   help=f"comma-separated class temperatures for --classify (default {DEFAULT_TEMPERATURES})")
    p.add_argument("--epochs", type=int_range("epochs", 1, MAX_EPOCHS), default=200,
                   help="L-BFGS epochs (stops earlier once converged; default 200)")
    p.add_argument("--channels", type=int_range("channels", 1, MAX_CHANNELS), default=4,
                   help=f"conv channels, 1 to {MAX_CHANNELS} (default 4)")
    p.add_argument("--kernel", type=int, choices=(2, 3), default=2, help="conv kernel size (default 2)")
    p.add_argument("--activation", choices=("square", "softplus", "tanh"), default="square",
                   help="nonlinearity after the conv (default square)")
    p.add_argument("--held-out", type=fraction("held-out fraction"), default=0.25,
                   help="held-out fraction, between 0 and 1 (default 0.25)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="torch device (default auto)")
    p.add_argument("--load", metavar="NPZ", type=path("--load"), help="use a saved dataset instead of sampling")
    p.add_argument("--save", metavar="NPZ", type=path("--save"),
                   help="save the sampled dataset (all or nothing; .npz is added when missing)")
    p.add_argument("--levels", type=_levels, default=None, metavar="K,...",
                   help=f"with --classify: also train on the configurations after k majority block-spin steps "
                        f"(b = 2), e.g. 0,1,2,3 (k <= {MAX_LEVEL}), beside the Bayes accuracy of the energy alone")
    depth = p.add_argument_group("deep versus shallow products (--depth)")
    depth.add_argument("--depth", action="store_true",
                       help="the product x_1...x_n by a deep tree of multiplication gates (4(n-1) neurons) and by "
                            "one layer of 2^n neurons: neurons, parameters, max error on random points")
    depth.add_argument("--inputs", type=_inputs, default=None, metavar="N",
                       help=f"numbers of inputs n, e.g. 2-8 or 2,4,6 ({MIN_INPUTS} to {MAX_INPUTS}; "
                            f"default {DEFAULT_INPUTS})")
    depth.add_argument("--scales", type=_scales, default=None, metavar="LAMBDAS",
                       help=f"comma-separated input scales lambda of the constructions (default {DEFAULT_SCALES})")
    depth.add_argument("--nonlinearity", choices=("softplus", "exp"), default=None,
                       help="sigma of the constructions (default softplus)")
    depth.add_argument("--points", type=int_range("points", 1, MAX_POINTS), default=None,
                       help=f"random test points in [-1, 1]^n (default {DEFAULT_POINTS})")
    depth.add_argument("--train", action="store_true",
                       help=f"also train shallow networks of growing width and gate trees on the product "
                            f"(n <= {MAX_TRAIN_INPUTS}); L-BFGS, --epochs of 20 iterations per fit")
    depth.add_argument("--max-width", type=int_range("max width", 1, MAX_WIDTH), default=None,
                       help=f"with --train: the widest shallow network tried (default {DEFAULT_MAX_WIDTH})")
    depth.add_argument("--seeds", type=int_range("seeds", 1, MAX_SEEDS), default=None,
                       help=f"with --train: fits per width (default {DEFAULT_SEEDS})")
    add_allow_long(p)


def run(args, hooks):
    # the learning modules (torch among them) load only when this command runs
    task = TaskState(ProgressBar())
    args.save_target = args.save_note = None
    _check_modes(args)
    if args.save and not args.load:  # a bad target is refused before minutes of sampling
        from ...atomic_io import resolve_target
        args.save_target, args.save_note = resolve_target(args.save, ".npz")
    if args.depth:
        out = _depth(args, task)
        return out if args.json else _depth_table(out)
    out = _classify(args, task) if args.classify else _couplings(args, task)
    return out if args.json else _readable(out)


DEPTH_ONLY = ("inputs", "scales", "nonlinearity", "points", "max_width", "seeds")


def _check_modes(args) -> None:
    """Options of one mode given in another are refused, not silently ignored."""
    if args.depth and args.classify:
        raise IsingLabError("--depth and --classify are two different modes; choose one")
    if not args.depth:
        given = [name for name in DEPTH_ONLY if getattr(args, name) is not None] + (["train"] if args.train else [])
        if given:
            raise IsingLabError(f"--{given[0].replace('_', '-')} belongs to --depth; add --depth")
    elif args.train is False and (args.max_width is not None or args.seeds is not None):
        raise IsingLabError(f"--{'max-width' if args.max_width is not None else 'seeds'} belongs to --train; "
                            "add --train")
    if args.levels is not None and not args.classify:
        raise IsingLabError("--levels trains the classifier on block-spin levels; add --classify")
    if args.depth and (args.load or args.save):
        raise IsingLabError("--depth uses no dataset; leave out --load and --save")


def _readable(out):
    """For the table: the kernel as aligned rows, the N x N matrix left to --json."""
    kernel = out.get("kernel")
    if kernel is not None:
        r = len(kernel) // 2
        out["kernel"] = {f"dy={dy - r:+d}": " ".join(f"{v:+.4f}" for v in row) for dy, row in enumerate(kernel)}
    if "full" in out:
        n = len(out["full"].pop("matrix"))
        out["full"]["matrix"] = f"{n} x {n}; use --json"
    if "classes" in out:
        out["classes"] = {f"T={c['temperature']:g}": {k: _vs(c[k]) for k in ("slope", "intercept")} | {"r2": c["r2"]}
                          for c in out["classes"]}
        d = out["distilled"]
        d["classes"] = {f"T={c['temperature']:g}": {"r2": c["r2"]} | {g: _vs(v) for g, v in c["couplings"].items()}
                        for c in d["classes"]}
    return out


def _vs(pair):
    exact = "n/a" if pair["exact"] is None else f"{pair['exact']:+.5g}"
    return f"{pair['learned']:+.5g}  (exact {exact})"


def _load(args):
    from ...learning import datasets
    return datasets.IsingDataset.load(args.load)


def _check_sampling(args, temperatures) -> None:
    """What datasets.generate will be asked for: valid parameters, and work and memory in the limits."""
    from ...learning import datasets
    samples = datasets.check_samples(DEFAULT_SAMPLES if args.samples is None else args.samples)
    algos = []
    for t in temperatures:
        a = datasets.choose_algorithm(float(t), args.coupling, args.field, args.algorithm)
        ModelParams(size=args.size, temperature=float(t), coupling=args.coupling, field=args.field, algorithm=a,
                    seed=args.seed).validated()
        algos.append(a)
    sweeps = datasets.THERMALIZE_SWEEPS + datasets.PILOT_SWEEPS + samples  # at least: one sweep per sample
    n = args.size ** 2
    seconds = sum(estimate_seconds(n * sweeps, a) for a in algos)
    check_seconds_of_work("learn: sampling", seconds, allow_long=args.allow_long,
                          detail=f"at least {len(algos)} x L^2 x sweeps = {len(algos)} x {args.size}^2 x "
                                 f"{show_number(sweeps)} spin updates")
    check_memory(f"learn: {len(algos)} x {samples} configurations of {args.size}^2 spins",
                 2 * len(algos) * samples * n)


def _sample(args, temperatures, task):
    from ...learning import datasets
    samples = DEFAULT_SAMPLES if args.samples is None else args.samples
    data = datasets.generate(args.size, temperatures, samples, args.coupling, args.field, args.seed,
                             args.algorithm, task=task)
    if args.save_target:
        data.save(args.save_target)
        if args.save_note:
            print(f"isinglab: {args.save_note}", file=sys.stderr)
    return data


def _check_fits(args, n: int, size: int) -> None:
    """The pseudo-likelihood (and --full) fit of n configurations of size^2 spins: L and R, work."""
    from ...learning import pseudolikelihood as pl
    from ...learning.operators import basis, check_range
    check_range(args.range_, size)
    if args.full and size > pl.MAX_FULL_SIZE:
        raise IsingLabError(f"the full J_ij fit is for small lattices (L <= {pl.MAX_FULL_SIZE}), got L = {size}")
    ops = len(basis(args.range_))
    seconds = n * size ** 2 * ops * PL_NS_PER_SITE_OPERATOR * 1e-9
    if args.full:
        seconds += n * size ** 4 * FULL_NS_PER_PAIR * 1e-9
    check_seconds_of_work("learn: the coupling fit", seconds, allow_long=args.allow_long,
                          detail=f"{n} configurations x L^2 = {size}^2 sites x {ops} operators")


def _couplings(args, task):
    from ...learning import pseudolikelihood as pl
    from ...learning.progress import SubTask
    if args.load:
        data = _load(args)
        if data.n_classes != 1:
            raise IsingLabError(f"the coupling fit needs samples at one temperature; {args.load} has "
                                f"{data.n_classes}")
        _check_fits(args, len(data), data.size)
    else:
        _check_fits(args, DEFAULT_SAMPLES if args.samples is None else args.samples, args.size)
        _check_sampling(args, [args.temperature])
        data = _sample(args, [args.temperature], SubTask(task, 0.0, 0.4, "sampling"))
    t = float(data.temperatures[0])
    fit = pl.fit_pseudolikelihood(data.spins, t, data.coupling, data.field, args.range_,
                                  task=SubTask(task, 0.4, 0.9 if args.full else 1.0))
    out = fit.to_json()
    out["spacing_sweeps"] = int(data.spacing[0]) if len(data.spacing) else None
    out["algorithm"] = data.algorithms[0] if data.algorithms else None
    out["fit_seconds"] = fit.seconds
    if args.full:
        full = pl.fit_full_couplings(data.spins, t, task=SubTask(task, 0.9, 1.0))
        mask = full.neighbour_mask()
        other = ~mask & ~np.eye(mask.shape[0], dtype=bool)
        out["full"] = {"nn": _mean_err(full.couplings[mask]), "other": _mean_err(full.couplings[other]),
                       "other_max_abs": float(np.abs(full.couplings[other]).max()),
                       "matrix": full.couplings.tolist()}
    return out


def _mean_err(values):
    return {"mean": float(values.mean()), "err": float(values.std(ddof=1) / np.sqrt(values.size))}


def _check_training(args, config, n: int, size: int) -> None:
    from ...learning import classifier as cl
    patches = 2 ** (config.kernel ** 2)
    train = n * (1.0 - config.held_out)
    seconds = (n * size ** 2 * HIST_NS_PER_SITE
               + config.epochs * cl.ITERATIONS_PER_EPOCH * train * patches * config.channels * TRAIN_NS) * 1e-9
    check_seconds_of_work("learn --classify: training", seconds, allow_long=args.allow_long,
                          detail=f"{config.epochs} epochs x {n} configurations x {patches} patches x "
                                 f"{config.channels} channels")
    check_memory(f"learn --classify: patch histograms of {n} configurations", 2 * n * patches * 8)


def _classify(args, task):
    from ...learning import classifier as cl
    from ...learning.distill import distill
    from ...learning.progress import SubTask
    config = cl.TrainConfig(channels=args.channels, kernel=args.kernel, activation=args.activation,
                            epochs=args.epochs, held_out=args.held_out, seed=args.seed,
                            device=args.device).validated()
    cl.pick_device(config.device)  # --device cuda without CUDA: refused before any sampling
    temps = args.temperatures
    if args.load:
        data = _load(args)
        data.check_classifiable()
        if data.size < 3:
            raise IsingLabError(f"the classifier and its distillation need L >= 3; {args.load} has L = {data.size}")
        _check_training(args, config, len(data), data.size)
        levels = _plan_levels(args, config, len(data), data.size)
    else:
        if len(temps) < 2:
            shown = ", ".join(f"{t:g}" for t in temps)
            raise IsingLabError(f"--classify needs at least 2 distinct temperatures, got {shown}")
        samples = DEFAULT_SAMPLES if args.samples is None else args.samples
        _check_sampling(args, temps)
        _check_training(args, config, len(temps) * samples, args.size)
        levels = _plan_levels(args, config, len(temps) * samples, args.size)  # refused before any sampling
        data = _sample(args, temps, SubTask(task, 0.0, 0.5, "sampling"))
    end = 1.0 if levels is None else 0.5 + 0.5 / len(levels)
    trained = cl.train_classifier(data, config, task=SubTask(task, 0.5, end, "training"))
    out = cl.analyse(trained).to_json()
    out["distilled"] = distill(trained, range_=min(args.range_, (data.size - 1) // 2)).to_json()
    out.update({"size": data.size, "samples_per_class": data.class_counts().tolist(), "device": trained.device,
                "epochs": trained.epochs_run, "converged": trained.converged, "train_seconds": trained.seconds})
    if levels is not None:
        from ...learning.hierarchy import level_accuracies
        out.update(level_accuracies(data, levels, config, seed=args.seed, task=SubTask(task, end, 1.0, "levels"),
                                    level0=trained).to_json())
    return out


def _plan_levels(args, config, n: int, size: int):
    """--levels checked against L, and the work of blocking every configuration and one more
    training per level beside level 0; None without --levels."""
    if args.levels is None:
        return None
    from ...learning import classifier as cl
    from ...learning.hierarchy import check_levels
    levels = check_levels(args.levels, size)
    patches = 2 ** (config.kernel ** 2)
    train = n * (1.0 - config.held_out)
    per_level = config.epochs * cl.ITERATIONS_PER_EPOCH * train * patches * config.channels * TRAIN_NS * 1e-9
    seconds = sum(n * size ** 2 * BLOCK_NS_PER_SITE * 1e-9 + per_level for k in levels if k > 0)
    check_seconds_of_work("learn --classify --levels: blocking and training per level", seconds,
                          allow_long=args.allow_long,
                          detail=f"{sum(1 for k in levels if k > 0)} more levels x {config.epochs} epochs x "
                                 f"{n} configurations")
    return levels


# ----------------------------------------------------------------------------- --depth

def _depth(args, task):
    from ...learning import depth
    from ...learning.progress import SubTask
    inputs = args.inputs or _inputs(DEFAULT_INPUTS)
    scales = args.scales or _scales(DEFAULT_SCALES)
    nonlinearity = args.nonlinearity or "softplus"
    points = args.points or DEFAULT_POINTS
    cells = sum(points * 2 ** n for n in inputs) * len(scales)
    check_seconds_of_work("learn --depth: the constructions", cells * 20e-9, allow_long=args.allow_long,
                          detail=f"{len(scales)} scales x {points} points x 2^n neurons")
    trained = {}
    if args.train:
        from ...learning import depth_train as dt
        too_big = [n for n in inputs if n > dt.MAX_TRAIN_INPUTS]
        if too_big:
            raise IsingLabError(f"--train is offered for n <= {dt.MAX_TRAIN_INPUTS} inputs, got n = {too_big[0]}; "
                                f"e.g. --inputs 2-6")
        width = args.max_width or DEFAULT_MAX_WIDTH
        seeds = args.seeds or DEFAULT_SEEDS
        seconds = dt.estimate_seconds(inputs, width, seeds, args.epochs)
        check_seconds_of_work("learn --depth --train", seconds, allow_long=args.allow_long,
                              detail=f"n = {inputs[0]}..{inputs[-1]}, widths up to {width}, {seeds} seeds, "
                                     f"up to {args.epochs} epochs per fit")
        trained = {r.n: r for r in dt.compare(inputs, width, seeds, args.seed, SubTask(task, 0.0, 0.95, "training"),
                                              args.epochs)}
    rows = []
    for n in inputs:
        deep, shallow = depth.construct(n, scales, nonlinearity, points, args.seed)
        row = {"n": n, "deep": deep.to_json(), "shallow": shallow.to_json()}
        if n in trained:
            row["deep"]["trained"] = trained[n].deep.to_json()
            row["shallow"]["trained"] = trained[n].shallow.to_json()
            row["train_seconds"] = trained[n].seconds
        rows.append(row)
    task.progress(1.0, "done")
    out = {"nonlinearity": nonlinearity, "points": points, "scales": scales, "seed": args.seed, "depth": rows}
    if args.train:
        from ...learning import depth_train as dt
        out["train"] = {"reached": dt.REACHED, "max_width": width, "seeds": seeds, "epochs": args.epochs,
                        "iterations_per_epoch": dt.ITERATIONS_PER_EPOCH, "train_points": dt.TRAIN_POINTS,
                        "held_out_points": dt.TRAIN_POINTS}
    return out


def _depth_table(out):
    table = {"nonlinearity": out["nonlinearity"], "test points": out["points"]}
    for row in out["depth"]:
        entry = {}
        for kind in ("deep", "shallow"):
            c = row[kind]
            rel = next(e["rel_rms_error"] for e in c["errors"] if e["lambda"] == c["lambda"])
            entry[kind] = (f"{c['neurons']} neurons, {c['params']} parameters, max error {c['max_error']:.3g} "
                           f"(relative RMS {rel:.2g}) at lambda = {c['lambda']:g}")
        if "trained" in row["shallow"]:
            sh = row["shallow"]["trained"]
            entry["trained shallow"] = (f"width {sh['min_width']} reaches relative MSE {out['train']['reached']:g}"
                                        if sh["reached"] else sh["note"])
            dp = row["deep"]["trained"]
            entry["trained deep (relative MSE)"] = (f"gatewise {dp['gatewise']['rel_mse']:.3g}, "
                                                    f"noisy start {dp['noisy']['rel_mse']:.3g}, "
                                                    f"random start {dp['random']['rel_mse']:.3g}")
        table[f"n = {row['n']}"] = entry
    return table
