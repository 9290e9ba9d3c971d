"""Pseudo-likelihood recovers the Ising couplings: K_nn = J/T, every other coefficient 0."""
import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import pseudolikelihood as pl
from isinglab.core.learning.datasets import generate
from isinglab.core.tasks import Cancelled, TaskState

T = 3.0


@pytest.fixture(scope="module")
def fit():
    f, _ = pl.learn_couplings(16, T, 1500, range_=2, seed=11)
    return f


def test_nearest_neighbour_coupling_is_j_over_t(fit):
    nn = fit.groups()["nn"]
    assert 0 < nn["err"] < 0.006  # 1500 samples of 16^2 pin it to ~1 %
    assert abs(nn["mean"] - 1.0 / T) < 4 * nn["err"]
    for i, op in enumerate(fit.operators):  # each orientation separately, too
        if op.group == "nn":
            assert abs(fit.coefficients[i] - 1.0 / T) < 4 * fit.errors[i]


def test_every_other_coefficient_is_consistent_with_zero(fit):
    others = np.array([op.group != "nn" for op in fit.operators])
    k = fit.coefficients[others]
    err = fit.errors[others]
    assert (err > 0).all() and (err < 0.01).all()
    assert (np.abs(k) < 4 * err).all()
    # jointly, with their correlations: chi^2 with 16 degrees of freedom; P(> 45) ~ 1e-4
    cov = fit.covariance[np.ix_(others, others)]
    chi2 = float(k @ np.linalg.solve(cov, k))
    assert chi2 < 45, chi2


def test_error_bars_are_honest():
    """Two independent fits differ by about their combined error: the sandwich is not too small."""
    a, _ = pl.learn_couplings(12, 2.6, 600, range_=1, seed=21)
    b, _ = pl.learn_couplings(12, 2.6, 600, range_=1, seed=22)
    pulls = (a.coefficients - b.coefficients) / np.hypot(a.errors, b.errors)
    assert np.abs(pulls).max() < 4.5
    assert np.abs(pulls).mean() < 2.0


def test_json_shape(fit):
    out = fit.to_json()
    assert out["beta"] == pytest.approx(1 / T)
    assert set(out["couplings"]) == {"h", "nn", "nnn", "pair(2,0)", "pair(2,1)", "pair(2,2)", "3-spin", "plaquette"}
    assert all(set(v) == {"mean", "err"} for v in out["couplings"].values())
    kernel = np.array(out["kernel"])
    assert kernel.shape == (5, 5) and np.allclose(kernel, kernel[::-1, ::-1])
    assert kernel[2, 3] == pytest.approx(fit.coefficients[1]) and kernel[2, 2] == 0.0
    assert out["exact"]["nn"] == pytest.approx(1 / T) and out["exact"]["plaquette"] == 0.0


def test_full_couplings_show_nearest_neighbour_structure():
    data = generate(6, [T], 3000, seed=5, cache=False)
    full = pl.fit_full_couplings(data.spins, T)
    J = full.couplings
    assert J.shape == (36, 36) and np.allclose(J, J.T) and np.all(np.diag(J) == 0)
    mask = full.neighbour_mask()
    assert mask.sum() == 4 * 36  # four neighbours per site
    other = ~mask & ~np.eye(36, dtype=bool)
    nn, rest = J[mask], J[other]
    assert nn.min() > np.abs(rest).max()  # every bond stands out from every non-bond
    noise = rest.std()
    assert noise < 0.06
    assert abs(nn.mean() - 1 / T) < 4 * noise / np.sqrt(nn.size / 2)  # 72 distinct bonds
    assert abs(rest.mean()) < 4 * noise / np.sqrt(rest.size / 2)


def test_bad_input():
    x = generate(8, [T], 10, cache=False).spins
    with pytest.raises(IsingLabError, match="at least 2"):
        pl.fit_pseudolikelihood(x[:1], T)
    with pytest.raises(IsingLabError, match="L > 2R"):
        pl.fit_pseudolikelihood(x, T, range_=4)
    with pytest.raises(IsingLabError, match="small lattices"):
        pl.fit_full_couplings(np.ones((4, 16, 16), dtype=np.int8), T)
    frozen = np.ones((50, 8, 8), dtype=np.int8)  # all up: couplings are unbounded
    with pytest.raises(IsingLabError):
        pl.fit_pseudolikelihood(frozen, 1.0)


def test_fit_can_be_cancelled():
    x = generate(8, [T], 50, cache=False).spins
    task = TaskState()
    task.cancel()
    with pytest.raises(Cancelled):
        pl.fit_pseudolikelihood(x, T, task=task)
    with pytest.raises(Cancelled):
        pl.learn_couplings(8, T, 50, task=task)
