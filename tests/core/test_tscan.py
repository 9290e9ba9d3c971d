"""TemperatureScan: binning in T, estimates and errors per bin, storage bounds, input checks."""
import json

import numpy as np
import pytest

from isinglab.core import stats
from isinglab.core.errors import IsingLabError
from isinglab.core.tscan import TemperatureScan


def _fill(scan, T, n, rng, e0=-1.0, m0=0.5):
    e = rng.normal(e0, 0.05, n)
    m = rng.normal(m0, 0.1, n)
    scan.add(np.full(n, T), e, m)
    return e, m


def test_samples_land_in_their_bins():
    scan = TemperatureScan(16)
    rng = np.random.default_rng(0)
    # 2.269 and 2.251 are nearer 2.26 than any other multiple of 0.02; 2.271 is nearer 2.28
    temps = np.repeat([2.0, 2.269, 2.251, 2.271, 3.5], 10)
    scan.add(temps, rng.normal(size=temps.size), rng.normal(size=temps.size))
    res = scan.result()
    np.testing.assert_allclose(res["T"], [2.0, 2.26, 2.28, 3.5])
    np.testing.assert_array_equal(res["n"], [10, 20, 10, 10])
    np.testing.assert_allclose(res["T_mean"], [2.0, 2.26, 2.271, 3.5])
    np.testing.assert_array_equal(scan.bin_index([2.0, 2.269, 2.271]), [100, 113, 114])


def test_bins_below_min_samples_are_not_reported():
    scan = TemperatureScan(16, min_samples=8)
    rng = np.random.default_rng(1)
    _fill(scan, 2.0, 7, rng)
    assert scan.result()["T"].size == 0
    _fill(scan, 2.0, 1, rng)
    np.testing.assert_array_equal(scan.result()["n"], [8])


def test_iid_mean_and_error_match_numpy():
    scan = TemperatureScan(32)
    rng = np.random.default_rng(2)
    e, m = _fill(scan, 2.5, 5000, rng)
    res = scan.result()
    a = np.abs(m)
    for name, x in (("e", e), ("m_abs", a)):
        mean, err = res[name]["mean"][0], res[name]["err"][0]
        assert mean == pytest.approx(x.mean(), rel=1e-12)
        assert err == pytest.approx(stats.binned_mean(x)[1], rel=1e-12)  # same blocks as stats
        assert err == pytest.approx(x.std(ddof=1) / np.sqrt(x.size), rel=0.15)  # iid: sigma/sqrt(n)


def test_c_and_chi_follow_the_conventions():
    L, T = 24, 2.4
    scan = TemperatureScan(L)
    rng = np.random.default_rng(3)
    e, m = _fill(scan, T, 3000, rng)
    res = scan.result()
    N = L * L
    c = N * (np.mean(e**2) - np.mean(e) ** 2) / T**2
    chi = N * (np.mean(m**2) - np.mean(np.abs(m)) ** 2) / T
    assert res["c"]["mean"][0] == pytest.approx(c, rel=1e-9)
    assert res["chi"]["mean"][0] == pytest.approx(chi, rel=1e-9)
    # iid Gaussian: var of a variance estimate is 2 sigma^4 / n
    assert res["c"]["err"][0] == pytest.approx(c * np.sqrt(2 / e.size), rel=0.3)
    assert res["chi"]["err"][0] > 0


def test_few_samples_get_conservative_errors():
    scan = TemperatureScan(16)
    rng = np.random.default_rng(4)
    e, m = _fill(scan, 2.0, 10, rng)  # < 16: no tau_int, error as if one independent sample
    res = scan.result()
    assert res["e"]["mean"][0] == pytest.approx(e.mean())
    assert res["e"]["err"][0] == pytest.approx(e.std(ddof=1))
    assert res["m_abs"]["err"][0] == pytest.approx(np.abs(m).std(ddof=1))
    c = 256 * e.var() / 4.0
    assert res["c"]["mean"][0] == pytest.approx(c)
    assert res["c"]["err"][0] > c * np.sqrt(2 / 10)  # wider than the iid error


def test_spread_of_T_inside_a_bin_is_not_counted_as_fluctuation():
    L = 64
    rng = np.random.default_rng(5)
    t = rng.uniform(2.25, 2.27, 8000)
    noise = rng.normal(0, 0.01, t.size)
    e = -1.4 + 5.0 * (t - 2.26) + noise  # steep <e>(T) across the bin
    m = np.full(t.size, 0.5) + noise
    scans = {d: TemperatureScan(L, detrend=d) for d in (True, False)}
    for s in scans.values():
        s.add(t, e, m)
    res = scans[True].result()
    tm = t.mean()
    expected = L * L * noise.var() / tm**2
    assert res["T_mean"][0] == pytest.approx(tm)
    assert res["e"]["mean"][0] == pytest.approx(e.mean())
    assert res["c"]["mean"][0] == pytest.approx(expected, rel=0.02)
    assert scans[False].result()["c"]["mean"][0] > 2 * expected


