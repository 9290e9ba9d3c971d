"""Block means -> connected curves, estimators and warnings for one (L, T): `analyse`."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import IsingLabError
from ..exact import critical_temperature, onsager_correlation_length
from ..stats import BLOCK_TAUS
from .accumulate import _replicas, _spread, jackknife_groups
from .fits import (SECOND_MOMENT_RATIO_BELOW, Estimate, eta_model, fit_eta, fit_xi_2nd, fit_xi_exp, one_particle,
                   periodic_model, second_moment_samples, two_particle)
from .geometry import Layout, _k_bins, _radial_bins

FINITE_SIZE_FRACTION = 0.25  # xi above L/4: finite-size dominated (warning); eta is fitted
SUBTRACTION_TEXT = {"none": "<s0 sr> (<m> = 0 by symmetry)", "m_abs": "<s0 sr> - <|m|>^2",
                    "m": "<s0 sr> - <m>^2"}


def subtraction(temperature: float, coupling: float = 1.0, field: float = 0.0) -> str:
    """Which c0 makes G connected: "none" (0), "m_abs" (<|m|>^2) or "m" (<m>^2); see module doc."""
    if field != 0.0:
        return "m"
    if coupling != 0.0 and temperature < critical_temperature(coupling):
        return "m_abs"
    return "none"


def _curves(rows: np.ndarray, layout: Layout, mode: str) -> dict:
    """Connected curves from mean rows (vectorised over leading axes)."""
    sl = layout.slices()
    L = layout.size
    col = lambda name: rows[..., sl[name].start]  # noqa: E731
    m2 = col("m2")
    c0 = {"none": np.zeros_like(m2), "m_abs": col("m_abs") ** 2, "m": col("m") ** 2}[mode]
    excess = (m2 - c0)[..., None]
    return {
        "g_full": rows[..., sl["axis"]] + m2[..., None],
        "g": rows[..., sl["axis"]] + excess,
        "c": rows[..., sl["proj"]] + L * excess,
        "radial": rows[..., sl["radial"]] + excess,
        "s": rows[..., sl["sk"]],
        "s0": L * L * (m2 - c0),
        "s_kmin": col("s_kmin"),
    }


@dataclass
class CorrelationResult:
    """Curves with jackknife errors, the three estimators and Onsager's exact xi for one (L, T)."""

    size: int
    temperature: float
    coupling: float
    field: float
    n_samples: int
    n_groups: int
    subtraction: str
    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    t: np.ndarray
    c: np.ndarray
    c_err: np.ndarray
    k: np.ndarray
    s: np.ndarray
    s_err: np.ndarray
    chi: Estimate
    xi_exp: Estimate
    xi_2nd: Estimate
    eta: Estimate | None
    xi_exact: float | None
    g_full: np.ndarray
    g_full_err: np.ndarray
    r_radial: np.ndarray | None = None
    g_radial: np.ndarray | None = None
    g_radial_err: np.ndarray | None = None
    fit_exp: dict | None = None
    fit_eta: dict | None = None
    warnings: list = dataclasses.field(default_factory=list)

    @property
    def xi_2nd_expected(self) -> float | None:
        """Onsager's xi, times sqrt(2/5) below T_c (second-moment length, scaling limit)."""
        if self.xi_exact is None:
            return None
        return self.xi_exact * (SECOND_MOMENT_RATIO_BELOW if self.subtraction == "m_abs" else 1.0)

    def exp_fit_curve(self, t) -> np.ndarray | None:
        """The fitted C(t) at the given t, or None without a fit."""
        f = self.fit_exp
        if f is None:
            return None
        phi = two_particle if f["form"] == "two-particle" else one_particle
        return periodic_model(phi, self.size, f["t0"])(np.asarray(t, dtype=np.float64), f["amplitude"], f["xi"])

    def eta_fit_curve(self, r) -> np.ndarray | None:
        """The fitted <s_0 s_r> at the given r, or None without a fit."""
        f = self.fit_eta
        if f is None:
            return None
        return eta_model(np.asarray(r, dtype=np.float64), f["amplitude"], f["eta"], f["b"] / self.size)

    def to_json(self) -> dict:
        out = {
            "size": self.size, "temperature": self.temperature, "coupling": self.coupling,
            "field": self.field, "n_samples": self.n_samples, "jackknife_groups": self.n_groups,
            "subtraction": SUBTRACTION_TEXT[self.subtraction],
            "xi_exp": self.xi_exp.to_json(), "xi_2nd": self.xi_2nd.to_json(),
            "xi_exact": self.xi_exact, "xi_2nd_expected": self.xi_2nd_expected,
        }
        if self.eta is not None:
            out["eta"] = self.eta.to_json()
        out["chi"] = self.chi.to_json()
        if self.xi_2nd.ok:
            out["xi_2nd_samples_for_1pct"] = math.ceil(second_moment_samples(self.size, self.xi_2nd.value, 0.01))
        out.update(r=self.r.tolist(), g=self.g.tolist(), g_err=self.g_err.tolist(),
                   t=self.t.tolist(), c=self.c.tolist(), c_err=self.c_err.tolist())
        if self.g_radial is not None:
            out.update(r_radial=self.r_radial.tolist(), g_radial=self.g_radial.tolist(),
                       g_radial_err=self.g_radial_err.tolist())
        out.update(k=self.k.tolist(), s=self.s.tolist(), s_err=self.s_err.tolist())
        out["fits"] = {"xi_exp": self.fit_exp, "eta": self.fit_eta}
        out["warnings"] = list(self.warnings)
        return out


