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
The adapters read only the panels' public state.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict

import numpy as np

from isinglab.core import __version__
from isinglab.core.errors import IsingLabError

from isinglab.core.rg.couplings import COUPLINGS

from isinglab.core.atomic_io import check_folder, write_atomic

from .export import _safe_json



# ---------------------------------------------------------------------------- formats

def _meta(params, **extra) -> dict:
    return {"isinglab_version": __version__, "params": asdict(params) if params is not None else None, **extra}


def write_csv(path: str, columns: dict, meta: dict) -> None:
    """Equal-length 1-D columns, comment lines with `meta` as JSON above the header row."""
    names = list(columns)
    arrays = [np.asarray(columns[n]).ravel() for n in names]
    if len({a.size for a in arrays}) > 1:
        raise IsingLabError(f"columns of {path} differ in length")
    buf = io.StringIO()
    buf.write(f"# {json.dumps(_safe_json(meta), allow_nan=False)}\n")
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
    np.savez_compressed(buf, meta=np.array(json.dumps(_safe_json(meta))), **arrays)
    write_atomic(path, buf.getvalue())


def read_npz(path: str) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    return arrays, meta


def write_json(path: str, obj) -> None:
    write_atomic(path, json.dumps(_safe_json(obj), indent=2, allow_nan=False))


# ---------------------------------------------------------------------------- adapters

def observables_series(window) -> dict | None:
    data = window.observables.trace_data()
    return data if len(data["sweeps"]) else None


def tscan_table(window) -> dict | None:
    res = window.observables.scan.result()
    if res["T"].size == 0:
        return None
    out = {"T": res["T"], "T_mean": res["T_mean"], "n": res["n"]}
    for name in ("m_abs", "e", "c", "chi"):
        out[name] = res[name]["mean"]
        out[f"{name}_err"] = res[name]["err"]
    return out


def rg_levels(window):
    panel = window.docks["blocksDock"].widget()
    return panel.flow_levels or None


def rg_table(levels) -> dict:
    out = {"level": [lv.level for lv in levels], "size": [lv.size for lv in levels]}
    for name in COUPLINGS:
        pairs = [lv.couplings[name] for lv in levels]
        out[name] = [v for v, _ in pairs]
        out[f"{name}_err"] = [e for _, e in pairs]
    out["m_abs"] = [lv.m_abs[0] for lv in levels]
    out["m_abs_err"] = [lv.m_abs[1] for lv in levels]
    return out


def correlation_result(window):
    u = window.docks["correlationDock"].widget().update_
    return None if u is None else u


def network_results(window) -> dict | None:
    panel = window.docks["networkDock"].widget()
    out = {k: getattr(panel, k).to_json() for k in ("distilled", "pl_fit") if getattr(panel, k, None) is not None}
    return out or None


# ---------------------------------------------------------------------------- export

def export_data(window, folder: str) -> list[str]:
    """Write every available data set into `folder`; returns the paths written."""
    folder = check_folder(folder)
    snap = window.engine.latest()
    params = snap.params
    path = lambda name: os.path.join(folder, name)  # noqa: E731
    written = []

    series = observables_series(window)
    if series is not None:
        meta = _meta(params, what="observables time series (per spin)")
        write_csv(path("observables_series.csv"), series, meta)
        write_npz(path("observables_series.npz"), series, meta)
        written += [path("observables_series.csv"), path("observables_series.npz")]
    table = tscan_table(window)
    if table is not None:  # labelled with the model its bins were measured on, not the window's
        scan = window.observables.scan
        meta = {"isinglab_version": __version__, "params": scan.model, "what": "temperature scan",
                "bin_width": scan.width}
        write_csv(path("tscan.csv"), table, meta)
        write_npz(path("tscan.npz"), table, meta)
        written += [path("tscan.csv"), path("tscan.npz")]
    meta = _meta(params, what="lattice snapshot", sweeps=int(snap.sweeps))
    write_npz(path("lattice.npz"), {"spins": np.asarray(snap.spins, dtype=np.int8)}, meta)
    window.lattice.set_spins(snap.spins)  # the picture shows the same state as the NPZ
    window.lattice.export_png(path("lattice.png"), max(1, 512 // params.size))
    written += [path("lattice.npz"), path("lattice.png")]
    written += _export_analysis(window, params, path)
    return written


def _export_analysis(window, params, path) -> list[str]:
    written = []
    levels = rg_levels(window)
    if levels:
        meta = _meta(params, what="block-spin couplings per RG level")
        write_csv(path("rg_couplings.csv"), rg_table(levels), meta)
        write_json(path("rg_couplings.json"), {**meta, "levels": [lv.to_json() for lv in levels]})
        written += [path("rg_couplings.csv"), path("rg_couplings.json")]
    u = correlation_result(window)
    if u is not None and u.result is not None:
        r = u.result
        meta = _meta(params, what="correlation function of the current temperature bin",
                     temperature=r.temperature, n_samples=r.n_samples)
        write_csv(path("correlation.csv"), {"r": r.r, "g": r.g, "g_err": r.g_err}, meta)
        xi = {k: {"T": a.tolist(), "mean": b.tolist(), "err": c.tolist()} for k, (a, b, c) in u.points.items()}
        write_json(path("correlation.json"), {**meta, "result": r.to_json(), "xi_points": xi})
        written += [path("correlation.csv"), path("correlation.json")]
    net = network_results(window)
    if net is not None:
        write_json(path("network.json"), {**_meta(params, what="learned coefficients"), **net})
        written.append(path("network.json"))
    return written


def install(window) -> None:
    """File > Export > "Export data…" (after export.install, which creates the submenu)."""
    if getattr(window, "_data_export_installed", False):  # once per window
        return
    window._data_export_installed = True
    from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

    from .export import _action

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
