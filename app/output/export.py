"""Figure export: every panel as a publication figure (matplotlib, from the panel's data) and as
its screen look (Qt), each file with a JSON sidecar (app/output/sidecar.py) that says how to
regenerate it (`isinglab figure --from <sidecar>`).

Publication figure of panel stem S (app/output/figures/, no Qt): S.png, S.svg and S.pdf drawn
from one matplotlib Figure, S.data.npz with the data sets it was drawn from (its sha256 is in
every sidecar, so `figure --from` redraws the same figure without simulating), a sidecar per
file. Options: the column preset (3.4 in or 7 in wide), the font size, the PNG's DPI. The
controls panel has no data and no publication figure.

Screen look S.screen.png: the panel as it is on screen, rendered through QWidget.render into a
QImage (`export_panel` can still write it as SVG or PDF through QSvgGenerator / QPdfWriter). The
lattice is drawn from the spins themselves, so a GL canvas never has to be read back. `scale`
multiplies the on-screen size in pixels; `dpi` is written into the PNG.

Every file is written to a temporary file in the destination folder and renamed into place
(core/atomic_io.py): an error leaves nothing half-written.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from isinglab.app import qt as _qt  # noqa: F401  (binding first)
from isinglab.app.qt_bytes import image_bytes, open_buffer
from PySide6.QtCore import QMarginsF, QPoint, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QAction, QImage, QPageSize, QPainter, QPdfWriter, QRegion, qRgb
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QWidget)

from isinglab.core import __version__
from isinglab.core.atomic_io import check_folder, resolve_target
from isinglab.core.errors import IsingLabError
from isinglab.core.panel_ids import PANEL_IDS, file_stem
from isinglab.app.output import figures
from isinglab.app.output.figures.data import tables_from
from isinglab.app.output.figures.style import PRESETS, Style
from isinglab.app.output.publication import DATA_SUFFIX, write_pair, write_publication
from isinglab.app.output.sidecar import FONT_RANGE, FORMATS, STYLES, make_sidecar
from isinglab.app.ui import make_action

PANELS = PANEL_IDS
FILE_STEMS = {name: file_stem(name) for name in PANELS}
MAX_PIXELS = 12000  # per side: beyond this QImage/QPainter allocations fail or crawl
SCREEN_SUFFIX = ".screen.png"  # the screen look of stem S: S.screen.png


@dataclass(frozen=True)
class ExportOptions:
    scale: float = 2.0  # screen look: output pixels per on-screen pixel
    dpi: int = 150  # written into every PNG; the publication PNG's pixels per inch
    style: str = "publication"  # what a figure set holds: "publication" (+ screen PNG) or "screen"
    preset: str = "single"  # publication width: "single" (3.4 in) or "double" column (7 in)
    font_size: float = 8.0  # publication text, in points

    def validated(self) -> "ExportOptions":
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and 0.1 <= self.scale <= 16):
            raise IsingLabError(f"export scale must be between 0.1 and 16, got {self.scale!r}")
        if not (isinstance(self.dpi, int) and 30 <= self.dpi <= 2400):
            raise IsingLabError(f"export DPI must be an integer between 30 and 2400, got {self.dpi!r}")
        if self.style not in STYLES:
            raise IsingLabError(f"export style must be one of {', '.join(STYLES)}, got {self.style!r}")
        self.figure_style()
        return self

    def figure_style(self) -> Style:
        return Style(self.preset, self.font_size, self.dpi).validated()


# ---------------------------------------------------------------------------- painting

def _pixel_size(logical: QSizeF, scale: float) -> QSize:
    w, h = max(1, round(logical.width() * scale)), max(1, round(logical.height() * scale))
    if max(w, h) > MAX_PIXELS:
        raise IsingLabError(f"figure of {w} x {h} pixels is too large (at most {MAX_PIXELS} per side): "
                            "lower the scale")
    return QSize(w, h)


class _Figure:
    """Something that paints itself at a logical size: a widget, or the lattice's spin image."""

    def __init__(self, logical: QSizeF, paint):
        self.logical = logical
        self.paint = paint  # paint(painter) in logical coordinates