def exact_xi(temperature: float, coupling: float = 1.0, field: float = 0.0) -> float | None:
    """Onsager's axis correlation length (inf at T_c), None where it does not apply (h != 0, J = 0)."""
    if field != 0.0 or coupling == 0.0:
        return None
    return float(onsager_correlation_length(temperature, coupling))


def near_critical(size: int, temperature: float, coupling: float = 1.0, field: float = 0.0) -> bool:
    """True where Onsager's xi exceeds L/4: the lattice cannot tell T from T_c; eta is fitted."""
    xi = exact_xi(temperature, coupling, field)
    return xi is not None and xi > FINITE_SIZE_FRACTION * size


def analyse(block_means: np.ndarray, layout: Layout, temperature: float, coupling: float = 1.0,
            field: float = 0.0, block_size: int = 1, tau: float = 0.5,
            n_samples: int | None = None) -> CorrelationResult:
    """All curves and estimators from block means of measurement rows (oldest block first)."""
    if block_means.ndim != 2 or block_means.shape[1] != layout.width:
        raise IsingLabError(f"block means of shape {block_means.shape} do not match an L = {layout.size} layout")
    if block_means.shape[0] < 2:
        raise IsingLabError(f"need at least 2 blocks of measurements, got {block_means.shape[0]}")
    groups, reliable = jackknife_groups(block_means, block_size, tau)
    mode = subtraction(temperature, coupling, field)
    full = _curves(groups.mean(axis=0), layout, mode)
    rep = _curves(_replicas(groups), layout, mode)
    err = {k: _spread(v) for k, v in rep.items()}
    L = layout.size
    below = mode == "m_abs"
    xi_exp, exp_fit = fit_xi_exp(full["c"], err["c"], rep["c"], L, below)
    xi_2nd = fit_xi_2nd(float(full["s0"]), float(full["s_kmin"]), rep["s0"], rep["s_kmin"], L)
    eta, eta_fit = None, None
    if near_critical(L, temperature, coupling, field):
        eta, eta_fit = fit_eta(full["g_full"], err["g_full"], rep["g_full"], L)
    half = layout.half
    res = CorrelationResult(
        size=L, temperature=float(temperature), coupling=float(coupling), field=float(field),
        n_samples=int(n_samples if n_samples is not None else block_means.shape[0] * block_size),
        n_groups=groups.shape[0], subtraction=mode,
        r=np.arange(half, dtype=np.float64), g=full["g"], g_err=err["g"],
        t=np.arange(half, dtype=np.float64), c=full["c"], c_err=err["c"],
        k=_k_bins(L)[2], s=full["s"], s_err=err["s"],
        chi=Estimate(float(full["s0"]) / temperature, float(err["s0"]) / temperature),
        xi_exp=xi_exp, xi_2nd=xi_2nd, eta=eta, xi_exact=exact_xi(temperature, coupling, field),
        g_full=full["g_full"], g_full_err=err["g_full"], fit_exp=exp_fit, fit_eta=eta_fit)
    if layout.radial:
        res.r_radial, res.g_radial, res.g_radial_err = _radial_bins(L)[2], full["radial"], err["radial"]
    res.warnings = _collect_warnings(res, reliable)
    return res


def _collect_warnings(res: CorrelationResult, reliable: bool) -> list:
    out = []
    L = res.size
    lengths = [res.xi_exact] if res.xi_exact is not None else []
    if res.xi_exp.ok or res.xi_exp.limit == ">":
        lengths.append(res.xi_exp.value)
    if lengths and max(lengths) > FINITE_SIZE_FRACTION * L:
        out.append(f"xi > L/4 = {FINITE_SIZE_FRACTION * L:g}: finite-size dominated")
    if not reliable:
        out.append(f"too few independent samples: {res.n_groups} jackknife groups shorter than "
                   f"{BLOCK_TAUS:g} tau_int; error bars are underestimated")
    for name, est in (("xi_exp", res.xi_exp), ("xi_2nd", res.xi_2nd), ("eta", res.eta)):
        if est is not None and not est.ok and est.reason:
            out.append(f"{name}: {est.reason}")
    return out
