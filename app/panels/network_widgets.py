"""Small widget builders shared by the network panel's tabs (classifier, Hamiltonian, gate).

Every tab builds rows of named spin boxes and buttons, titled plots and cancellable task runners
the same way; one copy here keeps their look (labels, SI prefixes off, legends) and their object
names (which figure export reads back as the panel's inputs) consistent across the tabs.
"""
from __future__ import annotations

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QWidget

from isinglab.app.panels.workers import TaskRunner


def spin_box(lo, hi, value, name, step=1, parent=None) -> QSpinBox:
    """An integer input with its range, step and object name set in one call."""
    w = QSpinBox(parent, objectName=name)
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setValue(value)
    return w


def push_button(text, name, slot, parent=None) -> QPushButton:
    """A named button already wired to its slot."""
    b = QPushButton(text, parent, objectName=name)
    b.clicked.connect(slot)
    return b


def labelled(row: QHBoxLayout, text: str, widget: QWidget) -> QWidget:
    """Add `text` and `widget` to a control row; returns the widget so it can be kept."""
    row.addWidget(QLabel(text))
    row.addWidget(widget)
    return widget


def titled_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A plot with axis labels and a legend, SI prefixes off: "fraction correct (x0.001)" reads wrong."""
    w = pg.PlotWidget(title=title)
    w.setLabel("bottom", x_label)
    w.setLabel("left", y_label)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)
    w.addLegend(offset=(-10, 10))
    return w


def task_runner(parent, finished, failed, bar: QProgressBar | None = None, cancelled=None) -> TaskRunner:
    """A TaskRunner wired to its handlers, and to a progress bar (0..1000) showing its text."""
    r = TaskRunner(parent)
    r.finished.connect(finished)
    r.failed.connect(failed)
    if bar is not None:
        r.progress.connect(lambda f, t, bar=bar: (bar.setValue(int(f * 1000)), bar.setFormat(f"{t} %p%")))
    if cancelled is not None:
        r.cancelled.connect(cancelled)
    return r


__all__ = ["labelled", "push_button", "spin_box", "task_runner", "titled_plot"]
