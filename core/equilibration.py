"""Is the simulation in equilibrium yet? One test for every panel that accumulates measurements.

Two ways a measured series can fool a fixed "skip the first N sweeps" rule:

* a transient longer than N: after a quench from a random start below T_c, domains coarsen for
  ~L^2 sweeps or more, and every number measured meanwhile (e, c, chi) describes coarsening,
  not equilibrium;
* a stationary state that is not equilibrium: on a periodic lattice a quench can end in a
  stripe state, two domains each wrapping the torus, with |m| near 0 and e just above the
  ground state. It can last far longer than any lecture. In equilibrium below T_c such a state
  costs two interfaces, a free energy 2 sigma(T) L / T with Onsager's interface tension
  sigma(T) = 2|J| + T ln tanh(|J|/T); where sigma L / T is large it has practically zero weight.

The series test (drift): once at least MIN_SAMPLES samples have arrived since the last restart,
the newer half of them is split in two; equilibrium is declared when, for both e and |m|, the
means of the two quarters agree within DRIFT_SIGMAS of their error (binning with the window's
tau_int), and the window is at least RELIABLE_TAUS tau_int long (a coarsening series has a huge
apparent tau_int, so it cannot pass by having large error bars). Samples before the pass are
discarded; the monitor does not look back to re-admit them (conservative, and what was
published stays published).

The stripe test: below T_c, where 2 sigma L / T > STRIPE_FREE_ENERGY, a lattice in which both
the up and the down domains wrap around the torus is a stripe state (in an ordered state only the
majority domain wraps; topology forbids the minority from wrapping then). For J < 0 the test runs
on the staggered spins.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .exact import critical_temperature
from .stats import RELIABLE_TAUS, tau_int

MIN_SAMPLES = 64
DRIFT_SIGMAS = 3.0
STRIPE_FREE_ENERGY = 20.0  # 2 sigma L / T above this: a stripe has weight < e^-20 in equilibrium
MAX_HELD = 1 << 20  # samples kept while equilibrating; beyond it the oldest half goes


@dataclass(frozen=True)
class Equilibration:
    """Where the run stands: `equilibrated` says whether samples now count."""

    equilibrated: bool
    samples: int  # samples since the last restart
    drift: float  # largest |difference of quarter means| / its error; nan before the first test
    reason: str  # "equilibrated", "too few samples", "drift", "tau_int too long", "stripe state"

    def describe(self) -> str:
        if self.equilibrated:
            return "equilibrated"
        if self.reason == "stripe state":
            return "stuck in a stripe state (two domains wrap the torus): not equilibrium; reset to leave it"
        text = f"equilibrating: {self.samples} samples"
        if math.isfinite(self.drift):
            text += f", drift {self.drift:.1f} sigma"
        return text if self.reason in ("drift", "too few samples") else f"{text} ({self.reason})"

    def to_dict(self) -> dict:
        return {"equilibrated": self.equilibrated, "samples": self.samples,
                "drift": self.drift if math.isfinite(self.drift) else None, "reason": self.reason}


EQUILIBRATING = Equilibration(False, 0, math.nan, "too few samples")


def drift_test(e, a) -> Equilibration:
    """The drift test on two series of equal length (energy and |m| per spin, in time order)."""
    e, a = np.asarray(e, dtype=np.float64), np.asarray(a, dtype=np.float64)
    n = e.size
    if n < MIN_SAMPLES:
        return Equilibration(False, n, math.nan, "too few samples")
    worst, reliable = 0.0, True
    for x in (e[n // 2:], a[n // 2:]):
        z, ok = _quarter_drift(x)
        worst, reliable = max(worst, z), reliable and ok
    if not reliable:
        return Equilibration(False, n, worst, "tau_int too long")
    if worst > DRIFT_SIGMAS:
        return Equilibration(False, n, worst, "drift")
    return Equilibration(True, n, worst, "equilibrated")


def _quarter_drift(x: np.ndarray) -> tuple[float, bool]:
    """(|mean of newer half - mean of older half| / error, whether tau_int is resolved)."""
    if np.ptp(x) == 0.0:
        return 0.0, True  # frozen (T -> 0): nothing drifts
    tau = tau_int(x).tau
    half = x.size // 2
    if x.size < RELIABLE_TAUS * tau:
        return math.inf, False
    older, newer = x[:half], x[half:]
    err2 = sum(2.0 * tau * np.var(p, ddof=1) / p.size for p in (older, newer))
    diff = abs(float(newer.mean() - older.mean()))
    return (diff / math.sqrt(err2) if err2 > 0 else (0.0 if diff == 0 else math.inf)), True


def interface_tension(temperature: float, coupling: float = 1.0) -> float:
    """Onsager's interface free energy per unit length (0 at and above T_c)."""
    j = abs(coupling)
    if j == 0 or temperature >= critical_temperature(j):
        return 0.0
    return 2.0 * j + temperature * math.log(math.tanh(j / temperature))


