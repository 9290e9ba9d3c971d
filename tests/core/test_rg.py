"""Block-spin RG core: block transforms, operator sums, pseudo-likelihood couplings, the flow,
MCRG T_c / nu, and the `isinglab rg` command. Statistical checks use the estimators' own
jackknife errors (bounded from above, so a test cannot pass on huge error bars)."""
import json
import threading

import numpy as np
import pytest

from isinglab.core.cli import main as cli_main
from isinglab.core.errors import IsingLabError
from isinglab.core.exact import TC
from isinglab.core.params import ModelParams
from isinglab.core.rg import (DIVERGING, block_levels, block_once, check_blocking, estimate_tc,
                              fit_couplings, histogram, max_levels, rg_flow)
from isinglab.core.rg.couplings import DESIGN, fit_counts, jackknife_error, neg_log_pl
from isinglab.core.rg.mcrg import ladder, matching_levels, nu_levels
from isinglab.core.rg.measure import LevelMeter
from isinglab.core.rg.moments import BlockMoments, jackknife_moments
from isinglab.core.rg.operators import OPERATORS, operator_sums, operator_sums_py
from isinglab.core.tasks import Cancelled, TaskState

SIGMAS = 4.0


def random_spins(n, seed=0):
    return (np.random.default_rng(seed).integers(0, 2, (n, n)) * 2 - 1).astype(np.int8)


# ----------------------------------------------------------------------------- block transforms


def test_majority_b3_hand_made():
    s = np.ones((6, 6), np.int8)
    s[0:3, 0:3] = [[-1, -1, 1], [-1, 1, 1], [-1, -1, -1]]  # 6 down of 9: -1
    s[0:3, 3:6] = [[-1, -1, -1], [-1, 1, 1], [1, 1, 1]]  # 4 down: +1
    s[3:6, 0:3] = -1
    s[3:6, 3:6] = [[1, -1, 1], [-1, 1, -1], [1, -1, -1]]  # 5 down: -1
    np.testing.assert_array_equal(block_once(s, 3), [[-1, 1], [-1, -1]])


def test_majority_b2_clear_blocks_and_ties():
    s = np.array([[1, 1, -1, -1],
                  [1, -1, -1, 1],
                  [1, -1, 1, 1],
                  [-1, 1, 1, 1]], np.int8)
    out = block_once(s, 2, seed=5, stream=0)
    assert out[0, 0] == 1 and out[0, 1] == -1 and out[1, 1] == 1
    assert out[1, 0] in (-1, 1)  # a tie (sum 0): decided by the seeded coin
    np.testing.assert_array_equal(out, block_once(s, 2, seed=5, stream=0))  # reproducible


def test_tie_breaking_is_a_fair_independent_coin():
    s = np.indices((256, 256)).sum(axis=0) % 2 * 2 - 1  # checkerboard: every 2x2 block ties
    a = block_once(s.astype(np.int8), 2, seed=1, stream=0).astype(float)
    n = a.size
    assert abs(a.mean()) < SIGMAS / np.sqrt(n)  # P(+1) = 1/2
    assert abs(np.mean(a * np.roll(a, 1, axis=1))) < SIGMAS / np.sqrt(n)  # neighbours independent
    assert abs(np.mean(a * np.roll(a, 1, axis=0))) < SIGMAS / np.sqrt(n)
    b = block_once(s.astype(np.int8), 2, seed=1, stream=1).astype(float)
    c = block_once(s.astype(np.int8), 2, seed=2, stream=0).astype(float)
    for other in (b, c):  # other snapshot streams and seeds give independent coins
        assert abs(np.mean(a * other)) < SIGMAS / np.sqrt(n)


def test_decimation_keeps_the_top_left_spin():
    s = random_spins(12, seed=3)
    np.testing.assert_array_equal(block_once(s, 2, "decimation"), s[::2, ::2])
    np.testing.assert_array_equal(block_once(s, 3, "decimation"), s[::3, ::3])


def test_block_levels_repeat_the_step():
    s = random_spins(48, seed=4)
    lv = block_levels(s, 2, 3, "majority", seed=9, stream=2)
    assert [x.shape[0] for x in lv] == [48, 24, 12, 6]
    np.testing.assert_array_equal(lv[0], s)
    np.testing.assert_array_equal(lv[2], block_once(lv[1], 2, "majority", 9, 2, level=2))
    ordered = np.ones((27, 27), np.int8)
    assert all((x == 1).all() for x in block_levels(ordered, 3, 3))  # ordered stays ordered


