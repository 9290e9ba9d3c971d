"""Legible at projector resolutions (issue 17): at 1280x720 and 1280x800, in the default layout, no
text overprints other text and no legend covers plotted data, in any dock brought to the front."""
import os
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QDockWidget, QGraphicsTextItem

from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.network_viewer import NetworkViewer
from isinglab.core.backends import make_sampler
from isinglab.core.engine import Snapshot
from isinglab.core.params import ModelParams

pytestmark = pytest.mark.usefixtures("refcount_headroom")  # tests/app/conftest.py

SHOTS = Path(os.environ.get("ISINGLAB_LEGIBILITY_SHOTS", "/tmp/legibility"))
SLACK = 1  # pixels two rectangles may share (anti-aliased edges)


# ------------------------------------------------------------------ what a dock shows


def _window_rect(view: pg.GraphicsView, scene_rect: QRectF, window) -> QRect:
    """A scene rectangle of `view` in window pixels."""
    r = view.mapFromScene(scene_rect).boundingRect()
    return QRect(view.viewport().mapTo(window, r.topLeft()), r.size())


def _shown(item) -> bool:
    return item is not None and item.isVisible() and (item.parentItem() is None or item.isVisibleTo(None))


def _tick_rects(axis: pg.AxisItem) -> list[QRectF]:
    """Scene rectangles of the tick labels the axis draws itself."""
    if not axis.isVisible() or not axis.style.get("showValues", True):
        return []
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
        if specs is None:
            return []
        if axis.style.get("tickFont") is not None:
            painter.setFont(axis.style["tickFont"])
        # the text's own extent, not the (100 px wide) cell pyqtgraph lays it out in
        return [axis.mapRectToScene(painter.boundingRect(QRectF(rect), int(flags), str(text)))
                for rect, flags, text in specs[2] if str(text).strip()]
    finally:
        painter.end()


def _text_rect(item: QGraphicsTextItem) -> QRectF:
    """Scene rectangle of a text item's glyphs, without its document margin."""
    m = item.document().documentMargin()
    return item.mapRectToScene(item.boundingRect().adjusted(m, m, -m, -m))


def _texts(plot: pg.PlotItem) -> list[tuple[str, QRectF]]:
    texts = []
    title = plot.titleLabel
    if title.isVisible() and title.text and title.maximumHeight() > 0:
        texts.append((f"title {title.text!r}", _text_rect(title.item)))
    for side in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(side)
        if not axis.isVisible():
            continue
        if axis.label.isVisible() and axis.labelText:
            texts.append((f"{side} label {axis.labelText!r}", _text_rect(axis.label)))
        texts.extend((f"{side} tick", r) for r in _tick_rects(axis))
    for item in plot.getViewBox().addedItems:
        if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText().strip():
            texts.append((f"text {item.toPlainText()[:30]!r}", _text_rect(item.textItem)))
    return texts


def _scene_points(plot: pg.PlotItem) -> np.ndarray:
    """Scene positions of the data actually drawn inside the view range (points and curve vertices)."""
    vb = plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    out = []
    for item in vb.addedItems:
        if not item.isVisible():
            continue
        if isinstance(item, pg.PlotDataItem):
            x, y = item.getData()
        elif isinstance(item, pg.ScatterPlotItem):
            x, y = item.getData()
        elif isinstance(item, pg.ErrorBarItem):
            x, y = item.opts.get("x"), item.opts.get("y")
        else:
            continue
        if x is None or y is None or len(x) == 0:
            continue
        x, y = np.asarray(x, float), np.asarray(y, float)
        keep = np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        for px, py in zip(x[keep], y[keep]):
            p = vb.mapViewToScene(pg.Point(px, py))
            out.append((p.x(), p.y()))
    return np.array(out).reshape(-1, 2)