def widget_figure(widget: QWidget) -> _Figure:
    # unbound QWidget methods: panels may shadow names such as `size` with their own attributes
    size = QWidget.size(widget)
    if size.width() < 8 or size.height() < 8:  # never laid out (hidden dock): give it a size
        QWidget.resize(widget, QWidget.sizeHint(widget).expandedTo(QSize(640, 480)))
        size = QWidget.size(widget)
    flags = QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren

    def paint(p: QPainter) -> None:
        QWidget.render(widget, p, QPoint(), QRegion(QWidget.rect(widget)), flags)
    return _Figure(QSizeF(size), paint)


def spin_image(spins: np.ndarray, colors) -> QImage:
    """One pixel per spin, indexed colours (down, up)."""
    index = np.ascontiguousarray(spins > 0, dtype=np.uint8)
    h, w = index.shape
    img = QImage(index.data, w, h, w, QImage.Format.Format_Indexed8)
    img.setColorTable([qRgb(*colors[1]), qRgb(*colors[0])])
    return img.copy()  # own the pixels: `index` dies with this frame


def lattice_figure(spins: np.ndarray, colors, side: int, scale: float) -> _Figure:
    """The spins at about `side` screen pixels, sized so that each spin is a whole number of
    output pixels (no moire from uneven spin widths)."""
    img = spin_image(spins, colors)
    L = spins.shape[0]
    per_spin = max(1, round(side * scale / L))
    logical = L * per_spin / scale

    def paint(p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp spins
        p.drawImage(QRectF(0, 0, logical, logical), img)
    return _Figure(QSizeF(logical, logical), paint)


def _render_png(fig: _Figure, opts: ExportOptions) -> tuple[bytes, QSize]:
    size = _pixel_size(fig.logical, opts.scale)
    img = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    dpm = round(opts.dpi / 0.0254)
    img.setDotsPerMeterX(dpm)
    img.setDotsPerMeterY(dpm)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size.width() / fig.logical.width(), size.height() / fig.logical.height())
    fig.paint(p)
    p.end()
    return image_bytes(img, "PNG"), size


def _render_svg(fig: _Figure, opts: ExportOptions) -> tuple[bytes, QSize]:
    from PySide6.QtSvg import QSvgGenerator
    size = _pixel_size(fig.logical, opts.scale)
    buf, data = open_buffer()
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(size)
    gen.setViewBox(QRectF(0, 0, fig.logical.width(), fig.logical.height()))
    gen.setResolution(opts.dpi)
    gen.setTitle("isinglab figure")
    p = QPainter(gen)
    fig.paint(p)
    p.end()
    buf.close()
    return bytes(data), size


def _render_pdf(fig: _Figure, opts: ExportOptions) -> tuple[bytes, QSize]:
    size = _pixel_size(fig.logical, opts.scale)
    buf, data = open_buffer()
    writer = QPdfWriter(buf)
    writer.setResolution(opts.dpi)
    points = QSizeF(size.width() * 72.0 / opts.dpi, size.height() * 72.0 / opts.dpi)
    writer.setPageSize(QPageSize(points, QPageSize.Unit.Point, "isinglab", QPageSize.SizeMatchPolicy.ExactMatch))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle("isinglab figure")
    writer.setCreator(f"isinglab {__version__}")
    p = QPainter(writer)
    p.scale(writer.width() / fig.logical.width(), writer.height() / fig.logical.height())
    fig.paint(p)
    p.end()
    del writer  # finishes the document in the buffer
    buf.close()
    return bytes(data), size


RENDERERS = {"png": _render_png, "svg": _render_svg, "pdf": _render_pdf}


# ---------------------------------------------------------------------------- export

def panel_figure(window, dock_name: str, opts: ExportOptions, snapshot=None) -> _Figure:
    if dock_name == "latticeDock":
        from isinglab.app.lattice.colours import COLOR_SCHEMES
        snap = snapshot if snapshot is not None else window.engine.latest()
        side = max(window.lattice.width(), window.lattice.height(), 64)
        return lattice_figure(snap.spins, COLOR_SCHEMES[window.lattice.colormap], side, opts.scale)
    dock = window.docks[dock_name]
    if not dock.isVisible() or dock.visibleRegion().isEmpty():
        bring_forward(dock)
    flush = getattr(dock.widget(), "flush_redraws", None)
    if flush is not None:  # panels that throttle their plots draw the newest data first
        flush()
    return widget_figure(dock.widget())


