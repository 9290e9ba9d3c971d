"""Can OpenGL draw here, and does the GPU or the CPU rasterise it?

The lattice view asks before it builds its vispy canvas (falling back to software painting when
GL cannot work) and after its first frame (to tell a software rasteriser such as llvmpipe,
under which drawing competes with the simulation for the CPU).
"""
from __future__ import annotations

import os

from PySide6.QtGui import QGuiApplication, QOpenGLContext

# Qt platforms whose QOpenGLWidget cannot draw (it warns and never paints)
_NO_GL_WIDGET_PLATFORMS = {"offscreen", "minimal", "vnc", "linuxfb"}

SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software", "swiftshader", "gdi generic",
                      "basic render")


def gl_unavailable_reason() -> str | None:
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


def is_software_renderer(renderer: str) -> bool:
    """Does this GL_RENDERER string name a rasteriser that runs on the CPU?"""
    return any(name in renderer.lower() for name in SOFTWARE_RENDERERS)
