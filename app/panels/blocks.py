"""Block-spin RG panel: the live lattice and its block-spin levels, the measured RG flow in the
(K_nn, K_nnn) plane, and T_c / nu by Monte Carlo RG.

Threads: every snapshot goes to a LatestOnlyWorker that blocks it (majority or decimation, b = 2
or 3), turns each level into a uint8 image and adds the levels' neighbourhood histograms to the
running flow measurement of the current (L, T, J, h, rule, b); about once a second it hands a
copy of that measurement to a second worker, which fits the couplings (pseudo-likelihood, a few
tens of ms per level). Reference trajectories at fixed temperatures are simulated once per
(rule, b) on a third worker; the MCRG estimate is a cancellable TaskRunner job. The GUI thread
only swaps images and redraws plots.

Couplings need the temperature to stay put: a change of T (or L, J, h, rule, b) starts a new
measurement, once the engine says the state is in equilibrium (snapshot.equilibrium).
"""
from __future__ import annotations

import math

import numpy as np

from isinglab.app import qt  # noqa: F401  (selects the Qt binding before pyqtgraph loads)

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from isinglab.core import exact
from isinglab.core.rg import estimate_tc
from isinglab.core.tasks import TaskState

from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.blocks_flow import (MAX_SHOWN, REF_TEMPERATURES, FlowKey, LiveFlow,  # noqa: F401
                                             couplings_table, fit_job, level_images, reference_job,
                                             shown_levels)
from isinglab.app.panels.contract import DataSet
from isinglab.app.panels.plot_layout import MIN_PLOT_HEIGHT, legend_below, scrolling
from isinglab.app.panels.workers import LatestOnlyWorker, TaskRunner
from isinglab.app import ui as palette

LEVEL_PITCH = 1.08  # distance between the level images, in image widths
MCRG_SIZES = {2: (32, 64, 128), 3: (108, 216)}
MCRG_SNAPSHOTS = 20000
UP, DOWN = (24, 42, 110), (250, 236, 160)  # the lattice view's classic colours
LUT = np.array([DOWN, UP], dtype=np.uint8)
LINE_WIDTH = 2
COLOURS = {"current": palette.ORANGE, "exact": palette.TEAL}
REF_COLOURS = (palette.RED, palette.PURPLE, palette.SKY, palette.NAVY)  # red below T_c ... blue above


def _pen(colour, dashed=False):
    return pg.mkPen(colour, width=LINE_WIDTH, style=Qt.DashLine if dashed else Qt.SolidLine)


def arrow_angle(dx: float, dy: float) -> float:
    """pg.ArrowItem angle (degrees; 0 points to -x, Qt rotates clockwise on screen) that points
    along the data-space direction (dx, dy) of a plot whose y axis points up."""
    return math.degrees(math.atan2(dy, -dx))


def _mcrg_model(mcrg: dict) -> dict:
    """The model an MCRG estimate belongs to: its lattice side, rule, b and J (h = 0)."""
    return {"size": mcrg.get("size"), "coupling": mcrg.get("coupling"), "field": 0.0,
            "rule": mcrg.get("rule"), "block": mcrg.get("block")}


class _Trajectory:
    """One flow in the (K_nn, K_nnn) plane: points with error bars, arrows level to level."""

    def __init__(self, plot: pg.PlotItem, colour: str, dashed: bool, name: str | None):
        self.plot, self.colour = plot, colour
        self.curve = plot.plot([], [], pen=_pen(colour, dashed), symbol="o", symbolSize=7,
                               symbolBrush=colour, symbolPen=None, name=name)
        self.bars = pg.ErrorBarItem(pen=_pen(colour), beam=0.0)
        plot.addItem(self.bars)
        self.arrows: list[pg.ArrowItem] = []

    def set_levels(self, levels) -> np.ndarray:
        """Draw the finite levels; returns their (K_nn, K_nnn) points."""
        pts = [(lv.couplings["nn"], lv.couplings["nnn"]) for lv in levels if lv.couplings.ok]
        x = np.array([p[0][0] for p in pts])
        y = np.array([p[1][0] for p in pts])
        self.curve.setData(x, y)
        if pts:
            ex = np.array([p[0][1] for p in pts])
            ey = np.array([p[1][1] for p in pts])
            self.bars.setData(x=x, y=y, left=ex, right=ex, top=ey, bottom=ey)
        else:
            self.bars.setData(x=np.zeros(0), y=np.zeros(0))
        for a in self.arrows:
            self.plot.removeItem(a)
        self.arrows = []
        for i in range(len(x) - 1):
            dx, dy = x[i + 1] - x[i], y[i + 1] - y[i]
            if dx == 0 and dy == 0:
                continue
            arrow = pg.ArrowItem(pos=(0.5 * (x[i] + x[i + 1]), 0.5 * (y[i] + y[i + 1])),
                                 angle=arrow_angle(dx, dy), headLen=16, headWidth=7, tailLen=None,
                                 brush=self.colour, pen=pg.mkPen(None))
            self.plot.addItem(arrow)
            self.arrows.append(arrow)
        return np.column_stack([x, y]) if pts else np.zeros((0, 2))


