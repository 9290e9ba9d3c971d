"""A tiny CNN that classifies configurations by temperature, and what its logits learned.

Architecture (SpinCNN): periodic padding, one k x k convolution with C channels, a pointwise
nonlinearity, global average pooling, a linear head to the K temperature classes, softmax.
With k = 2 and a product-capable nonlinearity (square: exact products; softplus: the paper's
sigma''(0) != 0) the pooled features contain sum_i x_i x_right(i) and sum_i x_i x_down(i), so
the head can write logit_y = a_y E(x) + b_y exactly -- the form Bayes demands (paper-notes 1).

Training is full-batch L-BFGS to the maximum-likelihood point: early-stopped or weight-decayed
logits are shrunk towards 0, which would bias exactly the slopes this module measures. One
epoch is one L-BFGS step of up to ITERATIONS_PER_EPOCH iterations over the whole training set
(torch's L-BFGS does not advance when stepped one iteration at a time).

Fast path: the inputs are +-1, so a k x k conv sees one of P = 2^(k^2) patches, and the pooled
features are (patch histogram / L^2) @ act(patterns @ W + b). `patch_fractions` computes the
histograms once; every epoch then costs O(n P C) instead of O(n L^2 k^2 C). `SpinCNN.forward`
is the ordinary convolutional path for any input, and both give the same logits (tested).

The analysis compares, on held-out data, the logit differences to a reference class (the
lowest temperature) with Bayes: logit_y - logit_ref = -(1/T_y - 1/T_ref) E(x)
- (ln Z(T_y) - ln Z(T_ref)) + ln(n_y / n_ref), the last term from the training class counts
(0 for balanced classes). ln Z is Kaufman's exact finite-torus value (h = 0 only).
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import exact
from ..backends.torch_device import resolve_device
from ..errors import IsingLabError
from ..tasks import TaskState
from .datasets import IsingDataset

ACTIVATIONS = {
    "square": lambda z: z * z,
    "softplus": F.softplus,
    "tanh": torch.tanh,
}
KERNELS = (2, 3)
MAX_CHANNELS = 64
MAX_EPOCHS = 100_000
MAX_TORCH_THREADS = 1  # tiny matrices: a 2nd thread made each step 45x slower on a busy 2-core machine
ITERATIONS_PER_EPOCH = 20
CONVERGED_CHANGE = 1e-9  # relative loss change per epoch below which training has converged
CONVERGED_EPOCHS = 3  # ... for this many epochs in a row
HISTORY_SIZE = 30


# ----------------------------------------------------------------------------- compute

def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when available (or asked for), else CPU; prefer: None/'auto', 'cpu', 'cuda' or 'cuda:k'."""
    return resolve_device(prefer)[0]


def configure_threads() -> int:
    n = max(1, min(MAX_TORCH_THREADS, os.cpu_count() or 1))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def device_label(device: torch.device | None = None) -> str:
    """'CUDA: <name>' or 'CPU (n threads)', with the torch version: shown in the panel and CLI."""
    device = device or pick_device()
    if device.type == "cuda":
        return f"torch {torch.__version__} on CUDA: {torch.cuda.get_device_name(device)}"
    return f"torch {torch.__version__} on CPU ({configure_threads()} threads)"


# ----------------------------------------------------------------------------- the network

def patch_offsets(kernel: int) -> list[tuple[int, int]]:
    """(dx, dy) of the conv's taps, in the order of its flattened weight (row-major)."""
    return [(dx, dy) for dy in range(kernel) for dx in range(kernel)]


def patch_patterns(kernel: int) -> np.ndarray:
    """(2^(k^2), k^2) +-1: the spins of patch code c; tap b holds bit b of c (1 = up)."""
    taps = kernel * kernel
    codes = np.arange(2 ** taps)[:, None]
    return (2 * ((codes >> np.arange(taps)) & 1) - 1).astype(np.float64)


def patch_fractions(spins, kernel: int) -> np.ndarray:
    """(n, 2^(k^2)) fraction of the L^2 periodic patches of each configuration showing each pattern."""
    x = np.asarray(spins)
    if x.ndim == 2:
        x = x[None]
    n, L, _ = x.shape
    up = (x > 0).astype(np.int64)
    code = np.zeros((n, L, L), dtype=np.int64)
    for b, (dx, dy) in enumerate(patch_offsets(kernel)):
        code |= np.roll(up, (-dy, -dx), axis=(1, 2)) << b
    P = 2 ** (kernel * kernel)
    flat = (code.reshape(n, L * L) + P * np.arange(n)[:, None]).ravel()
    return np.bincount(flat, minlength=n * P).reshape(n, P) / float(L * L)


