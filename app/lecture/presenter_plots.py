"""Presenter mode's plots: larger tick labels, axis titles, plot titles and legend entries, and
thicker lines, in every pyqtgraph plot of the window; everything it changes is saved and put
back by restore().

The text sizes are for the panel beside the lattice: full size beside one at least
FULL_TEXT_PANEL_WIDTH px wide, smaller (down to MIN_TEXT_SCALE) beside a narrower one (a 4:3
projector), always larger than outside presenter mode (9 pt ticks, axis titles and legends,
11 pt titles), so that the plots keep fitting their panel. A plot's title sets its plot's
minimum width: it grows only as far as it still fits, and keeps its size where not even one
point more would.
"""
from __future__ import annotations

import re

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph loads)
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

MIN_LINE_WIDTH = 4.0
TICK_POINT_SIZE = 16
AXIS_LABEL_POINT_SIZE = 17
TITLE_POINT_SIZE = 15
LEGEND_POINT_SIZE = 13
FULL_TEXT_PANEL_WIDTH = 560
MIN_TEXT_SCALE = 0.8
AXIS_GROWTH = 1.3  # a left axis' width in presenter mode over its width before (for titles)
DEFAULT_LEGEND_SIZE = "9pt"  # pyqtgraph's, for legends that had none set


def plot_points(panel_width: float) -> dict[str, float]:
    """Point sizes of "tick", "axis" (titles), "title" and "legend" beside a panel this wide,
    in 0.5 pt steps."""
    scale = min(1.0, max(MIN_TEXT_SCALE, panel_width / FULL_TEXT_PANEL_WIDTH))
    sizes = {"tick": TICK_POINT_SIZE, "axis": AXIS_LABEL_POINT_SIZE, "title": TITLE_POINT_SIZE,
             "legend": LEGEND_POINT_SIZE}
    return {k: round(v * scale * 2) / 2 for k, v in sizes.items()}


def _legend_text_size(legend, size: str) -> None:
    legend.setLabelTextSize(size)  # for entries added later; it does not redraw the labels
    for _sample, label in legend.items:
        label.setText(label.text, size=size)
    legend.updateSize()


def title_points(label, target: float, panel_width: float) -> float | None:
    """The size for a plot's title (or another LabelItem): the target, or less where the text
    would not fit the width its plot will have; None where not even one point more than its
    present size fits (it keeps its size then)."""
    views = label.scene().views() if label.scene() is not None else []
    plot = label.parentItem() if isinstance(label.parentItem(), pg.PlotItem) else label
    if not views or views[0].width() <= 0 or not label.text:
        return target
    # a title shares its plot's width with the left axis, which grows with its texts
    margin = 8
    if plot is not label:
        axis = plot.getAxis("left")
        margin += AXIS_GROWTH * axis.width() if axis.isVisible() else 0
    room = (panel_width - 12) * min(1.0, plot.width() / views[0].width()) - margin
    size = str(label.opts.get("size", ""))
    present = float(size[:-2]) if size.endswith("pt") else label.item.font().pointSizeF()
    plain = re.sub(r"<[^>]*>", "", label.text)
    font = QFont(label.item.font())
    points = target
    while points >= present + 1:
        font.setPointSizeF(points)
        if QFontMetricsF(font).horizontalAdvance(plain) <= room:
            return points
        points -= 0.5
    return None


class PlotStyle:
    """enlarge(views, panel_width) the plots of these pg.GraphicsViews; restore() them."""

    def __init__(self):
        self._saved: dict[str, list] = {}

    def enlarge(self, views, panel_width: float) -> None:
        s = self._saved = {"pens": [], "ticks": [], "axis_labels": [], "labels": [], "legends": []}
        points = plot_points(panel_width)
        tick_font = QFont()
        tick_font.setPointSizeF(points["tick"])
        items = [item for view in views for item in view.scene().items()]
        in_legends = set()
        for item in items:
            if isinstance(item, pg.LegendItem):
                s["legends"].append((item, item.opts.get("labelTextSize")))
                in_legends.update(id(label) for _sample, label in item.items)
                _legend_text_size(item, f"{points['legend']:g}pt")
        for item in items:
            if isinstance(item, pg.PlotDataItem) or (
                    isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem)):
                pen = pg.mkPen(item.opts["pen"])
                s["pens"].append((item, pg.mkPen(pen)))
                pen.setWidthF(max(MIN_LINE_WIDTH, 2.5 * pen.widthF()))
                item.setPen(pen)
            elif isinstance(item, pg.AxisItem):
                s["ticks"].append((item, item.style.get("tickFont")))
                item.setTickFont(tick_font)
                s["axis_labels"].append((item, dict(item.labelStyle)))
                item.labelStyle = {**item.labelStyle, "font-size": f"{points['axis']:g}pt"}
                item._updateLabel()
            elif isinstance(item, pg.LabelItem) and id(item) not in in_legends:
                title = title_points(item, points["title"], panel_width)
                if title is not None:
                    s["labels"].append((item, dict(item.opts)))
                    item.setText(item.text, size=f"{title:g}pt")

    def restore(self) -> None:
        s, self._saved = self._saved, {}
        for item, pen in s.get("pens", ()):
            item.setPen(pen)
        for axis, font in s.get("ticks", ()):
            axis.setTickFont(font)
        for axis, style in s.get("axis_labels", ()):
            axis.labelStyle = style
            axis._updateLabel()
        for label, opts in s.get("labels", ()):
            label.opts = opts
            label.setText(label.text)  # its present text, with the old size
        for legend, size in s.get("legends", ()):
            _legend_text_size(legend, size or DEFAULT_LEGEND_SIZE)
