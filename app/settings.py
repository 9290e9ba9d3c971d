"""Application settings in an INI file; a corrupt file is set aside (never deleted) and ignored.

Tests isolate settings by pointing ISINGLAB_CONFIG_DIR at a temporary folder.
"""
from __future__ import annotations

import os
import time

from PySide6.QtCore import QSettings, QStandardPaths

LAYOUT_VERSION = 1


def settings_path() -> str:
    folder = os.environ.get("ISINGLAB_CONFIG_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppConfigLocation) or os.path.expanduser("~/.config/isinglab")
    return os.path.join(folder, "isinglab.ini")


def open_settings() -> tuple[QSettings, str | None]:
    """The settings store and a warning to show when the file on disk could not be read."""
    path = settings_path()
    s = QSettings(path, QSettings.Format.IniFormat)
    if s.status() == QSettings.Status.NoError:
        return s, None
    kept = f"{path}.corrupt-{int(time.time())}"
    try:
        os.replace(path, kept)
        note = f"settings file was unreadable; kept it as {kept} and started fresh"
    except OSError as exc:
        note = f"settings file {path} is unreadable ({exc}); using defaults"
    return QSettings(path, QSettings.Format.IniFormat), note
