"""The four-neuron multiplication gate: x*y to O(lambda^2), for sigma''(0) != 0 only."""
import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import gate


@pytest.mark.parametrize("name", ["softplus", "exp", "gelu", "silu"])
def test_error_shrinks_as_lambda_goes_to_zero(name):
    lams = np.logspace(0, -3, 13)
    err = gate.gate_error(lams, name)
    assert np.all(np.diff(err) < 0)
    assert err[-1] < 1e-5 < err[0]
    # quadratic: a 10x smaller lambda gives a ~100x smaller error
    ratio = gate.gate_error([0.1], name)[0] / gate.gate_error([0.01], name)[0]
    assert 90 < ratio < 110


def test_softplus_error_matches_the_taylor_term():
    x, y = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9))
    lam = 0.02
    err = gate.gate(x, y, lam) - x * y
    lead = gate.leading_error(x, y, lam)
    assert np.allclose(err, lead, atol=2e-3 * np.abs(lead).max())
    assert gate.gate_error([lam])[0] == pytest.approx(lam**2 / 6, rel=0.01)  # max of |x^3 y + x y^3| / 12 is 1/6


def test_gate_is_symmetric_and_exact_on_zero():
    x = np.linspace(-1, 1, 7)
    assert np.allclose(gate.gate(x, 0.3, 0.1), gate.gate(0.3, x, 0.1))
    assert np.allclose(gate.gate(x, 0.0, 0.5), 0.0, atol=1e-15)


def test_round_off_floor_at_tiny_lambda():
    """Four O(1) numbers cancel to O(lambda^2): below ~1e-4 rounding error grows again."""
    assert gate.gate_error([1e-6])[0] > gate.gate_error([1e-4])[0]


def test_bad_choices():
    with pytest.raises(IsingLabError, match="cannot multiply"):
        gate.gate(0.5, 0.5, 0.1, "tanh")
    with pytest.raises(IsingLabError, match="unknown nonlinearity"):
        gate.gate_error([0.1], "relu")
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(IsingLabError, match="lambda"):
            gate.gate(0.5, 0.5, bad)