class SpinCNN(nn.Module):
    def __init__(self, n_classes: int, channels: int = 4, kernel: int = 2, activation: str = "square"):
        super().__init__()
        check_architecture(channels, kernel, activation)
        self.kernel, self.activation = kernel, activation
        self.conv = nn.Conv2d(1, channels, kernel)
        self.head = nn.Linear(channels, n_classes)
        self.register_buffer("patterns", torch.tensor(patch_patterns(kernel)))

    @property
    def channels(self) -> int:
        return self.conv.out_channels

    def _act(self, z):
        return ACTIVATIONS[self.activation](z)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C) global-average-pooled activations of configurations x (B, L, L) or (B, 1, L, L)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        k = self.kernel - 1
        z = self.conv(F.pad(x, (0, k, 0, k), mode="circular"))  # taps reach right and down, wrapping
        return self._act(z).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(x))

    def pooled_from_fractions(self, fractions: torch.Tensor) -> torch.Tensor:
        w = self.conv.weight.reshape(self.channels, -1)
        table = self._act(self.patterns.to(w.dtype) @ w.T + self.conv.bias)  # (P, C)
        return fractions @ table

    def forward_fractions(self, fractions: torch.Tensor) -> torch.Tensor:
        """Logits from patch_fractions: the same numbers as forward() on +-1 inputs."""
        return self.head(self.pooled_from_fractions(fractions))

    def weights(self) -> dict:
        """Numpy copies: conv (C, k, k), conv_bias (C,), head (K, C), head_bias (K,)."""
        with torch.no_grad():
            return {"conv": self.conv.weight[:, 0].detach().cpu().numpy().copy(),
                    "conv_bias": self.conv.bias.detach().cpu().numpy().copy(),
                    "head": self.head.weight.detach().cpu().numpy().copy(),
                    "head_bias": self.head.bias.detach().cpu().numpy().copy()}


def check_architecture(channels, kernel, activation) -> None:
    if not isinstance(channels, int) or isinstance(channels, bool) or not 1 <= channels <= MAX_CHANNELS:
        raise IsingLabError(f"channels must be an integer in 1..{MAX_CHANNELS}, got {channels!r}")
    if kernel not in KERNELS:
        raise IsingLabError(f"kernel size must be one of {KERNELS}, got {kernel!r}")
    if activation not in ACTIVATIONS:
        raise IsingLabError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")


# ----------------------------------------------------------------------------- training

@dataclass(frozen=True)
class TrainConfig:
    channels: int = 4
    kernel: int = 2
    activation: str = "square"
    epochs: int = 200
    held_out: float = 0.25
    seed: int = 0
    device: str = "auto"

    def validated(self) -> "TrainConfig":
        check_architecture(self.channels, self.kernel, self.activation)
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise IsingLabError(f"epochs must be an integer in 1..{MAX_EPOCHS}, got {self.epochs!r}")
        if not 0.0 < self.held_out < 1.0:
            raise IsingLabError(f"held-out fraction must be in (0, 1), got {self.held_out}")
        return self


@dataclass(frozen=True)
class EpochInfo:
    epoch: int
    loss: float
    accuracy: float
    held_out_loss: float
    held_out_accuracy: float
    weights: dict = field(compare=False, repr=False)


@dataclass
class TrainedClassifier:
    model: SpinCNN
    config: TrainConfig
    train: IsingDataset
    held_out: IsingDataset
    history: list
    device: str
    seconds: float
    converged: bool

    @property
    def temperatures(self) -> np.ndarray:
        return self.train.temperatures

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    def logits(self, spins) -> np.ndarray:
        """(n, K) float64 logits of +-1 configurations (the histogram path; any L)."""
        frac = patch_fractions(spins, self.model.kernel)
        dev = next(self.model.parameters()).device
        with torch.no_grad():
            return self.model.forward_fractions(torch.tensor(frac, device=dev)).cpu().numpy()


def _tensors(data: IsingDataset, kernel: int, device):
    frac = torch.tensor(patch_fractions(data.spins, kernel), device=device)
    return frac, torch.tensor(data.labels, device=device)


def _evaluate(model, frac, labels) -> tuple[float, float]:
    with torch.no_grad():
        logits = model.forward_fractions(frac)
        return float(F.cross_entropy(logits, labels)), float((logits.argmax(1) == labels).double().mean())


def _init_model(n_classes: int, config: TrainConfig, device) -> SpinCNN:
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the global generator
        torch.manual_seed(config.seed)
        model = SpinCNN(n_classes, config.channels, config.kernel, config.activation).double()
    return model.to(device)


