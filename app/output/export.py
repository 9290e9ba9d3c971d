"""Figure export: any panel to PNG / SVG / PDF, each figure with a JSON sidecar that says how to
regenerate it (`isinglab figure --from <sidecar>`).

Rendering: a panel is rendered through QWidget.render into a QPainter on a QImage (PNG), a
QSvgGenerator (SVG) or a QPdfWriter (PDF), so one code path draws all three formats and the
whole panel (every plot, its titles and legends) ends up in the file; pyqtgraph's own
ImageExporter/SVGExporter see one plot item only (they stay available in each plot's right-click
"Export..." menu). The lattice is exported from the spins themselves (LatticeView.export_png for
PNG, the same indexed image embedded in SVG/PDF), so a GL canvas never has to be read back.

Size: `scale` multiplies the panel's on-screen size in pixels; `dpi` is written into the PNG and
sets the physical page size of SVG and PDF (pixels / dpi inches), so a figure has the same
physical size in every format. Every file is written to a temporary file in the destination
folder and renamed into place: an error leaves nothing half-written.
"""
from __future__ import annotations

import datetime
import json
import math
import os
from dataclasses import asdict, dataclass

import numpy as np

from isinglab.app import qt as _qt  # noqa: F401  (binding first)
from isinglab.app.qt_bytes import image_bytes, open_buffer
from PySide6.QtCore import QMarginsF, QPoint, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QAction, QImage, QPageSize, QPainter, QPdfWriter, QRegion, qRgb
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QWidget)

from isinglab.core import __version__
from isinglab.core.atomic_io import check_folder, resolve_target, write_atomic
from isinglab.core.errors import IsingLabError
from isinglab.core.json_files import strict_json
from isinglab.core.panel_ids import PANEL_IDS, file_stem
from isinglab.core.params import ModelParams
from isinglab.app.ui import make_action

FORMATS = ("png", "svg", "pdf")
SIDECAR_SCHEMA = 1
PANELS = PANEL_IDS
FILE_STEMS = {name: file_stem(name) for name in PANELS}
MAX_PIXELS = 12000  # per side: beyond this QImage/QPainter allocations fail or crawl
SIDECAR_KEYS = {"isinglab_version", "schema", "panel", "format", "file", "created", "params", "sweeps",
                "algorithm", "backend", "seed", "initial", "panel_state", "scale", "dpi", "size_px", "scene"}


@dataclass(frozen=True)
class ExportOptions:
    scale: float = 2.0  # output pixels per on-screen pixel
    dpi: int = 150

    def validated(self) -> "ExportOptions":
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and 0.1 <= self.scale <= 16):
            raise IsingLabError(f"export scale must be between 0.1 and 16, got {self.scale!r}")
        if not (isinstance(self.dpi, int) and 30 <= self.dpi <= 2400):
            raise IsingLabError(f"export DPI must be an integer between 30 and 2400, got {self.dpi!r}")
        return self


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


# ---------------------------------------------------------------------------- panel state

def panel_state(window, panel_id: str) -> dict:
    """What regenerating the panel needs beyond the model parameters: its contract's state()."""
    return strict_json(window.panels[panel_id].state())


def make_sidecar(window, dock_name: str, fmt: str, filename: str, opts: ExportOptions, size: QSize,
                 snapshot=None) -> dict:
    snap = snapshot if snapshot is not None else window.engine.latest()
    p: ModelParams = snap.params
    return {
        "isinglab_version": __version__,
        "schema": SIDECAR_SCHEMA,
        "panel": dock_name,
        "format": fmt,
        "file": filename,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "params": asdict(p),
        "sweeps": int(snap.sweeps),
        "algorithm": p.algorithm,
        "backend": {"engine": getattr(window.engine, "_backend", "numba"), "kernel": snap.kernel,
                    "view": window.lattice.backend},
        "seed": p.seed,
        "initial": "random",
        "scale": opts.scale,
        "dpi": opts.dpi,
        "size_px": [size.width(), size.height()],
        "panel_state": panel_state(window, dock_name),
    }


def load_sidecar(path: str) -> dict:
    """Read and check a sidecar: IsingLabError with the reason for anything unusable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise IsingLabError(f"sidecar {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IsingLabError(f"cannot read sidecar {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise IsingLabError(f"sidecar {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return check_sidecar(data, path)


def check_sidecar(data, where: str = "sidecar") -> dict:
    if not isinstance(data, dict):
        raise IsingLabError(f"{where}: expected a JSON object")
    missing = sorted({"panel", "params", "sweeps"} - data.keys())
    if missing:
        raise IsingLabError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(data) - SIDECAR_KEYS)
    if unknown:
        raise IsingLabError(f"{where}: unknown keys {', '.join(unknown)}")
    if data["panel"] not in PANELS:
        raise IsingLabError(f"{where}: unknown panel {data['panel']!r}; one of {', '.join(PANELS)}")
    sweeps = data["sweeps"]
    if isinstance(sweeps, bool) or not isinstance(sweeps, int) or not 0 <= sweeps <= 10**9:
        raise IsingLabError(f"{where}: sweeps must be an integer in [0, 1e9], got {sweeps!r}")
    data["params"] = params_from_dict(data["params"], where)
    if "scene" in data and not isinstance(data["scene"], dict):
        raise IsingLabError(f"{where}: scene must be an object")
    if not isinstance(data.get("panel_state", {}), dict):
        raise IsingLabError(f"{where}: panel_state must be an object")
    initial = data.get("initial", "random")
    if initial not in ("random", "up", "down"):
        raise IsingLabError(f"{where}: initial must be random, up or down, got {initial!r}")
    return data


def params_from_dict(d, where: str = "sidecar") -> ModelParams:
    fields = set(ModelParams.__dataclass_fields__)
    if not isinstance(d, dict):
        raise IsingLabError(f"{where}: params must be an object")
    unknown = sorted(set(d) - fields)
    if unknown:
        raise IsingLabError(f"{where}: unknown parameters {', '.join(unknown)}")
    try:
        return ModelParams(**d).validated()
    except IsingLabError as exc:
        raise IsingLabError(f"{where}: {exc}") from None


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
    """Write one panel as `fmt` (default: from the suffix) to `path`, plus `path + ".json"`
    (`extra` adds sidecar entries, e.g. the scene a figure came from).

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
    sidecar = {**make_sidecar(window, dock_name, fmt, os.path.basename(path), opts, size, snap), **(extra or {})}
    text = json.dumps(sidecar, indent=2, allow_nan=False)
    # the sidecar first: a figure replaced without its new sidecar would be described wrongly
    old_sidecar = _read_if_regular(side_path)
    write_atomic(side_path, text)
    try:
        write_atomic(path, blob)
    except IsingLabError:
        _restore(side_path, old_sidecar)  # the figure did not land: its old sidecar goes back
        raise
    return path, side_path


