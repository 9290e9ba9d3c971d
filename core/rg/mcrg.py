"""Monte Carlo renormalization group (Swendsen 1979, 1984): K_c by matching, nu from the
linearised RG, for the 2D Ising ferromagnet (J = 1, h = 0; temperatures in units of J/k_B).

Matching. Simulate lattices L and L/b at the same nearest-neighbour coupling K. Blocking L
(n + 1) times and L/b n times leaves lattices of the same side L/b^(n+1). At the fixed point
their block-spin correlations agree; away from it the L lattice, one RG step further along
the flow, is more ordered (K > K_c) or less (K < K_c). With f_a(K) = <S_a^(n+1)>_L and
g_a(K) = <S_a^(n)>_(L/b) for the even operators S_a of core.rg.operators, the matching
coupling solves f(K*) = g(K*); linearised about the simulated K,
    K*_n = K - sum_a D_a / sum_a D'_a,  D_a = (f_a - g_a) / w_a,  D'_a = (f'_a - g'_a) / w_a,
with f'_a = <S_a^(n+1) E>_c, g'_a = <S_a^(n) E>_c (E = the nn sum of the simulated lattice,
conjugate to K) and w_a the number of terms of S_a (the operators enter on an equal per-term
footing). K_c = the mean of K*_n over the levels n >= 1 whose matched lattices have side >= 4
(n = 0 compares an unblocked lattice with a blocked one and is far from converged).

Search. The linearisation only holds within about 1/L of K_c, so K is found on a ladder of
sizes (16, 32, ..., L for b = 2): on each, safeguarded Newton steps K -> K* (steps bounded by
a trust radius ~1/S, bisection on the sign of sum_a D_a, which is robustly negative below K_c
and positive above) until the step is small; the estimate seeds the next size. The final,
long run at L sits within ~0.1 % of K_c, where the linear formula is exact to second order.

Exponent. From the final run on L: T_ab = dK_a^(n+1) / dK_b^(n) solves
    <S_a^(n+1) S_c^(n+1)>_c T_cb = <S_a^(n+1) S_b^(n)>_c
with all six operators; its leading eigenvalue lambda_t = b^(1/nu). nu is averaged over the
levels n >= 1 with a target lattice of side >= 8 (>= 4 if L is too small for that).

Spectrum. core.rg.spectrum keeps every eigenvalue of T per step (lambda_i = b^(y_i)), not only
the leading one: exactly one even y > 0 (the thermal 1/nu) at the fixed point.

Errors. Statistical: block jackknife over the final run (the L and L/b runs jackknifed
together). Systematic (reported separately): the largest deviation of a single level's value
from the average over levels, i.e. how far the truncation to finitely many levels and
operators and the finite lattice still move the answer.
"""
from __future__ import annotations

import concurrent.futures
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import IsingLabError
from ..exact import TC
from ..params import ModelParams
from ..tasks import TaskState
from .blocking import check_blocking, check_rule
from .measure import LevelMeter
from .moments import BlockMoments, Moments, as_entry, jackknife_moments
from .operators import N_OPERATORS, TERMS_PER_SITE
from .sampling import chain_seed, run_chain
from .spectrum import rg_matrix, spectrum

K_START = 0.4  # first guess (T = 2.5); the search brackets K_c from anywhere in ~[0.25, 0.75]
TRUST = 1.0  # trust radius of a Newton step on a lattice of side S: TRUST / S in K
MAX_STEPS = 10  # Newton / bisection steps per ladder size
MIN_MATCH_SIDE = 4  # matched lattices smaller than this are dominated by finite size
MIN_NU_SIDE = 8
DEFAULT_SNAPSHOTS = 20000
MIN_SNAPSHOTS = 2000
N_BLOCKS = 20
TRUNCATED_OPS = 3  # nn, nnn, plaquette: the systematic compares them with all six


@dataclass
class Evaluation:
    """One pair of runs (L and L/b at coupling K) and the matching estimates it gives."""

    size: int
    coupling: float
    snapshots: int
    big: BlockMoments
    small: BlockMoments
    levels: int  # blocking levels measured on the big lattice
    match_levels: list  # matching levels n used
    kc: float = math.nan
    slope: float = math.nan  # sum_a D'_a averaged over levels; > 0 where Newton is valid
    delta: float = math.nan  # sum_a D_a averaged over levels: < 0 below K_c, > 0 above


