"""Draws the temperature classifier: conv kernels as small images, pooled channels and classes as
nodes, head weights as edges coloured by sign (orange +, blue -) and sized by magnitude.

Hovering a kernel tap, a channel node, a class node or the middle of an edge shows its value.
Items are built once per network shape and only re-coloured afterwards, so redrawing during
training (a few times a second) costs well under a millisecond of Python per item.
"""
from __future__ import annotations

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg

POSITIVE = (232, 96, 28)  # orange
NEGATIVE = (74, 155, 219)  # blue
NEUTRAL = (154, 154, 154)
KERNEL_SIZE = 0.8  # a kernel image's side, in scene units (one channel row is 1 unit)
X_KERNEL, X_CHANNEL, X_CLASS = 0.0, 2.0, 4.2
MAX_EDGE_WIDTH = 6.0


def diverging_lut(n: int = 256) -> np.ndarray:
    """blue (negative) - grey (0) - orange (positive) lookup table, (n, 3) uint8."""
    t = np.linspace(-1.0, 1.0, n)[:, None]
    neg, pos, mid = np.array(NEGATIVE), np.array(POSITIVE), np.array((60, 60, 60))
    out = np.where(t < 0, mid + (neg - mid) * -t, mid + (pos - mid) * t)
    return out.astype(np.uint8)


def sign_colour(v: float, alpha: int = 255):
    """Orange for a positive weight, blue for a negative one, grey for zero (RGBA)."""
    c = POSITIVE if v > 0 else NEGATIVE if v < 0 else NEUTRAL
    return (*c, alpha)


