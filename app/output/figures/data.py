"""The numbers a publication figure is drawn from, and their file S.data.npz.

A `Table` is the Qt-free form of a panel's DataSet (app/panels/contract.py): a name, 1-D or 2-D
numeric columns with units, an optional JSON document, header fields and the model the numbers
were measured on. `pack` writes tables into one NPZ: every column is an array named
"<table>/<column>", and a "meta" entry holds JSON (schema, panel, and per table its name, what,
model, units, meta, document and column names). `unpack` reads it back with
np.load(allow_pickle=False) only and checks every entry, so a figure can be redrawn from the
file alone; the sidecar records the file's sha256 (`digest`).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from isinglab.core import __version__
from isinglab.core.errors import IsingLabError
from isinglab.core.json_files import parse_json_object, strict_json

DATA_SCHEMA = 1
MAX_DATA_BYTES = 512 * 2**20  # a 4096^2 lattice is 16 MiB as int8: far below
MAX_TABLES, MAX_COLUMNS = 32, 64
MAX_META_BYTES = 16 * 2**20  # the JSON part: documents (fits, learned coefficients) are small
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
KINDS = "biuf"  # bool, integer, unsigned, float: nothing else is a column


@dataclass
class Table:
    name: str
    what: str = ""
    model: dict | None = None
    columns: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    document: dict | None = None
    meta: dict = field(default_factory=dict)

    def column(self, name: str, default=None) -> np.ndarray | None:
        v = self.columns.get(name)
        return default if v is None else np.asarray(v)


def tables_from(data_sets) -> list[Table]:
    """Tables from DataSet objects (anything with their attributes), their numbers as arrays and
    their JSON parts as strict JSON, exactly as they will be written."""
    out = []
    for ds in data_sets:
        cols = {k: _array(v, f"{ds.name}.{k}") for k, v in ds.columns.items()}
        out.append(Table(ds.name, ds.what, strict_json(ds.model), cols, strict_json(dict(ds.units)),
                         strict_json(ds.document) if ds.document is not None else None,
                         strict_json(dict(ds.meta))))
    return out


def _array(v, where: str) -> np.ndarray:
    a = np.asarray(v)
    if a.dtype.kind not in KINDS or a.ndim not in (1, 2):
        raise IsingLabError(f"data {where}: a column must be a 1-D or 2-D numeric array, got {a.dtype} {a.shape}")
    return a


def pack(panel: str, tables: list[Table]) -> bytes:
    """The NPZ bytes of `tables` (see the module docstring)."""
    meta = {"schema": DATA_SCHEMA, "isinglab_version": __version__, "panel": panel, "tables": [
        {"name": t.name, "what": t.what, "model": t.model, "units": t.units, "meta": t.meta,
         "document": t.document, "columns": list(t.columns)} for t in tables]}
    arrays = {f"{t.name}/{k}": np.ascontiguousarray(v) for t in tables for k, v in t.columns.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(strict_json(meta), allow_nan=False)), **arrays)
    return buf.getvalue()


def digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def unpack(blob: bytes, where: str = "data file") -> tuple[str, list[Table]]:
    """(panel id, tables) of NPZ bytes written by `pack`; IsingLabError names what is wrong."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            names = list(z.files)
            if "meta" not in names:
                raise IsingLabError(f"{where}: no meta entry")
            meta_arr = z["meta"]
            if meta_arr.dtype.kind != "U" or meta_arr.ndim != 0:
                raise IsingLabError(f"{where}: meta must be one JSON string")
            meta = parse_json_object(str(meta_arr), f"{where}: meta", MAX_META_BYTES)
            tables = _tables(meta, where)
            for t in tables:
                for col in t.columns:
                    key = f"{t.name}/{col}"
                    if key not in names:
                        raise IsingLabError(f"{where}: column {key} is missing")
                    t.columns[col] = _array(z[key], key)
    except IsingLabError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise IsingLabError(f"{where}: not a readable NPZ file ({type(exc).__name__})") from None
    return meta["panel"], tables


def _tables(meta: dict, where: str) -> list[Table]:
    from isinglab.core.panel_ids import PANEL_IDS
    if meta.get("schema") != DATA_SCHEMA:
        raise IsingLabError(f"{where}: schema must be {DATA_SCHEMA}, got {meta.get('schema')!r}")
    if meta.get("panel") not in PANEL_IDS:
        raise IsingLabError(f"{where}: unknown panel {meta.get('panel')!r}")
    entries = meta.get("tables")
    if not isinstance(entries, list) or len(entries) > MAX_TABLES:
        raise IsingLabError(f"{where}: tables must be a list of at most {MAX_TABLES}")
    out = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not NAME_RE.fullmatch(e["name"]):
            raise IsingLabError(f"{where}: every table needs a plain name")
        cols = e.get("columns")
        if not isinstance(cols, list) or len(cols) > MAX_COLUMNS or \
                not all(isinstance(c, str) and NAME_RE.fullmatch(c) for c in cols):
            raise IsingLabError(f"{where}: table {e['name']}: columns must be a list of plain names")
        for key, kind in (("model", (dict, type(None))), ("units", dict), ("meta", dict),
                          ("document", (dict, type(None))), ("what", str)):
            if not isinstance(e.get(key, {} if key in ("units", "meta") else None if key != "what" else ""), kind):
                raise IsingLabError(f"{where}: table {e['name']}: {key} has the wrong type")
        out.append(Table(e["name"], e.get("what", ""), e.get("model"), {c: None for c in cols},
                         e.get("units", {}), e.get("document"), e.get("meta", {})))
    return out


def by_name(tables: list[Table]) -> dict[str, Table]:
    return {t.name: t for t in tables}