def train_classifier(dataset: IsingDataset, config: TrainConfig = TrainConfig(), task: TaskState | None = None,
                     on_epoch=None) -> TrainedClassifier:
    """Train on a stratified split of dataset; on_epoch(EpochInfo) after every epoch (worker thread)."""
    config = config.validated()
    dataset.check_classifiable()
    task = task or TaskState()
    device = pick_device(config.device)
    configure_threads()
    train, held = dataset.split(config.held_out, config.seed)
    if len(held) == 0:
        raise IsingLabError("no configurations left for the held-out set; generate more samples")
    start = time.perf_counter()
    task.progress(0.0, "patch histograms")
    x_train, y_train = _tensors(train, config.kernel, device)
    x_held, y_held = _tensors(held, config.kernel, device)
    model = _init_model(dataset.n_classes, config, device)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=ITERATIONS_PER_EPOCH, history_size=HISTORY_SIZE,
                            tolerance_grad=1e-9, tolerance_change=1e-13, line_search_fn="strong_wolfe")

    def closure():
        task.check()
        opt.zero_grad()
        loss = F.cross_entropy(model.forward_fractions(x_train), y_train)
        loss.backward()
        return loss

    history, still, converged = [], 0, False
    for epoch in range(1, config.epochs + 1):
        opt.step(closure)
        loss, acc = _evaluate(model, x_train, y_train)
        held_loss, held_acc = _evaluate(model, x_held, y_held)
        if not math.isfinite(loss):
            raise IsingLabError("training diverged (the loss is not finite); try another seed or activation")
        info = EpochInfo(epoch, loss, acc, held_loss, held_acc, model.weights())
        flat = history and abs(history[-1].loss - loss) <= CONVERGED_CHANGE * max(1.0, abs(loss))
        still = still + 1 if flat else 0
        history.append(info)
        if on_epoch is not None:
            on_epoch(info)
        task.progress(epoch / config.epochs, f"epoch {epoch}: loss {loss:.4f}")
        if still >= CONVERGED_EPOCHS:
            converged = True
            break
    task.progress(1.0, "trained")
    return TrainedClassifier(model, config, train, held, history, device_label(device),
                             time.perf_counter() - start, converged)


# ----------------------------------------------------------------------------- analysis

@dataclass(frozen=True)
class ClassAnalysis:
    temperature: float
    slope: float
    slope_exact: float
    intercept: float
    intercept_exact: float  # nan where ln Z is not known exactly (h != 0)
    r2: float


@dataclass(frozen=True)
class ClassifierAnalysis:
    accuracy: float
    r2: float  # pooled within-class R^2 of the logit differences against a line in E
    reference: int
    reference_temperature: float
    classes: tuple  # ClassAnalysis for each class except the reference
    energies: np.ndarray  # held-out E(x)
    logit_differences: np.ndarray  # (n, K - 1) learned, classes in the order of `classes`

    def to_json(self) -> dict:
        def num(v):
            return None if not math.isfinite(v) else float(v)
        return {"accuracy": self.accuracy, "logit_energy_r2": self.r2,
                "reference_temperature": self.reference_temperature,
                "classes": [{"temperature": c.temperature,
                             "slope": {"learned": c.slope, "exact": c.slope_exact},
                             "intercept": {"learned": c.intercept, "exact": num(c.intercept_exact)},
                             "r2": c.r2} for c in self.classes]}


def exact_log_z(size: int, temperatures, coupling: float, field: float) -> np.ndarray:
    """Kaufman's ln Z(T) per temperature, or nan where no exact result applies (h != 0)."""
    t = np.asarray(temperatures, dtype=float)
    if field != 0.0 or coupling == 0.0:
        return np.full(t.shape, np.nan)
    try:
        return np.asarray(exact.kaufman_log_z(size, t, coupling), dtype=float)
    except IsingLabError:
        return np.full(t.shape, np.nan)


def reference_class(temperatures) -> int:
    return int(np.argmin(temperatures))


def analyse(trained: TrainedClassifier | None, data: IsingDataset | None = None) -> ClassifierAnalysis:
    """Compare the learned logit differences on held-out data (or `data`) with Bayes."""
    if trained is None:
        raise IsingLabError("train a classifier first: there is nothing to analyse yet")
    data = trained.held_out if data is None else data
    if len(data) < 3:
        raise IsingLabError(f"the analysis needs at least 3 held-out configurations, got {len(data)}")
    T = trained.temperatures
    ref = reference_class(T)
    logits = trained.logits(data.spins)
    energy = data.energies()
    if np.ptp(energy) == 0.0:
        raise IsingLabError("all held-out configurations have the same energy: nothing to fit a slope to")
    log_z = exact_log_z(data.size, T, data.coupling, data.field)
    counts = trained.train.class_counts().astype(float)
    classes, diffs, ss_res, ss_tot = [], [], 0.0, 0.0
    for y in range(len(T)):
        if y == ref:
            continue
        d = logits[:, y] - logits[:, ref]
        slope, intercept = np.polyfit(energy, d, 1)
        resid = d - (slope * energy + intercept)
        res, tot = float(resid @ resid), float(((d - d.mean()) ** 2).sum())
        ss_res, ss_tot = ss_res + res, ss_tot + tot
        prior = math.log(counts[y] / counts[ref]) if counts[y] > 0 and counts[ref] > 0 else 0.0
        classes.append(ClassAnalysis(float(T[y]), float(slope), float(-(1.0 / T[y] - 1.0 / T[ref])),
                                     float(intercept), float(-(log_z[y] - log_z[ref]) + prior),
                                     1.0 - res / tot if tot > 0 else 1.0))
        diffs.append(d)
    accuracy = float((logits.argmax(1) == data.labels).mean())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return ClassifierAnalysis(accuracy, r2, ref, float(T[ref]), tuple(classes), energy, np.stack(diffs, axis=1))
