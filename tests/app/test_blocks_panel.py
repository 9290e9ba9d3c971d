"""BlocksPanel: live block levels (equal size, rule and b selectors), the fitted flow with
arrows, reference flows, the MCRG job (progress, result, cancel), errors, clean shutdown."""
import threading
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QComboBox, QProgressBar, QPushButton

from isinglab.app.panels import blocks as bp
from isinglab.app.panels import blocks_flow
from isinglab.app.panels.blocks import BlocksPanel, arrow_angle
from isinglab.app.panels.base import AnalysisPanel
from isinglab.core.backends import make_sampler
from isinglab.core.engine import Snapshot
from isinglab.core.exact import TC
from isinglab.core.params import ModelParams
from isinglab.core.rg import block_levels

WAIT_MS = 30000


@pytest.fixture
def panel(qtbot):
    p = BlocksPanel()
    qtbot.addWidget(p)
    p.resize(900, 900)
    p.show()
    yield p
    p.shutdown()
    p.close()


class Feeder:
    """Engine-like snapshots from a Wolff chain."""

    def __init__(self, size=32, temperature=TC, seed=0):
        self.params = ModelParams(size=size, temperature=temperature, algorithm="wolff", seed=seed)
        self.sampler = make_sampler(self.params)
        self.sampler.sweep(50)
        self.serial = 0

    def snapshot(self):
        self.sampler.sweep(1)
        self.serial += 1
        spins = self.sampler.spins()
        spins.flags.writeable = False
        return Snapshot(serial=self.serial, params=self.params, spins=spins, sweeps=50 + self.serial, e=0.0,
                        m=0.0, request_serial=0, sweeps_per_s=0.0, flips_per_ns=0.0,
                        published_at=time.perf_counter(), equilibrium=True)


def feed_until(panel, qtbot, feeder, condition, timeout_ms=WAIT_MS):
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        panel.on_snapshot(feeder.snapshot())
        qtbot.wait(5)


def shown(panel):
    return [img for img in panel.level_images if img.isVisible()]


def test_panel_builds(panel):
    assert isinstance(panel, AnalysisPanel)
    assert BlocksPanel.dock_name == "blocksDock" and BlocksPanel.title == "Block-spin RG"
    rule = panel.findChild(QComboBox, "blockRuleCombo")
    block = panel.findChild(QComboBox, "blockSizeCombo")
    assert [rule.itemText(i) for i in range(rule.count())] == ["majority", "decimation"]
    assert [block.itemText(i) for i in range(block.count())] == ["2", "3"]
    assert panel.findChild(QPushButton, "mcrgButton").toolTip()
    assert panel.findChild(QProgressBar, "mcrgProgress") is not None
    assert panel.flow_plot.getAxis("bottom").labelText == "K_nn"


def test_levels_update_live_at_equal_size(panel, qtbot):
    feeder = Feeder(size=32)
    snap = feeder.snapshot()
    panel.on_snapshot(snap)
    qtbot.waitUntil(lambda: len(shown(panel)) == 5, timeout=WAIT_MS)  # 32, 16, 8, 4, 2
    qtbot.waitUntil(lambda: panel._shown_count == 5 and panel.shown_serial == snap.serial,
                    timeout=WAIT_MS)
    expected = block_levels(snap.spins, 2, 4, "majority", 0, snap.serial)
    for img, lat in zip(shown(panel), expected):
        np.testing.assert_array_equal(img.image, (lat > 0).astype(np.uint8))
        rect = img.mapRectToParent(img.boundingRect())
        assert rect.width() == pytest.approx(1.0) and rect.height() == pytest.approx(1.0)
    assert [t.textItem.toPlainText() for t in panel.level_titles] == [
        "L = 32", "L/2 = 16", "L/4 = 8", "L/8 = 4", "L/16 = 2"]
    before = shown(panel)[1].image.copy()
    feed_until(panel, qtbot, feeder, lambda: not np.array_equal(shown(panel)[1].image, before))


def test_rule_and_block_selectors(panel, qtbot):
    feeder = Feeder(size=54)
    panel.findChild(QComboBox, "blockSizeCombo").setCurrentText("3")
    panel.findChild(QComboBox, "blockRuleCombo").setCurrentText("decimation")
    assert (panel.rule, panel.block) == ("decimation", 3)
    snap = feeder.snapshot()
    panel.on_snapshot(snap)
    qtbot.waitUntil(lambda: panel.shown_serial == snap.serial, timeout=WAIT_MS)
    sides = [img.image.shape[0] for img in shown(panel)]
    assert sides == [54, 18, 6, 2]
    np.testing.assert_array_equal(shown(panel)[1].image, (snap.spins[::3, ::3] > 0).astype(np.uint8))


