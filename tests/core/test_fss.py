"""Finite-size scaling (core.fss): multi-histogram reweighting against exact enumeration and a
simulated point, Binder crossings of synthetic curves, and `isinglab fss` on small stores."""
import json
import math
import os

import numpy as np
import pytest

from isinglab.core import exact
from isinglab.core.cli import main
from isinglab.core.fss import MultiHistogram, Run, analyse_store
from isinglab.core.fss.analysis import _crossing, extrapolate
from isinglab.core.sweep import SweepPlan
from isinglab.core.sweep.store import SweepStore
from isinglab.core.sweep.task import run_task
from isinglab.core.observables import summarise

TC = exact.TC


# ----------------------------------------------------------------------------- helpers

def exact_runs(L, temperatures, n=400_000, seed=0):
    """Runs whose histograms are the exact Boltzmann distribution of the L x L torus (L <= 4),
    rounded to n samples and shuffled (so tau_int ~ 1/2)."""
    bonds, mags, deg = exact.density_of_states(L)
    N = L * L
    rng = np.random.default_rng(seed)
    runs = []
    for k, t in enumerate(temperatures):
        logw = np.log(deg) + bonds / t
        p = np.exp(logw - logw.max())
        p /= p.sum()
        counts = np.rint(p * n).astype(np.int64)
        e = np.repeat(-bonds / N, counts).astype(np.float64)
        m = np.repeat(mags / N, counts).astype(np.float64)
        order = rng.permutation(e.size)
        runs.append(Run(t, 0, e[order], m[order]))
    return runs


def fill_store(path, sizes, temperatures, seeds, sweeps, thermalize=200):
    """A sweep store filled in this process (no cluster): what `isinglab sweep` would write."""
    plan = SweepPlan.build(sizes, temperatures, seeds, sweeps, thermalize)
    store = SweepStore.create_or_resume(path, plan)
    for t in plan.tasks:
        res = run_task(t.size, t.temperature, plan.algorithm, t.seed, plan.sweeps, plan.thermalize)
        store.write(t, plan, res, summarise(res["e"], res["m"], t.size, t.temperature))
    return plan


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- reweighting

def test_reweighting_exact_histograms_reproduces_enumeration():
    runs = exact_runs(4, [2.0, 2.3, 2.6, 2.9])
    rw = MultiHistogram(4, runs).solve()
    T = np.array([2.15, 2.45, 2.75])
    got = rw.observables(T)
    for i, t in enumerate(T):
        ref = exact.enumeration_observables(4, float(t))
        for key in ("e", "m_abs", "m2", "m4", "u4", "chi", "c"):
            assert got[key][i] == pytest.approx(ref[key], rel=2e-4), (key, t)
    # the analytic T-derivative agrees with a finite difference of the exact U4
    h = 1e-4
    for i, t in enumerate(T):
        num = (exact.enumeration_observables(4, t + h)["u4"] - exact.enumeration_observables(4, t - h)["u4"]) / (2 * h)
        assert got["du4_dt"][i] == pytest.approx(num, rel=2e-3)


def test_reweighting_reproduces_a_simulated_point_within_errors():
    L, seeds, sweeps = 8, (1, 2), 6000
    temps = (2.1, 2.2, 2.3, 2.4)
    runs = []
    for t in temps:
        for s in seeds:
            r = run_task(L, t, "wolff", 1000 * s + int(t * 100), sweeps, 300)
            runs.append(Run(t, s, r["e"], r["m"]))
    direct = [r for r in runs if r.temperature == 2.3]
    kept = [r for r in runs if r.temperature != 2.3]
    rw = MultiHistogram(L, kept).solve()
    est = rw.observables([2.3])
    for key, series in (("e", lambda r: r.e), ("m_abs", lambda r: np.abs(r.m))):
        sums = [summarise(r.e, r.m, L, 2.3)[key] for r in direct]
        mean = np.mean([s["mean"] for s in sums])
        err = math.sqrt(sum(s["err"] ** 2 for s in sums)) / len(sums)
        # the reweighted value has an error of the same order as the direct one
        assert abs(est[key][0] - mean) < 4 * math.sqrt(2) * err, (key, est[key][0], mean, err)
    # and both agree with Kaufman's exact energy of the 8 x 8 torus
    assert est["e"][0] == pytest.approx(float(exact.kaufman_energy(L, 2.3)), abs=0.01)


def test_reweighting_of_one_temperature_is_that_run():
    runs = exact_runs(4, [2.5])
    rw = MultiHistogram(4, runs).solve()
    ref = exact.enumeration_observables(4, 2.5)
    assert rw.value("u4", 2.5) == pytest.approx(ref["u4"], rel=1e-4)


# ----------------------------------------------------------------------------- crossings

