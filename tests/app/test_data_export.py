"""Data export: CSV / NPZ / JSON round trips of the panels' numbers; atomic, clear errors."""
import json
import os

import numpy as np
import pytest
from PySide6.QtGui import QImage

from isinglab.app.output import data_export
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams
from isinglab.app.panels.blocks import FlowKey
from isinglab.app.panels.contract import DataSet
from isinglab.core.rg.couplings import CouplingFit
from isinglab.core.rg.flow import FlowLevel

PARAMS = ModelParams(size=32, temperature=2.4, seed=3)


@pytest.fixture
def window(open_window):
    return open_window(PARAMS, steps=2)


def test_csv_and_npz_round_trip(tmp_path):
    cols = {"a": np.array([0.1, 1 / 3, -2e-17]), "b": np.array([1.0, 2.0, np.nan])}
    meta = {"what": "test", "params": {"size": 8}}
    data_export.write_csv(str(tmp_path / "x.csv"), cols, meta)
    back, m = data_export.read_csv(str(tmp_path / "x.csv"))
    np.testing.assert_array_equal(back["a"], cols["a"])  # repr keeps every bit
    np.testing.assert_array_equal(back["b"], cols["b"])
    assert m["what"] == "test"
    data_export.write_npz(str(tmp_path / "x.npz"), cols, meta)
    arrays, m = data_export.read_npz(str(tmp_path / "x.npz"))
    np.testing.assert_array_equal(arrays["b"], cols["b"])
    assert m["params"] == {"size": 8}
    assert sorted(os.listdir(tmp_path)) == ["x.csv", "x.npz"]


def test_unequal_columns_and_missing_folder_are_errors(tmp_path):
    with pytest.raises(IsingLabError, match="differ in length"):
        data_export.write_csv(str(tmp_path / "x.csv"), {"a": [1.0], "b": [1.0, 2.0]}, {})
    with pytest.raises(IsingLabError, match="does not exist"):
        data_export.write_npz(str(tmp_path / "no" / "x.npz"), {"a": np.zeros(2)}, {})
    assert os.listdir(tmp_path) == []


def _levels():
    fit = lambda k: CouplingFit(np.array([k, 0.1 * k, 0.01, 0.0]), np.array([0.01, 0.02, 0.03, 0.0]))  # noqa: E731
    return [FlowLevel(1, 16, fit(0.44), (0.5, 0.01)), FlowLevel(2, 8, fit(0.40), (0.45, 0.02))]


def test_export_data_writes_every_available_set(window, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    t = np.repeat([2.2, 2.4], 40)
    e, m = -1.5 + 0.01 * rng.standard_normal(80), 0.5 + 0.01 * rng.standard_normal(80)
    window.refresh()  # the engine's own measurements first, then start from empty panels
    window.observables.clear_traces()
    window.observables.clear()
    window.observables.add_trace(np.arange(80.0), e, m)
    window.observables.add_samples(t, e, m)
    blocks = window.panels["blocksDock"]  # fitted levels as the panel keeps them
    monkeypatch.setattr(blocks, "_flow_levels", (FlowKey(32, 2.3, 1.0, 0.0, blocks.rule, 2), _levels()))
    monkeypatch.setattr(window.panels["networkDock"], "data_sets", lambda: [DataSet(
        "network", "learned coefficients", None, document={"pl_fit": {"couplings": {"nn": 0.4}}}, formats=("json",))])
    written = data_export.export_data(window, str(tmp_path))
    names = sorted(os.path.basename(p) for p in written)
    assert names == sorted(["observables_series.csv", "observables_series.npz", "tscan.csv", "tscan.npz",
                            "lattice.npz", "lattice.png", "rg_couplings.csv", "rg_couplings.json",
                            "network.json"])
    series, meta = data_export.read_csv(str(tmp_path / "observables_series.csv"))
    np.testing.assert_array_equal(series["e"], e)
    np.testing.assert_array_equal(series["m_abs"], np.abs(m))
    assert meta["params"]["seed"] == 3
    scan, _ = data_export.read_npz(str(tmp_path / "tscan.npz"))
    np.testing.assert_allclose(scan["T_mean"], [2.2, 2.4])
    np.testing.assert_allclose(scan["e"], [e[:40].mean(), e[40:].mean()])
    csv_scan, _ = data_export.read_csv(str(tmp_path / "tscan.csv"))
    np.testing.assert_array_equal(csv_scan["c_err"], scan["c_err"])
    lattice, meta = data_export.read_npz(str(tmp_path / "lattice.npz"))
    np.testing.assert_array_equal(lattice["spins"], window.engine.latest().spins)
    assert meta["sweeps"] == window.engine.latest().sweeps
    assert QImage(str(tmp_path / "lattice.png")).width() == 32 * 16
    rg, _ = data_export.read_csv(str(tmp_path / "rg_couplings.csv"))
    np.testing.assert_allclose(rg["nn"], [0.44, 0.40])
    np.testing.assert_allclose(rg["nnn_err"], [0.02, 0.02])
    assert json.loads((tmp_path / "rg_couplings.json").read_text())["levels"][1]["size"] == 8
    assert json.loads((tmp_path / "network.json").read_text())["pl_fit"]["couplings"]["nn"] == 0.4


def test_tscan_is_labelled_with_the_model_its_bins_belong_to(open_window, qtbot, tmp_path):
    """A scene drives the engine directly (not through the controls): the T-scan follows the
    engine's model, clears old bins, and its export is labelled with that model, never with
    what the window showed before."""
    win = open_window(ModelParams(size=16, temperature=3.0, seed=1), steps=2)
    win.observables.add_samples(np.full(20, 3.0), np.full(20, -0.8), np.full(20, 0.1))  # L = 16 data
    win.engine.request(size=32, coupling=-1.0, field=0.05)  # as the scene player does
    qtbot.waitUntil(lambda: win.engine.latest().params.size == 32, timeout=20000)
    win.refresh()
    assert win.observables.scan.model == {"size": 32, "coupling": -1.0, "field": 0.05}
    assert win.observables.scan.result()["T"].size == 0  # the L = 16 bins are gone
    win.observables.add_samples(np.full(20, 3.0), np.full(20, -0.7), np.full(20, 0.2))
    data_export.export_data(win, str(tmp_path))
    _, meta = data_export.read_csv(str(tmp_path / "tscan.csv"))
    assert meta["params"] == {"size": 32, "coupling": -1.0, "field": 0.05}
