"""Every QAction of the main window: objectName, tooltip and standard shortcut in one table."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from isinglab.app.ui import make_action

# name: (text, shortcut(s), tooltip, checkable)
ACTIONS = {
    "run": ("Run", "Space", "Run or pause the simulation (Space)", True),
    "step": ("Step", "S", "Advance one sweep while paused (S)", False),
    "snap_tc": ("Snap to T_c", "Ctrl+T", "Set T to the critical temperature |J| x 2.269 (Ctrl+T)", False),
    "nudge_up": ("Warmer", "Right", "Raise T by 0.01 (Right)", False),
    "nudge_down": ("Cooler", "Left", "Lower T by 0.01 (Left)", False),
    "fine_up": ("Warmer (fine)", "Shift+Right", "Raise T by 0.001 (Shift+Right)", False),
    "fine_down": ("Cooler (fine)", "Shift+Left", "Lower T by 0.001 (Shift+Left)", False),
    "reset_random": ("Random", "Ctrl+R", "Reset to a random (infinite-temperature) state (Ctrl+R)", False),
    "reset_up": ("All up", None, "Reset to all spins up", False),
    "reset_down": ("All down", None, "Reset to all spins down", False),
    "clear_scan": ("Clear T-scan", "Ctrl+K", "Forget the accumulated observables per temperature (Ctrl+K)", False),
    "screenshot": ("Save window as PNG…", "Ctrl+Shift+S", "Save a PNG of the whole window", False),
    "full_screen": ("Full screen", "F11", "Toggle full screen (F11)", True),
    "reset_layout": ("Reset layout", None, "Put every panel back where it started", False),
    "quit": ("Quit", QKeySequence.StandardKey.Quit, "Quit isinglab (Ctrl+Q)", False),
    "about": ("About isinglab", None, "Version and the ideas behind the app", False),
}


def object_name(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.capitalize() for w in rest) + "Action"


def create_actions(parent) -> dict[str, QAction]:
    out = {}
    for key, (text, shortcut, tip, checkable) in ACTIONS.items():
        out[key] = make_action(parent, text, object_name(key), tip, shortcuts=shortcut, checkable=checkable)
    return out
