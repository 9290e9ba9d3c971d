"""Tests of core/exact.py: the exact results checked against each other and the literature."""
import math

import numpy as np
import pytest

from isinglab.core import exact as ex
from isinglab.core.errors import IsingLabError

TC = ex.TC
TEMPS = [0.5, 1.5, TC, 3.0, 10.0]


def rel(a, b):
    return abs(a - b) / abs(b)


# --------------------------------------------------------------------------- constants

def test_critical_constants():
    assert TC == pytest.approx(2.269185314213022, rel=1e-15)
    assert ex.KC * TC == pytest.approx(1.0, rel=1e-15)
    assert math.sinh(2.0 * ex.KC) == pytest.approx(1.0, rel=1e-14)  # self-duality
    assert ex.critical_temperature(-2.0) == 2.0 * TC


# --------------------------------------------------------------------------- Kaufman

@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", TEMPS)
def test_kaufman_equals_enumeration(L, T):
    ref = ex.enumeration_observables(L, T)
    assert rel(ex.kaufman_log_z(L, T), ref["log_z"]) < 1e-9
    assert rel(ex.kaufman_energy(L, T), ref["e"]) < 1e-9
    assert rel(ex.kaufman_specific_heat(L, T), ref["c"]) < 1e-9
    assert rel(ex.kaufman_free_energy(L, T), -T * ref["log_z"] / L**2) < 1e-9


@pytest.mark.parametrize("T,tol", [(0.25, 1e-5), (0.3, 1e-7), (0.4, 1e-9)])
def test_kaufman_low_temperature_specific_heat(T, tol):
    # C/N ~ 1e-11 .. 1e-6: the small-variance regime where cancellations bite first
    assert rel(ex.kaufman_specific_heat(4, T), ex.enumeration_observables(4, T)["c"]) < tol


