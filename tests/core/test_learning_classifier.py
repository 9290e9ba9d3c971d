"""The temperature classifier (torch, CPU): its logits learn -(1/T_y - 1/T_ref) E(x) + const.

R^2 threshold. The held-out logit differences are regressed on E(x) class by class; the pooled
within-class R^2 is 1 for a network that learned a function of E only. A network of this shape
can also weight the next-nearest-neighbour and magnetisation terms; with 225 training samples per
class their fitted weights are noise of a few per cent of the nearest-neighbour one, which costs
1 - R^2 ~ 1e-3 (measured: 0.995-0.9995 over six seeds, 20 epochs). An untrained network scores
0.01-0.7, and one that had learned |m| instead of E would sit far below 0.98. So 0.98 - the issue's
benchmark figure - leaves 4x headroom over the worst seed and still fails any network that did
not learn the energy.
"""
import math

import numpy as np
import pytest
import torch

from isinglab.core import exact
from isinglab.core.errors import IsingLabError
from isinglab.core.learning import classifier as cl
from isinglab.core.learning.datasets import generate
from isinglab.core.learning.distill import distill
from isinglab.core.tasks import Cancelled, TaskState

TEMPS = [1.8, 2.1, 2.4, 2.7]
R2_THRESHOLD = 0.98


@pytest.fixture(scope="module")
def data():
    return generate(16, TEMPS, 300, seed=100, cache=False)


@pytest.fixture(scope="module")
def trained(data):
    return cl.train_classifier(data, cl.TrainConfig(epochs=20, seed=0, device="cpu"))


def random_spins(n, L, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2, size=(n, L, L)) * 2 - 1).astype(np.int8)


@pytest.mark.parametrize("kernel,activation", [(2, "square"), (2, "softplus"), (3, "tanh")])
def test_histogram_path_equals_the_convolution(kernel, activation):
    torch.manual_seed(1)
    model = cl.SpinCNN(3, channels=5, kernel=kernel, activation=activation).double()
    x = random_spins(6, 7, kernel)
    frac = cl.patch_fractions(x, kernel)
    assert np.allclose(frac.sum(axis=1), 1.0)
    with torch.no_grad():
        direct = model(torch.tensor(x, dtype=torch.float64))
        fast = model.forward_fractions(torch.tensor(frac))
    assert torch.allclose(direct, fast, atol=1e-10)


def test_logits_learn_the_energy(trained):
    a = cl.analyse(trained)
    assert a.r2 > R2_THRESHOLD
    assert a.accuracy > 0.5  # chance is 0.25
    assert a.reference_temperature == 1.8
    for c in a.classes:
        assert c.slope_exact == pytest.approx(-(1 / c.temperature - 1 / 1.8))
        assert abs(c.slope / c.slope_exact - 1) < 0.3  # 225 samples per class: ~10 % scatter
        lz = exact.kaufman_log_z(16, [c.temperature, 1.8])
        assert c.intercept_exact == pytest.approx(-(lz[0] - lz[1]))
    out = a.to_json()
    assert set(out) == {"accuracy", "logit_energy_r2", "reference_temperature", "classes"}
    assert {"temperature", "slope", "intercept", "r2"} <= set(out["classes"][0])
    assert set(out["classes"][0]["slope"]) == {"learned", "exact"}


def test_an_untrained_network_fails_the_threshold(trained):
    """The threshold discriminates: the same architecture before training does not pass it."""
    fresh = cl._init_model(4, trained.config, torch.device("cpu"))
    untrained = cl.TrainedClassifier(fresh, trained.config, trained.train, trained.held_out, [], "cpu", 0.0, False)
    assert cl.analyse(untrained).r2 < R2_THRESHOLD


def test_history_and_device(trained):
    h = trained.history
    assert 1 <= len(h) <= 20 and h[-1].loss < h[0].loss < math.log(4) + 0.5
    assert h[-1].weights["conv"].shape == (4, 2, 2) and h[-1].weights["head"].shape == (4, 4)
    assert "CPU" in trained.device and trained.seconds > 0