def test_size_not_divisible_by_b_is_a_status_message(panel, qtbot):
    messages = []
    panel.set_status_callback(messages.append)
    panel.findChild(QComboBox, "blockSizeCombo").setCurrentText("3")
    feeder = Feeder(size=16)
    panel.on_snapshot(feeder.snapshot())
    qtbot.waitUntil(lambda: "not divisible by b = 3" in panel.status_label.text(), timeout=WAIT_MS)
    assert len(shown(panel)) == 1
    for _ in range(3):
        panel.on_snapshot(feeder.snapshot())
        qtbot.wait(20)
    assert messages == ["Block-spin RG: L = 16 is not divisible by b = 3: no block levels"]


def test_flow_fit_and_arrows(panel, qtbot, monkeypatch):
    monkeypatch.setattr(blocks_flow, "FIT_INTERVAL_S", 0.2)
    feeder = Feeder(size=32, temperature=2.6)
    feed_until(panel, qtbot, feeder, lambda: panel.flow_levels is not None and
               panel.flow_levels[0].couplings.ok and panel._live.acc.snapshots >= 64)
    levels = panel.flow_levels
    assert [lv.size for lv in levels] == [32, 16, 8, 4]
    x, y = panel.current_flow.curve.getData()
    ok = [lv for lv in levels if lv.couplings.ok]
    np.testing.assert_allclose(x, [lv.couplings["nn"][0] for lv in ok])
    np.testing.assert_allclose(y, [lv.couplings["nnn"][0] for lv in ok])
    assert len(panel.current_flow.arrows) == len(ok) - 1
    assert x[0] == pytest.approx(1 / 2.6, abs=0.1)  # level 0 is near J / T
    assert "couplings of 4 levels" in panel.status_label.text()


def test_arrow_angle_points_along_the_flow():
    assert arrow_angle(1, 0) == pytest.approx(180)  # 0 degrees points to -x
    assert arrow_angle(-1, 0) == pytest.approx(0)
    assert arrow_angle(0, 1) == pytest.approx(90)  # rotating clockwise on screen: up
    assert arrow_angle(0, -1) == pytest.approx(-90)


def test_reference_flows(panel, qtbot, monkeypatch):
    monkeypatch.setattr(blocks_flow, "REF_SWEEPS", 40)
    panel.on_snapshot(Feeder(size=16).snapshot())  # the first snapshot asks for them
    qtbot.waitUntil(panel.references_ready, timeout=WAIT_MS)
    for traj in panel.reference_flows:
        assert len(traj.curve.getData()[0]) >= 2


def test_mcrg_job_shows_tc_and_nu(panel, qtbot):
    progress = []
    panel.mcrg.progress.connect(lambda f, t: progress.append(f))
    panel.start_mcrg(size=32, snapshots=2000)
    assert panel.mcrg_button.text() == "Cancel"
    qtbot.waitUntil(lambda: panel.mcrg_result is not None, timeout=WAIT_MS)
    res = panel.mcrg_result
    assert progress and max(progress) <= 1.0
    assert panel.mcrg_progress.value() == 1000
    assert "T_c = " in panel.mcrg_label.text() and "ν = " in panel.mcrg_label.text()
    assert abs(res.tc["mean"] - TC) < 0.05
    assert len(panel.tc_points[0].getData()[0]) == len(res.match)
    assert panel.mcrg_button.text().startswith("Estimate")


def test_mcrg_cancel(panel, qtbot):
    panel.start_mcrg(size=64, snapshots=40000)
    qtbot.waitUntil(lambda: panel.mcrg_progress.value() > 0 or not panel.mcrg.running, timeout=WAIT_MS)
    with qtbot.waitSignal(panel.mcrg.cancelled, timeout=WAIT_MS):
        panel.mcrg_button.click()
    assert panel.mcrg_label.text() == "MCRG cancelled" and panel.mcrg_button.isEnabled()
    assert panel.mcrg_result is None


def test_on_snapshot_is_cheap_and_shutdown_stops_threads(qtbot):
    p = BlocksPanel()
    qtbot.addWidget(p)
    params = ModelParams(size=1024, temperature=TC)
    spins = np.ones((1024, 1024), np.int8)
    spins.flags.writeable = False
    t0 = time.perf_counter()
    for i in range(50):
        p.on_snapshot(Snapshot(serial=i + 1, params=params, spins=spins, sweeps=i, e=0.0, m=0.0,
                               request_serial=0, sweeps_per_s=0.0, flips_per_ns=0.0, published_at=0.0))
    assert (time.perf_counter() - t0) / 50 < 0.005  # the GUI thread only hands the work over
    qtbot.waitUntil(lambda: len(shown(p)) == 5, timeout=WAIT_MS)
    p.shutdown()
    p.close()
    alive = [t.name for t in threading.enumerate() if t.name.startswith(("isinglab-blocks", "isinglab-mcrg"))]
    assert not alive
