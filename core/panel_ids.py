"""The one list of panel ids. Scenes, sidecars and data exports name panels by these ids (they
are in the files people keep, so they never change); the window uses them as dock object names."""
from __future__ import annotations

PANEL_IDS = ("latticeDock", "controlsDock", "observablesDock", "blocksDock", "correlationDock", "networkDock",
             "fssDock")


def file_stem(panel_id: str) -> str:
    """The file name an exported figure of the panel gets: 'blocksDock' -> 'blocks'."""
    return panel_id.removesuffix("Dock")
