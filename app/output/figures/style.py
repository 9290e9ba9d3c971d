"""The look of a publication figure: a light theme for paper, column presets, a font size.

Every figure is drawn inside `context(style)` (matplotlib.rc_context: the object API, never
pyplot) and its layout is computed once (constrained layout on Agg) and then frozen, so that
the PNG (Agg), the SVG and the PDF place every artist at the same spot. Fonts: DejaVu Sans,
shipped with matplotlib, so every machine draws the same glyphs; SVG text is written as glyph
outlines (svg.fonttype "path": renderers without the font draw it identically) and PDF text as
embedded TrueType (pdf.fonttype 42: real, selectable text). Agg's hinting and pixel snapping are
off: vector renderers do neither, and a snapped or hinted PNG differs from them by a pixel at
every edge. Figure heights are whole multiples of 1/6 inch, so the page is a whole number of
pixels at 96, 150 and 300 dpi (rsvg-convert, pdftoppm and the PNG then share one pixel grid).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from isinglab.core.errors import IsingLabError

PRESETS = {"single": 3.4, "double": 7.0}  # figure width in inches: one or two journal columns
FONT_RANGE = (5.0, 14.0)  # points
DPI_RANGE = (30, 2400)
HEIGHT_STEP = 6  # heights are multiples of 1/6 inch (whole pixels at 96, 150 and 300 dpi)

# Okabe-Ito: distinguishable with every common colour-vision deficiency, and in grey print
COLOURS = {"data": "#D55E00", "data2": "#009E73", "onsager": "#0072B2", "kaufman": "#009E73",
           "tc": "#CC79A7", "size": "#E69F00", "e": "#0072B2", "m": "#D55E00", "grey": "#7F7F7F",
           "exact": "#000000"}
REFERENCE_COLOURS = ("#E69F00", "#CC79A7", "#56B4E9", "#0072B2")  # below T_c ... above
INK = "#000000"


@dataclass(frozen=True)
class Style:
    preset: str = "single"
    font_size: float = 8.0
    dpi: int = 150  # the PNG's pixels per inch (SVG and PDF are vector)

    def validated(self) -> "Style":
        if self.preset not in PRESETS:
            raise IsingLabError(f"figure preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        fs = self.font_size
        if isinstance(fs, bool) or not isinstance(fs, (int, float)) or not math.isfinite(fs) \
                or not FONT_RANGE[0] <= fs <= FONT_RANGE[1]:
            raise IsingLabError(f"font size must be between {FONT_RANGE[0]:g} and {FONT_RANGE[1]:g} pt, got {fs!r}")
        if isinstance(self.dpi, bool) or not isinstance(self.dpi, int) or not DPI_RANGE[0] <= self.dpi <= DPI_RANGE[1]:
            raise IsingLabError(f"DPI must be an integer between {DPI_RANGE[0]} and {DPI_RANGE[1]}, got {self.dpi!r}")
        return self

    @property
    def width(self) -> float:
        return PRESETS[self.preset]

    @property
    def double(self) -> bool:
        return self.preset == "double"

    def height(self, inches: float) -> float:
        """`inches` rounded up to a multiple of 1/6 inch."""
        return math.ceil(inches * HEIGHT_STEP - 1e-9) / HEIGHT_STEP

    def to_json(self) -> dict:
        return {"preset": self.preset, "font_size": float(self.font_size), "dpi": self.dpi}


def rc(style: Style) -> dict:
    fs = float(style.font_size)
    return {
        "font.family": "DejaVu Sans", "mathtext.fontset": "dejavusans", "font.size": fs,
        "axes.titlesize": fs, "axes.labelsize": fs, "xtick.labelsize": fs * 0.9, "ytick.labelsize": fs * 0.9,
        "legend.fontsize": fs * 0.85, "legend.frameon": False, "legend.handlelength": 1.6,
        "legend.handleheight": 1.6, "legend.labelspacing": 0.2,
        "axes.linewidth": 0.6, "axes.edgecolor": INK, "axes.labelcolor": INK, "text.color": INK,
        "axes.spines.top": False, "axes.spines.right": False, "axes.facecolor": "white",
        "figure.facecolor": "white", "savefig.facecolor": "white", "savefig.transparent": False,
        "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5, "ytick.major.size": 2.5,
        "xtick.minor.visible": False, "ytick.minor.visible": False, "xtick.color": INK, "ytick.color": INK,
        "lines.linewidth": 1.0, "lines.markersize": 3.0, "errorbar.capsize": 0.0,
        "path.snap": False,
        "image.interpolation": "none", "image.resample": False,
        "svg.fonttype": "path", "svg.hashsalt": "isinglab", "svg.image_inline": True,
        "pdf.fonttype": 42, "pdf.compression": 6,
        "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.03,
    }


@contextmanager
def context(style: Style):
    with matplotlib.rc_context(rc(style)):
        yield


class _OutlineRenderer(RendererAgg):
    """Agg that measures and draws text as the vector backends do: extents from the glyph
    outlines in points (not from rasterised glyphs rounded to pixels, which moves every centred
    or aligned label, and mathtext most, by a pixel or two), glyphs filled as antialiased
    outlines at their exact positions (not bitmaps pasted at whole pixels)."""

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath == "TeX":
            return super().get_text_width_height_descent(s, prop, ismath)
        w, h, d = self._text2path.get_text_width_height_descent(s, prop, ismath)  # points
        k = self.dpi / 72.0
        return w * k, h * k, d * k

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        self._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)


class OutlineCanvas(FigureCanvasAgg):
    """The Agg canvas of every publication figure (PNG), with _OutlineRenderer."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _OutlineRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def new_figure(style: Style, height: float) -> Figure:
    """A white figure of the preset's width and `height` inches (rounded up, see module doc)."""
    fig = Figure(figsize=(style.width, style.height(height)), dpi=style.dpi, layout="constrained")
    OutlineCanvas(fig)
    return fig


def freeze(fig: Figure) -> Figure:
    """Lay the figure out once (Agg's text metrics) and keep that layout for every format."""
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return fig


def lean(ax, x: int = 3, y: int = 3) -> None:
    """Few ticks: a paper figure reads better with 3-5 labelled values per axis."""
    ax.xaxis.set_major_locator(MaxNLocator(x))
    ax.yaxis.set_major_locator(MaxNLocator(y))


def no_data(ax, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=COLOURS["grey"])
