"""Shared building blocks of every part of the window: the one QAction factory and the one
palette. (Below every app package in the layers: anything may import it, it imports no panel.)"""
from __future__ import annotations

from isinglab.app import qt as _qt  # noqa: F401  (binding first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

# The palette: colour-blind-safe hues that stay distinct on a washed-out projector.
ORANGE = "#E8601C"  # the live measurement, the network's values
TEAL = "#2CA58D"  # exact results
BLUE = "#4A9BDB"
MAGENTA = "#C05CA8"
GREY = "#9A9A9A"  # references, "exact" bars
YELLOW = "#D8B31C"
VIOLET = "#8C6BB1"
PINK = "#E34A6F"
GREEN = "#7FB800"
RED = "#C0392B"
PURPLE = "#8E44AD"
SKY = "#5DADE2"
NAVY = "#1F4E9A"
SIZE_RED = "#D03030"  # the L/4 finite-size line


def make_action(parent, text: str, name: str, tip: str, slot=None, shortcuts=(), checkable: bool = False,
                application_wide: bool = False) -> QAction:
    """A named action with its tooltip and status tip, added to `parent` so that its shortcuts
    work even where it is in no visible menu (presenter mode hides the menu bar).
    `shortcuts`: one key sequence (str or QKeySequence.StandardKey) or a list of them."""
    a = QAction(text, parent)
    a.setObjectName(name)
    a.setToolTip(tip)
    a.setStatusTip(tip)
    a.setCheckable(checkable)
    if shortcuts is not None and not isinstance(shortcuts, (list, tuple)):
        shortcuts = [shortcuts]
    a.setShortcuts([QKeySequence(s) for s in shortcuts or ()])
    if application_wide:
        a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    if slot is not None:
        a.triggered.connect(slot)
    parent.addAction(a)
    return a
