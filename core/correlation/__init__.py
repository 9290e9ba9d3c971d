"""Spin-spin correlations: G(r), the structure factor S(k) and three correlation-length estimators.

Conventions (k_B = 1, an L x L periodic lattice, N = L^2, m = sum_i s_i / N per snapshot):

* G(r) = <s_0 s_r> - c0, averaged over all origins and over the snapshot stream, with the
  subtraction c0 chosen so that G is the *connected* function on a finite lattice:
  - h = 0, T >= T_c: c0 = 0 (<m> = 0 by symmetry; estimating it would only add noise);
  - h = 0, T < T_c: c0 = <|m|>^2, the symmetric |m| convention (a finite lattice flips between
    +m and -m, so <m> = 0 there too; the system sits in one of the two states at a time);
  - h != 0: c0 = <m>^2.
  Summed over r this gives the finite-lattice susceptibilities: T chi = sum_r G(r) =
  N (<m^2> - c0). For J < 0 every quantity refers to the staggered spins s_i (-1)^(x+y) (even L).
* Axis G(r): the average of the x- and y-axis correlations, r = 0 .. L/2. Radial G(r): all
  displacements (minimum image) binned by rint(|r|), r <= L/2, at the mean |r| of each bin.
* Projected (zero-momentum) correlator C(t) = sum_x G(x, t), averaged over both axes.
* S(k) = <|sum_x s_x e^(-i k x)|^2> / N minus N c0 at k = 0; S(0) = T chi. Radial S(k) in bins of
  width 2 pi / L.

Estimators (errors: block jackknife over the snapshot stream; every fit window is chosen once on
the full data and kept fixed in the jackknife replicas):

* xi_exp: C(t) fitted with the periodic one-particle form A [f(t) + f(L - t)], f = e^(-t/xi)
  (= A' cosh((t - L/2)/xi)) above T_c: the projection removes the r^(-1/2) Ornstein-Zernike
  prefactor of G(r), so C(t) is one exponential from t = 1 on (checked to 1 % at T = 2.6).
  Below T_c the lightest states the spin couples to are pairs (mass 2/xi_dual = 1/xi): C(t) is a
  two-particle continuum, the same periodic form with f(t) = int_0^inf tanh^2(u) sech(u)
  e^(-t cosh(u)/xi) du (continuum Ising form factor; f ~ t^(-3/2) e^(-t/xi) for t >> xi). A pure
  exponential comes out 20-50 % low there. Lattice corrections to the continuum form are the
  stated systematic SYSTEMATIC_BELOW_EXP: measured +5 % at xi = 2.2 (T = 2.0) and +1..3 % at
  xi = 3.6 (T = 2.1), 1e5 samples each.
  The window runs from t = 1 to the last t before C(t) drops below 3 error bars.
* xi_2nd: second-moment length sqrt(S(0)/S(k_min) - 1) / (2 sin(k_min/2)), k_min = 2 pi/L,
  S(k_min) averaged over both axes. Above T_c it equals the exponential length to 0.1 %; below T_c
  it is sqrt(2/5) = 0.632 of it in the scaling limit (two-particle spectrum: <mu^-4>/<mu^-2>);
  lattice corrections to that ratio: +2 +- 7 % at T = 2.1, +15..20 % at T = 2.0 (xi_2nd = 1.4).
  Its statistical error grows like (L/xi)^2 when L >> xi: see `second_moment_samples`.
* eta: near T_c (Onsager xi > L/4) the unsubtracted axis <s_0 s_r> fitted with
  A r^-eta (1 + b r/L) for r in [R_MIN_ETA, L/4]; the linear term is the torus's leading
  finite-size correction. Systematic (short-distance corrections): +2 % at L = 64, +1 % at
  128 (2e4 and 1e4 samples); a plain A (r^-eta + (L - r)^-eta) fit gives +28 % at L = 64.

Cost: one float32 real 2-D FFT per snapshot (the mean is removed first, so float32 keeps G to
~1e-6); the radial average needs a second, inverse FFT.

Modules: geometry (row layout, radial and |k| bins), snapshot (one configuration -> one measurement row, by FFT),
accumulate (memory-bounded blocks, block jackknife), fits (the estimators), analysis (curves,
estimators and warnings: `analyse`, `CorrelationResult`), series (a stream of snapshots),
sampling (`sample`: a simulation through core.sampling's driver).
"""
from __future__ import annotations

import sys
import types

from ..sampling import auto_algorithm  # the one picker, kept importable here for the correlate command
from . import snapshot as _snapshot
from .accumulate import MIN_GROUPS, MIN_SAMPLES, TAU_WINDOW, BlockAccumulator, jackknife_groups
from .analysis import (FINITE_SIZE_FRACTION, SUBTRACTION_TEXT, CorrelationResult, analyse, exact_xi, near_critical,
                       subtraction)
from .fits import (ETA_MIN_POINTS, MAX_FIT_EVALS, MIN_FIT_POINTS, R_MIN_ETA, SECOND_MOMENT_RATIO_BELOW,
                   SIGNAL_TO_NOISE, SYSTEMATIC_ABOVE, SYSTEMATIC_BELOW_2ND, SYSTEMATIC_BELOW_EXP, SYSTEMATIC_ETA,
                   T_MIN_EXP, XI_FIT_MAX, XI_FIT_MIN, XI_LIMIT_FRACTION, Estimate, eta_model, fit_eta, fit_xi_2nd,
                   fit_xi_exp, one_particle, periodic_model, second_moment_samples, second_moment_xi, two_particle)
from .geometry import Layout, _k_bins, _radial_bins  # noqa: F401  (the bins: used by tests)
from .sampling import sample
from .series import CorrelationSeries
from .snapshot import FFT_WORKERS, correlation_map, measure

__all__ = [
    "ETA_MIN_POINTS", "FFT_WORKERS", "FINITE_SIZE_FRACTION", "MAX_FIT_EVALS", "MIN_FIT_POINTS", "MIN_GROUPS",
    "MIN_SAMPLES", "R_MIN_ETA", "SECOND_MOMENT_RATIO_BELOW", "SIGNAL_TO_NOISE", "SUBTRACTION_TEXT",
    "SYSTEMATIC_ABOVE", "SYSTEMATIC_BELOW_2ND", "SYSTEMATIC_BELOW_EXP", "SYSTEMATIC_ETA", "TAU_WINDOW",
    "T_MIN_EXP", "XI_FIT_MAX", "XI_FIT_MIN", "XI_LIMIT_FRACTION",
    "BlockAccumulator", "CorrelationResult", "CorrelationSeries", "Estimate", "Layout",
    "analyse", "auto_algorithm", "correlation_map", "eta_model", "exact_xi", "fit_eta", "fit_xi_2nd",
    "fit_xi_exp", "jackknife_groups", "measure", "near_critical", "one_particle", "periodic_model", "sample",
    "second_moment_samples", "second_moment_xi", "subtraction", "two_particle",
]


class _Package(types.ModuleType):
    """`correlation.FFT_WORKERS = n` (the benchmarks set it) also sets the value measure() uses."""

    def __setattr__(self, name, value):
        if name == "FFT_WORKERS":
            setattr(_snapshot, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
