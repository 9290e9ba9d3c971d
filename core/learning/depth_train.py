"""Depth, trained: can gradient descent find what core.learning.depth constructs?

Target f(x) = prod_i x_i on points drawn uniformly from [-1, 1]^n (a training set and an
independent held-out set of the same size). The score is the held-out relative MSE,
mean((net - f)^2) / mean(f^2); REACHED = 0.05 counts as learned. Every fit is full-batch
L-BFGS (strong Wolfe) in float64 on one torch thread, up to `epochs` epochs of
ITERATIONS_PER_EPOCH iterations (as the classifier's), stopping once converged (see _fit); the
loss is the relative MSE itself (the target's scale, 3^(-n/2), would otherwise make the
tolerances n-dependent).

* shallow: one hidden softplus layer of width w (torch's default initialisation), for a ladder
  of widths; the minimal width is the first on the ladder at which the best of `seeds` fits
  reaches REACHED on held-out points, else "not reached up to width W".
* deep: the gate tree of core.learning.depth (4(n - 1) softplus neurons), three ways:
  - gatewise: one 2 -> 4 -> 1 softplus module trained on x y (x, y uniform in [-1, 1]^2, best
    of `seeds`), copied into every gate of the tree, no further training;
  - noisy: the constructed weights (scale GATE_SCALE) with multiplicative Gaussian noise of
    relative size NOISE, then the whole tree trained end to end;
  - random: the whole tree from torch's default initialisation, trained end to end (best of
    `seeds`): the honest "does depth train" figure.

This is a finite search: a "not reached" means these fits with this budget did not get there,
not that no network of that width exists.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import IsingLabError
from ..tasks import TaskState
from . import depth
from .classifier import configure_threads

REACHED = 0.05
MAX_TRAIN_INPUTS = 8
DEFAULT_MAX_WIDTH = 64
MAX_WIDTH = 1024
DEFAULT_SEEDS = 3
MAX_SEEDS = 10
TRAIN_POINTS = 2048  # and as many held-out
DEFAULT_EPOCHS = 200  # L-BFGS epochs per fit (as the classifier's: ITERATIONS_PER_EPOCH iterations each)
MAX_EPOCHS = 100_000
ITERATIONS_PER_EPOCH = 20
CONVERGED_CHANGE = 1e-7  # relative loss change per epoch below which a fit has converged ...
CONVERGED_EPOCHS = 3  # ... for this many epochs in a row
FLOOR = 1e-10  # a relative MSE this small is rounding: stop
GATE_SCALE = 0.5  # lambda of the constructed gates the noisy deep fit starts from
NOISE = 0.1
WIDTH_LADDER = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
NS_PER_POINT_NEURON_INPUT = 10.0  # rough CPU cost of one L-BFGS iteration, per point, neuron and input
NS_PER_ITERATION = 2e6  # ... and per iteration (torch's and L-BFGS's own overhead)


def check_train_inputs(n: int) -> int:
    n = depth.check_inputs(n)
    if n > MAX_TRAIN_INPUTS:
        raise IsingLabError(f"training is offered for n <= {MAX_TRAIN_INPUTS} inputs, got n = {n}")
    return n


def check_width(w) -> int:
    if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or not 1 <= w <= MAX_WIDTH:
        raise IsingLabError(f"the largest width must be an integer in 1..{MAX_WIDTH}, got {w!r}")
    return int(w)


def check_seeds(s) -> int:
    if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or not 1 <= s <= MAX_SEEDS:
        raise IsingLabError(f"the number of seeds must be an integer in 1..{MAX_SEEDS}, got {s!r}")
    return int(s)


def widths(max_width: int) -> list[int]:
    w = check_width(max_width)
    ladder = [v for v in WIDTH_LADDER if v < w]
    return ladder + [w]


def check_epochs(e) -> int:
    if not isinstance(e, (int, np.integer)) or isinstance(e, bool) or not 1 <= e <= MAX_EPOCHS:
        raise IsingLabError(f"epochs must be an integer in 1..{MAX_EPOCHS}, got {e!r}")
    return int(e)


def estimate_seconds(inputs, max_width: int, seeds: int, epochs: int = DEFAULT_EPOCHS) -> float:
    """A rough upper bound of the CPU time: every width of the ladder and every seed, each fit
    running all its epochs (converged fits stop much earlier)."""
    iterations = epochs * ITERATIONS_PER_EPOCH
    total = 0.0
    for n in inputs:
        ladder = widths(max_width)
        fits = seeds * (len(ladder) + 1) + 1  # the shallow ladder, the random and the noisy tree
        work = seeds * (sum(ladder) + 4 * (n - 1)) * (n + 1) * TRAIN_POINTS * NS_PER_POINT_NEURON_INPUT
        total += iterations * (work + fits * NS_PER_ITERATION) * 1e-9
    return total + seeds * iterations * NS_PER_ITERATION * 1e-9  # the gate


# ----------------------------------------------------------------------------- data and fitting

def product_data(n: int, seed: int, points: int = TRAIN_POINTS):
    """(x_train, y_train, x_held, y_held) as float64 tensors."""
    rng = np.random.default_rng([seed, n, 0x7A1])
    x = rng.uniform(-1.0, 1.0, size=(2 * points, n))
    y = np.prod(x, axis=1)
    t = torch.tensor(x), torch.tensor(y)
    return t[0][:points], t[1][:points], t[0][points:], t[1][points:]


def relative_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - y) ** 2) / torch.mean(y**2)


def _fit(model: nn.Module, x, y, task: TaskState, epochs: int = DEFAULT_EPOCHS) -> float:
    """Full-batch L-BFGS on the relative MSE, `epochs` steps of ITERATIONS_PER_EPOCH iterations,
    stopping once the loss has changed by < CONVERGED_CHANGE (relative) for CONVERGED_EPOCHS
    epochs in a row or fallen below FLOOR; returns the final training loss (nan if it diverged)."""
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=ITERATIONS_PER_EPOCH, history_size=30,
                            tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        task.check()
        opt.zero_grad()
        loss = relative_mse(model(x), y)
        loss.backward()
        return loss

    last, still = math.inf, 0
    for _ in range(epochs):
        opt.step(closure)
        with torch.no_grad():
            loss = float(relative_mse(model(x), y))
        if not math.isfinite(loss):
            return math.nan
        still = still + 1 if abs(last - loss) <= CONVERGED_CHANGE * loss else 0
        last = loss
        if still >= CONVERGED_EPOCHS or loss < FLOOR:
            break
    return last


def _held(model, x, y) -> float:
    with torch.no_grad():
        v = float(relative_mse(model(x), y))
    return v if math.isfinite(v) else math.inf


def _seeded(seed: int, *tags: int) -> int:
    return int(np.random.SeedSequence([seed, *tags]).generate_state(1)[0])


class Shallow(nn.Module):
    def __init__(self, n: int, width: int):
        super().__init__()
        self.hidden = nn.Linear(n, width)
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        return self.out(F.softplus(self.hidden(x))).squeeze(-1)


class Gate(nn.Module):
    """2 -> 4 -> 1 with softplus: the shape of the four-neuron multiplication gate."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.out = nn.Linear(4, 1)

    def forward(self, a, b):
        return self.out(F.softplus(self.hidden(torch.stack([a, b], -1)))).squeeze(-1)

    def construct(self, lam: float, noise: float = 0.0, generator=None) -> "Gate":
        """The paper's weights (softplus, sigma''(0) = 1/4), each times (1 + noise * N(0, 1))."""
        w1 = lam * torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
        w2 = torch.tensor([[1.0, 1.0, -1.0, -1.0]], dtype=torch.float64) / (4.0 * lam**2 * 0.25)
        with torch.no_grad():
            for p, v in ((self.hidden.weight, w1), (self.hidden.bias, torch.zeros(4, dtype=torch.float64)),
                         (self.out.weight, w2), (self.out.bias, torch.zeros(1, dtype=torch.float64))):
                jitter = 1.0 + noise * torch.randn(v.shape, generator=generator, dtype=torch.float64)
                p.copy_(v * jitter)
        return self


