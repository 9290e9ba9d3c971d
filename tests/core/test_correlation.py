"""Correlations: FFT against direct sums, hand-made lattices, estimators on exact and sampled data."""
import json
import math

import numpy as np
import pytest

from isinglab.core import correlation as corr
from isinglab.core import exact
from isinglab.core.cli import main
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

TC = exact.TC


def direct_map(s):
    """(1/N) sum_x s_x s_(x+r) by explicit shifts."""
    s = s.astype(np.float64)
    L = s.shape[0]
    return np.array([[(s * np.roll(s, (-dy, -dx), (0, 1))).sum() / s.size for dx in range(L)]
                     for dy in range(L)])


def fields(row, L, radial=True):
    sl = corr.Layout(L, radial).slices()
    return {k: row[v] for k, v in sl.items()}


def random_spins(L, seed, bias=0.0):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((L, L)) < 0.5 + bias, 1, -1).astype(np.int8)


# ----------------------------------------------------------------------------- FFT == direct sum

@pytest.mark.parametrize("L", [2, 5, 6, 8, 9])
def test_fft_rows_equal_direct_sums(L):
    s = random_spins(L, L, bias=0.2)
    A = direct_map(s)
    np.testing.assert_allclose(corr.correlation_map(s), A, atol=2e-6)
    f = fields(corr.measure(s), L)
    m = s.mean()
    h = L // 2 + 1
    np.testing.assert_allclose(f["axis"] + m * m, 0.5 * (A[0, :h] + A[:h, 0]), atol=2e-6)
    np.testing.assert_allclose(f["proj"] + L * m * m, 0.5 * (A.sum(0)[:h] + A.sum(1)[:h]), atol=2e-5)
    idx, counts, mean_r = corr._radial_bins(L)
    radial = np.bincount(idx, A.ravel(), minlength=counts.size + 1)[:counts.size] / counts
    np.testing.assert_allclose(f["radial"] + m * m, radial, atol=2e-6)
    assert mean_r[0] == 0.0 and np.all(np.diff(mean_r) > 0)
    S = np.abs(np.fft.fft2(s.astype(np.float64))) ** 2 / s.size
    k = np.minimum(np.arange(L), L - np.arange(L))
    shell = np.rint(np.hypot(k[:, None], k[None, :])).astype(int)
    expected = [S[shell == b].mean() for b in range(1, L // 2 + 1)]
    np.testing.assert_allclose(f["sk"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f["s_kmin"][0], 0.5 * (S[0, 1] + S[1, 0]), rtol=1e-5, atol=1e-6)
    assert f["m"][0] == pytest.approx(m) and f["m2"][0] == pytest.approx(m * m)


def test_staggered_spins_for_antiferromagnet():
    s = random_spins(8, 3)
    sign = np.where((np.arange(8)[:, None] + np.arange(8)) % 2, -1, 1)
    np.testing.assert_allclose(corr.measure(s, coupling=-1.0), corr.measure((s * sign).astype(np.int8)))
    with pytest.raises(IsingLabError, match="even L"):
        corr.measure(random_spins(7, 1), coupling=-1.0)


# ----------------------------------------------------------------------------- hand-made lattices

def test_stripes():
    L = 8
    s = np.tile(np.where(np.arange(L) % 2, -1, 1), (L, 1)).astype(np.int8)  # columns alternate
    A = corr.correlation_map(s)
    r = np.arange(L)
    np.testing.assert_allclose(A[0], (-1.0) ** r, atol=1e-6)  # across the stripes
    np.testing.assert_allclose(A[:, 0], 1.0, atol=1e-6)  # along a stripe
    f = fields(corr.measure(s), L)
    h = L // 2 + 1
    np.testing.assert_allclose(f["axis"], 0.5 * (1.0 + (-1.0) ** r[:h]), atol=1e-6)
    # all of S(k) sits at k = (0, pi): S = N there, shared out over the |k| = pi shell
    wsum = corr._k_bins(L)[3]
    np.testing.assert_allclose(f["sk"], np.r_[np.zeros(L // 2 - 1), L * L / wsum[-1]], atol=1e-5)


def test_wide_stripes_decay_linearly():
    L, w = 16, 4  # stripes of width 4: a triangle wave of period 8 along x
    s = np.tile(np.where((np.arange(L) // w) % 2, -1, 1), (L, 1)).astype(np.int8)
    A = corr.correlation_map(s)
    np.testing.assert_allclose(A[0, :5], [1.0, 0.5, 0.0, -0.5, -1.0], atol=1e-6)


def test_checkerboard_and_uniform():
    L = 6
    board = np.where((np.arange(L)[:, None] + np.arange(L)) % 2, -1, 1).astype(np.int8)
    A = corr.correlation_map(board)
    dy, dx = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    np.testing.assert_allclose(A, (-1.0) ** (dx + dy), atol=1e-6)
    # staggered, the checkerboard is the ordered state
    np.testing.assert_allclose(corr.correlation_map(board, coupling=-1.0), 1.0, atol=1e-6)
    np.testing.assert_allclose(corr.correlation_map(np.ones((L, L), np.int8)), 1.0, atol=1e-6)


def test_bad_configurations_are_refused():
    for bad in (np.ones(5), np.ones((3, 4)), np.ones((1, 1))):
        with pytest.raises(IsingLabError):
            corr.measure(bad)
    series = corr.CorrelationSeries(8)
    with pytest.raises(IsingLabError, match="L = 6"):
        series.add(np.ones((6, 6), np.int8))


# ----------------------------------------------------------------------------- accumulation

def test_block_accumulator_merges_exactly():
    lay = corr.Layout(4, radial=False)
    acc = corr.BlockAccumulator(lay, max_blocks=8)
    rows = np.random.default_rng(0).normal(size=(100, lay.width))
    for r in rows:
        acc.add(r)
    assert acc.n == 100 and acc.block_size == 16 and acc.n_blocks == 6  # 96 rows closed
    np.testing.assert_allclose(acc.block_means().mean(0), rows[:96].mean(0))
    np.testing.assert_allclose(acc.block_means()[0], rows[:16].mean(0))
    col = lay.slices()["m_abs"].start
    np.testing.assert_allclose(acc.m_abs_series(), rows[:, col])


def test_jackknife_groups_follow_tau():
    blocks = np.random.default_rng(1).normal(size=(64, 3))
    g, ok = corr.jackknife_groups(blocks, block_size=1, tau=0.5)  # 10 tau = 5 rows per group
    assert ok and g.shape == (12, 3)
    np.testing.assert_allclose(g.mean(0), blocks[4:].mean(0))
    g, ok = corr.jackknife_groups(blocks, block_size=1, tau=100.0)
    assert not ok and g.shape == (8, 3)


# ----------------------------------------------------------------------------- estimators, exact data

def _exact_fit(phi, xi, L, below):
    t = np.arange(L // 2 + 1.0)
    c = 2.0 * corr.periodic_model(phi, L, 1.0)(t, 1.0, xi)
    err = 1e-4 * c + 1e-12
    reps = c * (1.0 + 1e-4 * np.random.default_rng(0).normal(size=(16, 1)))
    return corr.fit_xi_exp(c, err, reps, L, below)


@pytest.mark.parametrize("xi", [0.7, 3.0, 9.0])
def test_exponential_fit_recovers_xi(xi):
    est, fit = _exact_fit(corr.one_particle, xi, 48, below=False)
    assert est.ok and est.value == pytest.approx(xi, rel=1e-6)
    assert fit["form"] == "one-particle" and fit["window"][0] == 1
    est, fit = _exact_fit(corr.two_particle, xi, 48, below=True)
    assert est.ok and est.value == pytest.approx(xi, rel=1e-6) and fit["form"] == "two-particle"


def test_two_particle_form_quadrature():
    from scipy.integrate import quad
    for tau in (0.05, 1.0, 5.0, 40.0):
        ref, _ = quad(lambda u: np.tanh(u) ** 2 / np.cosh(u) * np.exp(-tau * np.cosh(u)), 0, 50, limit=200)
        assert corr.two_particle(tau) == pytest.approx(ref, rel=1e-5)
    # t >> xi: sqrt(pi/2) tau^-3/2 e^-tau, with a -4.1/tau correction (expansion in u^2)
    tau = np.array([80.0, 160.0])
    asym = math.sqrt(math.pi / 2) * tau ** -1.5 * np.exp(-tau) * (1 - 4.125 / tau)
    np.testing.assert_allclose(corr.two_particle(tau) / asym, 1.0, rtol=0.01)


def test_eta_fit_recovers_eta():
    L = 64
    r = np.arange(L // 2 + 1.0)
    g = corr.eta_model(np.maximum(r, 1), 0.6, 0.25, 0.5 / L)
    est, fit = corr.fit_eta(g, 1e-5 * g, g * (1 + 1e-5 * np.random.default_rng(2).normal(size=(8, 1))), L)
    assert est.ok and est.value == pytest.approx(0.25, abs=1e-6) and fit["b"] == pytest.approx(0.5, rel=1e-4)
    est, fit = corr.fit_eta(g[:9], 1e-5 * g[:9], np.tile(g[:9], (8, 1)), 16)
    assert not est.ok and fit is None and "too small" in est.reason


def test_second_moment_of_ornstein_zernike():
    L, xi = 64, 5.0
    khat2 = (2 * math.sin(math.pi / L)) ** 2
    s0, skmin = xi**2, 1.0 / (khat2 + xi**-2)  # S(k) = 1 / (khat^2 + xi^-2)
    assert corr.second_moment_xi(s0, skmin, L) == pytest.approx(xi)
    assert math.isnan(corr.second_moment_xi(1.0, 2.0, L))
    # samples for a given precision: ~ 1/precision^2, and many more when L >> xi
    n1 = corr.second_moment_samples(L, xi, 0.01)
    assert corr.second_moment_samples(L, xi, 0.02) == pytest.approx(n1 / 4)
    assert corr.second_moment_samples(4 * L, xi, 0.01) > 100 * n1


def test_noise_gives_reasons_not_exceptions():
    rng = np.random.default_rng(5)
    L = 32
    c = rng.normal(size=L // 2 + 1)
    c[0] = 1.0
    est, fit = corr.fit_xi_exp(c, np.full(c.size, 1.0), rng.normal(size=(8, c.size)), L, False)
    assert not est.ok and est.reason and fit is None
    est = corr.fit_xi_2nd(1.0, 1.0, np.ones(8), np.ones(8), L)
    assert est.limit == "<" and est.reason
    assert "mean" not in est.to_json() and est.to_json()["limit"] == "<"


def test_subtraction_conventions():
    assert corr.subtraction(2.0) == "m_abs"
    assert corr.subtraction(TC) == "none" and corr.subtraction(3.0) == "none"
    assert corr.subtraction(2.0, field=0.1) == "m"
    assert corr.subtraction(4.0, coupling=-2.0) == "m_abs"  # |J| T_c = 4.54
    assert corr.exact_xi(2.5, field=0.1) is None
    # connected sum rule: S(0) = T chi = N (<m^2> - <|m|>^2) with the |m| convention
    series = corr.CorrelationSeries(4, radial=False)
    configs = [np.ones((4, 4), np.int8), -np.ones((4, 4), np.int8)]
    configs[1][0, :2] = 1
    for k in range(32):
        series.add(configs[k % 2])
    res = series.result(1.5)
    m = np.array([1.0, -12 / 16])
    assert res.chi.value * 1.5 == pytest.approx(16 * (np.mean(m**2) - np.mean(np.abs(m)) ** 2))
    assert res.g[0] == pytest.approx(1.0 - np.mean(np.abs(m)) ** 2)


def test_too_few_snapshots():
    series = corr.CorrelationSeries(8)
    for _ in range(5):
        series.add(random_spins(8, 0))
    with pytest.raises(IsingLabError, match="too few"):
        series.result(2.5)


# ----------------------------------------------------------------------------- sampled data

def _sample(L, T, sweeps, seed=1, **kw):
    params = ModelParams(size=L, temperature=T, algorithm="wolff", seed=seed, **kw)
    return corr.sample(params, sweeps=sweeps, radial=False)


def _within(est, target, systematic, max_rel_err):
    assert est.ok, est.reason
    assert est.err < max_rel_err * target  # the error bar itself is bounded
    assert abs(est.value - target) < 4.0 * est.err + systematic * target, (est, target)


def test_xi_above_tc():
    T = 2.6
    res, info = _sample(48, T, 6000)
    xi = exact.onsager_correlation_length(T)
    assert res.subtraction == "none" and res.xi_exact == pytest.approx(xi)
    _within(res.xi_exp, xi, corr.SYSTEMATIC_ABOVE, 0.03)  # projected one-particle form
    _within(res.xi_2nd, xi, corr.SYSTEMATIC_ABOVE, 0.10)  # xi_2nd / xi_exp = 0.999 above T_c
    assert res.eta is None and res.warnings == []
    assert info["measure_every"] >= 1 and res.n_samples == 6000 // info["measure_every"]


def test_xi_below_tc():
    T = 2.1
    res, _ = _sample(32, T, 16000)  # L = 9 xi; smaller L makes xi_2nd affordable (q ~ 1/L^2)
    xi = exact.onsager_correlation_length(T)
    assert res.subtraction == "m_abs" and res.fit_exp["form"] == "two-particle"
    _within(res.xi_exp, xi, corr.SYSTEMATIC_BELOW_EXP, 0.08)
    _within(res.xi_2nd, res.xi_2nd_expected, corr.SYSTEMATIC_BELOW_2ND, 0.15)
    assert res.xi_2nd_expected == pytest.approx(math.sqrt(0.4) * xi)


def test_eta_at_tc():
    res, _ = _sample(32, TC, 4000)
    _within(res.eta, 0.25, corr.SYSTEMATIC_ETA, 0.05)
    assert res.xi_exp.limit == ">" and any("L/4" in w for w in res.warnings)
    assert res.eta_fit_curve([3.0, 8.0]).shape == (2,)


def test_extremes_report_limits_without_crashing():
    hot, _ = _sample(16, 50.0, 400)  # xi = 0.13: C(t) is noise from t = 1 or 2 on
    assert not hot.xi_exp.ok and hot.xi_exp.reason
    assert hot.xi_exp.limit in ("<", None)
    cold, _ = _sample(16, 0.3, 200)  # frozen: no connected fluctuations at all
    assert not cold.xi_exp.ok and "frozen" in cold.xi_exp.reason and "frozen" in cold.xi_2nd.reason
    json.dumps(cold.to_json())  # serialisable, whatever came out
    res, _ = corr.sample(ModelParams(size=8, temperature=2.0, field=0.2, algorithm="heatbath"), sweeps=100)
    assert res.subtraction == "m" and res.xi_exact is None


# ----------------------------------------------------------------------------- CLI

def test_cli_json(capsys):
    code = main(["correlate", "--size", "16", "--temperature", "3.0", "--sweeps", "400", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["algorithm"] == "wolff" and out["size"] == 16
    for key in ("xi_exp", "xi_2nd", "xi_exact", "r", "g", "g_err"):
        assert key in out
    assert len(out["r"]) == len(out["g"]) == len(out["g_err"]) == 9
    assert out["g"][0] == pytest.approx(1.0, abs=0.05)
    assert "eta" not in out


def test_cli_table_and_bad_input(capsys):
    assert main(["correlate", "-L", "8", "-T", "2.0", "--sweeps", "100", "--algorithm", "heatbath"]) == 0
    assert "xi_exp" in capsys.readouterr().out
    assert main(["correlate", "-L", "9", "--field", "0.1", "--sweeps", "100"]) == 2
    assert "even L" in capsys.readouterr().err
    assert main(["correlate", "-L", "8", "--sweeps", "5"]) == 2
    assert "sweeps" in capsys.readouterr().err
    assert main(["correlate", "-T", "0"]) == 2
    assert "temperature" in capsys.readouterr().err