@dataclass
class McrgResult:
    size: int
    block: int
    rule: str
    tc: dict
    nu: dict
    kc: dict
    tc_systematic: float
    nu_systematic: float
    coupling: float  # K of the final run
    snapshots: int
    seconds: float
    match: list = field(default_factory=list)  # per matching level: side, K_c, T_c
    eigen: list = field(default_factory=list)  # per RG step: sides, lambda_t, nu
    search: list = field(default_factory=list)  # the ladder: (side, K, K*) per run
    spectrum: list = field(default_factory=list)  # per RG step: every eigenvalue of T and its y (core.rg.spectrum)

    def to_json(self) -> dict:
        return {
            "tc": self.tc, "nu": self.nu, "kc": self.kc,
            "tc_systematic": self.tc_systematic, "nu_systematic": self.nu_systematic,
            "exact": {"tc": TC, "nu": 1.0},
            "size": self.size, "block": self.block, "rule": self.rule,
            "coupling": self.coupling, "snapshots": self.snapshots, "seconds": self.seconds,
            "match": self.match, "eigen": self.eigen, "search": self.search, "spectrum": self.spectrum,
        }


# ----------------------------------------------------------------------------- estimators


def _col(level: int, op: int) -> int:
    return level * N_OPERATORS + op


def _level_deltas(big: Moments, small: Moments, n: int, ops: int = N_OPERATORS) -> tuple[float, float]:
    """(sum_a D_a, sum_a D'_a) of matching level n over the first `ops` operators."""
    e = _col(0, 0)
    d = dp = 0.0
    for a in range(ops):
        i, j = _col(n + 1, a), _col(n, a)
        d += (big.mean[i] - small.mean[j]) / TERMS_PER_SITE[a]
        dp += (big.cov[i, e] - small.cov[j, e]) / TERMS_PER_SITE[a]
    return d, dp


def matching_estimates(big: Moments, small: Moments, coupling: float, levels,
                       ops: int = N_OPERATORS) -> np.ndarray:
    """[K*_n for n in levels] followed by their mean (nan where the slope is not positive)."""
    out = []
    for n in levels:
        d, dp = _level_deltas(big, small, n, ops)
        out.append(coupling - d / dp if dp > 0 else math.nan)
    return np.array(out + [np.mean(out)])


def rg_eigenvalue(big: Moments, n: int, ops: int = N_OPERATORS) -> float:
    """Leading eigenvalue of the linearised RG from level n to n + 1 (first `ops` operators)."""
    t = rg_matrix(big, n, ops)
    if not np.all(np.isfinite(t)):
        return math.nan
    ev = np.linalg.eigvals(t)
    return float(ev.real.max())


def nu_estimates(big: Moments, block: int, levels, ops: int = N_OPERATORS) -> np.ndarray:
    """[nu from RG step n -> n + 1 for n in levels] followed by their mean."""
    out = []
    for n in levels:
        lam = rg_eigenvalue(big, n, ops)
        out.append(math.log(block) / math.log(lam) if lam > 1.0 else math.nan)
    return np.array(out + [np.mean(out)])


# ----------------------------------------------------------------------------- plan


def check_mcrg(size: int, block: int, rule: str, snapshots: int) -> None:
    check_rule(rule)
    check_blocking(size, block, 1)
    if not isinstance(snapshots, int) or snapshots < MIN_SNAPSHOTS:
        raise IsingLabError(f"MCRG needs at least {MIN_SNAPSHOTS} snapshots, got {snapshots!r}")
    b3 = block ** 3
    if size % b3 or size // b3 < MIN_MATCH_SIDE:
        raise IsingLabError(
            f"MCRG matches two levels and needs L divisible by b^3 = {b3} with L / b^3 >= {MIN_MATCH_SIDE}, "
            f"e.g. L = {MIN_MATCH_SIDE * b3} or {2 * MIN_MATCH_SIDE * b3} for b = {block}; got L = {size}")