def test_bin_width_is_configurable_and_changing_it_clears():
    scan = TemperatureScan(16, width=0.05)
    rng = np.random.default_rng(6)
    _fill(scan, 2.27, 10, rng)
    _fill(scan, 2.33, 10, rng)
    np.testing.assert_allclose(scan.result()["T"], [2.25, 2.35])
    scan.set_width(0.1)
    assert scan.width == 0.1 and len(scan) == 0
    with pytest.raises(IsingLabError):
        TemperatureScan(16, width=0.0)


def test_clear_and_set_model():
    scan = TemperatureScan(16)
    rng = np.random.default_rng(7)
    _fill(scan, 2.0, 20, rng)
    scan.clear()
    assert len(scan) == 0 and scan.result()["T"].size == 0
    _fill(scan, 2.0, 20, rng)
    scan.set_model(16, 1.0)  # unchanged: kept
    assert len(scan) == 20
    scan.set_model(32, 1.0)
    assert scan.size == 32 and len(scan) == 0


def test_storage_per_bin_is_bounded_keeping_the_newest():
    scan = TemperatureScan(16, max_samples=100)
    rng = np.random.default_rng(8)
    e_all = []
    for _ in range(25):
        e, _ = _fill(scan, 2.0, 10, rng)
        e_all.append(e)
    e_all = np.concatenate(e_all)
    res = scan.result()
    assert res["n"][0] == 100
    assert res["e"]["mean"][0] == pytest.approx(e_all[-100:].mean())
    e_big, _ = _fill(scan, 2.0, 300, rng)  # one call larger than the bound
    assert scan.result()["e"]["mean"][0] == pytest.approx(e_big[-100:].mean())


def test_time_order_is_kept_when_one_call_spans_bins():
    scan = TemperatureScan(16, max_samples=16)
    temps = np.tile([2.0, 3.0], 20)  # alternating bins; 20 samples each
    e = np.arange(temps.size, dtype=float)
    scan.add(temps, e, np.zeros_like(e))
    res = scan.result()
    kept = [e[temps == T][-16:].mean() for T in (2.0, 3.0)]  # newest 16 of each bin
    np.testing.assert_allclose(res["e"]["mean"], kept)


def test_result_is_cached_and_only_changed_bins_are_recomputed(monkeypatch):
    scan = TemperatureScan(16)
    rng = np.random.default_rng(9)
    for T in (2.0, 2.1, 2.2):
        _fill(scan, T, 50, rng)
    first = scan.result()
    assert scan.result() is first
    with pytest.raises(ValueError):
        first["e"]["mean"][0] = 0.0  # shared cache is read-only
    calls = []
    original = TemperatureScan._bin_stats
    monkeypatch.setattr(TemperatureScan, "_bin_stats", lambda self, b: calls.append(b) or original(self, b))
    _fill(scan, 2.1, 5, rng)
    scan.result()
    assert len(calls) == 1


@pytest.mark.parametrize(
    "temps, e, m",
    [
        ([2.0, np.nan], [1.0, 1.0], [0.0, 0.0]),
        ([2.0, 2.0], [1.0, np.inf], [0.0, 0.0]),
        ([2.0, 2.0], [1.0, 1.0], [np.nan, 0.0]),
        ([2.0, 2.0], [1.0], [0.0, 0.0]),
        ([2.0], [1.0, 1.0], [0.0, 0.0]),
        ([2.0, -1.0], [1.0, 1.0], [0.0, 0.0]),
        ([[2.0, 2.0]], [[1.0, 1.0]], [[0.0, 0.0]]),
        (["hot"], [1.0], [0.0]),
    ],
)
def test_bad_input_raises(temps, e, m):
    scan = TemperatureScan(16)
    with pytest.raises(IsingLabError):
        scan.add(temps, e, m)
    assert len(scan) == 0  # nothing half-added


@pytest.mark.parametrize("kwargs", [{"size": 0}, {"size": 2.5}, {"size": 8, "coupling": np.nan},
                                    {"size": 8, "min_samples": 1}, {"size": 8, "max_samples": 4}])
def test_bad_settings_raise(kwargs):
    with pytest.raises(IsingLabError):
        TemperatureScan(**kwargs)


def test_to_json_round_trip():
    scan = TemperatureScan(16, coupling=-1.0)
    rng = np.random.default_rng(10)
    _fill(scan, 2.0, 30, rng)
    data = json.loads(scan.to_json())
    res = scan.result()
    assert data["size"] == 16 and data["coupling"] == -1.0 and data["bin_width"] == 0.02
    assert data["T"] == pytest.approx(res["T"].tolist())
    assert data["n"] == [30]
    for name in ("m_abs", "e", "c", "chi"):
        assert data[name]["mean"] == pytest.approx(res[name]["mean"].tolist())
        assert data[name]["err"] == pytest.approx(res[name]["err"].tolist())
