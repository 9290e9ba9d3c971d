"""How CLI results reach the user: one JSON object, or a readable table; progress on stderr."""
from __future__ import annotations

import json
import math
import sys
import time


def _clean(obj):
    """JSON has no inf/nan: write them as null (the text output shows them as 'inf')."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and hasattr(obj, "dtype"):  # numpy scalar
        return _clean(obj.item())
    return obj


def dump_json(result: dict) -> str:
    return json.dumps(_clean(result), indent=2, allow_nan=False)


def fmt_value(v) -> str:
    if isinstance(v, dict) and "mean" in v and "err" in v:
        return f"{v['mean']:.6g} ± {v['err']:.2g}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def format_table(result: dict, indent: int = 0) -> str:
    """Nested dicts become indented sections; mean/err pairs print as 'x ± dx'."""
    lines = []
    pad = " " * indent
    width = max((len(str(k)) for k in result), default=0)
    for key, value in result.items():
        if isinstance(value, dict) and not ("mean" in value and "err" in value):
            lines.append(f"{pad}{key}:")
            lines.append(format_table(value, indent + 2))
        elif isinstance(value, (list, tuple)) and len(value) > 8:
            lines.append(f"{pad}{str(key).ljust(width)}  [{len(value)} values; use --json]")
        else:
            lines.append(f"{pad}{str(key).ljust(width)}  {fmt_value(value)}")
    return "\n".join(lines)


class ProgressBar:
    """A one-line bar on stderr, drawn only when stderr is a terminal, at most 10 times a second."""

    def __init__(self, enabled: bool | None = None, width: int = 30):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.width = width
        self._last = 0.0

    def __call__(self, fraction: float, text: str = "") -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and fraction < 1.0):
            return
        self._last = now
        n = int(round(fraction * self.width))
        sys.stderr.write(f"\r[{'#' * n}{'.' * (self.width - n)}] {fraction * 100:5.1f}% {text:<14}")
        if fraction >= 1.0:
            sys.stderr.write("\r" + " " * (self.width + 30) + "\r")
        sys.stderr.flush()
