"""Writing a publication figure set, without Qt: the figure drawn from its tables
(app/output/figures), S.data.npz and S.png / S.svg / S.pdf, each with a sidecar that records the
data file and its sha256. Used by the window's export (app/output/export.py) and by
`isinglab figure --from`, which redraws a figure from its recorded data without a window."""
from __future__ import annotations

import json
import os

from isinglab.core.atomic_io import check_folder, resolve_target, write_atomic
from isinglab.core.errors import IsingLabError
from isinglab.core.panel_ids import file_stem
from isinglab.app.output import figures
from isinglab.app.output.figures.data import digest, pack
from isinglab.app.output.figures.style import Style

FORMATS = figures.FORMATS
DATA_SUFFIX = ".data.npz"  # the data of the publication figure S: S.data.npz


def write_publication(folder: str, panel_id: str, tables, style: Style, formats, base: dict,
                      extra: dict | None = None, data_blob: bytes | None = None, create: bool = False) -> list[str]:
    """Draw `tables` and write <stem>.data.npz (`data_blob` when given: the recorded file of a
    replay), <stem>.<fmt> and their sidecars (`base` with format, file, size, style and data).
    `create`: make the folder, once the figure is drawn. No Qt: the figure command calls this
    without a window."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise IsingLabError(f"unknown figure format {bad or formats}; choose from {', '.join(FORMATS)}")
    if not create:
        folder = check_folder(folder)
    stem = file_stem(panel_id)
    rendered = figures.render(panel_id, tables, style, formats)  # all drawn before anything is written
    if create:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise IsingLabError(f"cannot create output folder {folder}: {exc.strerror or exc}") from None
        folder = check_folder(folder)
    blob = data_blob if data_blob is not None else pack(panel_id, tables)
    data_path, _ = resolve_target(os.path.join(folder, stem + DATA_SUFFIX))
    write_atomic(data_path, blob)
    written = [data_path]
    w_in, h_in = (round(v, 4) for v in rendered.size_in)
    size = rendered.size_px
    for fmt, content in rendered.files.items():
        path, _ = resolve_target(os.path.join(folder, f"{stem}.{fmt}"))
        side_path, _ = resolve_target(path + ".json")
        sidecar = {**base, "format": fmt, "file": os.path.basename(path), "dpi": style.dpi,
                   "size_px": [int(size[0]), int(size[1])], "style": "publication",
                   "data": {"file": os.path.basename(data_path), "sha256": digest(blob)},
                   "figure": {"preset": style.preset, "font_size": float(style.font_size),
                              "width_in": w_in, "height_in": h_in}, **(extra or {})}
        sidecar.pop("scale", None)
        write_pair(path, content, side_path, sidecar)
        written += [path, side_path]
    return written


def write_pair(path: str, blob: bytes, side_path: str, sidecar: dict) -> None:
    """The sidecar first: a figure replaced without its new sidecar would be described wrongly;
    if the figure does not land, the old sidecar goes back."""
    text = json.dumps(sidecar, indent=2, allow_nan=False)
    old_sidecar = _read_if_regular(side_path)
    write_atomic(side_path, text)
    try:
        write_atomic(path, blob)
    except IsingLabError:
        _restore(side_path, old_sidecar)
        raise


def _read_if_regular(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _restore(path: str, old: bytes | None) -> None:
    try:
        if old is None:
            os.remove(path)
        else:
            write_atomic(path, old)
    except (OSError, IsingLabError):
        pass  # the figure error is the one to report
