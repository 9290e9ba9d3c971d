"""A PNG of the whole window, GL canvas included, written atomically."""
from __future__ import annotations

import os
import tempfile

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter


def atomic_save(image: QImage, path: str, fmt: str = "PNG") -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(f"folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".isinglab-", suffix=".png", dir=folder)
    os.close(fd)
    try:
        if not image.save(tmp, fmt):
            raise OSError(f"could not write {path}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def grab_window_png(window, path: str) -> None:
    """widget.grab() leaves a GL canvas blank on some platforms: paint the lattice view's own
    rendering over its rectangle."""
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
    atomic_save(image, path)
