"""Every simulation path against exact results: enumeration (4x4), Kaufman (finite torus), Onsager.

Tolerances are 4 of the run's own error bars (binning/jackknife, autocorrelation included), and each
test also bounds the error bar itself so that a test cannot pass by being vague.
"""
import numpy as np
import pytest
from scipy import stats

from isinglab.core import exact, simulation
from isinglab.core.params import ModelParams

TC = exact.TC
LOCAL = ("metropolis", "heatbath")
CLUSTER = ("wolff", "swendsen-wang")
SMALL_L_ALGORITHMS = LOCAL + CLUSTER


def measure(algorithm, size, temperature, sweeps, thermalize=2000, seed=1, initial="random", **kw):
    p = ModelParams(size=size, temperature=temperature, algorithm=algorithm, seed=seed, **kw)
    return simulation.run(p, sweeps=sweeps, thermalize=thermalize, initial=initial)


def assert_within(obs, name, exact_value, max_err, nsigma=4.0):
    mean, err = obs[name]["mean"], obs[name]["err"]
    assert err <= max_err, f"{name}: error bar {err:.3g} larger than the {max_err:.3g} the test needs"
    assert abs(mean - exact_value) <= nsigma * err + 1e-12, (
        f"{name}: {mean:.5f} ± {err:.5f} vs exact {exact_value:.5f} ({abs(mean - exact_value) / err:.1f} sigma)")


@pytest.mark.parametrize("algorithm", SMALL_L_ALGORITHMS)
@pytest.mark.parametrize("temperature", [1.5, TC, 3.0])
def test_4x4_matches_enumeration(algorithm, temperature):
    res = measure(algorithm, 4, temperature, sweeps=60000)
    ex = exact.enumeration_observables(4, temperature)
    assert_within(res.observables, "e", ex["e"], max_err=0.005)
    assert_within(res.observables, "m2", ex["m2"], max_err=0.005)
    assert_within(res.observables, "u4", ex["u4"], max_err=0.01)


@pytest.mark.parametrize("algorithm", SMALL_L_ALGORITHMS)
def test_4x4_energy_histogram_matches_density_of_states(algorithm):
    """Chi-square of the energy histogram against the exact distribution at T_c.

    Samples are thinned to a spacing of 3 tau_int so they are close to independent; p > 1e-4 then
    fails only for a wrong distribution (a biased kernel gives p ~ 0 at this sample size).
    """
    res = measure(algorithm, 4, TC, sweeps=60000, seed=7)
    tau = max(res.tau_int["e"], 0.5)
    spacing = max(1, int(np.ceil(3 * tau)))
    energies = np.rint(res.e[::spacing] * 16).astype(int)
    levels, probs = exact.energy_distribution(4, TC)
    expected = probs * len(energies)
    counts = np.array([(energies == round(E)).sum() for E in levels])
    assert counts.sum() == len(energies), "simulated energies off the exact spectrum"
    keep = expected >= 5  # pool the rare levels so the chi-square approximation holds
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    chi2, p = stats.chisquare(obs, exp)
    assert p > 1e-4, f"{algorithm}: chi2 = {chi2:.1f} on {len(obs) - 1} dof, p = {p:.2g}"


@pytest.mark.parametrize("algorithm", SMALL_L_ALGORITHMS)
@pytest.mark.parametrize("temperature", [2.0, TC, 3.0])
def test_16x16_matches_kaufman(algorithm, temperature):
    sweeps = 40000 if algorithm in CLUSTER else 120000
    res = measure(algorithm, 16, temperature, sweeps=sweeps, seed=3)
    assert_within(res.observables, "e", exact.kaufman_energy(16, temperature), max_err=0.003)
    c_exact = exact.kaufman_specific_heat(16, temperature)
    assert_within(res.observables, "c", c_exact, max_err=0.05 * c_exact)


@pytest.mark.parametrize("temperature", [2.0, 3.0])
def test_multispin_matches_kaufman_at_its_smallest_size(temperature):
    # a cold start below T_c: from a hot start L = 128 can stay for very long in a striped state
    # (two domain walls across the torus), which Kaufman's ensemble weighs as negligible
    res = measure("multispin", 128, temperature, sweeps=6000, thermalize=1000, seed=5,
                  initial="up" if temperature < exact.TC else "random")
    assert_within(res.observables, "e", exact.kaufman_energy(128, temperature), max_err=0.0005)
    c_exact = exact.kaufman_specific_heat(128, temperature)
    assert_within(res.observables, "c", c_exact, max_err=0.05 * c_exact)


def test_metropolis_and_wolff_agree_on_binder_cumulant_at_tc():
    met = measure("metropolis", 32, TC, sweeps=60000, thermalize=5000, seed=11).observables["u4"]
    wol = measure("wolff", 32, TC, sweeps=20000, thermalize=500, seed=12).observables["u4"]
    diff, err = met["mean"] - wol["mean"], np.hypot(met["err"], wol["err"])
    assert err < 0.01
    assert abs(diff) < 4 * err, f"U4: metropolis {met} vs wolff {wol}"
    assert 0.55 < wol["mean"] < 0.66  # the universal value ~0.61 at T_c, finite-size shifted


@pytest.mark.parametrize("algorithm", ["metropolis", "multispin"])
def test_spontaneous_magnetisation_matches_onsager(algorithm):
    res = simulation.run(ModelParams(size=128, temperature=2.0, algorithm=algorithm, seed=2),
                         sweeps=3000, thermalize=500, initial="up")
    assert_within(res.observables, "m_abs", exact.onsager_magnetisation(2.0), max_err=0.001)


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "wolff", "swendsen-wang", "multispin"])
def test_antiferromagnet_has_the_ferromagnet_energy(algorithm):
    size = 128 if algorithm == "multispin" else 16
    ferro = exact.kaufman_energy(size, 2.5)
    res = measure(algorithm, size, 2.5, sweeps=3000 if size == 128 else 60000, seed=4, coupling=-1.0)
    assert_within(res.observables, "e", ferro, max_err=0.003)
    assert abs(res.observables["m"]["mean"]) < 0.2  # no uniform order: the order is staggered


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "multispin"])
def test_field_shifts_magnetisation_towards_h(algorithm):
    size = 128 if algorithm == "multispin" else 4
    sweeps = 2000 if size == 128 else 40000
    up = measure(algorithm, size, 3.0, sweeps=sweeps, seed=6, field=0.2).observables["m"]
    down = measure(algorithm, size, 3.0, sweeps=sweeps, seed=6, field=-0.2).observables["m"]
    assert up["mean"] > 4 * up["err"] and down["mean"] < -4 * down["err"]
    if size == 4:
        assert_within({"m": up}, "m", exact.enumeration_observables(4, 3.0, field=0.2)["m"], max_err=0.01)


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "wolff", "swendsen-wang", "multispin"])
def test_same_seed_same_trajectory(algorithm):
    size = 128 if algorithm == "multispin" else 32
    runs = [measure(algorithm, size, TC, sweeps=20, thermalize=5, seed=s) for s in (9, 9, 10)]
    assert np.array_equal(runs[0].spins, runs[1].spins)
    assert np.array_equal(runs[0].e, runs[1].e)
    assert not np.array_equal(runs[0].spins, runs[2].spins)
