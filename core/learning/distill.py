"""Distillation: read the trained classifier's logits as coefficients of the local operator basis.

For each class y the learned logit difference to the reference class is fitted by least squares,

    logit_y(x) - logit_ref(x) ~= c_y + sum_o D_o,y phi_o(x),

over configurations x (held-out ones by default). Bayes (paper-notes 1) says D = K(T_y) - K(T_ref)
with the Ising couplings K = J/T on the nearest-neighbour pairs and h/T on h, and D = 0 for every
other operator. A k = 2 network's logits lie exactly in the span of 1, h, the pairs inside a 2x2
patch, its four 3-spin corners and the plaquette, so with range >= 1 the fit is exact (R^2 = 1
to rounding) and the D are precisely what the network computes; for k = 3 R^2 < 1 says how much
of the network lies outside the basis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IsingLabError
from . import operators as ops_
from .classifier import TrainedClassifier, reference_class


@dataclass(frozen=True)
class DistilledClass:
    temperature: float
    learned: np.ndarray  # D_o per operator
    exact: np.ndarray
    r2: float


@dataclass(frozen=True)
class Distillation:
    operators: tuple
    range_: int
    reference_temperature: float
    classes: tuple  # DistilledClass per non-reference class

    def groups(self, cls: DistilledClass) -> dict[str, dict]:
        """group -> {"learned", "exact"}: the mean over the group's operators."""
        return {name: {"learned": float(cls.learned[idx].mean()), "exact": float(cls.exact[idx].mean())}
                for name, idx in ops_.groups(self.operators).items()}

    def kernel(self, cls: DistilledClass) -> np.ndarray:
        return ops_.kernel(cls.learned, self.operators, self.range_)

    def to_json(self) -> dict:
        return {"reference_temperature": self.reference_temperature, "range": self.range_,
                "classes": [{"temperature": c.temperature, "r2": c.r2, "couplings": self.groups(c)}
                            for c in self.classes]}


def distill(trained: TrainedClassifier | None, spins=None, range_: int = 2) -> Distillation:
    """Fit each logit difference onto operators.basis(range_) (see the module docstring)."""
    if trained is None:
        raise IsingLabError("train a classifier first: there is nothing to distill yet")
    data = trained.held_out
    x = ops_.as_batch(data.spins if spins is None else spins)
    L = x.shape[1]
    range_ = ops_.check_range(range_, L)
    basis = ops_.basis(range_)
    if x.shape[0] < 2 * (len(basis) + 1):
        raise IsingLabError(f"distillation onto {len(basis)} operators needs at least {2 * (len(basis) + 1)} "
                            f"configurations, got {x.shape[0]}")
    T = trained.temperatures
    ref = reference_class(T)
    logits = trained.logits(x)
    phi = ops_.operator_sums(x, basis).astype(np.float64) / (L * L)  # per-site densities: a well-scaled design
    design = np.column_stack([np.ones(x.shape[0]), phi])
    J, h = data.coupling, data.field
    classes = []
    for y in range(len(T)):
        if y == ref:
            continue
        d = logits[:, y] - logits[:, ref]
        coef, *_ = np.linalg.lstsq(design, d, rcond=None)
        resid = d - design @ coef
        tot = float(((d - d.mean()) ** 2).sum())
        exact_k = (ops_.exact_couplings(basis, T[y], J, h) - ops_.exact_couplings(basis, T[ref], J, h))
        classes.append(DistilledClass(float(T[y]), coef[1:] / (L * L), exact_k,
                                      1.0 - float(resid @ resid) / tot if tot > 0 else 1.0))
    return Distillation(tuple(basis), range_, float(T[ref]), tuple(classes))
