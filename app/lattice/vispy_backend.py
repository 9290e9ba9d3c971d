"""The lattice view's GPU backend: a vispy SceneCanvas with two Image visuals (and a third, the
text box, in the canvas' pixel coordinates).

Textures stay uint8 (0/1 spins or 0..255 block fractions) and the two colours are applied by
the colormap on the GPU, so a colour change costs no upload. Implements the backend interface
LatticeView drives (see painter_backend for the software twin).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from isinglab.app.lattice.colours import BACKGROUND, OVERLAY_RGBA
from isinglab.app.lattice.gl_window_canvas import make_window_canvas


class VispyBackend:
    """SceneCanvas + two Image visuals; uint8 textures, colours applied on the GPU."""

    name = "vispy"
    _vispy_ready = False

    def __init__(self, parent: QWidget, on_draw):
        self._ensure_vispy()
        from vispy import scene

        self._scene = scene
        self.canvas, self.widget, self.presentation = self._make_canvas(parent)
        self.view = self.canvas.central_widget.add_view()
        # the view fills the canvas: clipping its children to it would only add a discard test
        # to every fragment (a third of the image's cost under software GL)
        self.view.scene.clip_children = False
        # y flipped so that array row 0 is at the top, as in the fallback
        self.view.camera = scene.PanZoomCamera(aspect=1, flip=(False, True, False))
        self.image = None
        self.overlay = None
        self.text = None  # the text box: an RGBA Image in canvas pixels, above the view
        self._blocks = {}  # id(visual) -> block size its transform scales by
        self.canvas.events.draw.connect(on_draw)

    def _make_canvas(self, parent):
        """(canvas, its QWidget, how it presents frames: "window" or "widget")."""
        # autoswap off: Qt presents the framebuffer itself; vispy's extra swapBuffers call
        # waits for the GPU (the whole frame under software GL) holding the GIL
        kwargs = dict(keys=None, parent=parent, bgcolor=BACKGROUND, autoswap=False)
        try:  # its own GL window: no composition pass per frame (see gl_window_canvas)
            canvas, widget = make_window_canvas(**kwargs)
            return canvas, widget, "window"
        except Exception:  # vispy changed its internals: its stock QOpenGLWidget canvas
            canvas = self._scene.SceneCanvas(**kwargs)
            widget = canvas.native
            # a native child window at least keeps the composition to the canvas' own area
            # (otherwise a 1280x800 pass of the whole main window per frame under software GL)
            widget.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
            return canvas, widget, "widget"

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
            from isinglab.app.lattice.two_colour_image import TwoColourImage
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

    def show_text(self, box):
        """Draw a text_overlay.TextBox (None hides it) in the canvas' own pixel coordinates,
        above the lattice: it is part of the GL scene, so it shows in the canvas' native window."""
        from vispy.visuals.transforms import STTransform

        from isinglab.app.lattice.text_overlay import rgba_array

        if box is None:
            if self.text is not None and self.text.visible:
                self.text.visible = False
            return
        data = rgba_array(box.image)
        if self.text is None:
            # a child of the canvas' root scene: canvas (logical) pixels, y down, drawn after
            # the view (order); clim: the texture's 0..255 as they are
            self.text = self._scene.visuals.Image(data, parent=self.canvas.scene, interpolation="nearest",
                                                  clim=(0, 255), texture_format="auto")
            self.text.order = 10
            self.text.set_gl_state("translucent", depth_test=False, cull_face=False)
        else:
            self.text.set_data(data)
            self.text.visible = True
        ratio = box.image.devicePixelRatio()
        self.text.transform = STTransform(scale=(1 / ratio, 1 / ratio), translate=(box.rect.x(), box.rect.y()))
        self.canvas.update()

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
