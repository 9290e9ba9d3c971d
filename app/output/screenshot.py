"""A PNG of the whole window, GL canvas included, written through the one atomic writer."""
from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter

from isinglab.core.atomic_io import write_atomic

from isinglab.app.qt_bytes import image_bytes


def grab_window_png(window, path) -> str:
    """widget.grab() leaves a GL canvas blank on some platforms: paint the lattice view's own
    rendering over its rectangle. Returns the path written; raises IsingLabError."""
    image = window.grab().toImage()
    view = getattr(window, "lattice", None)
    if view is not None and view.isVisible() and view.backend == "vispy":
        rgb = view.grab_rgb()
        if rgb is not None:
            h, w = rgb.shape[:2]
            sub = QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
            origin = view.mapTo(window, QPoint(0, 0))
            dpr = image.devicePixelRatio()
            target = view.rect().size() * dpr
            p = QPainter(image)
            p.drawImage(origin * dpr, sub.scaled(target))
            p.end()
    return write_atomic(path, image_bytes(image, "PNG"))