def _visible_part(widget, window) -> QRect:
    """The part of `widget` its ancestors (scroll areas, splitters) leave visible, in window pixels."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        rect = rect.intersected(QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect


def collisions(window, dock: QDockWidget) -> list[str]:
    """Text over text, text cut off by its view, legends over data: one line each."""
    problems, texts = [], []
    for view in dock.findChildren(pg.GraphicsView):
        if not view.isVisible():  # (offscreen, visibleRegion() is always empty)
            continue
        port = QRect(view.viewport().mapTo(window, QPoint(0, 0)), view.viewport().size())
        shown = _visible_part(view.viewport(), window)  # (a scroll area may hide part of the view)
        items = [item for item in view.scene().items() if item.isVisible() and item.isVisibleTo(None)]
        plots = [item for item in items if isinstance(item, pg.PlotItem)]
        legends = [item for item in items if isinstance(item, pg.LegendItem) and item.items]
        boxes = [item for item in items if isinstance(item, pg.ViewBox)
                 and not any(plot.getViewBox() is item for plot in plots)]
        found = []
        for plot in plots:
            name = plot.titleLabel.text or plot.getAxis("left").labelText or "plot"
            found.extend((f"{name}: {what}", rect) for what, rect in _texts(plot))
        for box in boxes:  # bare view boxes (the block-spin levels): their text items
            found.extend((f"view: text {item.toPlainText()[:30]!r}", _text_rect(item.textItem))
                         for item in box.addedItems
                         if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText().strip())
        for what, rect in found:
            r = _window_rect(view, rect, window)
            if r.isEmpty():
                continue
            if not port.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(r):
                problems.append(f"{what} cut off by its view ({r} outside {port})")
            texts.append((what, r.intersected(shown)))
        for legend in legends:
            box = legend.mapRectToScene(legend.boundingRect() | legend.childrenBoundingRect())
            for plot in plots:
                points = _scene_points(plot)
                inside = ((points[:, 0] > box.left()) & (points[:, 0] < box.right())
                          & (points[:, 1] > box.top()) & (points[:, 1] < box.bottom()))
                if inside.any():
                    name = plot.titleLabel.text or plot.getAxis("left").labelText or "plot"
                    problems.append(f"legend covers {int(inside.sum())} data points of {name}")
            r = _window_rect(view, box, window)
            if not port.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(r):
                problems.append(f"legend cut off by its view ({r} outside {port})")
            texts.append(("legend", r.intersected(shown)))
    for i, (a, ra) in enumerate(texts):
        for b, rb in texts[i + 1:]:
            overlap = ra.intersected(rb)
            if overlap.width() > SLACK and overlap.height() > SLACK:
                problems.append(f"{a} overlaps {b} ({ra} and {rb})")
    return problems


# ------------------------------------------------------------------ data for the panels


def _snapshots(size=16, temperature=2.4, n=40):
    params = ModelParams(size=size, temperature=temperature, algorithm="wolff", seed=1)
    sampler = make_sampler(params)
    sampler.sweep(20)
    for serial in range(1, n + 1):
        sampler.sweep(2)
        spins = sampler.spins()
        spins.flags.writeable = False
        e, m = sampler.energy_magnetisation()
        yield Snapshot(serial, params, spins, sampler.sweeps_done, e, m, 0, 0.0, 0.0, time.perf_counter(),
                       equilibrium=True)


def _feed(win, qtbot):
    panels = win.panels
    rng = np.random.default_rng(0)
    for T in (1.8, 2.0, 2.2, 2.3, 2.5, 2.8, 3.2):
        win.observables.add_samples(np.full(20, T), rng.normal(-1.5 + 0.3 * T, 0.02, 20),
                                    rng.normal(max(0.0, 1 - 0.1 * T), 0.05, 20))
    for panel in panels.values():
        if not isinstance(panel, AnalysisPanel):
            continue
        for snap in _snapshots():
            panel.on_snapshot(snap)
            qtbot.wait(2)
            deadline = time.monotonic() + 5
            while getattr(panel, "busy", False) and time.monotonic() < deadline:
                qtbot.wait(5)
    # a drawn classifier (4 channels, 2x2 kernels, 4 classes) in the network viewer, no training
    channels, classes = 4, 4
    weights = {"conv": rng.normal(0, 0.5, (channels, 2, 2)), "conv_bias": rng.normal(0, 0.1, channels),
               "head": rng.normal(0, 0.5, (classes, channels)), "head_bias": rng.normal(0, 0.1, classes)}
    for viewer in win.findChildren(NetworkViewer):
        viewer.set_weights(weights, temperatures=[1.8, 2.1, 2.4, 2.7], activation="square")
    qtbot.wait(400)


# ------------------------------------------------------------------ the test


@pytest.mark.parametrize("size", [(1280, 720), (1280, 800)])
def test_no_overprint_in_any_dock(open_window, qtbot, size):
    win = open_window(ModelParams(size=16, temperature=2.4), size=size, no_gl=True)
    qtbot.waitUntil(lambda: win.width() == size[0], timeout=5000)
    _feed(win, qtbot)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, dock in win.docks.items():
        if dock.isHidden():
            continue
        dock.raise_()
        for _ in range(5):
            QApplication.processEvents()
        qtbot.wait(150)
        if size == (1280, 720):
            win.grab().save(str(SHOTS / f"{name}.png"))
        problems.extend(f"{name}: {p}" for p in collisions(win, dock))
    assert not problems, "\n".join(problems)
