"""Time-series error analysis against processes with known autocorrelation."""
import math

import numpy as np
import pytest
from scipy.signal import lfilter

from isinglab.core.errors import IsingLabError
from isinglab.core.stats import (
    TauResult,
    autocorrelation,
    binned_mean,
    choose_blocks,
    jackknife,
    tau_int,
)


def ar1(phi, n, rng, burn=2000):
    """x_t = phi x_{t-1} + noise; tau_int = (1 + phi) / (2 (1 - phi)), var = 1 / (1 - phi^2)."""
    return lfilter([1.0], [1.0, -phi], rng.standard_normal(n + burn))[burn:]


def ar1_tau(phi):
    return (1 + phi) / (2 * (1 - phi))


def test_autocorrelation_matches_direct_sum_and_ar1():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(300)
    d = x - x.mean()
    direct = np.array([np.dot(d[: d.size - t], d[t:]) for t in range(d.size)]) / np.dot(d, d)
    np.testing.assert_allclose(autocorrelation(x), direct, atol=1e-12)  # no FFT wrap-around
    rho = autocorrelation(ar1(0.8, 100_000, rng))
    np.testing.assert_allclose(rho[:6], 0.8 ** np.arange(6), atol=0.03)


def test_autocorrelation_of_constant_is_delta():
    rho = autocorrelation(np.full(10, 3.7))
    assert rho[0] == 1.0 and not rho[1:].any()


def test_tau_int_ar1():
    phi, n = 0.9, 200_000
    r = tau_int(ar1(phi, n, np.random.default_rng(1)))
    exact = ar1_tau(phi)  # 9.5
    assert isinstance(r, TauResult) and r.reliable
    assert abs(r.tau - exact) < 4 * r.err
    assert abs(r.tau - exact) < 0.1 * exact
    assert r.window >= 6.0 * r.tau  # Sokal's condition holds at the chosen window
    assert r.err == pytest.approx(r.tau * math.sqrt(2 * (2 * r.window + 1) / n))


def test_tau_int_iid_and_constant():
    r = tau_int(np.random.default_rng(2).standard_normal(100_000))
    assert abs(r.tau - 0.5) < max(4 * r.err, 0.02)
    c = tau_int(np.full(1000, 3.7))  # mean of 3.7s is not exactly 3.7
    assert c.tau == 0.5 and math.isfinite(c.err)


def test_tau_int_short_series_is_unreliable():
    x = ar1(0.99, 500, np.random.default_rng(3))  # tau ~ 100: n < 50 tau
    assert not tau_int(x).reliable


def test_binned_mean_error_ar1():
    phi, n = 0.9, 200_000
    x = ar1(phi, n, np.random.default_rng(4))
    mean, err = binned_mean(x)
    expected = math.sqrt(2 * ar1_tau(phi) / (1 - phi**2) / n)
    assert err == pytest.approx(expected, rel=0.15)
    assert abs(mean) < 5 * expected


def test_binned_mean_error_iid():
    x = 3.0 + 2.0 * np.random.default_rng(5).standard_normal(50_000)
    mean, err = binned_mean(x)
    assert mean == pytest.approx(x.mean(), abs=1e-12)
    assert err == pytest.approx(x.std() / math.sqrt(x.size), rel=0.1)


def test_binned_mean_constant_and_validation():
    assert binned_mean(np.full(1000, 0.1)) == (0.1, 0.0)
    with pytest.raises(IsingLabError):
        binned_mean([1.0])
    with pytest.raises(IsingLabError):
        binned_mean([1.0, np.nan, 2.0])
    with pytest.raises(IsingLabError):
        binned_mean(np.ones(10), n_bins=20)


def test_choose_blocks_rule():
    assert choose_blocks(10_000, 9.5) == 10_000 // 95  # blocks of ceil(10 tau)
    assert choose_blocks(500, 9.5) == 8  # short series: floor of 8 blocks
    assert choose_blocks(5, 9.5) == 5  # never more blocks than samples
    assert choose_blocks(10_000, 0.5, max_blocks=64) == 64


def test_jackknife_linear_equals_binned_mean():
    rng = np.random.default_rng(6)
    x, y = ar1(0.5, 4000, rng), ar1(0.7, 4000, rng)
    mean, err = jackknife(lambda a, b: 2 * a + 3 * b, [x, y], n_blocks=40)
    bmean, berr = binned_mean(2 * x + 3 * y, n_bins=40)
    assert mean == pytest.approx(bmean, abs=1e-12)
    assert err == pytest.approx(berr, rel=1e-9)
    m1, e1 = jackknife(lambda a: a, [x])
    assert m1 == pytest.approx(x.mean(), abs=1e-12) and e1 > 0


def test_jackknife_ratio_error_matches_spread_of_repetitions():
    rng = np.random.default_rng(7)
    estimates, errors = [], []
    for _ in range(200):
        shared = ar1(0.8, 4000, rng)  # correlated numerator and denominator, tau ~ 4.5
        num = 5.0 + shared + ar1(0.5, 4000, rng)
        den = 2.0 + 0.5 * shared
        est, err = jackknife(lambda a, b: a / b, [num, den])
        estimates.append(est)
        errors.append(err)
    spread = np.std(estimates, ddof=1)
    assert np.mean(errors) == pytest.approx(spread, rel=0.3)
    assert abs(np.mean(estimates) - 2.5) < 4 * spread / math.sqrt(200)


def test_jackknife_constant_and_validation():
    assert jackknife(lambda a, b: a / b, [np.full(100, 0.1), np.full(100, 0.3)]) == (0.1 / 0.3, 0.0)
    with pytest.raises(IsingLabError):
        jackknife(lambda a, b: a, [np.ones(10), np.ones(11)])
    with pytest.raises(IsingLabError):
        jackknife(lambda: 0.0, [])