def test_distillation_is_exact_and_stays_inside_the_two_by_two_patch(trained):
    d = distill(trained, range_=2)
    assert d.reference_temperature == 1.8 and len(d.classes) == 3
    for cls in d.classes:
        assert cls.r2 > 1 - 1e-9  # a k = 2 network lies exactly in the basis
        g = d.groups(cls)
        assert g["nn"]["exact"] == pytest.approx(1 / cls.temperature - 1 / 1.8)
        assert all(v["exact"] == 0 for k, v in g.items() if k != "nn")
        scale = abs(g["nn"]["exact"])
        for far in ("pair(2,0)", "pair(2,1)", "pair(2,2)"):  # out of a 2x2 kernel's reach
            assert abs(g[far]["learned"]) < 1e-8 * scale
    assert set(d.to_json()["classes"][0]["couplings"]) >= {"nn", "nnn", "h", "plaquette"}


def test_distilled_network_puts_its_weight_on_nearest_neighbours():
    """nn and nnn sums are 98 % correlated, so small sets split the energy between them at random
    (at 225 per class even the sign of the nn part can flip); with 750 per class the nn part carries
    0.84-1.28 of the exact coupling and nnn at most a quarter of it (measured over 3 seeds)."""
    data = generate(16, TEMPS, 1000, seed=200, cache=False)
    d = distill(cl.train_classifier(data, cl.TrainConfig(epochs=60, seed=0, device="cpu")))
    for cls in d.classes:
        g = d.groups(cls)
        exact_nn = g["nn"]["exact"]
        assert 0.5 < g["nn"]["learned"] / exact_nn < 1.5
        assert abs(g["nnn"]["learned"]) < 0.5 * abs(exact_nn)
        assert abs(g["h"]["learned"]) < 0.1 * abs(exact_nn)  # the Z2-symmetric data carry no field


def test_training_is_reproducible(data):
    cfg = cl.TrainConfig(epochs=3, seed=7, device="cpu")
    a = cl.train_classifier(data, cfg).history[-1].weights
    b = cl.train_classifier(data, cfg).history[-1].weights
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_training_can_be_cancelled(data):
    task = TaskState()
    seen = []

    def on_epoch(info):
        seen.append(info.epoch)
        if info.epoch == 2:
            task.cancel()

    with pytest.raises(Cancelled):
        cl.train_classifier(data, cl.TrainConfig(epochs=50, device="cpu"), task=task, on_epoch=on_epoch)
    assert seen == [1, 2]


def test_bad_input(data):
    one_class = data.subset(np.flatnonzero(data.labels == 0))
    with pytest.raises(IsingLabError, match="at least 2 temperature classes"):
        cl.train_classifier(one_class)
    with pytest.raises(IsingLabError, match="empty"):
        cl.train_classifier(data.subset(np.array([], dtype=int)))
    with pytest.raises(IsingLabError, match="train a classifier first"):
        cl.analyse(None)
    with pytest.raises(IsingLabError, match="train a classifier first"):
        distill(None)
    for bad, match in ((dict(epochs=0), "epochs"), (dict(kernel=4), "kernel"), (dict(activation="relu"), "activation"),
                       (dict(channels=0), "channels"), (dict(held_out=1.0), "held-out"),
                       (dict(device="tpu"), "device")):
        with pytest.raises(IsingLabError, match=match):
            cl.train_classifier(data, cl.TrainConfig(**bad))


def test_device_choice():
    assert cl.pick_device("cpu").type == "cpu"
    if torch.cuda.is_available():
        assert cl.pick_device().type == "cuda"
    else:
        assert cl.pick_device().type == "cpu"
        assert "CPU" in cl.device_label()
        with pytest.raises(IsingLabError, match="CUDA"):
            cl.pick_device("cuda")
