"""The finite-size scaling dock's task grid: one cell per (L, T), seeds combined (pending, some
seeds done, running, done, failed), and the one-line labels that never widen the dock."""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before Qt widgets)
import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from isinglab.app import ui as palette
from isinglab.app.panels.fss_board import DONE, FAILED, RUNNING

# the grid's cells, seeds combined
CELL_PENDING, CELL_PARTIAL, CELL_RUNNING, CELL_DONE, CELL_FAILED = range(5)
CELL_NAMES = ("pending", "some seeds done", "running", "done", "failed")
CELL_COLOURS = (palette.GREY, "#B9D98A", palette.BLUE, palette.GREEN, palette.RED)


def cell_states(states: np.ndarray) -> np.ndarray:
    """(sizes, temperatures, seeds) task states -> (sizes, temperatures) cell codes."""
    if states.size == 0:
        return np.zeros(states.shape[:2], dtype=np.int8)
    out = np.full(states.shape[:2], CELL_PENDING, dtype=np.int8)
    out[np.any(states == DONE, axis=2)] = CELL_PARTIAL
    out[np.all(states == DONE, axis=2)] = CELL_DONE
    out[np.any(states == RUNNING, axis=2)] = CELL_RUNNING
    out[np.any(states == FAILED, axis=2)] = CELL_FAILED
    return out


# ----------------------------------------------------------------------------- the task grid


class TaskGrid(QWidget):
    """Rows: sizes (the smallest on top); columns: temperatures; one cell per (L, T)."""

    LEFT, BOTTOM = 44, 16

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("fssTaskGrid")
        self.setMouseTracking(True)
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.sizes: tuple = ()
        self.temperatures: tuple = ()
        self.cells = np.zeros((0, 0), dtype=np.int8)
        self._image: QImage | None = None
        self._lut = np.array([QColor(c).rgb() for c in CELL_COLOURS], dtype=np.uint32)

    def sizeHint(self) -> QSize:
        return QSize(400, min(160, 20 + 14 * max(1, len(self.sizes))))

    def set_view(self, view) -> None:
        """Show a fss_sweep.BoardView."""
        self.sizes, self.temperatures = view.sizes, view.temperatures
        self.cells = cell_states(view.states)
        if self.cells.size:
            rgb = np.ascontiguousarray(self._lut[self.cells])
            h, w = rgb.shape
            self._image = QImage(rgb.data, w, h, 4 * w, QImage.Format_RGB32).copy()
        else:
            self._image = None
        self.updateGeometry()
        self.update()

    def counts(self) -> dict:
        return {name: int(np.count_nonzero(self.cells == code)) for code, name in enumerate(CELL_NAMES)}

    def _area(self) -> QRectF:
        return QRectF(self.LEFT, 2, max(1, self.width() - self.LEFT - 4), max(1, self.height() - self.BOTTOM - 4))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        area = self._area()
        if self._image is None:
            p.drawText(area, Qt.AlignCenter, "no sweep yet: set it up and start it, or open a store")
            p.end()
            return
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        p.drawImage(area, self._image)
        n = len(self.sizes)
        row_h = area.height() / n
        step = max(1, int(math.ceil(14 / max(row_h, 1e-9))))
        for i in range(0, n, step):  # every row's label that fits, centred on its row
            centre = area.top() + (i + 0.5) * row_h
            p.drawText(QRectF(0, centre - 7, self.LEFT - 4, 14), Qt.AlignRight | Qt.AlignVCenter,
                       f"L={self.sizes[i]}")
        bottom = QRectF(area.left(), area.bottom() + 1, area.width(), self.BOTTOM)
        p.drawText(bottom, Qt.AlignLeft | Qt.AlignTop, f"T = {self.temperatures[0]:g}")
        p.drawText(bottom, Qt.AlignRight | Qt.AlignTop, f"{self.temperatures[-1]:g}")
        p.end()

    def cell_at(self, x: float, y: float):
        """(L, T, cell code) under a widget position, or None."""
        area = self._area()
        if self.cells.size == 0 or not area.contains(x, y):
            return None
        i = min(len(self.sizes) - 1, int((y - area.top()) / area.height() * len(self.sizes)))
        j = min(len(self.temperatures) - 1, int((x - area.left()) / area.width() * len(self.temperatures)))
        return self.sizes[i], self.temperatures[j], int(self.cells[i, j])

    def mouseMoveEvent(self, event) -> None:
        hit = self.cell_at(event.position().x(), event.position().y())
        self.setToolTip("" if hit is None else f"L = {hit[0]}, T = {hit[1]:g}: {CELL_NAMES[hit[2]]}")
        super().mouseMoveEvent(event)


def clipped_label(parent, name: str) -> QLabel:
    """A one-line label that never widens its dock: longer text is cut, and whole in its tooltip."""
    label = QLabel("", parent, objectName=name)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    label.setMinimumWidth(0)
    return label


def set_clipped(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setToolTip(text)


def legend_html() -> str:
    return "  ".join(f"<span style='color:{c}'>■</span> {n}" for n, c in zip(CELL_NAMES, CELL_COLOURS))