class GateTree(nn.Module):
    """n - 1 gates paired as core.learning.depth.tree_pairs (an odd value is carried up)."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n
        self.levels = depth.tree_pairs(n)
        self.gates = nn.ModuleList(Gate() for _ in range(n - 1))

    def forward(self, x):
        values = [x[:, i] for i in range(self.n)]
        g = 0
        for level in self.levels:
            nxt = []
            for i, j in level:
                nxt.append(self.gates[g](values[i], values[j]))
                g += 1
            if len(values) % 2:
                nxt.append(values[-1])
            values = nxt
        return values[0]


# ----------------------------------------------------------------------------- the comparison

@dataclass(frozen=True)
class ShallowSearch:
    n: int
    min_width: int | None  # None: not reached
    max_width: int
    curve: tuple  # ((width, best held-out relative MSE over the seeds), ...) as far as the ladder went

    def to_json(self) -> dict:
        note = None if self.min_width is not None else f"not reached up to width {self.max_width}"
        return {"min_width": self.min_width, "min_neurons": self.min_width, "reached": self.min_width is not None,
                "note": note, "curve": [{"width": w, "rel_mse": e} for w, e in self.curve]}


@dataclass(frozen=True)
class DeepTraining:
    n: int
    neurons: int
    gatewise: float  # held-out relative MSE of the tree of copies of one trained gate
    noisy: float  # ... of the tree trained from the noisy construction
    noisy_start: float  # ... of the noisy construction before training
    random: float  # ... best over seeds, trained from a random start

    def to_json(self) -> dict:
        return {"neurons": self.neurons,
                "gatewise": {"rel_mse": self.gatewise, "reached": self.gatewise <= REACHED},
                "noisy": {"rel_mse": self.noisy, "start_rel_mse": self.noisy_start, "reached": self.noisy <= REACHED,
                          "lambda": GATE_SCALE, "noise": NOISE},
                "random": {"rel_mse": self.random, "reached": self.random <= REACHED}}


@dataclass(frozen=True)
class DepthTraining:
    n: int
    shallow: ShallowSearch
    deep: DeepTraining
    seconds: float = field(compare=False, default=0.0)

    def to_json(self) -> dict:
        return {"shallow": self.shallow.to_json(), "deep": self.deep.to_json(), "seconds": self.seconds}


def search_shallow(n: int, max_width: int = DEFAULT_MAX_WIDTH, seeds: int = DEFAULT_SEEDS, seed: int = 0,
                   task: TaskState | None = None, epochs: int = DEFAULT_EPOCHS) -> ShallowSearch:
    """Walk the width ladder; at each width fit up to `seeds` networks (stopping at the first
    that reaches REACHED on held-out points); stop at the first width that reaches it."""
    n, seeds, epochs = check_train_inputs(n), check_seeds(seeds), check_epochs(epochs)
    task = task or TaskState()
    configure_threads()
    xt, yt, xh, yh = product_data(n, seed)
    ladder, curve = widths(max_width), []
    for k, w in enumerate(ladder):
        best = math.inf
        for s in range(seeds):
            task.progress(k / len(ladder), f"n = {n}: width {w}, seed {s + 1}/{seeds}")
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_seeded(seed, n, w, s))
                model = Shallow(n, w).double()
            _fit(model, xt, yt, task, epochs)
            best = min(best, _held(model, xh, yh))
            if best <= REACHED:
                break
        curve.append((w, best))
        if best <= REACHED:
            return ShallowSearch(n, w, ladder[-1], tuple(curve))
    return ShallowSearch(n, None, ladder[-1], tuple(curve))


def train_gate(seeds: int = DEFAULT_SEEDS, seed: int = 0, task: TaskState | None = None,
               epochs: int = DEFAULT_EPOCHS) -> Gate:
    """The best of `seeds` 2 -> 4 -> 1 softplus modules trained on x y (lowest training loss)."""
    task = task or TaskState()
    configure_threads()
    xt, yt, _, _ = product_data(2, seed)
    best, best_loss = None, math.inf
    for s in range(check_seeds(seeds)):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seeded(seed, 0x6A7E, s))
            g = Gate().double()
        loss = _fit(_Pair(g), xt, yt, task, check_epochs(epochs))
        if loss < best_loss or best is None:
            best, best_loss = g, loss
    return best


class _Pair(nn.Module):
    def __init__(self, g: Gate):
        super().__init__()
        self.g = g

    def forward(self, x):
        return self.g(x[:, 0], x[:, 1])


def train_deep(n: int, seeds: int = DEFAULT_SEEDS, seed: int = 0, gate: Gate | None = None,
               task: TaskState | None = None, epochs: int = DEFAULT_EPOCHS) -> DeepTraining:
    n, seeds, epochs = check_train_inputs(n), check_seeds(seeds), check_epochs(epochs)
    task = task or TaskState()
    configure_threads()
    xt, yt, xh, yh = product_data(n, seed)
    gate = gate if gate is not None else train_gate(seeds, seed, task, epochs)
    tree = GateTree(n).double()
    with torch.no_grad():
        for g in tree.gates:
            g.load_state_dict(gate.state_dict())
    gatewise = _held(tree, xh, yh)
    gen = torch.Generator().manual_seed(_seeded(seed, n, 0x4015E))
    tree = GateTree(n).double()
    for g in tree.gates:
        g.construct(GATE_SCALE, NOISE, gen)
    noisy_start = _held(tree, xh, yh)
    _fit(tree, xt, yt, task, epochs)
    noisy = _held(tree, xh, yh)
    random = math.inf
    for s in range(seeds):
        task.check()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seeded(seed, n, 0x7A4D, s))
            tree = GateTree(n).double()
        _fit(tree, xt, yt, task, epochs)
        random = min(random, _held(tree, xh, yh))
    return DeepTraining(n, depth.deep_neurons(n), gatewise, noisy, noisy_start, random)


def compare(inputs, max_width: int = DEFAULT_MAX_WIDTH, seeds: int = DEFAULT_SEEDS, seed: int = 0,
            task: TaskState | None = None, epochs: int = DEFAULT_EPOCHS) -> list[DepthTraining]:
    """search_shallow and train_deep for each n in `inputs` (one trained gate shared by all n)."""
    from .progress import SubTask
    inputs = [check_train_inputs(n) for n in inputs]
    check_width(max_width)
    seeds, epochs = check_seeds(seeds), check_epochs(epochs)
    task = task or TaskState()
    gate = train_gate(seeds, seed, SubTask(task, 0.0, 0.02, "gate"), epochs)
    out = []
    for k, n in enumerate(inputs):
        t0 = time.perf_counter()
        lo, hi = 0.02 + 0.98 * k / len(inputs), 0.02 + 0.98 * (k + 1) / len(inputs)
        mid = lo + 0.8 * (hi - lo)
        shallow = search_shallow(n, max_width, seeds, seed, SubTask(task, lo, mid, "shallow"), epochs)
        deep = train_deep(n, seeds, seed, gate, SubTask(task, mid, hi, "deep"), epochs)
        out.append(DepthTraining(n, shallow, deep, time.perf_counter() - t0))
    task.progress(1.0, "trained")
    return out
