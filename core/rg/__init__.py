"""Block-spin renormalization group: block transforms, renormalised couplings by
pseudo-likelihood, the measured flow, and T_c / nu by Monte Carlo RG (Swendsen matching).

Modules: blocking (majority / decimation kernels), operators (even coupling sums),
measure (per-snapshot MCRG measurements), couplings (pseudo-likelihood fit), flow (couplings
per level at one T), moments (block jackknife of moments), mcrg (T_c and nu), sampling (chains).
"""
from .blocking import RULES, block_levels, block_once, check_blocking, max_levels, tie_key
from .couplings import COUPLINGS, DIVERGING, CouplingFit, fit_couplings, histogram
from .flow import FlowAccumulator, FlowLevel, FlowResult, default_levels, rg_flow
from .mcrg import DEFAULT_SNAPSHOTS, McrgResult, check_mcrg, estimate_tc
from .operators import OPERATORS, operator_sums

__all__ = [
    "COUPLINGS", "DEFAULT_SNAPSHOTS", "DIVERGING", "OPERATORS", "RULES",
    "CouplingFit", "FlowAccumulator", "FlowLevel", "FlowResult", "McrgResult",
    "block_levels", "block_once", "check_blocking", "check_mcrg", "default_levels", "estimate_tc",
    "fit_couplings", "histogram", "max_levels", "operator_sums", "rg_flow", "tie_key",
]
