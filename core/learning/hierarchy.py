"""Hierarchy: the same temperature classifier on block-spin levels 0, 1, 2, ... of the same data.

Paper-notes 5: a generative hierarchy read backwards is coarse-graining, and each step may only
lose information about the label. Here the label is the temperature and E(x) is its sufficient
statistic (p(x|T) = e^(-E(x)/T) / Z(T)), so no classifier of x can beat the Bayes rule on E,

    y*(x) = argmax_y [-E(x) / T_y - ln Z(T_y) + ln n_y]

(ln Z: Kaufman's exact finite-torus value; n_y the training class counts). Its accuracy on the
held-out configurations is `bayes_energy_accuracy`. Level k replaces each configuration by its
k-th majority-rule block spin (b = 2, ties by the seeded coins of core.rg.blocking, the stream
being the configuration's index), and the classifier of core.learning.classifier is trained on
those with the same configuration and the same split (same seed, same labels: the same held-out
configurations at every level). Where ln Z is not known exactly (h != 0) the energy rule is a
multinomial logistic regression on E fitted to the training split instead (`bayes_method`).

Errors are binomial, sqrt(p (1 - p) / n_held); the levels share their held-out set, so the
differences between levels are known better than the individual errors suggest.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special

from ..errors import IsingLabError
from ..rg.blocking import block_once, max_levels
from ..tasks import TaskState
from .datasets import IsingDataset

if TYPE_CHECKING:  # the classifier loads torch: imported where it is used, so parsing levels stays light
    from .classifier import TrainConfig, TrainedClassifier

BLOCK = 2
RULE = "majority"
MAX_LEVEL = 6
MIN_SIDE = 2  # a level must keep at least a 2 x 2 lattice


def check_levels(levels, size: int | None = None) -> tuple[int, ...]:
    """Distinct levels in 0..MAX_LEVEL, ascending; with `size`, each must leave a side >= MIN_SIDE."""
    try:
        values = sorted({int(v) for v in levels})
    except (TypeError, ValueError):
        raise IsingLabError(f"levels must be integers, got {levels!r}") from None
    if not values:
        raise IsingLabError("give at least one block-spin level")
    if values[0] < 0 or values[-1] > MAX_LEVEL:
        bad = values[0] if values[0] < 0 else values[-1]
        raise IsingLabError(f"block-spin levels must be in 0..{MAX_LEVEL}, got {bad}")
    if size is not None:
        most = max_levels(size, BLOCK, MIN_SIDE)
        if values[-1] > most:
            raise IsingLabError(f"L = {size} allows block-spin levels up to {most} with b = {BLOCK} (L divisible by "
                                f"2^k and a side of at least {MIN_SIDE}); got level {values[-1]}")
    return tuple(values)


def parse_levels(text: str) -> tuple[int, ...]:
    """'0,1,2,3' or '0-3' -> (0, 1, 2, 3)."""
    text = str(text).strip()
    parts = [p.strip() for p in text.split(",") if p.strip()]
    values = []
    for p in parts:
        lo, sep, hi = p.partition("-")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if b < a or b - a > MAX_LEVEL:
                    raise ValueError
                values.extend(range(a, b + 1))
            else:
                values.append(int(p))
        except ValueError:
            raise IsingLabError(f"block-spin level {p[:20]!r} is not an integer or a range a-b") from None
    return check_levels(values)


def block_dataset(data: IsingDataset, level: int, seed: int = 0) -> IsingDataset:
    """`data` with every configuration blocked `level` times (majority, b = 2)."""
    (level,) = check_levels([level], data.size)
    if level == 0:
        return data
    out = np.empty((len(data), data.size >> level, data.size >> level), np.int8)
    for i, x in enumerate(data.spins):
        for k in range(1, level + 1):
            x = block_once(x, BLOCK, RULE, seed, i, k)
        out[i] = x
    return IsingDataset(out, data.labels, data.temperatures, data.coupling, data.field, data.spacing, data.tau,
                        data.algorithms, data.seed)


def _binomial(correct: np.ndarray) -> tuple[float, float]:
    n = correct.size
    p = float(correct.mean())
    return p, math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else math.nan


def energy_scores(train: IsingDataset, energies: np.ndarray) -> tuple[np.ndarray, str]:
    """(n, K) Bayes scores of the energy rule at these energies, and which rule it was."""
    from .classifier import exact_log_z
    T = np.asarray(train.temperatures, float)
    counts = train.class_counts().astype(float)
    log_z = exact_log_z(train.size, T, train.coupling, train.field)
    if np.all(np.isfinite(log_z)):
        prior = np.log(np.where(counts > 0, counts, 1.0))
        return -energies[:, None] / T[None, :] - log_z[None, :] + prior[None, :], "exact ln Z (Kaufman)"
    return _logistic_scores(train, energies), "logistic regression on E"


def _logistic_scores(train: IsingDataset, energies: np.ndarray) -> np.ndarray:
    """Multinomial logistic regression on (1, E / N) fitted by maximum likelihood on `train`."""
    n_sites = train.size ** 2
    e = train.energies() / n_sites
    y = train.labels
    K = train.n_classes

    def loss(w):
        w = w.reshape(K, 2)
        s = w[:, 0][None, :] + e[:, None] * w[:, 1][None, :]
        lse = special.logsumexp(s, axis=1)
        p = np.exp(s - lse[:, None])
        p[np.arange(y.size), y] -= 1.0
        grad = np.stack([p.sum(0), (p * e[:, None]).sum(0)], 1)
        return float(lse.sum() - s[np.arange(y.size), y].sum()), grad.ravel()

    w = optimize.minimize(loss, np.zeros(2 * K), jac=True, method="L-BFGS-B").x.reshape(K, 2)
    x = energies / n_sites
    return w[:, 0][None, :] + x[:, None] * w[:, 1][None, :]


@dataclass(frozen=True)
class LevelAccuracy:
    level: int
    size: int
    accuracy: float
    err: float
    epochs: int
    converged: bool

    def to_json(self) -> dict:
        return {"level": self.level, "size": self.size, "accuracy": {"mean": self.accuracy, "err": self.err},
                "epochs": self.epochs, "converged": self.converged}


@dataclass(frozen=True)
class Hierarchy:
    levels: tuple  # LevelAccuracy, ascending level
    bayes_accuracy: float
    bayes_err: float
    bayes_method: str
    held_out: int  # configurations in the (shared) held-out set

    def to_json(self) -> dict:
        return {"levels": [lv.to_json() for lv in self.levels],
                "bayes_energy_accuracy": {"mean": self.bayes_accuracy, "err": self.bayes_err},
                "bayes_method": self.bayes_method, "held_out_configurations": self.held_out}


def held_out_accuracy(trained: TrainedClassifier) -> tuple[float, float]:
    held = trained.held_out
    pred = trained.logits(held.spins).argmax(1)
    return _binomial(pred == held.labels)


def level_accuracies(data: IsingDataset, levels, config: TrainConfig | None = None, seed: int = 0,
                     task: TaskState | None = None, level0: TrainedClassifier | None = None) -> Hierarchy:
    """Train `config` (default TrainConfig()) on each block-spin level of `data` (module docstring).

    level0: a classifier already trained with `config` on `data` itself, reused for level 0.
    """
    from .classifier import TrainConfig, train_classifier
    from .progress import SubTask
    config = (config or TrainConfig()).validated()
    data.check_classifiable()
    levels = check_levels(levels, data.size)
    task = task or TaskState()
    train, held = data.split(config.held_out, config.seed)
    if len(held) == 0:
        raise IsingLabError("no configurations left for the held-out set; generate more samples")
    scores, method = energy_scores(train, held.energies())
    bayes, bayes_err = _binomial(scores.argmax(1) == held.labels)
    out = []
    for i, k in enumerate(levels):
        sub = SubTask(task, i / len(levels), (i + 1) / len(levels), f"level {k}")
        if k == 0 and level0 is not None:
            trained = level0
        else:
            sub.progress(0.0, "blocking")
            trained = train_classifier(block_dataset(data, k, seed), config, task=sub)
        acc, err = held_out_accuracy(trained)
        out.append(LevelAccuracy(k, data.size >> k, acc, err, trained.epochs_run, trained.converged))
    task.progress(1.0, "levels done")
    return Hierarchy(tuple(out), bayes, bayes_err, method, len(held))
