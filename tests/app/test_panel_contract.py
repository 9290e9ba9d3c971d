"""The panel contract (app/panels/contract.py): one registry in dock order, JSON-safe state with the
model, data sets labelled with the model they were measured on (not the window's)."""
import json
import time

import numpy as np
import pytest

from isinglab.app.output import data_export
from isinglab.app.panels import blocks_flow
from isinglab.app.panels.blocks import BlocksPanel
from isinglab.app.panels.contract import Panel
from isinglab.core.backends import make_sampler
from isinglab.core.engine import Snapshot
from isinglab.core.panel_ids import PANEL_IDS
from isinglab.core.params import ModelParams
from isinglab.core.tscan import TemperatureScan

WAIT_MS = 30000


def _snapshot(sampler, params, serial):
    sampler.sweep(1)
    spins = sampler.spins()
    spins.flags.writeable = False
    return Snapshot(serial=serial, params=params, spins=spins, sweeps=50 + serial, e=0.0, m=0.0,
                    request_serial=0, sweeps_per_s=0.0, flips_per_ns=0.0, published_at=time.perf_counter(),
                    equilibrium=True)


def test_registry_holds_every_panel_in_dock_order(open_window):
    win = open_window(ModelParams(size=16, temperature=2.5, seed=2), steps=2)
    assert tuple(win.panels) == PANEL_IDS
    assert set(win.docks) == set(PANEL_IDS)
    for panel_id, panel in win.panels.items():
        assert isinstance(panel, Panel) and panel.panel_id == panel_id and panel.title
        state = panel.state()
        assert "model" in state and isinstance(state["inputs"], dict)
        json.dumps(state, allow_nan=False)  # JSON-safe as it stands (sidecars write it)
        for ds in panel.data_sets():
            assert ds.model is not None, f"{panel_id}: data set {ds.name} has no model"
            assert set(ds.units) <= set(ds.columns)
    lattice = win.panels["latticeDock"].state()
    assert lattice["model"]["size"] == 16 and lattice["model"]["seed"] == 2


def test_restore_sets_inputs_back_whatever_their_order(open_window):
    """b = 3 offers other MCRG sizes than b = 2: a state listing the MCRG size before the block
    size still restores both."""
    win = open_window(ModelParams(size=16, temperature=2.5, seed=2))
    blocks = win.panels["blocksDock"]
    assert blocks.state()["inputs"]["blockSizeCombo"] == "2"
    state = {"inputs": {"mcrgSizeCombo": "216", "blockSizeCombo": "3", "noSuchWidget": 1}}
    assert blocks.restore(state) == ["noSuchWidget"]
    inputs = blocks.state()["inputs"]
    assert inputs["blockSizeCombo"] == "3" and inputs["mcrgSizeCombo"] == "216"


def test_rg_couplings_are_labelled_with_the_model_the_flow_was_measured_on(qtbot, tmp_path, monkeypatch):
    """The flow is fitted at (L = 16, T = 2.6); the export carries that model, whatever the
    window shows when the user exports."""
    monkeypatch.setattr(blocks_flow, "FIT_INTERVAL_S", 0.2)
    panel = BlocksPanel()
    qtbot.addWidget(panel)
    params = ModelParams(size=16, temperature=2.6, algorithm="wolff", seed=0)
    sampler = make_sampler(params)
    sampler.sweep(50)
    deadline, serial = time.monotonic() + WAIT_MS / 1000, 0
    try:
        while panel.flow_levels is None:
            assert time.monotonic() < deadline, "no flow fit"
            serial += 1
            panel.on_snapshot(_snapshot(sampler, params, serial))
            qtbot.wait(5)
        (ds,) = panel.data_sets()
        assert ds.name == "rg_couplings"
        assert ds.model["size"] == 16 and ds.model["temperature"] == pytest.approx(2.6)
        assert ds.model["rule"] == panel.rule and ds.model["block"] == panel.block
        written = data_export.write_data_set(str(tmp_path), ds)
        cols, meta = data_export.read_csv(str(tmp_path / "rg_couplings.csv"))
        assert meta["params"]["temperature"] == pytest.approx(2.6) and meta["params"]["size"] == 16
        assert set(meta["units"]) == set(cols)
        assert len(cols["nn"]) == len(panel.flow_levels)
        assert sorted(p.rsplit(".", 1)[1] for p in written) == ["csv", "json"]
    finally:
        panel.shutdown()


def test_tscan_model_names_every_algorithm_that_contributed():
    scan = TemperatureScan(16, 1.0)
    scan.add(np.full(10, 2.5), np.full(10, -1.0), np.full(10, 0.2), "metropolis")
    assert scan.model == {"size": 16, "coupling": 1.0, "field": 0.0, "algorithm": "metropolis"}
    scan.add(np.full(10, 2.5), np.full(10, -1.0), np.full(10, 0.2), "wolff")
    scan.add(np.full(10, 2.5), np.full(10, -1.0), np.full(10, 0.2), "metropolis")
    assert scan.model["algorithm"] == "metropolis+wolff"
    scan.set_model(32, 1.0, 0.0)  # a new model: the old bins and their algorithms go
    assert "algorithm" not in scan.model


def test_export_data_writes_only_what_the_panels_hand_over(open_window, tmp_path):
    win = open_window(ModelParams(size=16, temperature=2.5, seed=4), steps=2)
    win.timer.stop()  # no display ticks: nothing feeds the panels during the test
    win.refresh()
    win.observables.clear_traces()
    win.observables.clear()
    written = data_export.export_data(win, str(tmp_path))
    names = sorted(p.split("/")[-1] for p in written)
    assert names == ["lattice.npz", "lattice.png"]  # nothing measured yet: no empty tables
    arrays, meta = data_export.read_npz(str(tmp_path / "lattice.npz"))
    assert meta["params"]["size"] == 16 and meta["units"] == {"spins": "+-1"}
    assert arrays["spins"].dtype == np.int8
