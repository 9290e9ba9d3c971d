"""isinglab learn: the Hamiltonian from samples (pseudo-likelihood) or from a trained classifier."""
import argparse
import sys

import numpy as np

from ...errors import IsingLabError
from ...limits import check_memory, check_seconds_of_work, estimate_seconds, show_number
from ...params import ALGORITHMS, ModelParams
from ...tasks import TaskState
from ..options import add_allow_long, add_model_arguments, fraction, int_range, nonneg_int, path
from ..output import ProgressBar

NAME = "learn"
HELP = "learn the Ising couplings from samples, or train a temperature classifier and compare with Bayes"
ORDER = 60

DEFAULT_TEMPERATURES = "1.8,2.1,2.4,2.7"
DEFAULT_SAMPLES = 4000
MAX_EPOCHS, MAX_CHANNELS = 100_000, 64  # as core.learning.classifier (not imported here: it loads torch)
# rough costs on the reference machine (README "Learning"), for the work limit of core/limits.py
PL_NS_PER_SITE_OPERATOR = 250.0  # pseudo-likelihood: per configuration, site and operator
FULL_NS_PER_PAIR = 100.0  # full J_ij fit: per configuration and (site, site) pair
HIST_NS_PER_SITE = 10.0  # classifier: patch histograms, per configuration and site
TRAIN_NS = 10.0  # classifier: per epoch iteration, training configuration, patch and channel


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
    add_allow_long(p)


def run(args, hooks):
    # the learning modules (torch among them) load only when this command runs
    task = TaskState(ProgressBar())
    args.save_target = args.save_note = None
    if args.save and not args.load:  # a bad target is refused before minutes of sampling
        from ...atomic_io import resolve_target
        args.save_target, args.save_note = resolve_target(args.save, ".npz")
    out = _classify(args, task) if args.classify else _couplings(args, task)
    return out if args.json else _readable(out)


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
    else:
        if len(temps) < 2:
            shown = ", ".join(f"{t:g}" for t in temps)
            raise IsingLabError(f"--classify needs at least 2 distinct temperatures, got {shown}")
        samples = DEFAULT_SAMPLES if args.samples is None else args.samples
        _check_sampling(args, temps)
        _check_training(args, config, len(temps) * samples, args.size)
        data = _sample(args, temps, SubTask(task, 0.0, 0.5, "sampling"))
    trained = cl.train_classifier(data, config, task=SubTask(task, 0.5, 1.0, "training"))
    out = cl.analyse(trained).to_json()
    out["distilled"] = distill(trained, range_=min(args.range_, (data.size - 1) // 2)).to_json()
    out.update({"size": data.size, "samples_per_class": data.class_counts().tolist(), "device": trained.device,
                "epochs": trained.epochs_run, "converged": trained.converged, "train_seconds": trained.seconds})
    return out