def stripes_impossible(size: int, temperature: float, coupling: float, field: float) -> bool:
    """Whether a stripe state would be a sign of non-equilibrium at these parameters."""
    if field != 0.0 or coupling == 0.0:
        return False  # a field picks the sign; the drift test covers metastable states
    return 2.0 * interface_tension(temperature, coupling) * size / temperature > STRIPE_FREE_ENERGY


def is_stripe_state(spins: np.ndarray, coupling: float = 1.0) -> bool:
    """Whether both the up and the down domains wrap around the periodic lattice."""
    s = np.asarray(spins) > 0
    if coupling < 0:  # antiferromagnet: order is a checkerboard; look at the staggered spins
        y, x = np.indices(s.shape)
        s = s ^ ((x + y) % 2 == 1)
    return _wraps(s) and _wraps(~s)


def _wraps(mask: np.ndarray) -> bool:
    """Whether some 4-connected cluster of `mask` wraps around the torus.

    Label the open lattice, then follow the bonds that cross the periodic edges: each open-lattice
    cluster gets a copy offset (dx, dy); a crossing bond that joins two clusters whose offsets
    disagree closes a loop with non-zero winding."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return False
    edges = []  # (label a, label b, dx, dy): b's copy sits at a's + (dx, dy)
    right, left = labels[:, -1], labels[:, 0]
    both = (right > 0) & (left > 0)
    edges += [(int(p), int(q), 1, 0) for p, q in zip(right[both], left[both])]
    bottom, top = labels[-1, :], labels[0, :]
    both = (bottom > 0) & (top > 0)
    edges += [(int(p), int(q), 0, 1) for p, q in zip(bottom[both], top[both])]
    graph: dict[int, list[tuple[int, int, int]]] = {}
    for p, q, dx, dy in edges:
        if p == q:
            return True  # one cluster meets itself across the edge
        graph.setdefault(p, []).append((q, dx, dy))
        graph.setdefault(q, []).append((p, -dx, -dy))
    offset: dict[int, tuple[int, int]] = {}
    for start in graph:
        if start in offset:
            continue
        offset[start] = (0, 0)
        stack = [start]
        while stack:
            p = stack.pop()
            px, py = offset[p]
            for q, dx, dy in graph[p]:
                want = (px + dx, py + dy)
                if q not in offset:
                    offset[q] = want
                    stack.append(q)
                elif offset[q] != want:
                    return True
    return False


class EquilibrationMonitor:
    """Streams (e, |m|) samples since the last restart and says when they start to count.

    restart() after every change of model or reset; add() the new samples (returns how many of
    them count, i.e. arrived after equilibrium was declared); check_spins() now and then below
    T_c while not yet equilibrated."""

    def __init__(self):
        self.restart()

    def restart(self) -> None:
        self._e: list[np.ndarray] = []
        self._a: list[np.ndarray] = []
        self._held = 0
        self._total = 0
        self._stripe = False
        self.state = EQUILIBRATING

    @property
    def equilibrated(self) -> bool:
        return self.state.equilibrated

    def add(self, e, a) -> int:
        """Append samples; returns how many of the newest ones count as equilibrium samples."""
        e, a = np.atleast_1d(np.asarray(e, float)), np.atleast_1d(np.asarray(a, float))
        self._total += e.size
        if self.state.equilibrated:
            return e.size
        self._e.append(e)
        self._a.append(a)
        self._held += e.size
        if self._held > MAX_HELD:
            self._trim()
        if self._stripe:
            self.state = Equilibration(False, self._total, math.nan, "stripe state")
            return 0
        series_e, series_a = np.concatenate(self._e), np.concatenate(self._a)
        self._e, self._a = [series_e], [series_a]
        state = drift_test(series_e, series_a)
        self.state = Equilibration(state.equilibrated, self._total, state.drift, state.reason)
        if state.equilibrated:
            self._e, self._a, self._held = [], [], 0
        return 0

    def check_spins(self, spins, size: int, temperature: float, coupling: float, field: float) -> None:
        """Flag (or clear) a stripe state; a stripe state is never declared equilibrium."""
        if self.state.equilibrated or not stripes_impossible(size, temperature, coupling, field):
            self._stripe = False
            return
        self._stripe = is_stripe_state(spins, coupling)
        if self._stripe:
            self.state = Equilibration(False, self._total, math.nan, "stripe state")

    def _trim(self) -> None:
        e, a = np.concatenate(self._e), np.concatenate(self._a)
        keep = e.size // 2
        self._e, self._a, self._held = [e[-keep:]], [a[-keep:]], keep
