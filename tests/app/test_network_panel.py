"""NetworkPanel: dataset -> training (live) -> Bayes analysis; pseudo-likelihood; gate; bad input."""
import time

import numpy as np
import pytest

from isinglab.app.panels.network import NetworkPanel
from isinglab.app.panels.base import AnalysisPanel
from isinglab.core.engine import Snapshot
from isinglab.core.learning.datasets import generate
from isinglab.core.params import ModelParams

WAIT_MS = 60000


pytestmark = pytest.mark.usefixtures("refcount_headroom")  # tests/app/conftest.py


@pytest.fixture
def panel(qtbot):
    p = NetworkPanel()
    qtbot.addWidget(p)
    p.resize(1100, 800)
    p.show()
    messages = []
    p.set_status_callback(messages.append)
    p.messages = messages
    qtbot.waitUntil(lambda: p.device_text != "", timeout=WAIT_MS)  # torch imported on a worker
    yield p
    p.shutdown()
    p.close()


def test_panel_contract_and_device(panel):
    assert isinstance(panel, AnalysisPanel)
    assert NetworkPanel.dock_name == "networkDock" and NetworkPanel.title == "Network"
    import torch
    assert ("CUDA" if torch.cuda.is_available() else "CPU") in panel.device_label.text()
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == ["Classifier", "Hamiltonian", "Gate"]


def test_viewing_before_training_explains_itself(panel):
    assert "No network yet" in panel.viewer._message.toPlainText()
    assert not panel.request_distill()
    assert "train a classifier first" in panel.status_label.text()
    assert not panel.train()
    assert "generate or load" in panel.status_label.text()
    assert not panel.save_dataset("/tmp/unused.npz")
    assert panel.messages and panel.messages[-1].startswith("Network: ")


def test_bad_temperatures_and_single_class(panel, qtbot):
    assert not panel.generate_dataset(temperatures="2.0, 2.0")
    assert "distinct" in panel.status_label.text()
    assert not panel.generate_dataset(temperatures="2.0, warm")
    assert "'warm'" in panel.status_label.text()
    panel.set_dataset(generate(8, [2.5], 20, cache=False))
    assert not panel.train()
    assert "at least 2 temperature classes" in panel.status_label.text()


def test_generate_train_analyse(panel, qtbot):
    assert panel.generate_dataset(size=16, temperatures="1.8, 2.1, 2.4, 2.7", samples=300, seed=100)
    qtbot.waitUntil(lambda: panel.dataset is not None, timeout=WAIT_MS)
    assert "1200 configurations of 16x16" in panel.dataset_label.text()
    assert panel.generate_button.text() == "Generate"
    panel.epochs_spin.setValue(20)
    assert panel.train()
    qtbot.waitUntil(lambda: panel.analysis is not None, timeout=WAIT_MS)
    assert panel.train_button.text() == "Train"
    assert panel.analysis.r2 > 0.98 and "R² = " in panel.result_label.text()
    assert len(panel.history) == panel.trained.epochs_run
    x, _ = panel.loss_curves["held_out_loss"].getData()
    assert len(x) == len(panel.history)
    # the viewer shows the final weights, with values on hover
    w = panel.trained.model.weights()
    assert f"{w['head'][0, 0]:+.4g}" in panel.viewer.tip_at("edge", 0)
    assert f"{w['conv'][0, 0, 0]:+.4g}" in panel.viewer.tip_at("tap", 0)
    pen = panel.viewer.edge_pen(0, 0)
    assert pen.widthF() > 0.5
    # analysis plots: scatter per class plus dashed exact lines; distilled bars for the last class
    assert len(panel.scatter_plot.getPlotItem().listDataItems()) == 2 * 3
    assert panel.distill_class.count() == 3 and panel.distill_class.currentText() == "T = 2.7"
    assert panel.distilled is not None
    # re-distil with another range on the worker
    panel.distill_range.setValue(1)
    old = panel.distilled
    assert panel.request_distill()
    qtbot.waitUntil(lambda: panel.distilled is not old, timeout=WAIT_MS)
    assert panel.distilled.range_ == 1


