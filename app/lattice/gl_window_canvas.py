"""A vispy SceneCanvas that draws into its own QOpenGLWindow, placed in the layout through
`QWidget.createWindowContainer`.

Why: vispy's Qt canvas is a QOpenGLWidget. Qt renders such a widget into a texture and then
composes its window through OpenGL on every frame: that texture, then the window's widget
backing store blended over it, then vispy's own pass clearing the alpha channel. Under software
OpenGL (llvmpipe) those extra full-canvas passes cost more than drawing the lattice: at 35 fps
on the 2-core test machine, a SceneCanvas with the lattice visual took 0.65-0.66 cores as a
(native) QOpenGLWidget and 0.30 as a QOpenGLWindow; a bare textured quad 0.38-0.41 and
0.13-0.15. A QOpenGLWindow presents its framebuffer directly.

The canvas is vispy's own Qt backend with the few QWidget calls it makes mapped onto QWindow.
It relies on vispy's Qt backend module and `Canvas.create_native`; if either changes, building
it fails and the caller uses vispy's stock canvas (tests/app/test_lattice_view.py checks this
canvas is the one in use).
"""
from __future__ import annotations

import functools

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtOpenGL import QOpenGLWindow
from PySide6.QtWidgets import QToolTip, QWidget

TOOLTIP_DELAY_MS = 700


def make_window_canvas(**canvas_kwargs):
    """(SceneCanvas drawing into a QOpenGLWindow, the QWidget holding that window)."""
    canvas = _window_canvas_class()(**canvas_kwargs)
    try:
        container = QWidget.createWindowContainer(canvas.native, canvas_kwargs.get("parent"))
    except Exception:
        canvas.close()
        raise
    container.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
    container.setMinimumSize(16, 16)
    canvas.native.tooltip_widget = container
    return canvas, container


@functools.cache
def _window_canvas_class():
    """Built on first use: it needs vispy's Qt backend, which needs the binding chosen first."""
    from vispy import scene
    from vispy.app.backends import _qt

    class WindowBackend(_qt.QtBaseCanvasBackend, QOpenGLWindow):
        """vispy's Qt canvas backend on a QOpenGLWindow (see the module docstring)."""

        def _init_specific(self, p, kwargs):
            QOpenGLWindow.__init__(self)
            fmt = _qt._set_config(p.context.config)
            fmt.setAlphaBufferSize(0)  # opaque: nothing behind the window shows through
            fmt.setSwapInterval(1 if p.vsync else 0)
            self.setFormat(fmt)
            p.context.shared.add_ref("qt", self)
            self.screenChanged.connect(self.screen_changed)
            # a QWindow gets no tooltip events: show the container's tooltip when the mouse rests
            self.tooltip_widget = None
            self._tip_timer = QTimer(singleShot=True, interval=TOOLTIP_DELAY_MS)
            self._tip_timer.timeout.connect(self._show_tooltip)
            self._initialized = True

        def _show_tooltip(self):
            tip = self.tooltip_widget.toolTip() if self.tooltip_widget is not None else ""
            if tip:
                QToolTip.showText(QCursor.pos(), tip, self.tooltip_widget)

        def event(self, ev):
            kind = ev.type()
            if kind == QEvent.Type.Enter:
                self._tip_timer.start()
            elif kind in (QEvent.Type.Leave, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel):
                self._tip_timer.stop()
                QToolTip.hideText()
            return super().event(ev)

        # QWidget calls of vispy's base class, in QWindow terms
        def setMouseTracking(self, enable):  # a QWindow always gets mouse moves
            pass

        def setWindowTitle(self, title):
            self.setTitle(title)

        def devicePixelRatioF(self):
            return self.devicePixelRatio()

        # the OpenGL side, as vispy's QOpenGLWidget backend does it
        def _vispy_set_current(self):
            if self._vispy_canvas is not None and self.isValid():
                self.makeCurrent()

        def _vispy_swap_buffers(self):
            if self._vispy_canvas is not None and self.isValid():
                self.context().swapBuffers(self)

        def _vispy_get_fb_bind_location(self):
            return self.defaultFramebufferObject()

        def _vispy_close(self):
            self.close()

        def initializeGL(self):
            if self._vispy_canvas is not None:
                self._vispy_canvas.events.initialize()

        def resizeGL(self, w, h):
            if self._vispy_canvas is None:
                return
            ratio = self.devicePixelRatio()
            pw, ph = int(w * ratio), int(h * ratio)
            self._vispy_set_physical_size(pw, ph)
            self._vispy_canvas.events.resize(size=(self.width(), self.height()),
                                             physical_size=(pw, ph))

        def paintGL(self):
            if self._vispy_canvas is None:
                return
            self._vispy_canvas.set_current()
            self._vispy_canvas.events.draw(region=None)

    class WindowSceneCanvas(scene.SceneCanvas):
        def create_native(self):
            if self._backend is not None:
                return
            assert self._app.native  # the application backend exists (as vispy asserts)
            WindowBackend(self, **self._backend_kwargs)  # sets self._backend
            self._backend_kwargs = None

    return WindowSceneCanvas
