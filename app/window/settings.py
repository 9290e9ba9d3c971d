"""Application settings: a small INI file of plain text values, read as data and nothing else.

Qt's QSettings is deliberately not used to read the file: PySide6 unpickles an `@Variant(...)`
value holding a Python object when such a key is read, so a crafted settings file could run code
at start-up. Here the file is parsed by configparser (no interpolation), every value is a string,
and binary values (window geometry and dock state) are stored as base64 text. A file that cannot
be read, or that holds Qt's typed `@...` values at all, is set aside (renamed, never deleted or
parsed further) and the app starts with defaults and says so. Writes go through the one atomic
writer.

Tests isolate settings by pointing ISINGLAB_CONFIG_DIR at a temporary folder.
"""
from __future__ import annotations

import base64
import binascii
import configparser
import os
import time

from PySide6.QtCore import QByteArray, QStandardPaths

from isinglab.core.atomic_io import write_atomic
from isinglab.core.errors import IsingLabError

LAYOUT_VERSION = 1
MAX_BYTES = 256 * 1024  # a real settings file is a few KB
B64_PREFIX = "base64:"
GENERAL = "General"  # the section of keys without a "/"


class UnsafeSettings(ValueError):
    """The file holds something that is not plain data."""


def settings_path() -> str:
    folder = os.environ.get("ISINGLAB_CONFIG_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppConfigLocation) or os.path.expanduser("~/.config/isinglab")
    return os.path.join(folder, "isinglab.ini")


def _split(key: str) -> tuple[str, str]:
    section, _, name = key.rpartition("/")
    return section or GENERAL, name


class Settings:
    """String-valued settings kept in memory and written on sync(). The QSettings-like subset the
    app uses: value(key, default), bytes_value(key), setValue(key, value), sync()."""

    def __init__(self, path: str, values: dict[str, str] | None = None):
        self.path = path
        self._values = dict(values or {})
        self.last_error: str | None = None

    def value(self, key: str, default=None):
        return self._values.get(key, default)

    def bytes_value(self, key: str) -> QByteArray | None:
        text = self._values.get(key)
        if not text or not text.startswith(B64_PREFIX):
            return None
        try:
            return QByteArray(base64.b64decode(text[len(B64_PREFIX):], validate=True))
        except (binascii.Error, ValueError):
            return None

    def setValue(self, key: str, value) -> None:  # noqa: N802 (the QSettings name the panels use)
        if isinstance(value, (QByteArray, bytes, bytearray)):
            text = B64_PREFIX + base64.b64encode(bytes(value)).decode("ascii")
        elif isinstance(value, (str, int, float, bool)):
            text = str(value)
        else:
            raise TypeError(f"settings hold text, numbers and bytes only, not {type(value).__name__}")
        self._values[key] = text

    def remove(self, key: str) -> None:
        self._values.pop(key, None)

    def keys(self) -> list[str]:
        return sorted(self._values)

    def sync(self) -> bool:
        """Write the file atomically; on failure keep the old file and remember why."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str
        for key in sorted(self._values):
            section, name = _split(key)
            if not parser.has_section(section):
                parser.add_section(section)
            parser.set(section, name, self._values[key])
        lines = []
        for section in parser.sections():
            lines.append(f"[{section}]")
            lines.extend(f"{name}={text}" for name, text in parser.items(section))
            lines.append("")
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, "\n".join(lines))
        except (OSError, IsingLabError) as exc:
            self.last_error = str(exc)
            return False
        self.last_error = None
        return True


def parse_settings(text: str) -> dict[str, str]:
    """Plain key -> text; raises UnsafeSettings for Qt typed values, ValueError when malformed."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",),
                                       comment_prefixes=(";", "#"), empty_lines_in_values=False)
    parser.optionxform = str
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    values = {}
    for section in parser.sections():
        for name, value in parser.items(section):
            if value.lstrip().startswith("@"):  # @Variant (pickled objects), @ByteArray, @Point...
                raise UnsafeSettings(f"{section}/{name} holds a Qt typed value")
            values[name if section == GENERAL else f"{section}/{name}"] = value
    return values


def _read(path: str) -> dict[str, str]:
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    return parse_settings(text)


def open_settings() -> tuple[Settings, str | None]:
    """The settings store and a warning to show when the file on disk could not be used."""
    path = settings_path()
    if not os.path.lexists(path):
        return Settings(path), None
    try:
        if not os.path.isfile(path):
            raise ValueError("not a regular file")
        return Settings(path, _read(path)), None
    except UnsafeSettings as exc:
        why = f"it held values that are not plain data ({exc}); they were not read"
    except (OSError, ValueError) as exc:
        why = f"it was unreadable ({exc})"
    kept = f"{path}.corrupt-{int(time.time())}"
    try:
        os.replace(path, kept)
        note = f"Settings file set aside: {why}; kept it as {kept} and started with defaults"
    except OSError as exc:
        note = f"Settings file {path} not used: {why}; could not move it ({exc.strerror}); using defaults"
    return Settings(path), note