class NetworkViewer(pg.GraphicsLayoutWidget):
    """The classifier drawn as it learns: kernels -> pooled channels -> classes (see the module)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("networkViewer")
        self.view = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self._shape = None
        self._lut = diverging_lut()
        self._message = pg.TextItem("", color=(200, 200, 200), anchor=(0.5, 0.5))
        self.view.addItem(self._message)
        self.tips: dict[str, list[str]] = {}  # what hovering shows, by item kind (tests read it)
        self.set_weights(None)

    # ------------------------------------------------------------------ public

    def set_weights(self, weights: dict | None, temperatures=None, activation: str = "") -> None:
        """Show a network (SpinCNN.weights()) or, for None, say that there is none yet."""
        if weights is None:
            self._clear()
            self._message.setText("No network yet: generate a dataset and train a classifier")
            self._message.setPos(0, 0)
            self._message.show()
            self.view.setRange(xRange=(-3, 3), yRange=(-1, 1))
            return
        conv, head = weights["conv"], weights["head"]
        shape = (conv.shape, head.shape)
        if shape != self._shape:
            self._build(conv.shape[0], conv.shape[1], head.shape[0])
            self._shape = shape
        self._message.hide()
        self._update(weights, temperatures, activation)

    def tip_at(self, kind: str, index: int) -> str:
        """What hovering item `index` of `kind` ("tap", "channel", "edge", "class") shows."""
        return self.tips.get(kind, [""])[index]

    # ------------------------------------------------------------------ building

    def _clear(self) -> None:
        for item in list(self.view.addedItems):
            if item is not self._message:
                self.view.removeItem(item)
        self._shape = None
        self.tips = {}

    def _rows(self, n: int, span: float) -> np.ndarray:
        """n y-positions centred on the span of the channels."""
        return (np.arange(n) - (n - 1) / 2.0) * (span / max(n, 1))

    def _build(self, channels: int, kernel: int, classes: int) -> None:
        """Create every item for one network shape; the order of adding them is the drawing order."""
        self._clear()
        span = float(max(channels, classes))
        self._y_channel = self._rows(channels, span)
        self._y_class = self._rows(classes, span)
        self._build_kernels()
        self._build_edges(channels, classes)
        self._build_hover_items(kernel)
        self._build_labels()

    def _add(self, item):
        self.view.addItem(item)
        return item

    def _build_kernels(self) -> None:
        """One kernel image per channel, and the fixed grey link from it to its channel node."""
        self._kernels = []
        for y in self._y_channel:
            img = pg.ImageItem(axisOrder="row-major")
            img.setLookupTable(self._lut)
            self._kernels.append(self._add(img))
        self._links = [self._add(pg.PlotCurveItem([X_KERNEL + KERNEL_SIZE / 2, X_CHANNEL], [y, y],
                                                  pen=pg.mkPen(NEUTRAL, width=1)))
                       for y in self._y_channel]

    def _build_edges(self, channels: int, classes: int) -> None:
        """Channel -> class edges, _edges[class][channel]; their pens are set on every update."""
        self._edges = [[None] * channels for _ in range(classes)]
        for k, yk in enumerate(self._y_class):
            for c, yc in enumerate(self._y_channel):
                self._edges[k][c] = self._add(pg.PlotCurveItem([X_CHANNEL, X_CLASS], [yc, yk]))

    def _build_hover_items(self, kernel: int) -> None:
        """The scatter items that carry the hover tips: kernel taps, edge middles and the nodes."""
        self._taps = pg.ScatterPlotItem(size=KERNEL_SIZE * 60 / kernel, pen=None, brush=(0, 0, 0, 0),
                                        symbol="s", hoverable=True, tip=lambda x, y, data: data, pxMode=True)
        self._edge_tips = pg.ScatterPlotItem(size=8, pen=None, brush=(255, 255, 255, 60), hoverable=True,
                                             tip=lambda x, y, data: data)
        self._channel_nodes = pg.ScatterPlotItem(size=22, hoverable=True, tip=lambda x, y, data: data)
        self._class_nodes = pg.ScatterPlotItem(size=26, hoverable=True, tip=lambda x, y, data: data,
                                               brush=(90, 90, 90), pen=pg.mkPen(220, 220, 220))
        for item in (self._taps, self._edge_tips, self._channel_nodes, self._class_nodes):
            self.view.addItem(item)

    def _build_labels(self) -> None:
        """Class names beside the class nodes, column titles above, and the view's range."""
        self._labels = []
        for y in self._y_class:
            label = pg.TextItem("", color=(220, 220, 220), anchor=(0, 0.5))
            label.setPos(X_CLASS + 0.3, y)
            self._labels.append(self._add(label))
        # two lines each: on one line, at a projector's 1280x720 the titles overprinted each other
        titles = (("conv\nkernels", X_KERNEL), ("pooled\nchannels", X_CHANNEL), ("classes", X_CLASS))
        top = min(self._y_channel.min(), self._y_class.min()) - 1.1
        for text, x in titles:
            t = pg.TextItem(text, color=(180, 180, 180), anchor=(0.5, 0.5))
            t.setPos(x, top)
            self.view.addItem(t)
        self.view.setRange(xRange=(X_KERNEL - 1, X_CLASS + 1.6), yRange=(top - 0.6, -top + 0.4), padding=0.02)

    # ------------------------------------------------------------------ updating

    def _update(self, w: dict, temperatures, activation: str) -> None:
        """Re-colour the items built for this shape with new weights, and refresh every tip."""
        head, head_bias = w["head"], w["head_bias"]
        tap_tips = self._update_kernels(w["conv"])
        ch_tips = self._update_channels(w["conv_bias"], activation)
        temps = list(temperatures) if temperatures is not None else [None] * head.shape[0]
        names = [f"T = {t:g}" if t is not None else f"class {y}" for y, t in enumerate(temps)]
        self._class_nodes.setData(x=np.full(len(names), X_CLASS), y=self._y_class,
                                  data=[f"{n}: bias {b:+.4g}" for n, b in zip(names, head_bias)])
        for label, n in zip(self._labels, names):
            label.setText(n)
        mid_tips = self._update_edges(head, names)
        self.tips = {"tap": tap_tips, "channel": ch_tips, "edge": mid_tips,
                     "class": [f"{n}: bias {b:+.4g}" for n, b in zip(names, head_bias)]}

    def _update_kernels(self, conv) -> list[str]:
        """Kernel images on one symmetric scale, and a hover tip per tap; returns the tips."""
        k = conv.shape[1]
        scale = float(np.abs(conv).max()) or 1.0
        tap_pos, tap_tips = [], []
        for c, (img, y) in enumerate(zip(self._kernels, self._y_channel)):
            img.setImage(conv[c], levels=(-scale, scale), autoLevels=False)
            # after setImage: the rect scales the image it has
            img.setRect(X_KERNEL - KERNEL_SIZE / 2, y - KERNEL_SIZE / 2, KERNEL_SIZE, KERNEL_SIZE)
            step = KERNEL_SIZE / k
            for dy in range(k):
                for dx in range(k):
                    tap_pos.append((X_KERNEL - KERNEL_SIZE / 2 + (dx + 0.5) * step,
                                    y - KERNEL_SIZE / 2 + (dy + 0.5) * step))
                    tap_tips.append(f"channel {c}, tap (dx={dx}, dy={dy}): w = {conv[c, dy, dx]:+.4g}")
        self._taps.setData(pos=np.array(tap_pos), data=tap_tips)
        return tap_tips

    def _update_channels(self, bias, activation: str) -> list[str]:
        """Channel nodes coloured by the sign of their bias; returns their tips."""
        C = len(bias)
        act = f" {activation}" if activation else ""
        ch_tips = [f"channel {c}:{act}(conv + {bias[c]:+.4g}), averaged over sites" for c in range(C)]
        self._channel_nodes.setData(x=np.full(C, X_CHANNEL), y=self._y_channel, data=ch_tips,
                                    brush=[pg.mkBrush(sign_colour(b, 200)) for b in bias])
        return ch_tips

    def _update_edges(self, head, names: list[str]) -> list[str]:
        """Edge colour by sign and width by magnitude (relative to the largest); returns their tips."""
        hmax = float(np.abs(head).max()) or 1.0
        mid_pos, mid_tips = [], []
        for y, (yk, row) in enumerate(zip(self._y_class, head)):
            for c, (yc, v) in enumerate(zip(self._y_channel, row)):
                width = 0.5 + MAX_EDGE_WIDTH * abs(v) / hmax
                self._edges[y][c].setPen(pg.mkPen(sign_colour(v, 210), width=width))
                mid_pos.append(((X_CHANNEL + X_CLASS) / 2, (yc + yk) / 2))
                mid_tips.append(f"channel {c} -> {names[y]}: w = {v:+.4g}")
        self._edge_tips.setData(pos=np.array(mid_pos), data=mid_tips)
        return mid_tips

    def edge_pen(self, y: int, c: int):
        """The pen of the edge from channel c to class y (tests check colour and width)."""
        return self._edges[y][c].opts["pen"]


__all__ = ["NetworkViewer", "diverging_lut", "sign_colour"]
