"""The lattice as a paper figure: the spins as a lossless image, every spin a square of whole
pixels (nearest neighbour, no smoothing), with a one-line caption of the model.

PNG: the image's side is a whole multiple of L pixels at the figure's DPI and starts on a pixel
edge, so every spin is n x n identical pixels. SVG and PDF: the spins are embedded as a lossless
image (PNG in the SVG, Flate in the PDF; imshow's interpolation "none" hands it to the vector
backends unresampled): L x L in the PDF, enlarged by a whole factor to about the PNG's
resolution in the SVG, whose viewers smooth every embedded image.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from isinglab.app.lattice.colours import COLOR_SCHEMES
from isinglab.app.output.figures.style import Style, new_figure

SETS = ("lattice",)
CAPTION_IN = 0.3  # inches above the image for the caption
MARGIN_IN = 0.05
MAX_EMBED = 2048  # embedded image side (pixels) beyond which the spins are not enlarged


def draw(tables: dict, style: Style):
    t = tables["lattice"]
    spins = np.asarray(t.columns["spins"])
    L = spins.shape[0]
    up, down = COLOR_SCHEMES.get(t.meta.get("colormap"), COLOR_SCHEMES["classic"])
    side_in = style.width - 2 * MARGIN_IN
    fig = new_figure(style, side_in + CAPTION_IN + 2 * MARGIN_IN)
    w_px, h_px = (round(v * style.dpi) for v in fig.get_size_inches())
    avail = int(side_in * style.dpi)
    side = avail // L * L if avail >= L else avail  # whole pixels per spin when there is room
    left = (w_px - side) // 2
    bottom = round(MARGIN_IN * style.dpi)
    ax = fig.add_axes((left / w_px, bottom / h_px, side / w_px, side / h_px))
    ax.set_axis_off()
    index = (spins > 0).astype(np.uint8)
    per = max(1, min(MAX_EMBED // L, -(-side // L)))  # enlargement of the SVG's embedded image
    enlarged = np.kron(index, np.ones((per, per), np.uint8)) if per > 1 else index
    cmap = ListedColormap(np.array([down, up]) / 255.0)
    image = ax.imshow(index, cmap=cmap, vmin=0, vmax=1, interpolation="none", resample=False,
                      extent=(0, L, L, 0), aspect="equal")
    # SVG viewers (rsvg) smooth every embedded image: there the spins go in enlarged, so that the
    # smoothing stays within a device pixel; PDF viewers (poppler) draw an image enlarged 4 times
    # or more without smoothing: there the spins go in as they are, L x L
    fig.for_format = lambda fmt: image.set_data(enlarged if fmt == "svg" else index)
    m = t.model or {}
    parts = [f"L = {L}"]
    if m.get("temperature") is not None:
        parts.append(f"T = {m['temperature']:.4g} J/k$_B$" if m.get("coupling", 1.0) == 1.0
                     else f"T = {m['temperature']:.4g}, J = {m['coupling']:.3g}")
    if m.get("field"):
        parts.append(f"h = {m['field']:.3g}")
    if t.meta.get("sweeps") is not None:
        parts.append(f"{t.meta['sweeps']} sweeps")
    if m.get("algorithm"):
        parts.append(str(m["algorithm"]))
    fig.text(0.5, (bottom + side) / h_px + 0.08 / fig.get_size_inches()[1], ", ".join(parts),
             ha="center", va="bottom")
    fig.set_layout_engine("none")  # placed by hand: nothing for a layout engine to do
    return fig