@pytest.mark.parametrize("size, block, levels, words", [
    (32, 1, 1, "b must be an integer >= 2"),
    (30, 2, 2, "not divisible by b\\^2 = 4"),
    (32, 2, 6, "at most 5"),
    (27, 3, -1, "non-negative"),
])
def test_bad_blocking_is_explained(size, block, levels, words):
    with pytest.raises(IsingLabError, match=words):
        check_blocking(size, block, levels)


def test_max_levels():
    assert max_levels(1024, 2) == 10 and max_levels(1024, 2, 4) == 8
    assert max_levels(81, 3) == 4 and max_levels(100, 3) == 0
    with pytest.raises(IsingLabError, match="unknown blocking rule"):
        block_once(random_spins(4), 2, "median")


# ----------------------------------------------------------------------------- operators, meter


@pytest.mark.parametrize("n", [2, 3, 4, 5, 9])
def test_operator_kernel_matches_numpy(n):
    for seed in range(5):
        s = random_spins(n, seed)
        np.testing.assert_array_equal(operator_sums(s, np.empty(len(OPERATORS), np.int64)), operator_sums_py(s))


def test_level_meter_blocks_like_block_levels():
    s = random_spins(32, seed=6)
    ops, mags = LevelMeter(32, 2, 3, "majority", seed=11)(s, 7)
    for k, lat in enumerate(block_levels(s, 2, 3, "majority", seed=11, stream=7)):
        np.testing.assert_array_equal(ops[k], operator_sums_py(lat))
        assert mags[k] == lat.sum()


# ----------------------------------------------------------------------------- pseudo-likelihood


def test_fit_recovers_couplings_of_a_synthetic_histogram():
    theta = np.array([0.3, 0.1, -0.05, 0.2])
    phi = DESIGN @ theta
    n = np.random.default_rng(0).integers(50, 500, len(DESIGN)).astype(float)
    counts = np.stack([n / (1 + np.exp(2 * phi)), n / (1 + np.exp(-2 * phi))]).reshape(2, 5, 5, 5)
    np.testing.assert_allclose(fit_counts(counts), theta, atol=1e-6)  # expected counts: exact optimum
    value, grad, hess = neg_log_pl(theta, counts)
    eps = 1e-6  # analytic gradient against a finite difference
    num = [(neg_log_pl(theta + eps * e, counts)[0] - neg_log_pl(theta - eps * e, counts)[0]) / (2 * eps)
           for e in np.eye(4)]
    np.testing.assert_allclose(grad, num, atol=1e-7)
    assert np.all(np.linalg.eigvalsh(hess) > 0)


def test_histogram_counts_every_site():
    s = random_spins(7, seed=2)
    h = histogram(s)
    assert h.sum() == 49 and h[1].sum() == (s == 1).sum()


def test_level0_fit_recovers_j_over_t_at_t3():
    res = rg_flow(ModelParams(size=64, temperature=3.0, seed=1), levels=1, sweeps=600)
    fit = res.levels[0].couplings
    assert fit.ok
    k, dk = fit["nn"]
    assert dk < 0.004  # the error bar itself is small enough to mean something
    assert abs(k - 1 / 3.0) < min(0.02 / 3.0, SIGMAS * dk)  # within 2 % and within 4 sigma
    for name in ("nnn", "plaquette", "h"):
        v, dv = fit[name]
        assert dv < 0.004 and abs(v) < SIGMAS * dv, name


def test_fully_ordered_blocks_report_a_diverging_coupling():
    counts = np.stack([histogram(np.ones((8, 8), np.int8))] * 4)
    fit = fit_couplings(counts)
    assert fit.status == DIVERGING and "diverging coupling" in fit.message
    assert np.isnan(fit.values).all()
    flipped = np.ones((8, 8), np.int8)
    flipped[2, 5] = -1  # one flipped spin: still separable, still no finite maximum
    assert fit_couplings(np.stack([histogram(flipped)] * 4)).status == DIVERGING


def test_flow_direction_below_and_above_tc():
    """K_nn + 2 K_nnn from level 1 on: grows (or diverges) below T_c, shrinks above."""
    w = np.array([1.0, 2.0, 0.0, 0.0])
    for temperature, sign in ((2.0, +1), (2.6, -1)):
        levels = rg_flow(ModelParams(size=64, temperature=temperature, seed=3), levels=3, sweeps=1000).levels
        for a, b in zip(levels[1:], levels[2:]):
            if sign > 0 and b.couplings.status == DIVERGING:
                continue  # ordered blocks: the coupling has run off to infinity
            assert a.couplings.ok and b.couplings.ok
            step = b.couplings.values @ w - a.couplings.values @ w
            err = jackknife_error(b.couplings.replicates @ w - a.couplings.replicates @ w)
            assert sign * step > SIGMAS * err > 0, (temperature, a.level, step, err)


# ----------------------------------------------------------------------------- jackknife, MCRG


