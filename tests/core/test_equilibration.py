"""The equilibration test: transients and stripe states are not equilibrium."""
import math

import numpy as np
import pytest

from isinglab.core import exact
from isinglab.core.backends import make_sampler
from isinglab.core.equilibration import (EquilibrationMonitor, drift_test, interface_tension,
                                         is_stripe_state, stripes_impossible)
from isinglab.core.params import ModelParams


def _stripes(L, width, axis=1, shift=0):
    x = np.indices((L, L))[axis]
    return np.where(((x + shift) // width) % 2 == 0, 1, -1).astype(np.int8)


# ------------------------------------------------------------------------------ topology

@pytest.mark.parametrize("axis", [0, 1])
def test_straight_stripes_are_found(axis):
    assert is_stripe_state(_stripes(32, 16, axis))


def test_unequal_and_rough_stripes_are_found():
    s = _stripes(64, 48)  # 48 up, 16 down columns
    rng = np.random.default_rng(1)
    noise = rng.random(s.shape) < 0.05  # thermal flips inside the domains
    s[noise] *= -1
    assert is_stripe_state(s)


def test_diagonal_stripe_is_found():
    L = 32
    y, x = np.indices((L, L))
    s = np.where(((x + y) % L) < L // 2, 1, -1).astype(np.int8)  # winds (1, 1)
    assert is_stripe_state(s)


def test_ordered_lattice_with_islands_is_not_a_stripe():
    s = np.ones((64, 64), np.int8)
    s[10:20, 10:30] = -1
    s[40:45, 50:64] = -1  # an island touching the edge, not wrapping
    s[40:45, 0:3] = -1  # ... and continuing across it: still an island on the torus
    assert not is_stripe_state(s)


def test_band_cut_by_a_bridge_is_not_a_stripe():
    s = _stripes(32, 16)
    s[5, :] = 1  # an up row cuts the down stripe into an island
    assert not is_stripe_state(s)


def test_random_lattice_is_not_a_stripe():
    rng = np.random.default_rng(0)  # p = 1/2 < site percolation threshold 0.593 for either sign
    s = rng.choice(np.array([-1, 1], np.int8), (128, 128))
    assert not is_stripe_state(s)


def test_antiferromagnet_is_tested_on_staggered_spins():
    L = 32
    y, x = np.indices((L, L))
    checker = np.where((x + y) % 2 == 0, 1, -1).astype(np.int8)
    assert not is_stripe_state(checker, coupling=-1.0)
    assert is_stripe_state(checker * _stripes(L, 16), coupling=-1.0)


def test_interface_tension_limits():
    assert interface_tension(exact.TC) == 0.0 and interface_tension(3.0) == 0.0
    assert interface_tension(1e-3) == pytest.approx(2.0, abs=1e-6)
    assert interface_tension(1.5) == pytest.approx(2 + 1.5 * math.log(math.tanh(1 / 1.5)))
    assert stripes_impossible(128, 1.5, 1.0, 0.0)
    assert not stripes_impossible(128, 2.26, 1.0, 0.0)  # near T_c a stripe is ordinary
    assert not stripes_impossible(128, 1.5, 1.0, 0.1)


# ------------------------------------------------------------------------------ drift

def test_stationary_noise_passes():
    rng = np.random.default_rng(3)
    passes = 0
    for _ in range(40):
        e, a = rng.normal(-1.5, 0.01, 400), rng.normal(0.9, 0.01, 400)
        passes += drift_test(e, a).equilibrated
    assert passes >= 36  # 3 sigma on two observables: ~0.5 % false alarms each


def test_too_few_samples():
    state = drift_test(np.zeros(10), np.zeros(10))
    assert not state.equilibrated and state.reason == "too few samples"


def test_frozen_series_passes():
    assert drift_test(np.full(100, -2.0), np.ones(100)).equilibrated


@pytest.mark.parametrize("n", [200, 2000, 20000])
def test_coarsening_never_passes(n):
    """e(t) = e_eq + A t^-1/2 with noise: the power-law approach of coarsening."""
    rng = np.random.default_rng(n)
    t = np.arange(1, n + 1)
    e = -1.95 + 0.5 / np.sqrt(t) + rng.normal(0, 0.002, n)
    a = 0.98 - 0.8 / np.sqrt(t) + rng.normal(0, 0.002, n)
    assert not drift_test(e, a).equilibrated


def test_exponential_relaxation_passes_once_it_is_over():
    rng = np.random.default_rng(5)
    t = np.arange(4000)
    e = -1.5 + 0.3 * np.exp(-t / 50) + rng.normal(0, 0.01, t.size)
    a = 0.5 + rng.normal(0, 0.01, t.size)
    assert not drift_test(e[:150], a[:150]).equilibrated
    assert drift_test(e, a).equilibrated


# ------------------------------------------------------------------------------ real quenches

def _quench(L, T, seed, sweeps, algorithm="metropolis"):
    s = make_sampler(ModelParams(size=L, temperature=T, algorithm=algorithm, seed=seed), initial="random")
    mon = EquilibrationMonitor()
    kept_e = []
    for _ in range(sweeps):
        _, e, m, spins = s.advance(1, copy_spins=True)
        mon.check_spins(spins, L, T, 1.0, 0.0)
        if mon.add(e, abs(m)):
            kept_e.append(e)
    return mon, np.array(kept_e), spins


@pytest.mark.slow
def test_quench_keeps_only_equilibrium_samples():
    """Quench from random to T = 1.5: whichever seeds reach equilibrium in the run agree with
    Kaufman's exact energy; the ones that do not say why (drift, or a stripe state)."""
    L, T = 32, 1.5
    exact_e = float(exact.kaufman_energy(L, T))
    reasons = []
    for seed in range(8):
        mon, kept, spins = _quench(L, T, seed, 6000)
        reasons.append(mon.state.reason)
        if mon.equilibrated:
            assert kept.size > 1000
            err = kept.std(ddof=1) * math.sqrt(2 * 20 / kept.size)  # tau_int(e) < 20 sweeps here
            assert abs(kept.mean() - exact_e) < 5 * err + 1e-4
            assert not is_stripe_state(spins)
        else:
            assert kept.size == 0
    assert reasons.count("equilibrated") >= 3


@pytest.mark.slow
def test_stripe_state_is_not_equilibrium():
    """A stripe built by hand at T = 1.5 (L = 128: its walls take ~10^4 sweeps to meet): while
    it lasts the monitor never declares equilibrium, whatever the series do, and says why."""
    L, T = 128, 1.5
    s = make_sampler(ModelParams(size=L, temperature=T, seed=4), spins=_stripes(L, 64))
    mon = EquilibrationMonitor()
    for _ in range(1000):
        _, e, m, spins = s.advance(1, copy_spins=True)
        mon.check_spins(spins, L, T, 1.0, 0.0)
        mon.add(e, abs(m))
        assert not mon.equilibrated
    assert is_stripe_state(spins)  # still a stripe
    assert mon.state.reason == "stripe state" and "stripe" in mon.state.describe()


# ------------------------------------------------------------------------------ the engine's T-scan

def _engine_scan(L, T, seed, sweeps, all_after=None):
    """Run the live engine (its own thread, chunked as in the app) from a random start and
    bin its measurements as the observables panel does: the counted ones, or with all_after,
    every measurement after that many sweeps (the old fixed rule)."""
    import time

    from isinglab.core.engine import Engine
    from isinglab.core.tscan import TemperatureScan
    eng = Engine(ModelParams(size=L, temperature=T, seed=seed), initial="random")
    eng.set_sweeps_per_chunk(20)  # fixed chunks: the same series on any machine
    eng.start()
    eng.set_running(True)
    samples = []
    try:
        while eng.latest().sweeps < sweeps:
            samples += eng.drain_measurements()
            time.sleep(0.02)
    finally:
        eng.stop()
    samples += eng.drain_measurements()
    scan = TemperatureScan(L)
    keep = [s for s in samples if (s.sweeps > all_after if all_after is not None else s.equilibrated)]
    if keep:
        scan.add([s.temperature for s in keep], [s.e for s in keep], [s.m for s in keep])
    return scan.result(), eng.latest()


def _bins_agree_with_kaufman(res, L):
    if res["T"].size == 0:
        return True
    e_exact = exact.kaufman_energy(L, res["T_mean"])
    c_exact = exact.kaufman_specific_heat(L, res["T_mean"])
    ok_e = np.abs(res["e"]["mean"] - e_exact) <= 5 * res["e"]["err"]
    ok_c = np.abs(res["c"]["mean"] - c_exact) <= 5 * res["c"]["err"]
    return bool(np.all(ok_e & ok_c))


@pytest.mark.slow
@pytest.mark.parametrize("L", [128, 256])
def test_quench_shows_only_bins_that_agree_with_kaufman(L):
    """Quench from random to T = 1.5: every T-scan bin shown agrees with Kaufman's e and c for
    that L within 5 of its error bars, or no bin is shown. At L = 256 the old rule (skip 100
    sweeps) fails the same comparison (c ~ 0.6-1.9 instead of 0.197), so the test tells them
    apart; one of these seeds ends in a stripe state."""
    T, sweeps = 1.5, {128: 3000, 256: 4000}[L]
    old_rule_failed = False
    for seed in range(3):
        res, snap = _engine_scan(L, T, seed, sweeps)
        assert _bins_agree_with_kaufman(res, L), (seed, snap.equilibration)
        if res["T"].size == 0:
            assert not snap.equilibration.equilibrated
        if L == 256:
            old, _ = _engine_scan(L, T, seed, sweeps, all_after=100)
            old_rule_failed |= not _bins_agree_with_kaufman(old, L)
    if L == 256:
        assert old_rule_failed


def _slow_drag(L, seed, sweeps_per_step=400, step=0.01, chunk=5):
    """Drag T from 3.5 down to 1.5 in steps of `step`, `sweeps_per_step` sweeps at each, through
    the live engine (its thread, its equilibration test), stepped while paused so that the
    series is the same on any machine; bin the counted measurements as the observables panel does."""
    import time

    from isinglab.core.engine import Engine
    from isinglab.core.tscan import TemperatureScan
    eng = Engine(ModelParams(size=L, temperature=3.5, seed=seed, algorithm="wolff"), initial="random")
    eng.set_sweeps_per_chunk(chunk)
    eng.start()
    samples = []
    try:
        for T in np.arange(3.5, 1.5 - 1e-9, -step):
            eng.request(temperature=float(T))
            for _ in range(sweeps_per_step // chunk):
                target = eng.latest().sweeps + chunk
                eng.step(chunk)
                while eng.latest().sweeps < target:
                    time.sleep(0.0005)
            samples += eng.drain_measurements()
    finally:
        eng.stop()
    keep = [s for s in samples if s.equilibrated]
    scan = TemperatureScan(L)
    scan.add([s.temperature for s in keep], [s.e for s in keep], [s.m for s in keep])
    return scan.result()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 3])
def test_slow_drag_reproduces_the_exact_curves_at_every_bin(seed):
    """Issue 16's acceptance: a slow drag 3.5 -> 1.5 (0.01 per 400 Wolff sweeps, L = 32) gives a
    T-scan whose every bin agrees with Kaufman's exact e and c within 5 error bars, across the
    whole range (measured, seeds 1-4: 101 bins each, largest deviation 4.6 error bars, in c).
    A faster or a Metropolis drag lags behind near T_c (tau_int ~ L^2.2 sweeps) and is not slow
    in this sense."""
    L = 32
    res = _slow_drag(L, seed)
    assert res["T"].size >= 95 and res["T"].min() <= 1.52 and res["T"].max() >= 3.46
    assert _bins_agree_with_kaufman(res, L)
