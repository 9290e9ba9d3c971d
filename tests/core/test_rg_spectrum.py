"""The MCRG's linearised RG matrix: its whole spectrum, and one relevant even eigenvalue at L = 64."""
import math

import numpy as np
import pytest

from isinglab.core.rg import estimate_tc
from isinglab.core.rg.moments import BlockMoments
from isinglab.core.rg.operators import N_OPERATORS
from isinglab.core.rg.spectrum import eigenvalues, exponents, rg_matrix, spectrum, spectrum_steps


def _synthetic(eig, n=4000, noise=0.0, seed=0):
    """Level-0 operators x and level-1 operators B x with B of known eigenvalues: T = B^(-T)."""
    rng = np.random.default_rng(seed)
    q = np.eye(N_OPERATORS) + 0.3 * rng.normal(size=(N_OPERATORS, N_OPERATORS))  # well conditioned
    b = q @ np.diag(eig) @ np.linalg.inv(q)
    x = rng.normal(size=(n, N_OPERATORS))
    z = np.concatenate([x, x @ b.T + noise * rng.normal(size=x.shape)], axis=1)
    return BlockMoments(z, 20), b


def test_rg_matrix_inverts_a_known_linear_map():
    eig = np.array([0.5, 2.0, 4.0, 1.25, 8.0, 1.6])
    moments, b = _synthetic(eig)
    t = rg_matrix(moments.full(), 0)
    assert np.allclose(t, np.linalg.inv(b).T, atol=1e-9)
    ev = eigenvalues(t)
    assert np.allclose(ev.real, [2.0, 1.0 / 1.25, 1.0 / 1.6, 0.5, 0.25, 0.125])
    assert np.allclose(exponents(ev, 2), [1.0, np.log2(0.8), np.log2(0.625), -1.0, -2.0, -3.0])


def test_spectrum_entries_and_jackknife():
    moments, _ = _synthetic(np.array([0.5, 2.0, 4.0, 1.25, 8.0, 1.6]), noise=0.05)
    (step,) = spectrum(moments, 2, size=32, levels=1, nu_levels=[0])
    assert step["step"] == 0 and (step["from"], step["to"]) == (32, 16) and step["used_for_nu"]
    assert step["relevant"] == 1 and step["irrelevant"] == 5 and step["complex"] == 0
    assert step["y"][0] == pytest.approx(1.0, abs=0.02) and 0 < step["y_err"][0] < 0.02
    assert step["lambda"] == sorted(step["lambda"], reverse=True)
    assert np.allclose(2.0 ** np.array(step["y"]), np.abs(step["lambda"]), rtol=1e-6)


def test_singular_matrix_gives_nan_not_an_exception():
    z = np.ones((100, 2 * N_OPERATORS))
    z[:, 0] = np.arange(100)
    t = rg_matrix(BlockMoments(z, 10).full(), 0)
    assert np.isnan(eigenvalues(t)).all()


def test_steps():
    assert spectrum_steps(64, 2, 4) == [0, 1, 2]  # 64 -> 32 -> 16 -> 8; 8 -> 4 left out
    assert spectrum_steps(32, 2, 3) == [0, 1]


def test_one_relevant_even_eigenvalue_at_l64():
    """Acceptance: at L = 64 (default 20000 snapshots) exactly one even eigenvalue above 1 per
    step, y_t = ln(lambda_t) / ln 2 within 5 % of 1/nu = 1."""
    res = estimate_tc(64, seed=0)
    assert [s["step"] for s in res.spectrum] == [0, 1, 2]
    for s in res.spectrum:
        lam = s["lambda"]
        assert lam[0] > 1.0 > lam[1] and sum(v > 1.0 for v in lam) == 1
        assert s["relevant"] == 1 and s["irrelevant"] == N_OPERATORS - 1
        assert abs(s["y"][0] - 1.0) < 0.05
        assert all(y < 0 for y in s["y"][1:])
    # the leading eigenvalue is the one nu comes from
    for e in res.eigen:
        (s,) = [s for s in res.spectrum if s["step"] == e["level"]]
        assert s["used_for_nu"]
        assert s["lambda"][0] == pytest.approx(e["lambda"]["mean"], rel=0.02)
    assert "spectrum" in res.to_json() and math.isfinite(res.to_json()["spectrum"][0]["y"][0])