def test_block_moments_jackknife_of_a_mean_is_the_binned_error():
    z = np.random.default_rng(1).normal(size=(1000, 2))
    bm = BlockMoments(z, 10)
    est, err = jackknife_moments(lambda m: m.mean, bm)
    means = z.reshape(10, 100, 2).mean(axis=1)
    np.testing.assert_allclose(est, z.mean(axis=0))
    np.testing.assert_allclose(err, means.std(axis=0, ddof=1) / np.sqrt(10))
    np.testing.assert_allclose(bm.full().cov, np.cov(z.T, ddof=0), atol=1e-12)


def test_mcrg_plan():
    assert ladder(64, 2) == [16, 32, 64] and ladder(32, 2) == [16, 32] and ladder(108, 3) == [36, 108]
    assert matching_levels(64, 2) == [1, 2, 3]  # matched sides 16, 8, 4
    assert nu_levels(64, 2) == [1, 2] and nu_levels(32, 2) == [1]


def test_mcrg_tc_and_nu_at_small_l():
    res = estimate_tc(32, snapshots=8000, seed=1)
    tc, nu = res.tc, res.nu
    assert 0 < tc["err"] < 0.01 and 0 < nu["err"] < 0.05
    assert abs(tc["mean"] - TC) <= SIGMAS * tc["err"] + res.tc_systematic
    assert abs(nu["mean"] - 1.0) <= SIGMAS * nu["err"] + res.nu_systematic
    assert len(res.match) == 2 and res.search[-1]["snapshots"] == 8000


@pytest.mark.parametrize("kwargs, words", [
    ({"size": 16}, "divisible by b\\^3 = 8"),
    ({"size": 54, "block": 3}, "b\\^3 = 27"),
    ({"size": 32, "block": 1}, "b must be an integer >= 2"),
    ({"size": 32, "snapshots": 10}, "at least 2000 snapshots"),
])
def test_mcrg_bad_input(kwargs, words):
    with pytest.raises(IsingLabError, match=words):
        estimate_tc(**kwargs)


def test_mcrg_cancels_and_leaves_no_threads():
    task = TaskState()
    task._on_progress = lambda f, t: task.cancel()  # cancel at the first progress report
    with pytest.raises(Cancelled):
        estimate_tc(32, snapshots=4000, task=task)
    assert not [t for t in threading.enumerate() if t.name.startswith("isinglab-mcrg")]


# ----------------------------------------------------------------------------- CLI


def run_cli(capsys, *argv):
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_flow_json(capsys):
    code, out, _ = run_cli(capsys, "rg", "--size", "16", "--temperature", "2.5", "--sweeps", "40",
                           "--levels", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert [lv["size"] for lv in data["levels"]] == [16, 8, 4]
    for lv in data["levels"]:
        assert set(lv["couplings"]) >= {"nn", "nnn", "plaquette", "h", "status"}
        assert set(lv["couplings"]["nn"]) == {"mean", "err"} and set(lv["m_abs"]) == {"mean", "err"}
    assert data["algorithm"] == "wolff" and data["rule"] == "majority"


def test_cli_reports_diverging_levels_without_garbage(capsys):
    code, out, _ = run_cli(capsys, "rg", "-L", "16", "-T", "1.0", "--sweeps", "20", "--json")
    assert code == 0
    top = json.loads(out)["levels"][-1]["couplings"]
    assert top["status"] == "diverging coupling" and top["nn"]["mean"] is None
    code, out, _ = run_cli(capsys, "rg", "-L", "16", "-T", "1.0", "--sweeps", "20")
    assert code == 0 and "diverging coupling" in out


@pytest.mark.parametrize("argv, words", [
    (["-L", "30", "--levels", "3"], "at most 1 blocking level"),
    (["-L", "32", "--block", "1"], "block size b must be at least 2"),
    (["-L", "32", "--levels", "4"], "level 4 would have side 2"),
    (["-L", "27", "-b", "3", "--field", "0.1"], "needs an even L"),
    (["--estimate-tc", "-L", "20"], "divisible by b^3"),
    (["--estimate-tc", "-L", "32", "--field", "0.5"], "J = 1 and h = 0"),
])
def test_cli_bad_input_is_one_line(capsys, argv, words):
    code, out, err = run_cli(capsys, "rg", *argv)
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_estimate_tc_json(capsys):
    code, out, _ = run_cli(capsys, "rg", "--estimate-tc", "--size", "32", "--sweeps", "2000", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["tc"]) == {"mean", "err"} and set(data["nu"]) == {"mean", "err"}
    assert abs(data["tc"]["mean"] - TC) < 0.05 and abs(data["nu"]["mean"] - 1) < 0.3  # coarse: few snapshots
