"""Qt images and documents encoded in memory, so that every file reaches disk through the one
atomic writer (isinglab.core.atomic_io): Qt's own file writers report a full disk late or not at
all and leave truncated files behind."""
from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from isinglab.core.errors import IsingLabError


def open_buffer() -> tuple[QBuffer, QByteArray]:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    return buf, data


def image_bytes(image: QImage, fmt: str = "PNG") -> bytes:
    buf, data = open_buffer()
    ok = image.save(buf, fmt)
    buf.close()
    if not ok or data.isEmpty():
        raise IsingLabError(f"could not encode the {image.width()} x {image.height()} image as {fmt}")
    return bytes(data)
