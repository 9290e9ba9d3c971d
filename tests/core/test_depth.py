"""Depth: the gate tree and the 2^n-neuron layer multiply to their stated error; training (n <= 4)."""
import math

import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import depth, gate

# softplus^(k)(0), k = 1..12: 1/2, then the logistic function's derivatives (odd ones >= 3 vanish)
SOFTPLUS_AT_0 = [0.5, 0.25, 0.0, -0.125, 0.0, 0.25, 0.0, -17 / 16, 0.0, 31 / 4, 0.0, -691 / 8]


def test_softplus_derivatives_exact_and_by_finite_differences():
    for k, value in enumerate(SOFTPLUS_AT_0, start=1):
        assert float(depth.derivative("softplus", k, 0.0)) == pytest.approx(value, abs=1e-12)
    b, h = 1.3, 1e-3  # the 3rd derivative as a central difference of the 2nd
    fd = (depth.derivative("softplus", 2, b + h) - depth.derivative("softplus", 2, b - h)) / (2 * h)
    assert float(depth.derivative("softplus", 3, b)) == pytest.approx(float(fd), rel=1e-5)
    assert float(depth.derivative("exp", 7, 0.4)) == pytest.approx(math.exp(0.4))


def test_operating_point_moves_only_where_the_derivative_vanishes():
    for n in range(2, 13):
        b = depth.operating_point("softplus", n)
        assert (b == 0.0) == (n % 2 == 0)
        assert abs(float(depth.derivative("softplus", n, b))) > 1e-3
        assert depth.operating_point("exp", n) == 0.0


def test_counts():
    for n in range(2, 11):
        assert depth.deep_neurons(n) == 4 * (n - 1) and depth.shallow_neurons(n) == 2**n
        assert depth.deep_parameters(n) == 17 * (n - 1)
        assert depth.shallow_parameters(n) == 2**n * (n + 2) + 1
        levels = depth.tree_pairs(n)
        assert sum(len(lv) for lv in levels) == n - 1 and len(levels) == math.ceil(math.log2(n))
    assert depth.shallow_parameters(2) == depth.deep_parameters(2)  # n = 2: both are the gate


@pytest.mark.parametrize("name", ["softplus", "exp"])
def test_two_inputs_is_the_gate(name):
    x = depth.random_points(2, 500, seed=3)
    for lam in (0.5, 0.05):
        g = gate.gate(x[:, 0], x[:, 1], lam, name)
        assert np.allclose(depth.shallow_product(x, lam, name), g, rtol=1e-9, atol=1e-12)
        assert np.allclose(depth.deep_product(x, lam, name), g, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["softplus", "exp"])
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_shallow_error_is_the_leading_taylor_term(name, n):
    x = depth.random_points(n, 400, seed=n)
    lam = 0.05
    err = depth.shallow_product(x, lam, name) - np.prod(x, axis=1)
    lead = depth.shallow_leading_error(x, lam, name)
    assert np.abs(err - lead).max() < 0.05 * np.abs(lead).max()


def test_errors_fall_as_lambda_squared_until_rounding():
    for n in range(2, 11):
        deep, _ = depth.construct(n, [0.1, 0.01])
        assert 90 < deep.max_errors[0] / deep.max_errors[1] < 110
        for lam, e in zip(deep.scales, deep.max_errors):  # each gate errs by <= lambda^2 / 6, and they add up
            assert e <= 1.01 * (n - 1) * lam**2 / 6
    for n in (2, 3, 4):
        _, shallow = depth.construct(n, [0.1, 0.01])
        assert 90 < shallow.max_errors[0] / shallow.max_errors[1] < 110
    # both go to 0 with lambda: at n = 10, 1e-6 for the tree, but the 2^n-term sum hits rounding first
    deep, shallow = depth.construct(10, [0.1, 0.03, 0.003])
    assert deep.max_errors[2] < 1e-6 and shallow.max_errors[1] < shallow.max_errors[0]
    assert shallow.max_errors[2] > 100 * shallow.max_errors[1]  # eps / (lambda^10 sigma^(10)): rounding
    assert shallow.to_json()["lambda"] == 0.03 and deep.to_json()["lambda"] == 0.003


def test_construct_reports_json():
    deep, shallow = depth.construct(3, [0.1, 0.01], points=100)
    d, s = deep.to_json(), shallow.to_json()
    assert (d["neurons"], d["params"], s["neurons"], s["params"]) == (8, 34, 8, 41)
    assert [e["lambda"] for e in d["errors"]] == [0.1, 0.01] and s["bias"] > 0  # n = 3: shifted bias
    assert d["max_error"] == min(e["max_error"] for e in d["errors"])


@pytest.mark.parametrize("call, words", [
    (lambda: depth.construct(1), "2..12"),
    (lambda: depth.construct(13), "2..12"),
    (lambda: depth.construct(3, [0.0]), "> 0"),
    (lambda: depth.construct(3, [float("nan")]), "finite"),
    (lambda: depth.construct(3, []), "at least one"),
    (lambda: depth.construct(3, nonlinearity="tanh"), "unknown nonlinearity"),
    (lambda: depth.construct(3, points=0), "test points"),
])
def test_bad_input(call, words):
    with pytest.raises(IsingLabError, match=words):
        call()


# ----------------------------------------------------------------------------- training (torch)

def test_torch_gate_and_tree_compute_the_construction():
    torch = pytest.importorskip("torch")
    from isinglab.core.learning import depth_train as dt
    x = depth.random_points(5, 300, seed=1)
    tree = dt.GateTree(5).double()
    for g in tree.gates:
        g.construct(0.3)
    with torch.no_grad():
        out = tree(torch.tensor(x)).numpy()
    assert np.allclose(out, depth.deep_product(x, 0.3), rtol=1e-10, atol=1e-13)


def test_trained_comparison_small_n():
    pytest.importorskip("torch")
    from isinglab.core.learning import depth_train as dt
    two = dt.search_shallow(2, max_width=4, seeds=2, seed=0, epochs=40)
    assert two.min_width is not None and two.min_width <= 4 and two.curve[-1][1] <= dt.REACHED
    assert two.to_json()["reached"] and two.to_json()["note"] is None
    four = dt.search_shallow(4, max_width=3, seeds=1, seed=0, epochs=20)
    assert four.min_width is None and four.to_json()["note"] == "not reached up to width 3"
    assert [w for w, _ in four.curve] == [1, 2, 3]
    deep = dt.train_deep(4, seeds=1, seed=0, epochs=40)
    assert deep.neurons == 12
    assert deep.noisy <= dt.REACHED < deep.noisy_start  # the construction with noise, retrained
    assert deep.gatewise <= dt.REACHED  # copies of one gate trained on x y
