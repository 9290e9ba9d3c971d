"""The finite-size scaling dock: a tiny sweep on an embedded dask cluster fills the task grid and the
plots; cancel and closing the window stop a running sweep at once; a stored sweep opens read-only
with its analysis; the data sets round-trip through data export; bad input is one line."""
import json
import math
import os
import threading
import time

import numpy as np
import pytest
import torch  # noqa: F401  (imported up front: a window's network panel imports it in the background)

from isinglab.app.output import data_export
from isinglab.app.panels.contract import Panel
from isinglab.app.panels import fss
from isinglab.app.panels.fss import FssPanel
from isinglab.app.panels.fss_analysis import analyse_board
from isinglab.app.panels.fss_grid import CELL_DONE
from isinglab.core.observables import summarise
from isinglab.core.params import ModelParams
from isinglab.core.sweep import SweepPlan
from isinglab.core.sweep.store import SweepStore
from isinglab.core.sweep.task import run_task

WAIT_MS = 60000
STORED = dict(sizes=[8, 16], temperatures=[2.2, 2.25, 2.3, 2.35], seeds=2, sweeps=1000)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A sweep store filled in this process (what `isinglab sweep` writes), and its plan."""
    path = str(tmp_path_factory.mktemp("fss") / "stored.zarr")
    plan = SweepPlan.build(STORED["sizes"], STORED["temperatures"], STORED["seeds"], STORED["sweeps"], 200)
    store = SweepStore.create_or_resume(path, plan)
    for t in plan.tasks:
        res = run_task(t.size, t.temperature, plan.algorithm, t.seed, plan.sweeps, plan.thermalize)
        store.write(t, plan, res, summarise(res["e"], res["m"], t.size, t.temperature))
    return path, plan


@pytest.fixture
def panel(qtbot, refcount_headroom):
    p = FssPanel()
    qtbot.addWidget(p)
    p.messages = []
    p.set_status_callback(p.messages.append)
    p.resize(1100, 800)
    p.show()
    yield p
    p.shutdown()


def configure(panel, store, sizes="8,16", t=(2.2, 2.34, 0.035), seeds=2, sweeps=400, allow_long=False):
    panel.sizes_edit.setText(sizes)
    panel.t_from.setValue(t[0])
    panel.t_to.setValue(t[1])
    panel.t_step.setValue(t[2])
    panel.seeds_spin.setValue(seeds)
    panel.sweeps_spin.setValue(sweeps)
    panel.workers_spin.setValue(1)
    panel.scheduler_edit.setText("")
    panel.store_edit.setText(str(store))
    panel.allow_long_check.setChecked(allow_long)


def start_long_sweep(panel, qtbot, store):
    """A sweep whose tasks take minutes: started, and waited for until one task runs."""
    configure(panel, store, sizes="64,128", t=(2.2, 2.3, 0.05), sweeps=200_000, allow_long=True)
    panel.start_sweep()
    qtbot.waitUntil(lambda: panel.grid.counts()["running"] >= 1 or not panel.running, timeout=WAIT_MS)
    assert panel.running and panel.message == "", panel.message


def points(item) -> int:
    x, _ = item.getData()
    return 0 if x is None else len(x)


def analysed(panel, tasks: int):
    r = panel.result
    return r is not None and r.tasks == tasks and r.analysis is not None and not panel.analysis.busy


# ----------------------------------------------------------------------------- the dock


def test_dock_is_in_the_window_registry(open_window):
    win = open_window(ModelParams(size=16, temperature=2.5, seed=1))
    panel = win.panels["fssDock"]
    assert isinstance(panel, FssPanel) and isinstance(panel, Panel)
    assert panel.title == "Finite-size scaling" and win.docks["fssDock"].widget() is panel
    state = panel.state()
    assert state["model"] is None and state["inputs"]["fssSizesEdit"]
    json.dumps(state, allow_nan=False)
    assert panel.data_sets() == []


def test_a_sweep_fills_the_grid_and_the_plots(panel, qtbot, tmp_path, monkeypatch):
    store = tmp_path / "run.zarr"
    configure(panel, store)
    seen, threads = [], set()
    set_view = panel.grid.set_view
    panel.grid.set_view = lambda view: (seen.append(view.counts()), set_view(view))
    monkeypatch.setattr(fss, "analyse_board",
                        lambda data: (threads.add(threading.current_thread().name), analyse_board(data))[1])
    panel.start_sweep()
    assert panel.running and not panel.start_action.isEnabled() and panel.cancel_action.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=WAIT_MS)
    assert panel.message == "", panel.message
    assert panel.last_run["ran"] == 20 and panel.last_run["finished"] == 20
    assert (panel.grid.cells == CELL_DONE).all() and panel.grid.cells.shape == (2, 5)
    assert seen[0]["done"] == 0 and seen[-1]["done"] == 20  # it filled in while the tasks ran
    qtbot.waitUntil(lambda: analysed(panel, 20), timeout=WAIT_MS)
    for name in ("u4", "zoom", "chi", "collapse"):
        for L in (8, 16):
            x, y = panel.plots._items[name][L].curve.getData()
            assert x is not None and np.isfinite(y).sum() > 100, (name, L)
            assert points(panel.plots._items[name][L].points) == 5
    assert points(panel.plots.peak_points) + points(panel.plots.peak_edge) == 2
    assert "T_c =" in panel.summary_label.text()
    assert len(SweepStore.open_read(str(store)).finished()) == 20
    state = panel.state()
    json.dumps(state, allow_nan=False)
    assert state["model"]["sizes"] == [8, 16] and state["model"]["seeds"] == 2
    assert state["tasks"]["done"] == 20 and set(state["summary"]) == {"tc", "u4_star", "gamma_over_nu", "nu"}
    assert threads == {"isinglab-fss"}  # the analysis ran on the panel's worker, never the GUI thread
    panel.start_sweep()  # the same sweep again: everything is in the store already
    qtbot.waitUntil(lambda: not panel.running, timeout=WAIT_MS)
    assert panel.last_run["ran"] == 0 and panel.last_run["finished"] == 20 and panel.message == ""
    qtbot.waitUntil(lambda: analysed(panel, 20), timeout=WAIT_MS)


def test_cancel_stops_a_running_sweep_at_once(panel, qtbot, tmp_path):
    store = tmp_path / "long.zarr"
    start_long_sweep(panel, qtbot, store)
    t0 = time.monotonic()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0, elapsed
    assert panel.status_label.text().startswith("cancelled") and panel.message == ""
    assert panel.grid.counts()["running"] == 0
    assert not panel.runner.running
    assert panel.start_action.isEnabled() and not panel.cancel_action.isEnabled()


def test_the_window_closes_within_a_second_while_a_sweep_runs(open_window, qtbot, tmp_path):
    win = open_window(ModelParams(size=16, temperature=2.5, seed=1))
    panel = win.panels["fssDock"]
    win.docks["fssDock"].raise_()
    start_long_sweep(panel, qtbot, tmp_path / "closing.zarr")
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 1.0


def test_opening_a_store_shows_its_analysis(panel, qtbot, stored):
    path, plan = stored
    panel.open_store(path)
    qtbot.waitUntil(lambda: analysed(panel, 16), timeout=WAIT_MS)
    assert panel.message == "" and not panel.running
    assert panel.state()["model"] == plan.parameters()
    assert (panel.grid.cells == CELL_DONE).all() and panel.grid.cells.shape == (2, 4)
    tc = panel.result.analysis["tc"]
    assert abs(tc["mean"] - 2.269) < 0.1 and tc["err"] > 0
    assert points(panel.plots.crossing_points) == 1
    assert "read-only" in panel.board.view().line
    assert panel.status_label.text().startswith("store read")


def test_data_sets_round_trip_through_data_export(panel, qtbot, stored, tmp_path):
    path, plan = stored
    panel.open_store(path)
    qtbot.waitUntil(lambda: analysed(panel, 16), timeout=WAIT_MS)
    sets = {ds.name: ds for ds in panel.data_sets()}
    assert set(sets) == {"fss_points", "fss_binder", "fss_chi", "fss_summary"}
    for ds in sets.values():
        assert ds.model == plan.parameters()
        written = data_export.write_data_set(str(tmp_path), ds)
        assert sorted(os.path.basename(p) for p in written) == sorted(f"{ds.name}.{f}" for f in ds.formats)
    for name in ("fss_points", "fss_binder", "fss_chi"):
        cols, meta = data_export.read_csv(str(tmp_path / f"{name}.csv"))
        assert meta["params"] == plan.parameters() and set(meta["units"]) == set(cols)
        for key, values in sets[name].columns.items():
            np.testing.assert_allclose(cols[key], np.asarray(values, dtype=float), rtol=1e-12, equal_nan=True)
        arrays, npz_meta = data_export.read_npz(str(tmp_path / f"{name}.npz"))
        assert set(arrays) == set(cols) and npz_meta["params"] == plan.parameters()
    assert list(data_export.read_csv(str(tmp_path / "fss_binder.csv"))[0]) == ["T", "L8", "L16"]
    with open(tmp_path / "fss_summary.json", encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["params"] == plan.parameters()
    for key in ("tc", "u4_star", "gamma_over_nu", "nu"):
        assert math.isfinite(doc[key]["mean"]) and math.isfinite(doc[key]["err"]), key


def test_restore_sets_the_inputs_and_the_collapse(panel, qtbot, refcount_headroom):
    configure(panel, "/somewhere/x.zarr", sizes="16,32,64", seeds=3, sweeps=2000)
    panel.plots.set_collapse(2.3, 1.2)
    state = json.loads(json.dumps(panel.state()))
    other = FssPanel()
    qtbot.addWidget(other)
    try:
        assert other.restore(state) == []
        inputs = other.state()["inputs"]
        assert inputs["fssSizesEdit"] == "16,32,64" and inputs["fssSeedsSpin"] == 3
        assert inputs["fssStoreEdit"] == "/somewhere/x.zarr"
        assert other.plots.collapse_values()["tc"] == pytest.approx(2.3)
        assert other.plots.collapse_values()["nu"] == pytest.approx(1.2)
    finally:
        other.shutdown()


# ----------------------------------------------------------------------------- bad input


def _one_line(panel, qtbot, words: str) -> None:
    qtbot.waitUntil(lambda: not panel.running and panel.message != "", timeout=WAIT_MS)
    line = panel.message
    assert words in line, line
    assert "\n" not in line and "Traceback" not in line
    assert panel.message_label.text() == line
    assert panel.messages and panel.messages[-1].endswith(line)
    assert panel.start_action.isEnabled()


@pytest.mark.parametrize("change,words", [
    ({"sizes": "8,,16"}, "comma-separated"),
    ({"sizes": "eight"}, "not an integer"),
    ({"sizes": "16,16"}, "repeated"),
    ({"t": (2.4, 2.2, 0.01)}, "STOP must not be below START"),
])
def test_bad_sweep_inputs_show_one_line(panel, qtbot, tmp_path, change, words):
    configure(panel, tmp_path / "bad.zarr", **change)
    panel.start_action.trigger()  # as the button does
    _one_line(panel, qtbot, words)
    assert not os.path.exists(tmp_path / "bad.zarr")


@pytest.mark.parametrize("address,words", [
    ("tcp://127.0.0.1:1", "connection refused"),
    ("not an address", "must be an address"),
])
def test_an_unreachable_scheduler_shows_one_line(panel, qtbot, tmp_path, address, words):
    configure(panel, tmp_path / "remote.zarr")
    panel.scheduler_edit.setText(address)
    assert not panel.workers_spin.isEnabled()
    panel.start_sweep()
    _one_line(panel, qtbot, words)


def test_foreign_stores_show_one_line(panel, qtbot, tmp_path, stored):
    (tmp_path / "file.zarr").write_text("not a store")
    panel.open_store(str(tmp_path / "file.zarr"))
    _one_line(panel, qtbot, "not a Zarr store")
    os.mkdir(tmp_path / "folder")
    (tmp_path / "folder" / "notes.txt").write_text("hello")
    panel.open_store(str(tmp_path / "folder"))
    _one_line(panel, qtbot, "not an isinglab sweep store")
    panel.open_store(str(tmp_path / "missing.zarr"))
    _one_line(panel, qtbot, "does not exist")
    configure(panel, stored[0], sizes="8,32")  # a sweep into the store of another sweep
    panel.start_sweep()
    _one_line(panel, qtbot, "other parameters")
    assert panel.result is None and panel.state()["model"] is None  # nothing was shown of them