class BlocksPanel(AnalysisPanel):
    panel_id = "blocksDock"
    title = "Block-spin RG"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("blocksPanel")
        self._live = LiveFlow()
        self._last_serial = None
        self._equilibration = None  # of the newest snapshot: what the status says while waiting
        self._params = None
        self._key = None
        self._flow_levels = None  # the last fit of the current parameters
        self._shown_count = 0
        self.shown_serial = None  # serial of the snapshot whose levels are on screen
        self._references: dict = {}
        self._ref_task: TaskState | None = None
        self._ref_pending = None
        self.mcrg_result = None
        self._build()
        self.worker = LatestOnlyWorker("isinglab-blocks", self)
        self.fit_worker = LatestOnlyWorker("isinglab-blocks-fit", self)
        self.ref_worker = LatestOnlyWorker("isinglab-blocks-ref", self)
        self.mcrg = TaskRunner(self)
        self.worker.finished.connect(self._show_levels)
        self.worker.failed.connect(self._on_error)
        self.fit_worker.finished.connect(self._show_fit)
        self.fit_worker.failed.connect(self._on_error)
        self.ref_worker.finished.connect(self._show_references)
        self.ref_worker.failed.connect(self._on_error)
        self.mcrg.progress.connect(self._mcrg_progress)
        self.mcrg.finished.connect(self._mcrg_finished)
        self.mcrg.failed.connect(self._mcrg_failed)
        self.mcrg.cancelled.connect(self._mcrg_cancelled)
        self._references_wanted = False  # simulated once the panel first gets a snapshot

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_bar())
        splitter = QSplitter(Qt.Vertical, self)
        splitter.addWidget(self._build_levels())
        splitter.addWidget(self._build_flow())
        splitter.addWidget(self._build_mcrg())
        splitter.setSizes([250, 450, 250])  # scaled to the dock's height by Qt
        # levels, flow and MCRG at their least heights: scrolled on a low projector, not squeezed
        # until the titles are cut off and the tick labels overprint
        heights = [max(w.minimumHeight(), w.minimumSizeHint().height())
                   for w in (splitter.widget(i) for i in range(splitter.count()))]
        layout.addWidget(scrolling(splitter, sum(heights) + 2 * splitter.handleWidth(), self), 1)

    def _build_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.rule_combo = QComboBox(self, objectName="blockRuleCombo")
        self.rule_combo.addItems(["majority", "decimation"])
        self.rule_combo.setToolTip("Block-spin rule: sign of the block sum (b = 2 ties: a seeded coin), "
                                   "or the block's top-left spin")
        self.block_combo = QComboBox(self, objectName="blockSizeCombo")
        self.block_combo.addItems(["2", "3"])
        self.block_combo.setToolTip("Block side b: each level has L / b^k spins per side")
        self.rule_combo.currentTextChanged.connect(self._on_rule_changed)
        self.block_combo.currentTextChanged.connect(self._on_rule_changed)
        self.status_label = QLabel(self, objectName="blocksStatus")
        for text, w in (("rule", self.rule_combo), ("b", self.block_combo)):
            bar.addWidget(QLabel(text, self))
            bar.addWidget(w)
        bar.addWidget(self.status_label, 1)
        return bar

    def _build_levels(self) -> pg.GraphicsLayoutWidget:
        """One view holding every level as a unit square side by side: equal size on screen."""
        view = pg.GraphicsLayoutWidget(self)
        self.levels_box = view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.level_images, self.level_titles = [], []
        for k in range(MAX_SHOWN):
            image = pg.ImageItem(axisOrder="row-major")
            image.setLookupTable(LUT)
            title = pg.TextItem("", anchor=(0.5, 1.0))
            title.setPos(k * LEVEL_PITCH + 0.5, -0.02)
            for item in (image, title):
                self.levels_box.addItem(item)
                item.setVisible(False)
            self.level_images.append(image)
            self.level_titles.append(title)
        self._frame_levels(1)
        view.setMinimumHeight(MIN_PLOT_HEIGHT - 20)
        return view

    def _frame_levels(self, n: int) -> None:
        self.levels_box.setRange(QRectF(-0.02, -0.15, (n - 1) * LEVEL_PITCH + 1.04, 1.17), padding=0.0)

    def _build_flow(self) -> pg.PlotWidget:
        widget = pg.PlotWidget(self)
        plot = self.flow_plot = widget.getPlotItem()
        plot.setTitle("RG flow of the renormalised couplings (pseudo-likelihood)")
        plot.setLabel("bottom", "K_nn")
        plot.setLabel("left", "K_nnn")
        plot.setAspectLocked(True)  # equal units: arrows point where the flow goes
        legend_below(plot, columns=3)  # under the axis: over the view it covered the flow
        self.current_flow = _Trajectory(plot, COLOURS["current"], False, "current T")
        self.reference_flows = []
        for t, colour in zip(REF_TEMPERATURES, REF_COLOURS):  # simulated at L = REF_SIZE[b]
            name = "reference T_c" if t == exact.TC else f"reference T = {t:g}"
            self.reference_flows.append(_Trajectory(plot, colour, True, name))
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        widget.setMinimumHeight(MIN_PLOT_HEIGHT + 80)  # the plot and its legend's rows
        return widget

    def _build_mcrg(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.mcrg_button = QPushButton("Estimate T_c, ν (MCRG)", box, objectName="mcrgButton")
        self.mcrg_button.setToolTip("Swendsen's Monte Carlo RG: match block-spin correlations of the L and "
                                    "L/b lattices (T_c) and diagonalise the linearised RG (ν)")
        self.mcrg_button.clicked.connect(self._toggle_mcrg)
        self.mcrg_size = QComboBox(box, objectName="mcrgSizeCombo")
        self.mcrg_size.setToolTip("Lattice side L of the MCRG runs (L and L/b are simulated)")
        self.mcrg_progress = QProgressBar(box, objectName="mcrgProgress")
        self.mcrg_progress.setRange(0, 1000)
        self.mcrg_progress.setTextVisible(True)
        self.mcrg_label = QLabel("", box, objectName="mcrgResult")
        self.mcrg_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        row.addWidget(self.mcrg_button)
        row.addWidget(QLabel("L", box))
        row.addWidget(self.mcrg_size)
        row.addWidget(self.mcrg_progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.mcrg_label)
        plots = pg.GraphicsLayoutWidget(box)
        self.tc_plot = plots.addPlot(row=0, col=0, title="T_c per matched level")
        self.nu_plot = plots.addPlot(row=0, col=1, title="ν per RG step")
        for plot, value, xlabel in ((self.tc_plot, exact.TC, "matched side"), (self.nu_plot, 1.0, "to side")):
            plot.addItem(pg.InfiniteLine(value, angle=0, pen=_pen(COLOURS["exact"], dashed=True)))
            plot.setLabel("bottom", xlabel)
            plot.setLogMode(x=True, y=False)
        self.tc_points = self._points(self.tc_plot)
        self.nu_points = self._points(self.nu_plot)
        plots.setMinimumHeight(MIN_PLOT_HEIGHT)
        layout.addWidget(plots, 1)
        self._fill_mcrg_sizes()
        return box

    def _points(self, plot):
        bars = pg.ErrorBarItem(pen=_pen(COLOURS["current"]), beam=0.0)
        points = pg.ScatterPlotItem(size=8, pen=None, brush=COLOURS["current"])
        plot.addItem(bars)
        plot.addItem(points)
        return points, bars

    # ------------------------------------------------------------------ settings

    @property
    def rule(self) -> str:
        return self.rule_combo.currentText()

    @property
    def block(self) -> int:
        return int(self.block_combo.currentText())

    def _on_rule_changed(self, _text=None) -> None:
        self._flow_levels = None
        self.current_flow.set_levels([])
        self._fill_mcrg_sizes()
        if self._references_wanted:
            self._request_references()
        self._last_serial = None  # re-block the shown snapshot at the next frame

    def _fill_mcrg_sizes(self) -> None:
        self.mcrg_size.clear()
        self.mcrg_size.addItems([str(s) for s in MCRG_SIZES[self.block]])
        self.mcrg_size.setCurrentIndex(1 if self.block == 2 else 0)

    # ------------------------------------------------------------------ live levels

    def on_snapshot(self, snapshot) -> None:
        if not self._references_wanted:
            self._references_wanted = True
            self._request_references()
        if snapshot.serial == self._last_serial:
            return
        self._last_serial = snapshot.serial
        self._params = snapshot.params
        p = snapshot.params
        key = FlowKey(p.size, p.temperature, p.coupling, p.field, self.rule, self.block)
        self._equilibration = snapshot.equilibration
        self.worker.submit(self._analyse, snapshot.spins, key, snapshot.equilibrium, snapshot.serial)

    def follow_model(self, params) -> None:
        """Another (L, J, h): its flow goes at once; so do the level images of another L (the
        next snapshot brings the new ones)."""
        key = self._key
        if key is None or (key.size, key.coupling, key.field) == (params.size, params.coupling, params.field):
            return
        self._key = self._flow_levels = None
        self.current_flow.set_levels([])
        if key.size != params.size:
            for item in (*self.level_images, *self.level_titles):
                item.setVisible(False)
            self.shown_serial = None
        self.status_label.setText(f"waiting for a snapshot of L = {params.size}…")

    def _analyse(self, spins, key, equilibrium, serial):
        """Worker thread: block, convert to images, extend the flow measurement."""
        size, rule, block = key.size, key.rule, key.block
        levels = shown_levels(size, block)
        lattices, images = level_images(spins, block, rule, levels, serial)
        due = self._live.add(key, lattices, size, block, rule, equilibrium)
        if due is not None:
            self.fit_worker.submit(fit_job, key, due)
        snapshots = self._live.acc.snapshots if self._live.acc is not None else 0
        return key, serial, images, snapshots

    def _show_levels(self, result) -> None:
        key, serial, images, snapshots = result
        self._key = key
        self.shown_serial = serial
        size, block = key.size, key.block
        if len(images) != self._shown_count:
            self._shown_count = len(images)
            self._frame_levels(len(images))
        for k in range(MAX_SHOWN):
            shown = k < len(images)
            self.level_images[k].setVisible(shown)
            self.level_titles[k].setVisible(shown)
            if shown:
                self.level_images[k].setImage(images[k], autoLevels=False, levels=(0, 1))
                self.level_images[k].setRect(QRectF(k * LEVEL_PITCH, 0, 1, 1))  # unit squares
                side = images[k].shape[0]
                self.level_titles[k].setText(f"L = {side}" if k == 0 else f"L/{block ** k} = {side}")
        if len(images) == 1:
            message = f"L = {size} is not divisible by b = {block}: no block levels"
            if self.status_label.text() != message:
                self.show_status(f"Block-spin RG: {message}")  # once, not every frame
            self.status_label.setText(message)
        elif self._flow_levels is None or self._flow_levels[0] != key:
            if snapshots == 0 and self._equilibration is not None and not self._equilibration.equilibrated:
                self.status_label.setText(f"flow waits: {self._equilibration.describe()}")
            else:
                self.status_label.setText(f"measuring the flow at T = {key.temperature:.4g}: {snapshots} snapshots")

    def _show_fit(self, result) -> None:
        key, snapshots, levels = result
        if key != self._key:
            return  # parameters changed meanwhile
        self._flow_levels = (key, levels)
        self.current_flow.set_levels(levels)
        notes = [f"level {lv.level}: {lv.couplings.status}" for lv in levels if not lv.couplings.ok]
        text = f"T = {key.temperature:.4g}: couplings of {len(levels)} levels from {snapshots} snapshots"
        self.status_label.setText("; ".join([text] + notes))

    def state(self) -> dict:
        state = {**super().state(), "rule": self.rule, "block": self.block,
                 "model": self._flow_levels[0].model() if self._flow_levels else None}
        if self.flow_levels:
            state["flow"] = [lv.to_json() for lv in self.flow_levels]
        if self.mcrg_result is not None:
            state["mcrg"] = self.mcrg_result.to_json()
        return state

    def data_sets(self) -> list[DataSet]:
        """rg_couplings: the fitted levels, with the reference flows of the same rule and b and
        the MCRG estimate (when there are) in its JSON document; an MCRG estimate without a
        fitted flow is the data set "mcrg"."""
        mcrg = self.mcrg_result.to_json() if self.mcrg_result is not None else None
        if not self.flow_levels:
            if mcrg is None:
                return []
            return [DataSet("mcrg", "Monte Carlo RG estimate of T_c and nu", _mcrg_model(mcrg),
                            document={"mcrg": mcrg}, formats=("json",))]
        key, levels = self._flow_levels
        units = {name: "" for name in couplings_table(levels)}
        document = {"levels": [lv.to_json() for lv in levels]}
        references = self._references.get((key.rule, key.block))
        if references:
            document["reference_flows"] = [
                {"temperature": f.params.temperature, "size": f.params.size, "seed": f.params.seed,
                 "sweeps": f.sweeps, "levels": [lv.to_json() for lv in f.levels]} for f in references]
        if mcrg is not None:
            document["mcrg"] = mcrg
        return [DataSet("rg_couplings", "block-spin couplings per RG level", key.model(),
                        couplings_table(levels), units, document, formats=("csv", "json"))]

    @property
    def flow_levels(self):
        """The last fitted levels (core.rg.FlowLevel) of the current parameters, or None."""
        return None if self._flow_levels is None else self._flow_levels[1]

    # ------------------------------------------------------------------ reference flows

    def _request_references(self) -> None:
        key = (self.rule, self.block)
        if key in self._references:
            self._draw_references(self._references[key])
            return
        for traj in self.reference_flows:
            traj.set_levels([])
        if self._ref_task is not None:
            self._ref_task.cancel()  # a stale job stops at its next check
        self._ref_task = TaskState()
        self._ref_pending = key
        self.ref_worker.submit(reference_job, self.rule, self.block, self._ref_task)

    def _show_references(self, result) -> None:
        if result is None:
            return  # cancelled: a newer request is on its way
        key, flows = result
        self._references[key] = flows
        if key == (self.rule, self.block):
            self._draw_references(flows)

    def _draw_references(self, flows) -> None:
        for traj, flow in zip(self.reference_flows, flows):
            traj.set_levels(flow.levels)

    def references_ready(self) -> bool:
        return (self.rule, self.block) in self._references

    # ------------------------------------------------------------------ MCRG

    def _toggle_mcrg(self) -> None:
        if self.mcrg.running:
            self.mcrg.cancel()
            self.mcrg_button.setEnabled(False)  # re-enabled by the cancelled signal
            return
        self.start_mcrg()

    def start_mcrg(self, size: int | None = None, snapshots: int = MCRG_SNAPSHOTS) -> None:
        size = int(self.mcrg_size.currentText()) if size is None else size
        self.mcrg_progress.setValue(0)
        self.mcrg_label.setText(f"MCRG on L = {size} and {size // self.block}…")
        self.mcrg_button.setText("Cancel")
        self.mcrg.start(estimate_tc, size, self.block, self.rule, snapshots)

    def _mcrg_progress(self, fraction: float, text: str) -> None:
        self.mcrg_progress.setValue(int(fraction * 1000))
        self.mcrg_progress.setFormat(f"{text} %p%")

    def _mcrg_done(self) -> None:
        self.mcrg_button.setText("Estimate T_c, ν (MCRG)")
        self.mcrg_button.setEnabled(True)

    def _mcrg_finished(self, res) -> None:
        self._mcrg_done()
        self.mcrg_result = res
        self.mcrg_progress.setValue(1000)
        tc, nu = res.tc, res.nu
        self.mcrg_label.setText(
            f"T_c = {tc['mean']:.4f} ± {tc['err']:.4f} (syst. {res.tc_systematic:.4f}; exact {exact.TC:.4f})   "
            f"ν = {nu['mean']:.3f} ± {nu['err']:.3f} (syst. {res.nu_systematic:.3f}; exact 1)   "
            f"L = {res.size}, {res.seconds:.0f} s")
        self._set_points(self.tc_points, [m["side"] for m in res.match], [m["tc"] for m in res.match])
        self._set_points(self.nu_points, [e["to"] for e in res.eigen], [e["nu"] for e in res.eigen])

    @staticmethod
    def _set_points(items, sides, entries) -> None:
        points, bars = items
        x = np.log10(np.asarray(sides, dtype=float))  # the plots are in log-x mode
        y = np.array([e["mean"] for e in entries])
        err = np.array([e["err"] for e in entries])
        points.setData(x=x, y=y)
        bars.setData(x=x, y=y, top=err, bottom=err)

    def _mcrg_failed(self, message: str) -> None:
        self._mcrg_done()
        self.mcrg_label.setText(f"MCRG failed: {message}")
        self.show_status(f"MCRG: {message}")

    def _mcrg_cancelled(self) -> None:
        self._mcrg_done()
        self.mcrg_progress.setValue(0)
        self.mcrg_label.setText("MCRG cancelled")

    # ------------------------------------------------------------------ errors, shutdown

    def _on_error(self, message: str) -> None:
        self.status_label.setText(message)
        self.show_status(f"Block-spin RG: {message}")

    def shutdown(self) -> None:
        if self._ref_task is not None:
            self._ref_task.cancel()
        self.mcrg.cancel()  # everything told first, so that it all stops at once, not in turn
        workers = (self.worker, self.fit_worker, self.ref_worker)
        for w in workers:
            w.shutdown(timeout=0.0)
        self.mcrg.cancel(wait=True, timeout=1.0)
        for w in workers:
            w.shutdown()
