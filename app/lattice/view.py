"""LatticeView: the live, pan/zoomable view of an L x L spin lattice in the main window.

Display values are uint8: 0 = spin down, 1 = spin up (any value > 0 counts as up). When the
lattice is larger than the GL texture limit it is block-averaged on the CPU (see downsample) and
shown as the fraction of up spins per block (0..255), blended between the two colours.

Array row 0 is drawn at the top; world coordinates are lattice sites in both backends. The
widget picks a backend (vispy_backend on the GPU, painter_backend as the software fallback) and
keeps what they share: blocking, overlays, colour schemes, bookkeeping and PNG export.

A text box (presenter mode's T/T_c, xi and caption: `set_text_overlay`) is drawn by the backend
inside its own scene, so it shows on every backend (see text_overlay).
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QImage, qRgb
from PySide6.QtWidgets import QVBoxLayout, QWidget

from isinglab.core.atomic_io import write_atomic

from isinglab.app.lattice.colours import COLOR_SCHEMES
from isinglab.app.lattice.downsample import (
    NO_MASK, block_up_fraction, blocks_shape, downsample_factor, overlay_codes,
)
from isinglab.app.lattice.gl_support import gl_unavailable_reason, is_software_renderer
from isinglab.app.lattice.painter_backend import PyqtgraphBackend
from isinglab.app.lattice.text_overlay import paint_text_box
from isinglab.app.lattice.vispy_backend import VispyBackend
from isinglab.app.qt_bytes import image_bytes

DEFAULT_MAX_TEXTURE = 4096
TOOLTIP = "Drag to pan, wheel to zoom, double-click to fit"


class LatticeView(QWidget):
    """Crisp, pan/zoomable spin lattice; see the module docstring for the value convention.

    Attributes for the main window: ``backend`` ("vispy" | "pyqtgraph"), ``fallback_reason``,
    ``downsample`` (block size b, 1 = native), ``frame_ms_app``, ``frames_drawn``, and from the
    first frame on ``renderer`` (GL_RENDERER) and ``software_rendering`` (the CPU draws: llvmpipe
    and the like, or the fallback), announced by ``rendererKnown``.
    """

    rendererKnown = Signal(str)

    def __init__(self, parent=None, *, force_fallback=False, colormap="classic",
                 max_texture_size=None):
        super().__init__(parent)
        self.setMinimumSize(256, 256)
        self.setToolTip(TOOLTIP)
        self.fallback_reason = "forced by caller" if force_fallback else None
        self.max_texture_override = max_texture_size
        self.downsample = 1
        self.frame_ms_app = 0.0
        self.frames_drawn = 0
        self.renderer: str | None = None
        self.software_rendering: bool | None = None
        self.show_domain_walls = False
        self.show_cluster = False
        self._colormap = self._check_colormap(colormap)
        self._spins = None
        self._buffers = {}
        self._mask = None
        self._closed = False
        self._gl_limit_seen = False
        self._text_lines: tuple[str, ...] = ()
        self._text_box = None
        self._impl = self._make_backend()
        self.backend = self._impl.name
        self._impl.widget.setToolTip(TOOLTIP)
        self._impl.connect_double_click(self.reset_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._impl.widget)

    def _make_backend(self):
        if self.fallback_reason is None:
            self.fallback_reason = gl_unavailable_reason()
        if self.fallback_reason is None:
            try:
                return VispyBackend(self, self._on_draw)
            except Exception as exc:  # any GL/vispy failure: fall back, keep the reason
                self.fallback_reason = f"{type(exc).__name__}: {exc}"
        return PyqtgraphBackend(self, self._on_draw)

    # -- properties ---------------------------------------------------------------------
    @property
    def lattice_size(self) -> int | None:
        return None if self._spins is None else int(self._spins.shape[0])

    @property
    def presentation(self) -> str:
        """How frames reach the screen: "window" (the canvas' own GL window), "widget" (vispy's
        stock QOpenGLWidget, composed by Qt) or "painter" (the pyqtgraph fallback)."""
        return getattr(self._impl, "presentation", "painter")

    @property
    def colormap(self) -> str:
        return self._colormap

    @property
    def max_texture_size(self) -> int:
        """Override (tests) > value queried from GL > 4096."""
        if self.max_texture_override:
            return int(self.max_texture_override)
        return int(self._impl.max_texture_size() or DEFAULT_MAX_TEXTURE)

    # -- updates ------------------------------------------------------------------------
    def set_spins(self, spins) -> None:
        """Show a new (L, L) int8 (+-1) or uint8 (0/1) lattice; cheap, call at display rate.
        uint8 input is displayed without a copy, so the caller should not modify it in place
        until the next frame was drawn."""
        if self._closed:
            return  # a display timer may still fire while the window closes
        t0 = time.perf_counter()
        spins = np.asarray(spins)
        if spins.ndim != 2:
            raise ValueError(f"spins must be 2-D, got shape {spins.shape}")
        resized = self._spins is None or self._spins.shape != spins.shape
        self._spins = spins
        if self._mask is not None and self._mask.shape != spins.shape:
            self._mask = None  # a mask from another lattice size would be meaningless
        self._render()
        if resized:
            self.reset_view()
        self.frame_ms_app = (time.perf_counter() - t0) * 1e3

    def _render(self):
        if self._closed:
            return
        spins = self._spins
        self.downsample = b = self._block_for(spins)
        data = self._display_data(spins, b)
        self._impl.show_image(data, b, COLOR_SCHEMES[self._colormap])
        self._render_overlay()

    def _block_for(self, spins) -> int:
        return downsample_factor(max(spins.shape), self.max_texture_size)

    def _display_data(self, spins, b):
        if b > 1:
            out = self._buffer("image", blocks_shape(spins.shape, b))
            block_up_fraction(spins, b, out)
            return out
        if spins.dtype == np.uint8 and spins.flags.c_contiguous:
            return spins
        if spins.dtype == np.bool_ and spins.flags.c_contiguous:
            return spins.view(np.uint8)
        out = self._buffer("image", spins.shape)
        np.greater(spins, 0, out=out.view(np.bool_))  # one pass, no temporary
        return out

    def _buffer(self, name, shape):
        """A uint8 array reused across frames (the backends display the newest contents)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buffers[name] = np.empty(shape, np.uint8)
        return buf

    def _render_overlay(self):
        if self._closed:
            return
        walls = self.show_domain_walls
        mask = self._mask if (self.show_cluster and self._mask is not None) else None
        if self._spins is None or not (walls or mask is not None):
            self._impl.show_overlay(None, self.downsample)
            return
        b = self.downsample
        codes = self._buffer("overlay", blocks_shape(self._spins.shape, b))
        overlay_codes(self._spins, walls, NO_MASK if mask is None else mask, b, codes)
        self._impl.show_overlay(codes, self.downsample)

    def set_cluster_mask(self, mask) -> None:
        """Boolean (L, L) mask of the last Wolff cluster, or None to clear it."""
        if mask is not None:
            mask = np.ascontiguousarray(mask, dtype=np.bool_)
            if self._spins is not None and mask.shape != self._spins.shape:
                raise ValueError(f"mask shape {mask.shape} != lattice {self._spins.shape}")
        self._mask = mask
        self._render_overlay()

    def set_show_domain_walls(self, show: bool) -> None:
        self.show_domain_walls = bool(show)
        self._render_overlay()

    def set_show_cluster(self, show: bool) -> None:
        self.show_cluster = bool(show)
        self._render_overlay()

    def set_tooltip_enabled(self, on: bool) -> None:
        """The pan/zoom hint shown when the mouse rests on the view (off in presenter mode:
        no hint on the projector)."""
        tip = TOOLTIP if on else ""
        self.setToolTip(tip)
        self._impl.widget.setToolTip(tip)

    # -- the text box ---------------------------------------------------------------------
    def set_text_overlay(self, lines) -> None:
        """Show these lines in a box at the top left, drawn inside the view's own scene (first
        line large); None or no lines hide it. Cheap when the lines did not change."""
        lines = tuple(str(s) for s in lines or () if s)
        if lines == self._text_lines:
            return
        self._text_lines = lines
        self._render_text()

    @property
    def text_overlay(self) -> tuple[str, ...]:
        """The lines the text box shows (empty: none)."""
        return self._text_lines if self._text_box is not None else ()

    def text_overlay_rect(self):
        """The text box's QRect in this widget's coordinates, None while none is shown."""
        return None if self._text_box is None else self._text_box.rect

    def _render_text(self) -> None:
        if self._closed:
            return
        ratio = self._impl.widget.devicePixelRatioF()
        self._text_box = paint_text_box(self._text_lines, self.width(), self.height(), ratio)
        self._impl.show_text(self._text_box)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._text_lines:
            self._render_text()  # its font follows the view's height

    @staticmethod
    def _check_colormap(name):
        if name not in COLOR_SCHEMES:
            raise ValueError(f"unknown colormap {name!r}; choose from {sorted(COLOR_SCHEMES)}")
        return name

    def set_colormap(self, name: str) -> None:
        self._colormap = self._check_colormap(name)
        self._impl.set_colors(COLOR_SCHEMES[name])
        if self.backend == "pyqtgraph" and self._spins is not None:
            self._render()  # its colours live in the lookup table passed with the image

    def reset_view(self) -> None:
        """Fit the whole lattice into the view."""
        if self._spins is not None:
            self._impl.reset(max(self._spins.shape))

    # -- drawing bookkeeping ------------------------------------------------------------
    def _on_draw(self, event):
        self.frames_drawn += 1
        if self.renderer is None:
            self.renderer = self._impl.renderer()
            self.software_rendering = is_software_renderer(self.renderer)
            self.rendererKnown.emit(self.renderer)
        if not self._gl_limit_seen and self._impl.max_texture_size():
            # the GL limit is known from now on: redo the upload if it changes the blocking
            self._gl_limit_seen = True
            if self._spins is not None and self._block_for(self._spins) != self.downsample:
                QTimer.singleShot(0, self._rerender)

    def _rerender(self):
        if self._spins is not None:
            self._render()

    # -- output -------------------------------------------------------------------------
    def grab_rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 of what is displayed. The vispy view must be shown and drawn."""
        if not self._impl.can_grab(self.frames_drawn):
            raise RuntimeError("the GL view can be grabbed only after it was shown and drawn")
        return self._impl.grab()

    def export_png(self, path, scale: int = 1) -> None:
        """Write the lattice, one pixel per spin times scale, atomically to a PNG file."""
        scale = int(scale)
        if scale < 1:
            raise ValueError("scale must be >= 1")
        index = np.ascontiguousarray(self._export_index(), dtype=np.uint8)
        if scale > 1:
            index = np.ascontiguousarray(index.repeat(scale, 0).repeat(scale, 1))
        h, w = index.shape
        img = QImage(index.data, w, h, w, QImage.Format.Format_Indexed8)
        up, down = COLOR_SCHEMES[self._colormap]
        img.setColorTable([qRgb(*down), qRgb(*up)])
        write_atomic(path, image_bytes(img, "PNG"))

    def _export_index(self):
        if self._spins is None:
            raise RuntimeError("no lattice to export")
        return self._spins > 0

    def close_view(self) -> None:
        """Release GL resources; safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._impl.close()

    def closeEvent(self, event):
        self.close_view()
        super().closeEvent(event)