class ScalingForm:
    """U4(T, L) = U* + a (T - T_c) L^(1/nu) + b L^-omega: what a Reweighted offers the crossing finder."""

    def __init__(self, L, tc=2.269, u_star=0.61, a=-0.8, b=0.3, inv_nu=1.0, omega=1.75):
        self.L, self.tc, self.u, self.a, self.b, self.p, self.w = L, tc, u_star, a, b, inv_nu, omega

    def observables(self, T):
        T = np.atleast_1d(np.asarray(T, float))
        return {"u4": self.u + self.a * (T - self.tc) * self.L ** self.p + self.b * self.L ** -self.w}

    def value(self, name, t):
        return float(self.observables([t])[name][0])


def test_binder_crossings_of_synthetic_curves_extrapolate_to_tc_and_u_star():
    sizes = [16, 32, 64, 128]
    forms = [ScalingForm(L) for L in sizes]
    ts, us = [], []
    for a, b in zip(forms, forms[1:]):
        t = _crossing(a, b, 2.2, 2.35)
        assert t is not None
        ts.append(t)
        us.append(a.value("u4", t))
        assert a.value("u4", t) == pytest.approx(b.value("u4", t), abs=1e-12)
    # the finite-size crossings are shifted, the extrapolation removes the shift exactly
    assert abs(ts[0] - 2.269) > 1e-4
    tc, u_star = extrapolate(sizes, np.array(ts), np.array(us), 1.0, 1.75)
    assert tc == pytest.approx(2.269, abs=1e-9)
    assert u_star == pytest.approx(0.61, abs=1e-9)


def test_no_crossing_in_range_is_none():
    a, b = ScalingForm(16), ScalingForm(32)
    assert _crossing(a, b, 2.0, 2.1) is None


# ----------------------------------------------------------------------------- fss on stores

@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fss") / "small.zarr")
    fill_store(path, [8, 16], [2.15, 2.2, 2.25, 2.3, 2.35, 2.4], 2, 3000)
    return path


def test_fss_on_a_small_store_gives_finite_numbers_with_errors(small_store, capsys):
    code, out, err = cli(capsys, "fss", small_store, "--json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("tc", "u4_star", "gamma_over_nu", "nu"):
        v = data[key]
        assert math.isfinite(v["mean"]) and math.isfinite(v["err"]) and v["err"] > 0, (key, v)
    assert abs(data["tc"]["mean"] - TC) < 0.05
    assert 0.55 < data["u4_star"]["mean"] < 0.67
    assert 1.4 < data["gamma_over_nu"]["mean"] < 2.1
    assert 0.7 < data["nu"]["mean"] < 1.4
    assert [c["sizes"] for c in data["crossings"]] == [[8, 16]]
    assert {"tc", "nu", "gamma_over_nu", "quality"} <= set(data["collapse"])
    assert [s["size"] for s in data["sizes"]] == [8, 16]
    code, out, _ = cli(capsys, "fss", small_store)
    assert code == 0 and "tc" in out and "±" in out


def test_fss_is_deterministic(small_store):
    assert analyse_store(small_store) == analyse_store(small_store)


def one_line_error(capsys, *argv):
    code, out, err = cli(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isinglab: error:"), err
    return lines[0]


def test_fss_refuses_bad_stores(tmp_path, capsys):
    assert "does not exist" in one_line_error(capsys, "fss", str(tmp_path / "missing.zarr"))
    (tmp_path / "file.zarr").write_text("not a store")
    assert "not a Zarr store" in one_line_error(capsys, "fss", str(tmp_path / "file.zarr"))
    os.mkdir(tmp_path / "folder")
    (tmp_path / "folder" / "x.txt").write_text("x")
    assert "not an isinglab sweep store" in one_line_error(capsys, "fss", str(tmp_path / "folder"))
    import zarr
    zarr.open_group(str(tmp_path / "foreign.zarr"), mode="w").attrs["hello"] = 1
    assert "not an isinglab sweep store" in one_line_error(capsys, "fss", str(tmp_path / "foreign.zarr"))
    plan = SweepPlan.build([8, 16], [2.2, 2.3], 2, 100)
    SweepStore.create_or_resume(str(tmp_path / "empty.zarr"), plan)
    assert "no finished tasks" in one_line_error(capsys, "fss", str(tmp_path / "empty.zarr"))


def test_fss_refuses_one_size_and_temperatures_without_a_crossing(tmp_path, capsys):
    one = str(tmp_path / "one.zarr")
    fill_store(one, [8], [2.2, 2.3], 2, 200, thermalize=20)
    assert "at least two lattice sizes" in one_line_error(capsys, "fss", one)
    cold = str(tmp_path / "cold.zarr")
    fill_store(cold, [8, 16], [1.5, 1.6, 1.7], 2, 400, thermalize=50)
    assert "bracket T_c" in one_line_error(capsys, "fss", cold)
    seeds1 = str(tmp_path / "seed.zarr")
    fill_store(seeds1, [8, 16], [2.2, 2.3], 1, 200, thermalize=20)
    assert "two seeds" in one_line_error(capsys, "fss", seeds1)