def test_training_can_be_cancelled_from_the_button(panel, qtbot):
    panel.set_dataset(generate(16, [1.8, 2.4, 3.0], 400, seed=3, cache=False))
    panel.kernel_combo.setCurrentText("3")
    panel.activation_combo.setCurrentText("softplus")
    panel.channels_spin.setValue(8)
    panel.epochs_spin.setValue(5000)
    assert panel.train()
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=WAIT_MS)
    panel.train_button.click()  # the button cancels while training runs
    qtbot.waitUntil(lambda: "cancelled" in panel.result_label.text(), timeout=WAIT_MS)
    assert panel.trained is None and panel.train_button.text() == "Train"
    assert len(panel.history) < 5000


def test_dataset_save_and_load(panel, tmp_path):
    data = generate(8, [2.0, 3.0], 30, seed=1, cache=False)
    panel.set_dataset(data)
    path = str(tmp_path / "d.npz")
    assert panel.save_dataset(path)
    panel.dataset = None
    assert panel.load_dataset(path)
    assert np.array_equal(panel.dataset.spins, data.spins)
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    assert not panel.load_dataset(str(bad))
    assert "cannot read dataset" in panel.status_label.text()


def test_pseudolikelihood_tab(panel, qtbot):
    assert not panel.fit_couplings(size=8, range_=4)
    assert "L > 2R" in panel.status_label.text()
    assert not panel.fit_couplings(size=16, full=True)
    assert "small lattices" in panel.status_label.text()
    assert panel.fit_couplings(size=8, temperature=3.0, samples=400, range_=2, full=True)
    qtbot.waitUntil(lambda: panel.pl_fit is not None, timeout=WAIT_MS)
    assert "K_nn = " in panel.pl_label.text() and panel.pl_button.text() == "Fit"
    assert panel.full_fit is not None and panel.full_image.image.shape == (64, 64)
    tips = panel.kernel_tips.data["data"]
    assert len(tips) == 24 and any(t.startswith("J(1, 0) = +0.3") for t in tips)


def test_pseudolikelihood_fit_can_be_cancelled(panel, qtbot):
    assert panel.fit_couplings(size=32, temperature=3.0, samples=20000, range_=3)
    panel.pl_button.click()
    qtbot.waitUntil(lambda: panel.pl_label.text() == "fit cancelled", timeout=WAIT_MS)
    assert panel.pl_fit is None


def test_gate_tab(panel):
    panel.set_gate(0.1, "softplus")
    coarse = panel.gate_error_now
    panel.set_gate(0.01, "softplus")
    assert panel.gate_error_now < coarse / 50
    assert "λ = 0.01" in panel.gate_label.text()
    x, y = panel.gate_approx.getData()
    assert np.allclose(y, x * 0.8, atol=1e-3)
    panel.set_gate(0.01, "tanh")
    assert "cannot multiply" in panel.gate_label.text()
    x, _ = panel.gate_approx.getData()
    assert x is None or len(x) == 0


def test_snapshots_are_cheap_and_feed_from_simulation(panel):
    panel.use_simulation_parameters()
    assert "no simulation snapshot" in panel.status_label.text()
    params = ModelParams(size=24, temperature=2.75)
    snap = Snapshot(1, params, np.ones((24, 24), dtype=np.int8), 10, -2.0, 1.0, 0, 0.0, 0.0, time.perf_counter())
    start = time.perf_counter()
    for _ in range(100):
        panel.on_snapshot(snap)
    assert (time.perf_counter() - start) / 100 < 0.002
    panel.use_simulation_parameters()
    assert panel.pl_temperature.value() == pytest.approx(2.75) and panel.pl_size.value() == 24
