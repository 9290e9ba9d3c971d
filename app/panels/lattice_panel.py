"""The lattice view's side of the panel contract: its display settings and the spins it shows."""
from __future__ import annotations

import numpy as np

from isinglab.app.panels.contract import DataSet, InputsPanel, model_of

PICTURE_SIDE = 512  # the exported picture is at least this many pixels wide (whole pixels per spin)


class LatticePanel(InputsPanel):
    """`view` is the LatticeView; `latest()` returns the engine's newest Snapshot (or None)."""

    def __init__(self, view, latest):
        super().__init__("latticeDock", "Lattice", view)
        self.latest = latest

    def state(self) -> dict:
        v, snap = self.widget, self.latest()
        return {**super().state(), "colormap": v.colormap, "show_domain_walls": v.show_domain_walls,
                "show_cluster": v.show_cluster, "view_backend": v.backend,
                "model": model_of(snap.params) if snap is not None else None}

    def restore(self, state: dict) -> list[str]:
        if state.get("colormap"):
            self.widget.set_colormap(state["colormap"])
        return super().restore(state)

    def data_sets(self) -> list[DataSet]:
        snap = self.latest()
        if snap is None:
            return []
        spins = np.asarray(snap.spins, dtype=np.int8)

        def picture(path: str) -> None:  # the picture shows the same state as the NPZ
            self.widget.set_spins(snap.spins)
            self.widget.export_png(path, max(1, PICTURE_SIDE // snap.params.size))

        return [DataSet("lattice", "lattice snapshot", model_of(snap.params), {"spins": spins},
                        {"spins": "+-1"}, formats=("npz", "png"),
                        meta={"sweeps": int(snap.sweeps), "colormap": self.widget.colormap},
                        picture=picture)]