def _mp_reference(L, T):
    """ln Z, e, c from Kaufman's formula in 40-digit arithmetic, derivatives by mpmath."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40

    def log_z(K):
        s = mp.sinh(2 * K)
        c = mp.cosh(2 * K) ** 2 / s
        g = [mp.acosh(c - mp.cos(mp.pi * l / L)) for l in range(2 * L)]
        g[0] = 2 * K + mp.log(mp.tanh(K))
        z = [mp.mpf(1)] * 4
        for r in range(L):
            a, b = L * g[2 * r + 1] / 2, L * g[2 * r] / 2
            z = [z[0] * 2 * mp.cosh(a), z[1] * 2 * mp.sinh(a),
                 z[2] * 2 * mp.cosh(b), z[3] * 2 * mp.sinh(b)]
        return -mp.log(2) + L * L * mp.log(2 * s) / 2 + mp.log(sum(z))

    K = 1 / mp.mpf(T)
    N = L * L
    return (float(log_z(K)), float(-mp.diff(log_z, K, 1) / N),
            float(K**2 * mp.diff(log_z, K, 2) / N))


@pytest.mark.parametrize("L,T", [(1024, TC), (64, 1.5), (64, 3.0), (64, 1000.0)])
def test_kaufman_against_high_precision(L, T):
    lz, e, c = _mp_reference(L, T)
    assert rel(ex.kaufman_log_z(L, T), lz) < 1e-12
    assert rel(ex.kaufman_energy(L, T), e) < 1e-8
    assert rel(ex.kaufman_specific_heat(L, T), c) < 1e-8


@pytest.mark.parametrize("T", [1.8, 3.0])
def test_kaufman_approaches_onsager(T):
    assert abs(ex.kaufman_energy(2048, T) - ex.onsager_energy(T)) < 1e-6
    assert abs(ex.kaufman_specific_heat(2048, T) - ex.onsager_specific_heat(T)) < 1e-6
    # below T_c the torus keeps the two-fold ground degeneracy: T ln2 / N ~ 3e-7
    assert abs(ex.kaufman_free_energy(2048, T) - ex.onsager_free_energy(T)) < 1e-6


def test_kaufman_specific_heat_grows_logarithmically_at_tc():
    amplitude = (2.0 / math.pi) * (2.0 * ex.KC) ** 2  # Ferdinand & Fisher: 0.4945 ln L
    assert amplitude == pytest.approx(0.4945, abs=1e-4)
    step = ex.kaufman_specific_heat(128, TC) - ex.kaufman_specific_heat(64, TC)
    assert step == pytest.approx(amplitude * math.log(2.0), rel=0.01)


@pytest.mark.parametrize("L", [2, 16, 1024, 4096])
def test_kaufman_finite_everywhere(L):
    temps = [0.05, 0.5, TC, TC * (1 + 1e-12), 100.0]
    for T in temps:
        vals = [ex.kaufman_log_z(L, T), ex.kaufman_energy(L, T),
                ex.kaufman_specific_heat(L, T), ex.kaufman_free_energy(L, T)]
        assert all(math.isfinite(v) for v in vals), (L, T, vals)
        assert -2.0 <= vals[1] <= 0.0 and vals[2] >= 0.0
    # gamma_0 crosses zero at T_c: the values must be continuous through it
    for f in (ex.kaufman_energy, ex.kaufman_specific_heat):
        below, at, above = f(L, [TC * (1 - 1e-12), TC, TC * (1 + 1e-12)])
        scale = 1e-8 * max(1.0, abs(at))
        assert abs(below - at) < scale and abs(above - at) < scale


@pytest.mark.filterwarnings("error")
def test_extreme_temperatures_are_quiet():
    for T in (1e-3, 0.0199, 0.0201):  # either side of the ground-state switch at K = 50
        assert ex.kaufman_energy(64, T) == -2.0
        assert ex.kaufman_log_z(64, T) == pytest.approx(math.log(2) + 2 * 4096 / T, rel=1e-15)
        assert 0.0 <= ex.kaufman_specific_heat(64, T) < 1e-50
    assert ex.onsager_energy(1e-3) == -2.0 and ex.onsager_magnetisation(1e-3) == 1.0
    assert ex.onsager_free_energy(1e-3) == pytest.approx(-2.0, rel=1e-14)
    assert np.all(np.isfinite(ex.onsager_specific_heat([1e-3, 1e4])))


def test_kaufman_vectorised():
    T = np.array([[1.0, 2.0], [TC, 5.0]])
    e = ex.kaufman_energy(8, T)
    assert e.shape == T.shape
    assert e[1, 0] == ex.kaufman_energy(8, TC)


# --------------------------------------------------------------------------- Onsager

def test_onsager_energy_at_tc():
    assert ex.onsager_energy(TC) == -math.sqrt(2.0)
    assert ex.onsager_energy(TC * (1 + 1e-12)) == pytest.approx(-math.sqrt(2.0), abs=1e-9)
    assert ex.onsager_specific_heat(TC) == math.inf


def test_onsager_magnetisation():
    expected = (1.0 - math.sinh(1.0) ** -4) ** 0.125
    assert ex.onsager_magnetisation(2.0) == pytest.approx(expected, rel=1e-14)
    assert round(ex.onsager_magnetisation(2.0), 4) == 0.9113
    assert ex.onsager_magnetisation(0.05) == pytest.approx(1.0, abs=1e-15)
    assert list(ex.onsager_magnetisation([TC, 3.0])) == [0.0, 0.0]


@pytest.mark.parametrize("T", [1.5, 2.0, 2.5, 3.5])
def test_onsager_specific_heat_is_du_dT(T):
    h = 1e-5 * T
    du = (ex.onsager_energy(T + h) - ex.onsager_energy(T - h)) / (2 * h)
    assert rel(ex.onsager_specific_heat(T), du) < 1e-6


def test_onsager_correlation_length():
    assert round(ex.onsager_correlation_length(2.6), 3) == 4.274
    assert round(ex.onsager_correlation_length(2.5), 3) == 5.962
    assert ex.onsager_correlation_length(TC) == math.inf
    # below T_c: 1/xi = 2(2K - ln coth K), i.e. twice the dual-side inverse length
    K = 1 / 2.0
    assert ex.onsager_correlation_length(2.0) == pytest.approx(
        1.0 / (2 * (2 * K - math.log(1 / math.tanh(K)))), rel=1e-14)
    xi = ex.onsager_correlation_length([1.5, 2.0, 2.2, 2.3, 2.6, 4.0])
    assert np.all(np.diff(xi[:3]) > 0) and np.all(np.diff(xi[3:]) < 0)  # grows towards T_c


def test_onsager_limits_and_shapes():
    assert ex.onsager_energy(0.05) == pytest.approx(-2.0, abs=1e-12)
    assert ex.onsager_energy(1000.0) == pytest.approx(-2.0 / 1000.0, rel=1e-5)  # high-T: -2K
    assert ex.onsager_specific_heat(1000.0) == pytest.approx(2.0 / 1000.0**2, rel=1e-4)
    u = ex.onsager_energy(np.full((2, 3), 2.5))
    assert u.shape == (2, 3) and isinstance(ex.onsager_energy(2.5), float)


# --------------------------------------------------------------------------- sign of J, field

def test_antiferromagnet_matches_ferromagnet():
    for T in (1.5, TC, 4.0):
        assert ex.onsager_energy(T, -1.0) == ex.onsager_energy(T, 1.0)
        assert ex.onsager_specific_heat(T, -1.0) == ex.onsager_specific_heat(T, 1.0)
        assert ex.kaufman_energy(16, T, -1.0) == ex.kaufman_energy(16, T, 1.0)
        assert ex.kaufman_specific_heat(16, T, -1.0) == ex.kaufman_specific_heat(16, T, 1.0)
        afm = ex.enumeration_observables(4, T, coupling=-1.0)  # real J < 0 sum over states
        assert rel(afm["e"], ex.kaufman_energy(4, T)) < 1e-12
        assert rel(afm["c"], ex.kaufman_specific_heat(4, T)) < 1e-12
    with pytest.raises(IsingLabError, match="frustrated"):
        ex.kaufman_energy(3, 2.0, -1.0)


def test_coupling_scales_temperature():
    e2, e1 = ex.kaufman_energy(8, 3.0, 2.0), ex.kaufman_energy(8, 1.5)
    assert e2 == pytest.approx(2.0 * e1, rel=1e-13)
    c2, c1 = ex.onsager_specific_heat(3.0, 2.0), ex.onsager_specific_heat(1.5)
    assert c2 == pytest.approx(c1, rel=1e-13)


def test_field_magnetises():
    m = [ex.enumeration_observables(4, 3.0, field=h)["m"] for h in (0.0, 0.1, 0.5, 2.0)]
    assert abs(m[0]) < 1e-15
    assert 0.0 < m[1] < m[2] < m[3] < 1.0
    assert ex.enumeration_observables(4, 3.0, field=-0.5)["m"] == pytest.approx(-m[2], rel=1e-12)


# --------------------------------------------------------------------------- enumeration

@pytest.mark.parametrize("L", [2, 3, 4])
def test_density_of_states(L):
    bonds, mags, deg = ex.density_of_states(L)
    N = L * L
    assert deg.sum() == 2**N
    assert bonds.max() == 2 * N and deg[bonds == 2 * N].sum() == 2  # two ground states
    assert np.all(np.abs(mags) <= N) and np.all((mags - N) % 2 == 0)
    assert np.array_equal(np.sort(-mags), np.sort(mags))  # spin-flip symmetry
    with pytest.raises(ValueError):
        deg[0] = 5  # the cached arrays are read-only


def test_density_of_states_l2_counts_pairs_twice():
    bonds, mags, deg = ex.density_of_states(2)
    # one flipped spin of four: its 2 neighbours are each linked by 2 bonds, 4 of 8 broken
    assert deg[(bonds == 0) & (mags == 2)].sum() == 4
    assert set(bonds.tolist()) == {-8, 0, 8}


def test_enumeration_observables_consistent():
    obs = ex.enumeration_observables(4, 2.0)
    assert set(obs) == {"e", "c", "m", "m_abs", "m2", "m4", "chi", "u4", "log_z"}
    assert all(type(v) is float for v in obs.values())
    assert obs["chi"] == pytest.approx(16 * (obs["m2"] - obs["m_abs"] ** 2) / 2.0)
    assert obs["u4"] == pytest.approx(1 - obs["m4"] / (3 * obs["m2"] ** 2))
    assert ex.enumeration_observables(4, 0.2)["u4"] == pytest.approx(2 / 3, abs=1e-9)
    assert ex.enumeration_observables(4, 1e4)["log_z"] == pytest.approx(16 * math.log(2), rel=1e-6)


def test_energy_distribution():
    E, p = ex.energy_distribution(4, 2.5)
    assert np.all(np.diff(E) > 0) and p.sum() == pytest.approx(1.0, abs=1e-14)
    assert E[0] == -32.0 and 0.0 not in np.diff(E)
    assert (p @ E) / 16 == pytest.approx(ex.enumeration_observables(4, 2.5)["e"], rel=1e-13)
    E, p = ex.energy_distribution(3, 1.0, field=0.25)
    assert np.all(np.diff(E) > 1e-6) and p.sum() == pytest.approx(1.0, abs=1e-14)
    obs = ex.enumeration_observables(3, 1.0, field=0.25)
    assert (p @ E) / 9 == pytest.approx(obs["e"], rel=1e-13)


# --------------------------------------------------------------------------- summary, errors

def test_exact_summary():
    s = ex.exact_summary(4, TC)
    assert set(s) == {"size", "temperature", "coupling", "field",
                      "finite_size", "enumeration", "onsager"}
    assert s["finite_size"]["c"] == pytest.approx(s["enumeration"]["c"], rel=1e-12)
    assert s["onsager"]["c"] == math.inf and s["onsager"]["tc"] == TC
    for part in ("finite_size", "enumeration", "onsager"):
        assert all(type(v) is float for v in s[part].values())
    s = ex.exact_summary(32, 2.0, field=0.1)
    assert set(s) == {"size", "temperature", "coupling", "field"}
    assert "finite_size" not in ex.exact_summary(5, 2.0, -1.0)


@pytest.mark.parametrize("call", [
    lambda: ex.enumeration_observables(5, 2.0),
    lambda: ex.density_of_states(0),
    lambda: ex.energy_distribution(2.5, 2.0),
    lambda: ex.kaufman_log_z(1, 2.0),
    lambda: ex.kaufman_energy(True, 2.0),
    lambda: ex.kaufman_energy(8, 0.0),
    lambda: ex.kaufman_specific_heat(8, -1.0),
    lambda: ex.kaufman_specific_heat(8, [1.0, float("nan")]),
    lambda: ex.onsager_energy(float("inf")),
    lambda: ex.onsager_energy("hot"),
    lambda: ex.onsager_magnetisation(2.0, coupling=0.0),
    lambda: ex.enumeration_observables(3, 2.0, field=float("nan")),
    lambda: ex.exact_summary(4, -2.0),
])
def test_bad_input_raises(call):
    with pytest.raises(IsingLabError):
        call()
