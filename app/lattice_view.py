"""Live view of an L x L spin lattice: vispy (GPU colormap) with a pyqtgraph fallback.

Display values are uint8: 0 = spin down, 1 = spin up (any value > 0 counts as up). When the
lattice is larger than the GL texture limit it is block-averaged on the CPU and shown as the
fraction of up spins per block (0..255), blended between the two colours.

Array row 0 is drawn at the top; world coordinates are lattice sites in both backends.
"""
from __future__ import annotations

import os
import time

import numpy as np
from numba import njit
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QOpenGLContext, qRgb
from PySide6.QtWidgets import QVBoxLayout, QWidget

from isinglab.core.atomic_io import write_atomic

from .gl_window_canvas import make_window_canvas
from .qt_bytes import image_bytes


# name -> (spin up RGB, spin down RGB)
COLOR_SCHEMES = {
    "classic": ((24, 42, 110), (250, 236, 160)),
    "grey": ((64, 64, 64), (200, 200, 200)),
    "high-contrast": ((0, 0, 0), (255, 255, 255)),
}
# overlay code bits: 1 = domain wall, 2 = Wolff cluster; RGBA per code 0..3 (walls win)
OVERLAY_RGBA = np.array(
    [(0, 0, 0, 0), (230, 30, 30, 230), (20, 220, 90, 110), (230, 30, 30, 230)], np.uint8
)
DEFAULT_MAX_TEXTURE = 4096
TOOLTIP = "Drag to pan, wheel to zoom, double-click to fit"
# Qt platforms whose QOpenGLWidget cannot draw (it warns and never paints)
_NO_GL_WIDGET_PLATFORMS = {"offscreen", "minimal", "vnc", "linuxfb"}
_BACKGROUND = "#202020"


# ----------------------------------------------------------------------------- CPU kernels
# Serial on purpose: they run in the GUI thread while the simulation keeps the cores busy,
# where parallel regions would wait on descheduled workers. Inner loops are branch-free.
@njit(nogil=True, cache=True)
def _sum_blocks(src, b, out):
    """out[k] = sum of src[k*b:(k+1)*b] (last block may be short). Strided passes, one per
    offset in the block, keep the loops long and simple even for b = 2."""
    n = src.shape[0]
    full = n // b
    out[:] = 0
    for off in range(b):
        for k in range(full):
            out[k] += src[k * b + off]
    if full < out.shape[0]:
        out[full] = src[full * b:].sum()


@njit(nogil=True, cache=True)
def _or_blocks(src, b, out):
    """out[k] |= OR of src[k*b:(k+1)*b] (last block may be short); strided like _sum_blocks."""
    n = src.shape[0]
    full = n // b
    for off in range(b):
        for k in range(full):
            out[k] |= src[k * b + off]
    for j in range(full * b, n):
        out[full] |= src[j]


@njit(nogil=True, cache=True)
def block_up_fraction(spins, b, out):
    """out = fraction of up spins per b x b block as 0..255 (edge blocks may be partial).
    Rows are summed first (contiguous, vectorisable), then columns in blocks; scaling uses
    float reciprocals (integer division per block would dominate). out is reused between
    frames: fresh 64 MB arrays cost more in page faults than the work itself."""
    rows, cols = spins.shape
    col_up = np.empty(cols, np.int32)
    block_up = np.empty(out.shape[1], np.int32)
    inv_width = np.empty(out.shape[1], np.float32)
    for bj in range(out.shape[1]):
        inv_width[bj] = 255.0 / (min(bj * b + b, cols) - bj * b)
    for bi in range(out.shape[0]):
        i0, i1 = bi * b, min(bi * b + b, rows)
        col_up[:] = 0
        for i in range(i0, i1):
            row = spins[i]
            for j in range(cols):
                col_up[j] += row[j] > 0
        _sum_blocks(col_up, b, block_up)
        inv_height = np.float32(1.0 / (i1 - i0))
        for bj in range(out.shape[1]):
            out[bi, bj] = np.uint8(block_up[bj] * inv_width[bj] * inv_height + 0.5)


