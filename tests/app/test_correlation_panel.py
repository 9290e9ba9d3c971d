"""CorrelationPanel: snapshots in, fits and xi(T) points out, never blocking the GUI thread."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from isinglab.app.panels.correlation import CorrelationPanel, CorrelationScan
from isinglab.app.panels.base import AnalysisPanel
from isinglab.core import correlation as corr
from isinglab.core import exact
from isinglab.core.backends import make_sampler
from isinglab.core.engine import Snapshot
from isinglab.core.params import ModelParams

WAIT_MS = 20000


pytestmark = pytest.mark.usefixtures("refcount_headroom")  # tests/app/conftest.py


class Feed:
    """Real Wolff snapshots, as the engine would publish them."""

    def __init__(self, size=16, temperature=2.6, coupling=1.0, seed=0):
        self.params = ModelParams(size=size, temperature=temperature, coupling=coupling, algorithm="wolff",
                                  seed=seed)
        self.sampler = make_sampler(self.params)
        self.serial = 0
        self.changed_at = 0  # as the engine: states count 10 cluster sweeps after a change

    def set_temperature(self, t):
        self.params = self.params.with_(temperature=t)
        self.sampler.set_params(self.params)
        self.changed_at = self.sampler.sweeps_done

    def next(self, sweeps=2):
        self.sampler.sweep(sweeps)
        self.serial += 1
        spins = self.sampler.spins()
        spins.flags.writeable = False
        e, m = self.sampler.energy_magnetisation()
        return Snapshot(self.serial, self.params, spins, self.sampler.sweeps_done, e, m, 0, 0.0, 0.0,
                        time.perf_counter(), equilibrium=self.sampler.sweeps_done - self.changed_at >= 10)


@pytest.fixture
def panel(qtbot):
    p = CorrelationPanel(size=16)
    qtbot.addWidget(p)
    p.resize(700, 800)
    p.show()
    yield p
    p.shutdown()
    p.close()


def feed(panel, qtbot, source, n, sweeps=2):
    """n snapshots, each processed before the next (the worker would drop a busy backlog)."""
    for _ in range(n):
        panel.on_snapshot(source.next(sweeps))
        qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)


def test_panel_builds(panel):
    assert isinstance(panel, AnalysisPanel)
    assert CorrelationPanel.dock_name == "correlationDock" and CorrelationPanel.title == "Correlations"
    assert panel.findChild(QToolButton, "clearCorrelationsButton") is not None
    assert panel.findChild(QToolButton, "logLogButton").isCheckable()
    t, xi = panel.onsager_curve.getData()
    assert len(t) > 100
    i = np.nanargmin(np.abs(t - 3.0))
    assert xi[i] == pytest.approx(exact.onsager_correlation_length(t[i]))
    t2, xi2 = panel.second_curve.getData()
    assert np.all(t2 < exact.TC)
    j = np.flatnonzero(np.isfinite(xi2))[-1]
    assert xi2[j] == pytest.approx(np.sqrt(0.4) * exact.onsager_correlation_length(t2[j]))
    assert panel.tc_line.value() == pytest.approx(exact.TC)
    assert panel.size_line.value() == pytest.approx(4.0)  # L/4 for L = 16


def test_snapshots_give_fits_and_xi_points(panel, qtbot):
    source = Feed(temperature=2.6)
    feed(panel, qtbot, source, 60)
    qtbot.waitUntil(lambda: panel.latest_update is not None and panel.latest_update.result is not None, timeout=WAIT_MS)
    panel.refresh()
    res = panel.latest_update.result
    assert res.size == 16 and res.temperature == pytest.approx(2.6)
    x, y = panel.g_points.getData()  # the displayed data, log10 on the log-y axis
    ok = res.g > 0
    np.testing.assert_allclose(x, res.r[ok])
    np.testing.assert_allclose(y, np.log10(res.g[ok]))
    assert len(panel.c_fit.getData()[0]) > 0 and res.fit_exp is not None
    assert panel.latest_update.n <= 60 - 4  # the first 10 sweeps after the T change do not count
    source.set_temperature(3.0)  # leaving the bin analyses it once more: its point stays
    feed(panel, qtbot, source, 30)
    qtbot.waitUntil(lambda: len(panel.latest_update.points["xi_2nd"][0]) >= 1, timeout=WAIT_MS)
    panel.refresh()
    t, xi = panel.xi_points["xi_2nd"].getData()
    assert t[0] == pytest.approx(2.6) and 1.0 < xi[0] < 16.0
    assert "snapshots" in panel.status_label.text()


def test_on_snapshot_never_blocks(qtbot):
    p = CorrelationPanel(size=256)
    qtbot.addWidget(p)
    try:
        source = Feed(size=256, temperature=2.5)
        worst = 0.0
        for _ in range(40):
            snap = source.next(1)
            t0 = time.perf_counter()
            p.on_snapshot(snap)
            p.on_snapshot(snap)  # a repeat is ignored
            worst = max(worst, time.perf_counter() - t0)
        assert worst < 0.005  # bookkeeping only: the FFTs and fits run on the worker
        qtbot.waitUntil(lambda: not p.busy, timeout=WAIT_MS)
        assert 1 <= len(p.scan) <= 30  # the first 10 sweeps at a new T are skipped
    finally:
        p.shutdown()
        p.close()
    assert not p._worker._thread.is_alive()


def test_warnings_for_small_data_and_finite_size(panel, qtbot):
    source = Feed(temperature=exact.TC)
    feed(panel, qtbot, source, 12)
    qtbot.waitUntil(lambda: panel.latest_update is not None, timeout=WAIT_MS)
    panel.refresh()
    text = panel.warning_label.text()
    assert "too few data" in text and "L/4" in text
    feed(panel, qtbot, source, 30)
    qtbot.waitUntil(lambda: panel.latest_update.result is not None, timeout=WAIT_MS)
    panel.refresh()
    assert "finite-size" in panel.warning_label.text()
    assert "too few data for a fit:" not in panel.warning_label.text()


def test_log_log_and_clear(panel, qtbot):
    source = Feed(temperature=2.8)
    feed(panel, qtbot, source, 30)
    qtbot.waitUntil(lambda: panel.latest_update is not None and panel.latest_update.result is not None, timeout=WAIT_MS)
    qtbot.mouseClick(panel.loglog_button, Qt.LeftButton)
    assert panel.g_plot.ctrl.logXCheck.isChecked() and panel.g_plot.ctrl.logYCheck.isChecked()
    res = panel.latest_update.result
    x, _ = panel.g_points.getData()  # log10 r: r = 0 has no place on a log axis
    np.testing.assert_allclose(x, np.log10(res.r[(res.g > 0) & (res.r > 0)]))
    qtbot.mouseClick(panel.findChild(QToolButton, "clearCorrelationsButton"), Qt.LeftButton)
    assert panel.latest_update is None and len(panel.g_points.getData()[0] or []) == 0
    feed(panel, qtbot, source, 1)
    assert len(panel.scan) == 1  # the worker cleared before adding


def test_model_change_and_bad_input(panel, qtbot):
    messages = []
    panel.set_status_callback(messages.append)
    feed(panel, qtbot, Feed(size=32, temperature=2.6), 20)
    assert panel.size_line.value() == pytest.approx(8.0)
    bad = Feed(size=9, temperature=2.6, coupling=-1.0)  # staggered spins need an even L
    feed(panel, qtbot, bad, 12)
    qtbot.waitUntil(lambda: "even L" in panel.warning_label.text(), timeout=WAIT_MS)
    assert messages and "even L" in messages[-1]


def test_scan_bins_temperatures_without_qt():
    scan = CorrelationScan(width=0.05)
    source = Feed(size=8, temperature=2.0)
    for t in (2.0, 2.01, 2.5):
        source.set_temperature(t)
        for _ in range(20):
            update = scan.process(source.next().spins, source.params)
    assert len(scan) == 60 and update.n == 20
    assert update.temperature == pytest.approx(2.5)
    results = scan.results()  # 2.0 and 2.01 share a bin; leaving it analysed all 40 snapshots
    assert [round(r.temperature, 6) for r in results] == [2.005, 2.5]
    assert results[0].n_samples == 40 and corr.MIN_SAMPLES <= results[1].n_samples <= 20
    for name, (t, _, _) in update.points.items():
        assert set(t.round(6)) <= {2.005, 2.5}
    scan.request_clear()
    update = scan.process(source.next().spins, source.params)
    assert len(scan) == 1 and update.result is None and scan.results() == []
