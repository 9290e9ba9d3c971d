"""Draw the isinglab icon (an 8 x 8 spin lattice with a critical-looking domain) as SVG and PNGs.

Run: .venv/bin/python packaging/make_icons.py   (writes resources/icons/)"""
import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "resources", "icons")
UP, DOWN, FRAME = "#182A6E", "#FAECA0", "#202020"
SIZES = (16, 32, 48, 64, 128, 256)
# 1 = spin up: a large domain with a smaller domain of the other sign inside it (self-similarity)
MOTIF = np.array([[0, 0, 0, 1, 1, 0, 0, 0],
                  [0, 0, 1, 1, 1, 1, 0, 0],
                  [0, 1, 1, 1, 1, 1, 1, 0],
                  [1, 1, 1, 0, 0, 1, 1, 0],
                  [1, 1, 1, 0, 0, 1, 1, 1],
                  [0, 1, 1, 1, 1, 1, 1, 0],
                  [0, 0, 1, 1, 1, 1, 0, 1],
                  [1, 0, 0, 1, 1, 0, 0, 0]], np.uint8)


def svg() -> str:
    n, cell, pad = MOTIF.shape[0], 28, 16
    size = n * cell + 2 * pad
    rects = [f'<rect x="{pad + j * cell}" y="{pad + i * cell}" width="{cell}" height="{cell}" '
             f'fill="{UP if MOTIF[i, j] else DOWN}"/>' for i in range(n) for j in range(n)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">\n'
            f'<rect width="{size}" height="{size}" rx="36" fill="{FRAME}"/>\n' + "\n".join(rects) + "\n</svg>\n")


def png(px: int) -> Image.Image:
    rgb = lambda h: tuple(int(h[k:k + 2], 16) for k in (1, 3, 5))  # noqa: E731
    pad = max(1, px // 16)
    inner = px - 2 * pad
    idx = (np.arange(inner) * MOTIF.shape[0]) // inner
    cells = MOTIF[np.ix_(idx, idx)]
    img = np.empty((px, px, 3), np.uint8)
    img[:] = rgb(FRAME)
    img[pad:pad + inner, pad:pad + inner] = np.where(cells[..., None] == 1, rgb(UP), rgb(DOWN))
    return Image.fromarray(img, "RGB")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "isinglab.svg"), "w") as fh:
        fh.write(svg())
    for px in SIZES:
        png(px).save(os.path.join(OUT, f"isinglab-{px}.png"))
    print(f"wrote {OUT}")
