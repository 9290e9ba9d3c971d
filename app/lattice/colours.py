"""Colours of the lattice view, in plain numpy.

Kept apart from the widget so that headless code (the movie writer, figure export) can use the
same colour schemes without importing Qt or numba.
"""
from __future__ import annotations

import numpy as np

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
# behind the lattice, where the view is wider or taller than it
BACKGROUND = "#202020"
# the text box drawn inside the view (presenter overlay): a warm yellow, in no colour scheme and
# far from the overlay codes' red and green, on translucent black
TEXT_RGB = (255, 214, 10)
TEXT_BOX_RGBA = (0, 0, 0, 190)
