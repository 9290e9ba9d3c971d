"""isinglab learn: the Hamiltonian from samples (pseudo-likelihood) or from a trained classifier."""
import numpy as np

from ...errors import IsingLabError
from ...params import ALGORITHMS
from ...tasks import TaskState
from ..options import add_model_arguments, nonneg_int
from ..output import ProgressBar

NAME = "learn"
HELP = "learn the Ising couplings from samples, or train a temperature classifier and compare with Bayes"
ORDER = 60

DEFAULT_TEMPERATURES = "1.8,2.1,2.4,2.7"


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        raise IsingLabError(f"held-out fraction must be a number, got {text!r}") from None
    return v


def add_arguments(p):
    add_model_arguments(p, size=16, algorithm=False)
    p.add_argument("--algorithm", "-a", choices=("auto",) + ALGORITHMS, default="auto",
                   help="sampler (default auto: Wolff near T_c at h = 0, else Metropolis)")
    p.add_argument("--samples", "-n", type=nonneg_int("samples"), default=None,
                   help="configurations (per temperature with --classify; default 4000)")
    p.add_argument("--range", "-R", dest="range_", metavar="R", type=nonneg_int("range"), default=2,
                   help="pairs out to this Chebyshev distance in the operator basis (default 2)")
    p.add_argument("--full", action="store_true",
                   help="also fit every J_ij without translation invariance (small L only)")
    p.add_argument("--classify", action="store_true",
                   help="train a CNN to tell the temperatures apart and compare its logits with Bayes")
    p.add_argument("--temperatures", default=DEFAULT_TEMPERATURES,
                   help=f"comma-separated class temperatures for --classify (default {DEFAULT_TEMPERATURES})")
    p.add_argument("--epochs", type=nonneg_int("epochs"), default=200,
                   help="L-BFGS epochs (stops earlier once converged; default 200)")
    p.add_argument("--channels", type=nonneg_int("channels"), default=4, help="conv channels (default 4)")
    p.add_argument("--kernel", type=int, choices=(2, 3), default=2, help="conv kernel size (default 2)")
    p.add_argument("--activation", choices=("square", "softplus", "tanh"), default="square",
                   help="nonlinearity after the conv (default square)")
    p.add_argument("--held-out", type=_fraction, default=0.25, help="held-out fraction (default 0.25)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="torch device (default auto)")
    p.add_argument("--load", metavar="NPZ", help="use a saved dataset instead of sampling")
    p.add_argument("--save", metavar="NPZ", help="save the sampled dataset")


def run(args, hooks):
    # the learning modules (torch among them) load only when this command runs
    task = TaskState(ProgressBar())
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


def _dataset(args, temperatures, task):
    from ...learning import datasets
    if args.load:
        return datasets.IsingDataset.load(args.load)
    samples = 4000 if args.samples is None else args.samples
    data = datasets.generate(args.size, temperatures, samples, args.coupling, args.field, args.seed,
                             args.algorithm, task=task)
    if args.save:
        data.save(args.save)
    return data


def _couplings(args, task):
    from ...learning import pseudolikelihood as pl
    from ...learning.operators import check_range
    from ...learning.progress import SubTask
    if not args.load:
        check_range(args.range_, args.size)
    data = _dataset(args, [args.temperature], SubTask(task, 0.0, 0.4, "sampling"))
    if data.n_classes != 1:
        raise IsingLabError(f"the coupling fit needs samples at one temperature; {args.load} has {data.n_classes}")
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


def _classify(args, task):
    from ...learning import classifier as cl
    from ...learning.datasets import parse_temperatures
    from ...learning.distill import distill
    from ...learning.progress import SubTask
    temps = parse_temperatures(args.temperatures)
    if len(temps) < 2 and not args.load:
        raise IsingLabError(f"--classify needs at least 2 distinct temperatures, got {args.temperatures!r}")
    data = _dataset(args, temps, SubTask(task, 0.0, 0.5, "sampling"))
    config = cl.TrainConfig(channels=args.channels, kernel=args.kernel, activation=args.activation,
                            epochs=args.epochs, held_out=args.held_out, seed=args.seed, device=args.device)
    trained = cl.train_classifier(data, config, task=SubTask(task, 0.5, 1.0, "training"))
    out = cl.analyse(trained).to_json()
    out["distilled"] = distill(trained, range_=min(args.range_, (data.size - 1) // 2)).to_json()
    out.update({"size": data.size, "samples_per_class": data.class_counts().tolist(), "device": trained.device,
                "epochs": trained.epochs_run, "converged": trained.converged, "train_seconds": trained.seconds})
    return out
