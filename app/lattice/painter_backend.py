"""The lattice view's software backend: pyqtgraph ImageItems painted by QPainter.

Used where OpenGL cannot draw (no GL, Qt's offscreen platform, ISINGLAB_NO_GL) or the vispy
canvas failed to build. The colours live in lookup tables handed over with each image.
Implements the same backend interface as vispy_backend.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QWidget

from isinglab.app.lattice.colours import BACKGROUND, OVERLAY_RGBA


class _PaintCounter(QObject):
    """Counts paint events of the fallback's viewport (its 'frames drawn')."""

    def __init__(self, callback):
        super().__init__()
        self._callback = callback

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self._callback(None)
        return False


class PyqtgraphBackend:
    """Software fallback: pyqtgraph ImageItems with lookup tables."""

    name = "pyqtgraph"

    @staticmethod
    def renderer() -> str:
        return "pyqtgraph software painting (no OpenGL)"

    def __init__(self, parent: QWidget, on_draw):
        import pyqtgraph as pg

        self.widget = pg.GraphicsView(parent, background=BACKGROUND)
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.widget.setCentralItem(self.vb)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(1)
        self.vb.addItem(self.image)
        self.vb.addItem(self.overlay)
        self.overlay.setVisible(False)
        # the text box: in the view's scene, whose coordinates are the widget's pixels
        self.text = QGraphicsPixmapItem()
        self.text.setZValue(1000)
        self.text.setVisible(False)
        self.widget.scene().addItem(self.text)
        self._lut = None
        self._counter = _PaintCounter(on_draw)
        self.widget.viewport().installEventFilter(self._counter)

    def max_texture_size(self) -> int | None:
        return None

    @staticmethod
    def _lut_for(colors, b):
        up, down = (np.array(c, np.float32) for c in colors)
        if b == 1:  # values 0/1 index the table directly
            lut = np.tile(up, (256, 1))
            lut[0] = down
        else:  # 0..255 = fraction up
            t = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
            lut = down + t * (up - down)
        return np.round(lut).astype(np.uint8)

    def show_image(self, data, b, colors):
        self._lut = self._lut_for(colors, b)
        self.image.setImage(data, autoLevels=False, levels=(0, 255), lut=self._lut)
        self._scale(self.image, data, b)

    def show_overlay(self, codes, b):
        if codes is None:
            self.overlay.setVisible(False)
            return
        lut = np.zeros((256, 4), np.uint8)
        lut[:4] = OVERLAY_RGBA
        self.overlay.setImage(codes, autoLevels=False, levels=(0, 255), lut=lut)
        self._scale(self.overlay, codes, b)
        self.overlay.setVisible(True)

    def show_text(self, box):
        """Draw a text_overlay.TextBox (None hides it) over the lattice, in widget pixels."""
        if box is None:
            self.text.setVisible(False)
            return
        self.text.setPixmap(QPixmap.fromImage(box.image))
        self.text.setPos(box.rect.x(), box.rect.y())
        self.text.setVisible(True)

    @staticmethod
    def _scale(item, data, b):
        item.setRect(QRectF(0, 0, data.shape[1] * b, data.shape[0] * b))

    def set_colors(self, colors):
        pass  # the owner re-shows the image with a new table

    def reset(self, size):
        self.vb.setRange(xRange=(0, size), yRange=(0, size), padding=0)

    def can_grab(self, frames_drawn) -> bool:
        return True  # QWidget.grab renders even when hidden

    def grab(self):
        img = self.widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        return _qimage_rgb(img)

    def connect_double_click(self, slot):
        def clicked(event):
            if event.double():
                slot()

        self.widget.scene().sigMouseClicked.connect(clicked)

    def close(self):
        self.widget.viewport().removeEventFilter(self._counter)


def _qimage_rgb(img: QImage) -> np.ndarray:
    """Copy an RGB888 QImage into an (H, W, 3) uint8 array (rows may be padded)."""
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
