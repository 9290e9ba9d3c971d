"""The text box drawn inside the lattice view (presenter mode: T/T_c, xi, the scene's caption).

It is painted once per change into a small RGBA image with QPainter (any font, any Unicode the
system fonts have: ξ, ∞, T_c) and handed to the backend, which draws it inside its own scene:
an Image visual in the vispy canvas, a pixmap item in the pyqtgraph fallback. So it shows
wherever the lattice shows, also in the native GL window that a QLabel above it could not cover.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from isinglab.app.lattice.colours import TEXT_BOX_RGBA, TEXT_RGB

MARGIN = 12  # logical pixels between the box and the view's top-left corner
MIN_PIXELS, MAX_PIXELS = 14, 44  # first line's font height, in logical pixels
LINES_PER_HEIGHT = 24  # the first line's font is the view's height / this (clamped)
CAPTION_SCALE = 0.72  # later lines (the caption) are this much smaller


@dataclass(frozen=True)
class TextBox:
    """A painted box: `image` (device pixels, devicePixelRatio set) and where it goes, `rect`,
    in the view's logical pixels."""

    image: QImage
    rect: QRect


def _font(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, int(pixels)))
    font.setBold(bold)
    return font


def paint_text_box(lines, view_width: int, view_height: int, ratio: float = 1.0) -> TextBox | None:
    """The box for `lines` (first line large and bold, the rest smaller) in a view of this
    logical size; lines too wide for the view are elided. None when there is nothing to show."""
    lines = [str(s) for s in lines or () if s]
    if not lines or view_width <= 2 * MARGIN or view_height <= 2 * MARGIN:
        return None
    big = int(min(max(view_height / LINES_PER_HEIGHT, MIN_PIXELS), MAX_PIXELS))
    fonts = [_font(big, True)] + [_font(big * CAPTION_SCALE, False)] * (len(lines) - 1)
    pad = max(4, big // 3)
    room = view_width - 2 * MARGIN - 2 * pad
    shown, metrics = [], []
    for text, font in zip(lines, fonts):
        fm = QFontMetrics(font)
        shown.append(fm.elidedText(text, Qt.TextElideMode.ElideRight, room))
        metrics.append(fm)
    width = max(fm.horizontalAdvance(t) for fm, t in zip(metrics, shown)) + 2 * pad
    height = sum(fm.height() for fm in metrics) + 2 * pad
    ratio = max(float(ratio), 1.0)
    image = QImage(int(round(width * ratio)), int(round(height * ratio)), QImage.Format.Format_RGBA8888)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(*TEXT_BOX_RGBA))
    p.drawRoundedRect(QRectF(0, 0, width, height), pad, pad)
    p.setPen(QColor(*TEXT_RGB))
    y = pad
    for text, font, fm in zip(shown, fonts, metrics):
        p.setFont(font)
        p.drawText(pad, y + fm.ascent(), text)
        y += fm.height()
    p.end()
    return TextBox(image, QRect(MARGIN, MARGIN, width, height))


def rgba_array(image: QImage):
    """(H, W, 4) uint8 copy of an RGBA8888 QImage (rows may be padded)."""
    import numpy as np

    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 4].reshape(h, w, 4).copy()