@njit(nogil=True, cache=True)
def _row_codes(row, down, mask_row, walls, use_mask, out):
    """Codes of one row: bit 1 if the right (periodic) or down neighbour differs, bit 2 if
    masked. Branch-free inner loop so it vectorises."""
    cols = row.shape[0]
    if walls:
        for j in range(cols - 1):
            out[j] = (row[j] != row[j + 1]) | (row[j] != down[j])
        out[cols - 1] = (row[cols - 1] != row[0]) | (row[cols - 1] != down[cols - 1])
    else:
        out[:] = 0
    if use_mask:
        for j in range(cols):
            out[j] |= mask_row[j] << 1


@njit(nogil=True, cache=True)
def overlay_codes(spins, walls, mask, b, out):
    """out = overlay code per b x b block (OR of its sites' codes, see _row_codes).
    An empty mask means no cluster. Block rows are OR-ed first, then columns."""
    rows, cols = spins.shape
    use_mask = mask.shape[0] == rows and mask.shape[1] == cols
    codes = np.empty(cols, np.uint8)
    col_or = np.empty(cols, np.uint8)
    for bi in range(out.shape[0]):
        if b == 1:  # native resolution: write the row in place
            m = mask[bi] if use_mask else mask.ravel()
            _row_codes(spins[bi], spins[(bi + 1) % rows], m, walls, use_mask, out[bi])
            continue
        col_or[:] = 0
        for i in range(bi * b, min(bi * b + b, rows)):
            m = mask[i] if use_mask else mask.ravel()
            _row_codes(spins[i], spins[(i + 1) % rows], m, walls, use_mask, codes)
            for j in range(cols):
                col_or[j] |= codes[j]
        out[bi] = 0
        _or_blocks(col_or, b, out[bi])


