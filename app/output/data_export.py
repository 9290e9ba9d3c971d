"""Data export: the numbers behind the panels, as CSV / NPZ / JSON (atomic writes).

What is written (each only when the panel has data):
  observables_series.csv/.npz   live trace: sweeps, e, |m| (per spin)
  tscan.csv/.npz                the temperature scan: T, T_mean, n, and mean/err of m_abs, e, c, chi
  lattice.npz/.png              the current spins (int8 +-1) and their picture
  rg_couplings.csv/.json        fitted block-spin couplings per RG level (nn, nnn, plaquette, h with errors)
  correlation.csv/.json         G(r) of the current temperature bin and the xi(T) points
  network.json                  learned coefficients (distillation and pseudo-likelihood fit)

Every CSV starts with "# " comment lines: the isinglab version and the model parameters as JSON,
then one header row; `read_csv` reads it back. Every NPZ holds a "meta" entry with the same JSON.
Every panel hands its numbers over as DataSets (app/panels/contract.py), each labelled with
the model it was measured on; the CSV/NPZ/JSON header also holds the columns' units.
"""
from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from isinglab.core import __version__
from isinglab.core.atomic_io import check_folder, write_atomic
from isinglab.core.errors import IsingLabError
from isinglab.core.json_files import strict_json

from isinglab.app.panels.contract import DataSet


# ---------------------------------------------------------------------------- formats

def write_csv(path: str, columns: dict, meta: dict) -> None:
    """Equal-length 1-D columns, comment lines with `meta` as JSON above the header row."""
    names = list(columns)
    arrays = [np.asarray(columns[n]).ravel() for n in names]
    if len({a.size for a in arrays}) > 1:
        raise IsingLabError(f"columns of {path} differ in length")
    buf = io.StringIO()
    buf.write(f"# {json.dumps(strict_json(meta), allow_nan=False)}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for row in zip(*arrays):
        w.writerow([repr(float(x)) if isinstance(x, (float, np.floating)) else x for x in row])
    write_atomic(path, buf.getvalue())


def read_csv(path: str) -> tuple[dict, dict]:
    """(columns as float arrays, meta) of a CSV written by write_csv."""
    with open(path, encoding="utf-8") as f:
        first = f.readline()
        rows = list(csv.reader(f))
    meta = json.loads(first[2:]) if first.startswith("# ") else {}
    names, body = rows[0], rows[1:]
    cols = {n: np.array([float(r[i]) for r in body], dtype=np.float64) for i, n in enumerate(names)}
    return cols, meta


def write_npz(path: str, arrays: dict, meta: dict) -> None:
    buf = io.BytesIO()  # a file object: np.savez would append ".npz" to a name
    np.savez_compressed(buf, meta=np.array(json.dumps(strict_json(meta))), **arrays)
    write_atomic(path, buf.getvalue())


def read_npz(path: str) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    return arrays, meta


def write_json(path: str, obj) -> None:
    write_atomic(path, json.dumps(strict_json(obj), indent=2, allow_nan=False))


# ---------------------------------------------------------------------------- export

def export_data(window, folder: str) -> list[str]:
    """Write every data set of every panel (app/panels/contract.py) into `folder`; returns the
    paths written. Each file is labelled with the model its numbers were measured on."""
    folder = check_folder(folder)
    written = []
    for panel in window.panels.values():
        for ds in panel.data_sets():
            written += write_data_set(folder, ds)
    return written


def write_data_set(folder: str, ds: DataSet) -> list[str]:
    meta = {"isinglab_version": __version__, "params": ds.model, "what": ds.what, **ds.meta}
    if ds.units:
        meta["units"] = ds.units
    written = []
    for fmt in ds.formats:
        path = os.path.join(folder, f"{ds.name}.{fmt}")
        if fmt == "csv":
            write_csv(path, ds.columns, meta)
        elif fmt == "npz":
            write_npz(path, {k: np.asarray(v) for k, v in ds.columns.items()}, meta)
        elif fmt == "json":
            write_json(path, {**meta, **(ds.document or {})})
        elif fmt == "png" and ds.picture is not None:
            ds.picture(path)
        else:
            raise IsingLabError(f"data set {ds.name}: cannot write {fmt}")
        written.append(path)
    return written


def install(window) -> None:
    """File > Export > "Export data…" (after export.install, which creates the submenu)."""
    if getattr(window, "_data_export_installed", False):  # once per window
        return
    window._data_export_installed = True
    from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

    from isinglab.app.output.export import _action

    def run() -> None:
        folder = QFileDialog.getExistingDirectory(window, "Export data to folder",
                                                  getattr(window, "_export_folder", None) or os.getcwd())
        if not folder:
            return
        try:
            written = export_data(window, folder)
        except IsingLabError as exc:
            QMessageBox.warning(window, "Export failed", str(exc))
            return
        window.statusBar().showMessage(f"Wrote {len(written)} data files to {folder}", 8000)

    action = _action(window, "Export data…", "exportDataAction",
                     "Write time series, T-scan, lattice, RG couplings, correlations and learned "
                     "coefficients as CSV/NPZ/JSON into a folder", run)
    menu = window.findChild(QMenu, "exportMenu") or window.menu("&File")
    menu.addAction(action)
    window.data_export_action = action
