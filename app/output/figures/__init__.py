"""Publication figures drawn by matplotlib from a panel's data sets, without Qt.

One module per panel (lattice, observables, blocks, correlation, network), each with
`draw(tables, style) -> matplotlib.figure.Figure` and SETS, the data sets it draws; style.py
holds the look (light theme, column presets, font size) and data.py the tables and their NPZ.
The controls panel has no data and so no publication figure. `render` draws one Figure and
writes it as PNG (Agg), SVG and PDF, so the three look the same; an import-linter contract keeps
this package free of PySide6, pyqtgraph and vispy.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from isinglab.core import __version__
from isinglab.core.errors import IsingLabError

from isinglab.app.output.figures import blocks, correlation, lattice, network, observables, pdf_canvas
from isinglab.app.output.figures.data import Table, by_name
from isinglab.app.output.figures.style import Style, context, freeze
from isinglab.app.output.sidecar import FORMATS  # noqa: F401  (figures.FORMATS: what render writes)

DRAWERS = {"latticeDock": lattice, "observablesDock": observables, "blocksDock": blocks,
           "correlationDock": correlation, "networkDock": network}


def has_figure(panel_id: str) -> bool:
    return panel_id in DRAWERS


def figure_tables(panel_id: str, tables: list[Table]) -> list[Table]:
    """The tables the panel's figure is drawn from (those its module names in SETS)."""
    if panel_id not in DRAWERS:
        raise IsingLabError(f"{panel_id} has no publication figure (it has no data)")
    module = DRAWERS[panel_id]
    use = {t.name: t for t in tables if t.name in module.SETS}
    use = module.select(use) if hasattr(module, "select") and use else use
    return [t for t in tables if t.name in use]


@dataclass(frozen=True)
class Rendered:
    files: dict  # fmt -> file bytes
    size_px: tuple  # (width, height) of the PNG
    size_in: tuple  # (width, height) of the page in inches


def render(panel_id: str, tables: list[Table], style: Style, formats=FORMATS) -> Rendered:
    """The panel's figure drawn once from `tables` and written in every format."""
    style = style.validated()
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise IsingLabError(f"unknown figure format {bad[0]!r}; choose one of {', '.join(FORMATS)}")
    use = by_name(figure_tables(panel_id, tables))
    if not use:
        raise IsingLabError(f"{panel_id.removesuffix('Dock')}: no data to draw a publication figure from")
    files = {}
    with context(style):
        try:
            fig = DRAWERS[panel_id].draw(use, style)
            freeze(fig)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise IsingLabError(f"cannot draw the {panel_id.removesuffix('Dock')} figure from these data: "
                                f"{type(exc).__name__}: {exc}") from None
        for fmt in formats:
            getattr(fig, "for_format", lambda _fmt: None)(fmt)  # a module's per-format detail (lattice)
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=style.dpi, metadata=_metadata(fmt),
                        backend=pdf_canvas.BACKEND if fmt == "pdf" else None)
            files[fmt] = buf.getvalue()
    return Rendered(files, tuple(fig.canvas.get_width_height(physical=True)),  # Agg's pixels (it truncates)
                    tuple(float(v) for v in fig.get_size_inches()))


def _metadata(fmt: str) -> dict:
    """No dates: the same data and style give the same bytes."""
    creator = f"isinglab {__version__}"
    if fmt == "png":
        return {"Software": creator}
    if fmt == "svg":
        return {"Date": None, "Creator": creator}
    return {"CreationDate": None, "Creator": creator}