def blocks_shape(shape, b):
    """Shape after b x b blocking (partial edge blocks count)."""
    return tuple(-(-n // b) for n in shape)


_NO_MASK = np.zeros((0, 0), np.bool_)


def _downsample_factor(size: int, max_tex: int) -> int:
    return max(1, -(-size // max(1, max_tex)))


def _gl_unavailable_reason() -> str | None:
    """Why GL widgets cannot work here (None if they should)."""
    if os.environ.get("ISINGLAB_NO_GL", "") not in ("", "0"):
        return "disabled by ISINGLAB_NO_GL"
    platform = QGuiApplication.platformName()
    if platform in _NO_GL_WIDGET_PLATFORMS:
        return f"Qt platform '{platform}' has no OpenGL widgets"
    ctx = QOpenGLContext()
    if not ctx.create():
        return "could not create an OpenGL context"
    return None


SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software", "swiftshader", "gdi generic",
                      "basic render")


def is_software_renderer(renderer: str) -> bool:
    """Does this GL_RENDERER string name a rasteriser that runs on the CPU?"""
    return any(name in renderer.lower() for name in SOFTWARE_RENDERERS)


# ----------------------------------------------------------------------------- backends
class _VispyBackend:
    """SceneCanvas + two Image visuals; uint8 textures, colours applied on the GPU."""

    name = "vispy"
    _vispy_ready = False

    def __init__(self, parent: QWidget, on_draw):
        self._ensure_vispy()
        from vispy import scene

        self._scene = scene
        # autoswap off: Qt presents the framebuffer itself; vispy's extra swapBuffers call
        # waits for the GPU (the whole frame under software GL) holding the GIL
        kwargs = dict(keys=None, parent=parent, bgcolor=_BACKGROUND, autoswap=False)
        try:  # its own GL window: no composition pass per frame (see gl_window_canvas)
            self.canvas, self.widget = make_window_canvas(**kwargs)
            self.presentation = "window"
        except Exception:  # vispy changed its internals: its stock QOpenGLWidget canvas
            self.canvas = scene.SceneCanvas(**kwargs)
            self.widget = self.canvas.native
            # a native child window at least keeps the composition to the canvas' own area
            # (otherwise a 1280x800 pass of the whole main window per frame under software GL)
            self.widget.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
            self.presentation = "widget"
        self.view = self.canvas.central_widget.add_view()
        # the view fills the canvas: clipping its children to it would only add a discard test
        # to every fragment (a third of the image's cost under software GL)
        self.view.scene.clip_children = False
        # y flipped so that array row 0 is at the top, as in the fallback
        self.view.camera = scene.PanZoomCamera(aspect=1, flip=(False, True, False))
        self.image = None
        self.overlay = None
        self._blocks = {}  # id(visual) -> block size its transform scales by
        self.canvas.events.draw.connect(on_draw)

    @classmethod
    def _ensure_vispy(cls):
        if not cls._vispy_ready:
            import vispy

            vispy.use("pyside6")
            cls._vispy_ready = True

    @staticmethod
    def renderer() -> str:
        """GL_RENDERER of the canvas's context; call while it is current (in a draw)."""
        from vispy.gloo import gl

        return str(gl.glGetParameter(gl.GL_RENDERER))

    def max_texture_size(self) -> int | None:
        """GL limit, known once the canvas has drawn (vispy queries it on first flush)."""
        try:
            return self.canvas.context.shared.parser.capabilities["max_texture_size"]
        except (AttributeError, KeyError, TypeError):
            return None

    def _make_image(self, data, cmap, clim, order):
        if order == 0:  # the lattice: opaque, two colours (see two_colour_image)
            from .two_colour_image import TwoColourImage
            node = TwoColourImage
        else:
            node = self._scene.visuals.Image
        img = node(data, parent=self.view.scene, interpolation="nearest", cmap=cmap, clim=clim,
                   texture_format="auto")
        img.order = order  # draw order instead of depth: both images lie at z = 0
        if order:
            img.set_gl_state("translucent", depth_test=False, cull_face=False)
        return img

    def show_image(self, data, b, colors):
        clim = (0, 1) if b == 1 else (0, 255)
        if self.image is None:
            self.image = self._make_image(data, self._cmap(colors), clim, 0)
        else:
            self.image.set_data(data)
            if self.image.clim != clim:
                self.image.clim = clim
        self._scale(self.image, b)

    def show_overlay(self, codes, b):
        if codes is None:
            if self.overlay is not None:
                self.overlay.visible = False
            return
        if self.overlay is None:
            self.overlay = self._make_image(codes, self._overlay_cmap(), (0, 3), 1)
        else:
            self.overlay.set_data(codes)
            self.overlay.visible = True
        self._scale(self.overlay, b)

    def _scale(self, img, b):
        from vispy.visuals.transforms import STTransform

        if self._blocks.get(id(img)) != b:  # avoid rebuilding the transform each frame
            img.transform = STTransform(scale=(b, b))
            self._blocks[id(img)] = b

    @staticmethod
    def _cmap(colors):
        from vispy.color import Colormap

        up, down = colors
        return Colormap(np.array([down, up], np.float32) / 255.0)

    @staticmethod
    def _overlay_cmap():
        from vispy.color import Colormap

        # one bin per code; controls at bin edges so codes 0..3 land mid-bin
        return Colormap(OVERLAY_RGBA / 255.0, controls=[0, 1 / 6, 1 / 2, 5 / 6, 1],
                        interpolation="zero")

    def set_colors(self, colors):
        if self.image is not None:
            self.image.cmap = self._cmap(colors)

    def reset(self, size):
        self.view.camera.set_range(x=(0, size), y=(0, size), margin=0)

    def can_grab(self, frames_drawn) -> bool:
        return self.widget.isVisible() and frames_drawn > 0

    def grab(self):
        return np.ascontiguousarray(self.canvas.render(alpha=False)[..., :3])

    def connect_double_click(self, slot):
        self.canvas.events.mouse_double_click.connect(lambda event: slot())

    def close(self):
        self.canvas.close()


class _PaintCounter(QObject):
    """Counts paint events of the fallback's viewport (its 'frames drawn')."""

    def __init__(self, callback):
        super().__init__()
        self._callback = callback

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self._callback(None)
        return False


class _PyqtgraphBackend:
    """Software fallback: pyqtgraph ImageItems with lookup tables."""

    name = "pyqtgraph"

    @staticmethod
    def renderer() -> str:
        return "pyqtgraph software painting (no OpenGL)"

    def __init__(self, parent: QWidget, on_draw):
        import pyqtgraph as pg

        self.widget = pg.GraphicsView(parent, background=_BACKGROUND)
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.widget.setCentralItem(self.vb)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(1)
        self.vb.addItem(self.image)
        self.vb.addItem(self.overlay)
        self.overlay.setVisible(False)
        self._lut = None
        self._counter = _PaintCounter(on_draw)
        self.widget.viewport().installEventFilter(self._counter)

    def max_texture_size(self) -> int | None:
        return None

    @staticmethod
    def _lut_for(colors, b):
        up, down = (np.array(c, np.float32) for c in colors)
        if b == 1:  # values 0/1 index the table directly
            lut = np.tile(up, (256, 1))
            lut[0] = down
        else:  # 0..255 = fraction up
            t = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
            lut = down + t * (up - down)
        return np.round(lut).astype(np.uint8)

    def show_image(self, data, b, colors):
        self._lut = self._lut_for(colors, b)
        self.image.setImage(data, autoLevels=False, levels=(0, 255), lut=self._lut)
        self._scale(self.image, data, b)

    def show_overlay(self, codes, b):
        if codes is None:
            self.overlay.setVisible(False)
            return
        lut = np.zeros((256, 4), np.uint8)
        lut[:4] = OVERLAY_RGBA
        self.overlay.setImage(codes, autoLevels=False, levels=(0, 255), lut=lut)
        self._scale(self.overlay, codes, b)
        self.overlay.setVisible(True)

    @staticmethod
    def _scale(item, data, b):
        item.setRect(QRectF(0, 0, data.shape[1] * b, data.shape[0] * b))

    def set_colors(self, colors):
        pass  # the owner re-shows the image with a new table

    def reset(self, size):
        self.vb.setRange(xRange=(0, size), yRange=(0, size), padding=0)

    def can_grab(self, frames_drawn) -> bool:
        return True  # QWidget.grab renders even when hidden

    def grab(self):
        img = self.widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        return _qimage_rgb(img)

    def connect_double_click(self, slot):
        def clicked(event):
            if event.double():
                slot()

        self.widget.scene().sigMouseClicked.connect(clicked)

    def close(self):
        self.widget.viewport().removeEventFilter(self._counter)


def _qimage_rgb(img: QImage) -> np.ndarray:
    """Copy an RGB888 QImage into an (H, W, 3) uint8 array (rows may be padded)."""
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


# ----------------------------------------------------------------------------- the widget
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
        self._impl = self._make_backend()
        self.backend = self._impl.name
        self._impl.widget.setToolTip(TOOLTIP)
        self._impl.connect_double_click(self.reset_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._impl.widget)

    def _make_backend(self):
        if self.fallback_reason is None:
            self.fallback_reason = _gl_unavailable_reason()
        if self.fallback_reason is None:
            try:
                return _VispyBackend(self, self._on_draw)
            except Exception as exc:  # any GL/vispy failure: fall back, keep the reason
                self.fallback_reason = f"{type(exc).__name__}: {exc}"
        return _PyqtgraphBackend(self, self._on_draw)

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
        return _downsample_factor(max(spins.shape), self.max_texture_size)

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
        overlay_codes(self._spins, walls, _NO_MASK if mask is None else mask, b, codes)
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