def ladder(size: int, block: int) -> list[int]:
    """Lattice sides of the search, smallest first, ending at `size`."""
    sides = [size]
    while sides[0] % (block ** 3) == 0 and sides[0] // (block ** 3) >= MIN_MATCH_SIDE:
        sides.insert(0, sides[0] // block)
    return sides


def measured_levels(size: int, block: int) -> int:
    """Blocking levels measured on a lattice of side `size`: down to side MIN_MATCH_SIDE."""
    k, s = 0, size
    while s % block == 0 and s // block >= MIN_MATCH_SIDE:
        s //= block
        k += 1
    return k


def matching_levels(size: int, block: int) -> list[int]:
    """n >= 1 with lattices of side size / b^(n+1) >= MIN_MATCH_SIDE."""
    return list(range(1, measured_levels(size, block)))


def nu_levels(size: int, block: int) -> list[int]:
    top = measured_levels(size, block)
    for min_side in (MIN_NU_SIDE, MIN_MATCH_SIDE):
        lv = [n for n in range(1, top) if size // block ** (n + 1) >= min_side]
        if lv:
            return lv
    return [0]


# ----------------------------------------------------------------------------- runs


class _Runner:
    """Samples the L and L/b lattices of one evaluation on a small thread pool (the kernels
    release the GIL) and reports progress from the calling thread."""

    def __init__(self, block: int, rule: str, seed: int, task: TaskState, threads: int):
        self.block, self.rule, self.seed, self.task = block, rule, seed, task
        self.threads = threads
        self.work_done = 0.0
        self.work_total = 1.0
        self.runs = 0

    def evaluate(self, size: int, coupling: float, snapshots: int, label: str) -> Evaluation:
        self.runs += 1
        levels = measured_levels(size, self.block)
        small = size // self.block
        jobs = []  # (size, levels, snapshots, chain) ; the big lattice split over two chains
        halves = (snapshots // 2, snapshots - snapshots // 2) if self.threads > 1 else (snapshots,)
        for c, n in enumerate(halves):
            jobs.append((size, levels, n, c))
        jobs.append((small, levels - 1, snapshots, len(halves)))
        results = self._run_jobs(jobs, coupling, label)
        big = np.concatenate([results[i] for i in range(len(halves))])
        ev = Evaluation(size, coupling, snapshots, BlockMoments(big.reshape(len(big), -1), N_BLOCKS),
                        BlockMoments(results[-1].reshape(snapshots, -1), N_BLOCKS), levels,
                        matching_levels(size, self.block))
        est = matching_estimates(ev.big.full(), ev.small.full(), coupling, ev.match_levels)
        ds = [_level_deltas(ev.big.full(), ev.small.full(), n) for n in ev.match_levels]
        ev.kc = float(est[-1])
        ev.delta = float(np.mean([d for d, _ in ds]))
        ev.slope = float(np.mean([dp for _, dp in ds]))
        return ev

    def _run_jobs(self, jobs, coupling, label):
        costs = [n * s * s for s, _, n, _ in jobs]
        done = [np.zeros(1, np.int64) for _ in jobs]
        base = self.work_done
        with concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="isinglab-mcrg") as pool:
            futures = [pool.submit(self._chain, job, coupling, d) for job, d in zip(jobs, done)]
            try:
                while True:
                    finished, _ = concurrent.futures.wait(futures, timeout=0.1)
                    work = sum(c * d[0] / max(1, j[2]) for c, d, j in zip(costs, done, jobs))
                    self.task.progress(min(0.99, (base + work) / self.work_total), label)
                    if len(finished) == len(futures):
                        break
            except BaseException:
                self.task.cancel()  # stop the helpers before leaving the pool
                raise
            results = [f.result() for f in futures]
        self.work_done = base + sum(costs)
        return results

    def _chain(self, job, coupling, done):
        size, levels, n, chain = job
        seed = chain_seed(self.seed, self.runs, chain)
        params = ModelParams(size=size, temperature=1.0 / coupling, algorithm="wolff", seed=seed)
        meter = LevelMeter(size, self.block, levels, self.rule, seed)
        ops = np.empty((n, levels + 1, N_OPERATORS), np.int64)
        mags = np.empty((n, levels + 1), np.int64)
        run_chain(params, n, lambda s, i: meter(s, i, ops[i], mags[i]), task=self.task, done=done)
        return ops.astype(np.float64)


def _newton_step(ev: Evaluation, bracket: list, radius: float) -> float:
    """Next K: the matching estimate when it is valid and nearby, else a bounded move or a
    bisection towards the sign change of sum_a D_a."""
    k = ev.coupling
    if ev.delta < 0:
        bracket[0] = max(bracket[0], k)
    else:
        bracket[1] = min(bracket[1], k)
    lo, hi = bracket
    cand = ev.kc
    if math.isfinite(cand) and ev.slope > 0 and abs(cand - k) <= radius and lo < cand < hi:
        return cand
    if math.isfinite(lo) and math.isfinite(hi) and hi - lo <= 2 * radius:
        return 0.5 * (lo + hi)
    x = k + (radius if ev.delta < 0 else -radius)
    return x if lo < x < hi else 0.5 * (lo + hi)  # the far end of a step is finite here


def estimate_tc(size: int = 64, block: int = 2, rule: str = "majority", snapshots: int = DEFAULT_SNAPSHOTS,
                seed: int = 0, task: TaskState | None = None, threads: int | None = None,
                k_start: float = K_START) -> McrgResult:
    """T_c and nu of the 2D Ising model by MCRG on an L x L lattice (see the module docstring)."""
    check_mcrg(size, block, rule, snapshots)
    task = task or TaskState()
    threads = threads or max(1, min(2, os.cpu_count() or 1))
    t0 = time.perf_counter()
    runner = _Runner(block, rule, seed, task, threads)
    sides = ladder(size, block)
    pre = max(MIN_SNAPSHOTS, snapshots // 8)
    # expected work: ~3 runs per size at `pre` snapshots plus the final run (for the progress bar)
    runner.work_total = sum(3 * pre * 1.25 * s * s for s in sides) + snapshots * 1.25 * size * size
    k = k_start
    search = []
    for s in sides:
        k = _search_size(runner, s, k, pre, final=s == size, search=search)
    final = runner.evaluate(size, k, snapshots, f"final run L = {size}")
    search.append(_step_json(final))
    result = _summarise(final, block, rule, snapshots, time.perf_counter() - t0, search)
    task.progress(1.0, "done")
    return result


def _search_size(runner: _Runner, side: int, k: float, snapshots: int, final: bool, search: list) -> float:
    radius = TRUST / side
    tol = radius / (16 if final else 4)
    bracket = [0.0, math.inf]
    for _ in range(MAX_STEPS):
        ev = runner.evaluate(side, k, snapshots, f"search L = {side}")
        search.append(_step_json(ev))
        k_new = _newton_step(ev, bracket, radius)
        moved, k = abs(k_new - k), k_new
        if moved < tol:
            return k
    raise IsingLabError(f"the MCRG search on L = {side} did not settle within {MAX_STEPS} steps "
                        f"(last K = {k:.5f}); try more snapshots")


def _step_json(ev: Evaluation) -> dict:
    return {"size": ev.size, "coupling": ev.coupling, "temperature": 1.0 / ev.coupling,
            "snapshots": ev.snapshots, "kc": ev.kc}


def _summarise(ev: Evaluation, block: int, rule: str, snapshots: int, seconds: float, search) -> McrgResult:
    match_lv, nu_lv = ev.match_levels, nu_levels(ev.size, block)

    def estimates(big, small):
        k = matching_estimates(big, small, ev.coupling, match_lv)
        return np.concatenate([k, 1.0 / k, nu_estimates(big, block, nu_lv)])

    est, err = jackknife_moments(estimates, ev.big, ev.small)
    m = len(match_lv) + 1
    kc, tc, nu = est[:m], est[m:2 * m], est[2 * m:]
    kc_err, tc_err, nu_err = err[:m], err[m:2 * m], err[2 * m:]
    big, small = ev.big.full(), ev.small.full()
    tc_short = 1.0 / matching_estimates(big, small, ev.coupling, match_lv, TRUNCATED_OPS)[-1]
    nu_short = nu_estimates(big, block, nu_lv, TRUNCATED_OPS)[-1]
    match = [{"level": n, "side": ev.size // block ** (n + 1), "kc": as_entry(kc[i], kc_err[i]),
              "tc": as_entry(tc[i], tc_err[i])} for i, n in enumerate(match_lv)]
    eigen = [{"level": n, "from": ev.size // block ** n, "to": ev.size // block ** (n + 1),
              "lambda": as_entry(*_lambda(block, nu[i], nu_err[i])), "nu": as_entry(nu[i], nu_err[i])}
             for i, n in enumerate(nu_lv)]
    return McrgResult(
        size=ev.size, block=block, rule=rule,
        tc=as_entry(tc[-1], tc_err[-1]), nu=as_entry(nu[-1], nu_err[-1]), kc=as_entry(kc[-1], kc_err[-1]),
        tc_systematic=_systematic(tc, tc_short), nu_systematic=_systematic(nu, nu_short),
        coupling=ev.coupling, snapshots=snapshots, seconds=seconds, match=match, eigen=eigen, search=search,
        spectrum=spectrum(ev.big, block, ev.size, ev.levels, nu_lv),
    )


def _systematic(per_level: np.ndarray, truncated: float) -> float:
    """Largest move of the answer: one level instead of their mean, or 3 operators instead of 6."""
    best = per_level[-1]
    return float(max(np.max(np.abs(per_level[:-1] - best)), abs(truncated - best)))


def _lambda(block: int, nu: float, nu_err: float) -> tuple[float, float]:
    """lambda_t = b^(1/nu) and its error propagated from nu's."""
    lam = block ** (1.0 / nu)
    return lam, lam * math.log(block) * nu_err / nu ** 2
