"""Hierarchy: the classifier on block-spin levels, beside the Bayes accuracy of the energy alone."""
import math

import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import datasets, hierarchy
from isinglab.core.learning.datasets import IsingDataset
from isinglab.core.rg import block_once


def test_parse_and_check_levels():
    assert hierarchy.parse_levels("0,1,2,3") == (0, 1, 2, 3)
    assert hierarchy.parse_levels("3, 0-2,1") == (0, 1, 2, 3)
    assert hierarchy.check_levels([2, 0], size=16) == (0, 2)
    with pytest.raises(IsingLabError, match="not an integer"):
        hierarchy.parse_levels("0,one")
    with pytest.raises(IsingLabError, match="0..6"):
        hierarchy.parse_levels("0,7")
    with pytest.raises(IsingLabError, match="up to 3"):
        hierarchy.check_levels([0, 4], size=16)  # level 4 of L = 16 is one spin
    assert hierarchy.check_levels([1], size=6) == (1,)
    with pytest.raises(IsingLabError, match="up to 1"):
        hierarchy.check_levels([2], size=6)  # 6 -> 3, and 3 is not divisible by 2
    with pytest.raises(IsingLabError, match="at least one"):
        hierarchy.parse_levels(" , ")


def test_block_dataset_blocks_each_configuration_with_its_own_coins():
    rng = np.random.default_rng(0)
    spins = rng.choice(np.array([-1, 1], np.int8), size=(5, 8, 8))
    data = IsingDataset(spins, np.array([0, 1, 0, 1, 1]), np.array([2.0, 3.0]))
    two = hierarchy.block_dataset(data, 2, seed=4)
    assert two.spins.shape == (5, 2, 2) and (two.labels == data.labels).all()
    for i in range(5):
        x = block_once(block_once(spins[i], 2, "majority", 4, i, 1), 2, "majority", 4, i, 2)
        assert (two.spins[i] == x).all()
    assert hierarchy.block_dataset(data, 0) is data


def test_energy_rule_exact_and_fitted_agree_on_well_separated_classes():
    data = datasets.generate(8, [1.5, 4.0], 200, seed=2)
    train, held = data.split(0.25, 0)
    scores, method = hierarchy.energy_scores(train, held.energies())
    assert method.startswith("exact ln Z")
    fitted = hierarchy._logistic_scores(train, held.energies())
    agree = (scores.argmax(1) == fitted.argmax(1)).mean()
    assert agree > 0.97 and (scores.argmax(1) == held.labels).mean() > 0.95
    with_field = IsingDataset(train.spins, train.labels, train.temperatures, 1.0, 0.1)
    assert hierarchy.energy_scores(with_field, held.energies())[1] == "logistic regression on E"


def test_levels_lose_accuracy_and_level0_reaches_the_energy_bound():
    data = datasets.generate(16, [1.8, 2.1, 2.4, 2.7], 500, seed=1)
    res = hierarchy.level_accuracies(data, [0, 1, 2, 3], seed=1)
    acc = [lv.accuracy for lv in res.levels]
    err = [lv.err for lv in res.levels]
    assert [lv.size for lv in res.levels] == [16, 8, 4, 2] and res.held_out == 500
    assert res.bayes_method.startswith("exact")
    # level 0 sees E exactly (k = 2 kernel, square): within 2 points of the Bayes rule on E
    assert abs(acc[0] - res.bayes_accuracy) <= 0.02
    # coarse-graining can only lose information about T: non-increasing within errors ...
    for k in range(3):
        assert acc[k + 1] <= acc[k] + 2 * math.hypot(err[k], err[k + 1])
    # ... and three steps lose a lot
    assert acc[3] < acc[0] - 3 * math.hypot(err[0], err[3])
    js = res.to_json()
    assert set(js) == {"levels", "bayes_energy_accuracy", "bayes_method", "held_out_configurations"}
    assert set(js["levels"][0]["accuracy"]) == {"mean", "err"}
