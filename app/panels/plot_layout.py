"""Plot layout that stays legible at projector resolutions (1280x720): legends in their own layout
cell, never over the data, and plot areas that scroll rather than shrink until their text overprints.
tests/app/test_legibility.py checks every dock of the default window."""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGraphicsWidget, QScrollArea, QSizePolicy, QWidget

# the least height of one plot (title, ticks, axis label and a readable data area): below it
# pyqtgraph's tick labels overprint each other
MIN_PLOT_HEIGHT = 170
# below the plot: the row of PlotItem's own grid layout under the bottom axis (pyqtgraph fills
# rows 0 to 3: title, top axis, view box, bottom axis)
_BELOW_ROW = 4


class CellLegend(pg.LegendItem):
    """A legend that a layout places (a plot's or a GraphicsLayout's cell) instead of one anchored
    over the view box: it asks the layout for its size rather than setting its own geometry."""

    def __init__(self, columns: int = 1, **kwargs):
        super().__init__(offset=None, colCount=columns, **kwargs)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def updateSize(self):
        # the size hint comes from the legend's own grid layout (samples and labels)
        self.layout.invalidate()
        self.setMinimumHeight(self.layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).height())
        self.updateGeometry()


def legend_below(plot: pg.PlotItem, columns: int = 2) -> CellLegend:
    """A legend in its own row under the plot's bottom axis: it never covers the data. It becomes
    `plot.legend` (replacing one addLegend made), so PlotDataItems made later with name=... join
    it as they would join addLegend's."""
    old = getattr(plot, "legend", None)
    if old is not None:  # one anchored over the view box (addLegend): it goes
        if old.scene() is not None:
            old.scene().removeItem(old)
        QGraphicsWidget.setParentItem(old, None)  # (LegendItem's own would re-anchor it)
    legend = CellLegend(columns)
    plot.layout.addItem(legend, _BELOW_ROW, 1)
    plot.legend = legend
    return legend


class _PlotScroll(QScrollArea):
    """A scroll area that asks for the room its plots ask for (QScrollArea's own hint is smaller,
    and the main window then gave the docks' room to the lattice)."""

    def sizeHint(self):
        inner = self.widget()
        return inner.sizeHint() if inner is not None else super().sizeHint()


def scrolling(widget: QWidget, min_height: int, parent: QWidget | None = None) -> QScrollArea:
    """`widget` in a vertical scroll area that shows a scroll bar rather than squeeze it below
    `min_height` (its plots' text would overprint)."""
    widget.setMinimumHeight(min_height)
    area = _PlotScroll(parent)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class DecadeAxis(pg.AxisItem):
    """An axis whose log mode labels only as many ticks as fit without overprinting: decades
    first, then 2 and 5 times a power of ten, then the others, each only where it keeps its
    distance from the labels already chosen (pyqtgraph labels every minor tick, 2 ... 9)."""

    _PRIORITY = (1, 2, 5, 3, 4, 6, 7, 8, 9)  # leading digit: decades first

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        if maxVal <= minVal or size <= 0:
            return ticks
        values = sorted({round(v, 9) for _, level in ticks for v in level})
        gap = 20.0 if self.orientation in ("left", "right") else 40.0  # pixels per label
        per_value = size / (maxVal - minVal)

        def digit(v):
            return int(round(10 ** (v - math.floor(v + 1e-9))))

        kept = []
        for d in self._PRIORITY:
            for v in values:
                if digit(v) == d and all(abs(v - k) * per_value >= gap for k in kept):
                    kept.append(v)
        return [(None, sorted(kept))]