def _read_if_regular(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _restore(path: str, old: bytes | None) -> None:
    try:
        if old is None:
            os.remove(path)
        else:
            write_atomic(path, old)
    except (OSError, IsingLabError):
        pass  # the figure error is the one to report


def visible_panels(window) -> list[str]:
    """Docks shown on screen (not closed, not hidden behind another tab)."""
    return [name for name, dock in window.docks.items()
            if dock.isVisible() and not dock.visibleRegion().isEmpty()]


def export_figure_set(window, folder: str, formats=("png",), opts: ExportOptions = ExportOptions(),
                      panels=None) -> list[str]:
    """Every visible panel (or `panels`) in every format into `folder`: <panel>.<fmt> + sidecars.
    One snapshot for all, so the figures of a set show the same moment."""
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
        for fmt in formats:
            fig_path = os.path.join(folder, f"{FILE_STEMS.get(name, name)}.{fmt}")
            written.extend(export_panel(window, name, fig_path, fmt, opts, snap))
    return written


# ---------------------------------------------------------------------------- GUI

class ExportDialog(QDialog):
    """Panel (or every visible panel), formats, scale, DPI and folder; `export()` does the work."""

    def __init__(self, window, panel: str | None = None, folder: str | None = None):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export figure")
        form = QFormLayout(self)
        self.panel_combo = QComboBox(self, objectName="exportPanelCombo")
        self.panel_combo.addItem("All visible panels", None)
        for name, dock in window.docks.items():
            self.panel_combo.addItem(dock.windowTitle(), name)
        if panel is not None:
            self.panel_combo.setCurrentIndex(self.panel_combo.findData(panel))
        form.addRow("Panel", self.panel_combo)
        row = QHBoxLayout()
        self.format_boxes = {}
        for fmt in FORMATS:
            box = QCheckBox(fmt.upper(), self, objectName=f"export{fmt.capitalize()}Check")
            box.setChecked(fmt == "png")
            self.format_boxes[fmt] = box
            row.addWidget(box)
        form.addRow("Formats", row)
        self.scale_spin = QDoubleSpinBox(self, objectName="exportScaleSpin", decimals=1,
                                         minimum=0.5, maximum=8.0, singleStep=0.5, value=2.0)
        self.scale_spin.setToolTip("Output pixels per screen pixel")
        form.addRow("Scale", self.scale_spin)
        self.dpi_spin = QSpinBox(self, objectName="exportDpiSpin", minimum=30, maximum=2400, value=150)
        self.dpi_spin.setToolTip("Written into PNG; sets the page size of SVG and PDF")
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
        self.written: list[str] = []

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def options(self) -> ExportOptions:
        return ExportOptions(scale=self.scale_spin.value(), dpi=self.dpi_spin.value())

    def export(self) -> list[str]:
        """Write what the dialog says; IsingLabError on bad input."""
        formats = [f for f, box in self.format_boxes.items() if box.isChecked()]
        if not formats:
            raise IsingLabError("choose at least one format")
        panel = self.panel_combo.currentData()
        self.written = export_figure_set(self.window_, self.folder_edit.text(), formats, self.options(),
                                         None if panel is None else [panel])
        return self.written

    def _accept(self) -> None:
        try:
            written = self.export()
        except IsingLabError as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        figures = [p for p in written if not p.endswith(".json")]
        self.window_.statusBar().showMessage(f"Exported {len(figures)} figure(s) to {self.folder_edit.text()}", 8000)
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
                          "Export one panel, or all visible ones, as PNG/SVG/PDF with a JSON sidecar",
                          lambda: open_export_dialog(window), "Ctrl+E"),
        "figure_set": _action(window, "Export figure set", "exportFigureSetAction",
                              "Write every visible panel as PNG, SVG and PDF (with sidecars) into a folder",
                              lambda: _export_set_now(window), "Ctrl+Shift+E"),
    }
    menu = window.menu("&File")
    sub = menu.addMenu("Export")
    sub.setObjectName("exportMenu")
    sub.addActions(list(actions.values()))
    quit_action = getattr(window, "actions_", {}).get("quit")
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
    n = sum(1 for p in written if not p.endswith(".json"))
    window.statusBar().showMessage(f"Exported {n} figures to {folder}", 8000)