def bring_forward(dock) -> None:
    """Show a closed or tabbed-away dock so that its panel is laid out at a real size."""
    from PySide6.QtWidgets import QApplication
    dock.show()
    dock.raise_()
    QApplication.processEvents()  # lay out before painting


def export_panel(window, dock_name: str, path: str, fmt: str | None = None,
                 opts: ExportOptions = ExportOptions(), snapshot=None, extra: dict | None = None) -> tuple[str, str]:
    """Write the screen look of one panel as `fmt` (default: from the suffix) to `path`, plus
    `path + ".json"` (`extra` adds sidecar entries, e.g. the scene a figure came from).

    Returns (figure path, sidecar path). Raises IsingLabError for any problem; then nothing new
    is left at either path.
    """
    opts = opts.validated()
    if dock_name not in window.docks:
        raise IsingLabError(f"no panel {dock_name!r}; one of {', '.join(window.docks)}")
    fmt = (fmt or os.path.splitext(path)[1].lstrip(".")).lower()
    if fmt not in FORMATS:
        raise IsingLabError(f"unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path, _ = resolve_target(path)
    side_path, _ = resolve_target(path + ".json")
    snap = snapshot if snapshot is not None else window.engine.latest()
    fig = panel_figure(window, dock_name, opts, snap)
    blob, size = RENDERERS[fmt](fig, opts)
    sidecar = {**make_sidecar(window, dock_name, fmt, os.path.basename(path), opts.dpi,
                              (size.width(), size.height()), snap, scale=opts.scale),
               "style": "screen", **(extra or {})}
    write_pair(path, blob, side_path, sidecar)
    return path, side_path


def export_screen(window, panel_id: str, folder: str, opts: ExportOptions = ExportOptions(), snapshot=None,
                  extra: dict | None = None) -> list[str]:
    """The panel as it looks on screen: <stem>.screen.png and its sidecar in `folder`."""
    path = os.path.join(folder, FILE_STEMS.get(panel_id, panel_id) + SCREEN_SUFFIX)
    return list(export_panel(window, panel_id, path, "png", opts, snapshot, extra))


def export_publication(window, panel_id: str, folder: str, formats=FORMATS, opts: ExportOptions = ExportOptions(),
                       snapshot=None, extra: dict | None = None) -> list[str]:
    """The panel's publication figure from its data sets: <stem>.data.npz, then <stem>.<fmt>
    with a sidecar each (data file and its sha256 recorded). IsingLabError when the panel has no
    publication figure (the controls) or no data yet."""
    opts = opts.validated()
    panel = window.panels.get(panel_id)
    if panel is None:
        raise IsingLabError(f"no panel {panel_id!r}; one of {', '.join(window.panels)}")
    if not figures.has_figure(panel_id):
        raise IsingLabError(f"{panel.title}: this panel has no data, so no publication figure")
    tables = figures.figure_tables(panel_id, tables_from(panel.data_sets()))
    if not tables:
        raise IsingLabError(f"{panel.title}: no data yet, nothing to draw a publication figure from")
    snap = snapshot if snapshot is not None else window.engine.latest()
    base = make_sidecar(window, panel_id, "png", "", opts.dpi, (0, 0), snap)
    return write_publication(folder, panel_id, tables, opts.figure_style(), formats, base, extra)


def visible_panels(window) -> list[str]:
    """Docks shown on screen (not closed, not hidden behind another tab)."""
    return [name for name, dock in window.docks.items()
            if dock.isVisible() and not dock.visibleRegion().isEmpty()]


def has_publication(window, panel_id: str) -> bool:
    """Whether the panel can be drawn as a publication figure now (it has one, and data)."""
    panel = window.panels.get(panel_id)
    return (panel is not None and figures.has_figure(panel_id)
            and bool(figures.figure_tables(panel_id, tables_from(panel.data_sets()))))


def export_figure_set(window, folder: str, formats=("png",), opts: ExportOptions = ExportOptions(),
                      panels=None, *, screen: bool = True) -> list[str]:
    """Every visible panel (or `panels`) into `folder`, from one snapshot (the figures of a set
    show the same moment). Style "publication": for each panel with data its publication figure
    in `formats` (+ S.data.npz), and (`screen`) every panel's screen look S.screen.png; style
    "screen": the screen looks only. Every file with its sidecar."""
    opts = opts.validated()
    folder = check_folder(folder)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise IsingLabError(f"unknown figure format {bad or formats}; choose from {', '.join(FORMATS)}")
    names = list(panels) if panels is not None else visible_panels(window)
    if not names:
        raise IsingLabError("no panel is visible: nothing to export")
    snap = window.engine.latest()
    written = []
    for name in names:
        if opts.style == "publication" and has_publication(window, name):
            written += export_publication(window, name, folder, formats, opts, snap)
        if screen or opts.style == "screen":
            written += export_screen(window, name, folder, opts, snap)
    if not written:
        raise IsingLabError("none of these panels has data for a publication figure yet: nothing to export")
    return written


def figure_files(written) -> list[str]:
    """The figures among the paths an export wrote (not sidecars, not data files)."""
    return [p for p in written if not p.endswith((".json", DATA_SUFFIX))]


# ---------------------------------------------------------------------------- GUI

class ExportDialog(QDialog):
    """Panel (or every visible panel), style (publication / screen), formats, column preset, font
    size, scale, DPI and folder; `export()` does the work."""

    def __init__(self, window, panel: str | None = None, folder: str | None = None):
        super().__init__(window)
        self.main_window = window
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export figure")
        form = QFormLayout(self)
        self.panel_combo = self._combo("exportPanelCombo", [("All visible panels", None)] + [
            (dock.windowTitle(), name) for name, dock in window.docks.items()])
        if panel is not None:
            self.panel_combo.setCurrentIndex(self.panel_combo.findData(panel))
        form.addRow("Panel", self.panel_combo)
        self.style_combo = self._combo("exportStyleCombo", [("Publication (matplotlib, from the data)", "publication"),
                                                            ("Screen look (PNG)", "screen")])
        self.style_combo.setToolTip("Publication: PNG/SVG/PDF drawn from the panel's data, with the data "
                                    "file for replay; screen: the panel as it looks, as <panel>.screen.png")
        form.addRow("Style", self.style_combo)
        row = QHBoxLayout()
        self.format_boxes = {}
        for fmt in FORMATS:
            box = QCheckBox(fmt.upper(), self, objectName=f"export{fmt.capitalize()}Check")
            box.setChecked(fmt == "png")
            self.format_boxes[fmt] = box
            row.addWidget(box)
        form.addRow("Formats", row)
        self.preset_combo = self._combo("exportPresetCombo", [(f"{k} column ({w:g} in)", k) for k, w in PRESETS.items()])
        form.addRow("Width", self.preset_combo)
        self.font_spin = QDoubleSpinBox(self, objectName="exportFontSpin", decimals=1, minimum=FONT_RANGE[0],
                                        maximum=FONT_RANGE[1], singleStep=0.5, value=8.0, suffix=" pt")
        form.addRow("Font size", self.font_spin)
        self.scale_spin = QDoubleSpinBox(self, objectName="exportScaleSpin", decimals=1,
                                         minimum=0.5, maximum=8.0, singleStep=0.5, value=2.0)
        self.scale_spin.setToolTip("Screen look: output pixels per screen pixel")
        form.addRow("Scale", self.scale_spin)
        self.dpi_spin = QSpinBox(self, objectName="exportDpiSpin", minimum=30, maximum=2400, value=150)
        self.dpi_spin.setToolTip("Pixels per inch of the publication PNG; written into every PNG")
        form.addRow("DPI", self.dpi_spin)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(folder or os.getcwd(), self, objectName="exportFolderEdit")
        browse = QPushButton("…", self, objectName="exportBrowseButton")
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.style_combo.currentIndexChanged.connect(self._style_changed)
        self._style_changed()
        self.written: list[str] = []

    def _combo(self, name: str, items) -> QComboBox:
        combo = QComboBox(self, objectName=name)
        for text, data in items:
            combo.addItem(text, data)
        return combo

    def _style_changed(self, _=None) -> None:
        publication = self.style_combo.currentData() == "publication"
        for w in (*self.format_boxes.values(), self.preset_combo, self.font_spin):
            w.setEnabled(publication)
        self.scale_spin.setEnabled(not publication)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def options(self) -> ExportOptions:
        return ExportOptions(scale=self.scale_spin.value(), dpi=self.dpi_spin.value(),
                             style=self.style_combo.currentData(), preset=self.preset_combo.currentData(),
                             font_size=self.font_spin.value())

    def export(self) -> list[str]:
        """Write what the dialog says; IsingLabError on bad input."""
        opts = self.options()
        formats = [f for f, box in self.format_boxes.items() if box.isChecked()]
        if not formats and opts.style == "publication":
            raise IsingLabError("choose at least one format")
        panel = self.panel_combo.currentData()
        self.written = export_figure_set(self.main_window, self.folder_edit.text(), formats or ["png"], opts,
                                         None if panel is None else [panel], screen=opts.style == "screen")
        return self.written

    def _accept(self) -> None:
        try:
            written = self.export()
        except IsingLabError as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        n = len(figure_files(written))
        self.main_window.statusBar().showMessage(f"Exported {n} figure(s) to {self.folder_edit.text()}", 8000)
        self.accept()


def _action(window, text: str, name: str, tip: str, slot, shortcut: str | None = None) -> QAction:
    return make_action(window, text, name, tip, slot, shortcuts=shortcut)


def open_export_dialog(window, panel: str | None = None) -> ExportDialog:
    dialog = ExportDialog(window, panel, getattr(window, "_export_folder", None))
    dialog.finished.connect(lambda _: setattr(window, "_export_folder", dialog.folder_edit.text()))
    dialog.open()
    return dialog


def install(window) -> dict[str, QAction]:
    """File > Export submenu and an "Export <panel>…" right-click action on every dock."""
    actions = {
        "figure": _action(window, "Export figure…", "exportFigureAction",
                          "Export one panel, or all visible ones: a publication figure (PNG/SVG/PDF from "
                          "its data) or its screen look, with JSON sidecars",
                          lambda: open_export_dialog(window), "Ctrl+E"),
        "figure_set": _action(window, "Export figure set", "exportFigureSetAction",
                              "Write every visible panel with data as a publication figure (PNG, SVG, PDF "
                              "and its data) and every visible panel's screen look, with sidecars",
                              lambda: _export_set_now(window), "Ctrl+Shift+E"),
    }
    menu = window.menu("&File")
    sub = menu.addMenu("Export")
    sub.setObjectName("exportMenu")
    sub.addActions(list(actions.values()))
    quit_action = getattr(window, "named_actions", {}).get("quit")
    if quit_action is not None and quit_action in menu.actions():  # keep Quit last
        menu.removeAction(sub.menuAction())
        menu.insertMenu(quit_action, sub)
    for name, dock in window.docks.items():
        stem = FILE_STEMS.get(name, name)
        a = _action(window, f"Export {dock.windowTitle()}…", f"export{stem.capitalize()}PanelAction",
                    f"Export the {dock.windowTitle()} panel as a figure with its sidecar",
                    lambda _=False, n=name: open_export_dialog(window, n))
        dock.addAction(a)
        dock.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        actions[f"panel_{name}"] = a
    window.export_actions = actions
    return actions


def _export_set_now(window) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Export figure set to folder",
                                              getattr(window, "_export_folder", None) or os.getcwd())
    if not folder:
        return
    window._export_folder = folder
    try:
        written = export_figure_set(window, folder, FORMATS)
    except IsingLabError as exc:
        QMessageBox.warning(window, "Export failed", str(exc))
        return
    window.statusBar().showMessage(f"Exported {len(figure_files(written))} figures to {folder}", 8000)
