"""The Zarr store of a sweep: written only by the client process, one group per finished task.

Layout::

    RESULTS.zarr/                  attrs: format, format_version, parameters (the SweepPlan),
                                          code_version, created
      tasks/
        L0032_T2.269000_s03/       attrs: size, temperature, seed_index, seed, sweeps, thermalize,
                                          algorithm, summary (means, errors, tau_int), seconds,
                                          cpu_seconds, code_version, complete = true (written last)
          e    float64[sweeps]     per-spin energy after each measured sweep (for reweighting)
          m    float64[sweeps]     per-spin magnetisation

A task group counts as finished only when its attributes say `complete` (they are written after
both arrays, and Zarr writes each file atomically), so a sweep killed mid-write leaves at most a
group without the mark; resuming removes such groups and runs their tasks again.
"""
from __future__ import annotations

import datetime
import math
import os

import numpy as np

from ..errors import IsingLabError
from ..limits import MAX_FILE_BYTES
from .plan import FORMAT, FORMAT_VERSION, SweepPlan, Task

TASKS = "tasks"
CHUNK = 1 << 20  # samples per Zarr chunk


def _zarr():
    import zarr
    return zarr


def code_version() -> str:
    from .. import __version__
    return __version__


def _path(path) -> str:
    text = os.fspath(path)
    if not str(text).strip() or "\0" in str(text):
        raise IsingLabError(f"invalid store path {text!r}")
    return os.path.abspath(os.path.expanduser(text))


def _array(group, name: str, data: np.ndarray):
    chunks = (max(1, min(data.size, CHUNK)),)
    if hasattr(group, "create_array"):  # zarr 3
        return group.create_array(name, data=data, chunks=chunks, overwrite=True)
    return group.create_dataset(name, data=data, chunks=chunks, overwrite=True)  # zarr 2


def _clean(obj):
    """JSON-safe attributes: numpy scalars to Python, nan/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and hasattr(obj, "dtype"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _differences(there: dict, here: dict) -> str:
    keys = sorted(set(there) | set(here))
    diffs = []
    for k in keys:
        a, b = there.get(k), here.get(k)
        if a != b:
            diffs.append(f"{k}: {_brief(a)} there, {_brief(b)} here")
    return "; ".join(diffs[:3]) + ("; ..." if len(diffs) > 3 else "")


def _brief(v) -> str:
    if isinstance(v, list) and len(v) > 4:
        return f"[{v[0]}, {v[1]}, ..., {v[-1]}] ({len(v)} values)"
    return repr(v)


class SweepStore:
    """A sweep's Zarr store, opened for writing (`create_or_resume`) or reading (`open_read`)."""

    def __init__(self, path: str, root, writable: bool):
        self.path = path
        self.root = root
        self.writable = writable

    # ------------------------------------------------------------------------- opening

    @classmethod
    def existing(cls, path, plan: SweepPlan) -> "SweepStore | None":
        """The store of the same plan at `path` to resume, or None when there is none yet
        (nothing is created); a store of other parameters, or anything else there, is refused."""
        text = _path(path)
        if not os.path.isdir(text) or not os.listdir(text):
            if os.path.exists(text) and not os.path.isdir(text):
                raise IsingLabError(f"--store {text} exists and is not a Zarr store (a folder); give a new name")
            folder = os.path.dirname(text)
            if not os.path.isdir(folder):
                raise IsingLabError(f"cannot write {text}: the folder {folder} does not exist")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise IsingLabError(f"cannot write {text}: no permission to write in {folder}")
            return None
        return cls.create_or_resume(text, plan)

    @classmethod
    def create_or_resume(cls, path, plan: SweepPlan) -> "SweepStore":
        """Create the store for `plan`, or open the store of the same plan to resume it. A store
        of other parameters, or anything that is not a sweep store, is refused with one line."""
        zarr = _zarr()
        path = _path(path)
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            raise IsingLabError(f"cannot write {path}: the folder {folder} does not exist")
        if os.path.exists(path) and not os.path.isdir(path):
            raise IsingLabError(f"--store {path} exists and is not a Zarr store (a folder); give a new name")
        params = plan.parameters()
        fresh = not os.path.exists(path) or not os.listdir(path)
        try:
            if fresh:
                if not os.access(folder, os.W_OK | os.X_OK):
                    raise IsingLabError(f"cannot write {path}: no permission to write in {folder}")
                root = zarr.open_group(path, mode="w")
            else:
                root = zarr.open_group(path, mode="r+")
        except IsingLabError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise IsingLabError(f"--store {path} is not an isinglab sweep store ({_reason(exc)}); "
                                "give a new name") from None
        attrs = dict(root.attrs)
        if not attrs and not list(root.group_keys()) and not list(root.array_keys()):
            fresh = True  # a store created but killed before its attributes landed
        if fresh:
            root.attrs.update(_clean({
                "format": FORMAT, "format_version": FORMAT_VERSION, "parameters": params,
                "code_version": code_version(),
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            }))
            root.require_group(TASKS)
            return cls(path, root, True)
        cls._check_format(path, attrs)
        there = attrs.get("parameters") or {}
        if there != _clean(params):
            diff = _differences(there, _clean(params))
            raise IsingLabError(f"--store {path} holds a sweep with other parameters ({diff}); "
                                "give another --store, or the same parameters to resume it")
        root.require_group(TASKS)
        return cls(path, root, True)

    @classmethod
    def open_read(cls, path) -> "SweepStore":
        zarr = _zarr()
        path = _path(path)
        if not os.path.exists(path):
            raise IsingLabError(f"{path} does not exist")
        if not os.path.isdir(path):
            raise IsingLabError(f"{path} is not a Zarr store (a folder made by isinglab sweep)")
        try:
            root = zarr.open_group(path, mode="r")
            attrs = dict(root.attrs)
        except (OSError, ValueError, KeyError) as exc:
            raise IsingLabError(f"{path} is not an isinglab sweep store ({_reason(exc)})") from None
        cls._check_format(path, attrs)
        return cls(path, root, False)

    @staticmethod
    def _check_format(path: str, attrs: dict) -> None:
        if attrs.get("format") != FORMAT:
            raise IsingLabError(f"{path} is not an isinglab sweep store (no '{FORMAT}' format mark)")
        version = attrs.get("format_version")
        if version != FORMAT_VERSION:
            raise IsingLabError(f"{path} is a sweep store of format version {version!r}; this isinglab "
                                f"reads version {FORMAT_VERSION}")
        if not isinstance(attrs.get("parameters"), dict):
            raise IsingLabError(f"{path} is a sweep store without its parameters")

    # ------------------------------------------------------------------------- contents

    @property
    def parameters(self) -> dict:
        return dict(self.root.attrs["parameters"])

    def _tasks(self):
        try:
            return self.root[TASKS]
        except KeyError:
            if self.writable:
                return self.root.require_group(TASKS)
            return None

    def finished(self, remove_unfinished: bool = False) -> dict:
        """name -> attributes of every finished task group. Groups without the `complete` mark
        (a write cut short) are removed when `remove_unfinished`, else left out."""
        tasks = self._tasks()
        if tasks is None:
            return {}
        out = {}
        for name in sorted(tasks.group_keys()):
            try:
                attrs = dict(tasks[name].attrs)
            except (OSError, ValueError, KeyError):
                attrs = {}
            if attrs.get("complete") is True:
                out[name] = attrs
            elif remove_unfinished and self.writable:
                try:
                    del tasks[name]
                except (OSError, KeyError):
                    pass
        return out

    def write(self, task: Task, plan: SweepPlan, result: dict, summary: dict) -> None:
        """Store one finished task: both arrays first, then the attributes with `complete`."""
        tasks = self._tasks()
        e = np.ascontiguousarray(result["e"], dtype=np.float64)
        m = np.ascontiguousarray(result["m"], dtype=np.float64)
        try:
            group = tasks.create_group(task.name, overwrite=True)
            _array(group, "e", e)
            _array(group, "m", m)
            group.attrs.update(_clean({
                "size": task.size, "temperature": task.temperature, "seed_index": task.seed_index,
                "seed": task.seed, "sweeps": plan.sweeps, "thermalize": plan.thermalize,
                "algorithm": plan.algorithm, "coupling": plan.coupling, "field": plan.field,
                "summary": summary, "seconds": float(result.get("seconds", 0.0)),
                "cpu_seconds": float(result.get("cpu_seconds", 0.0)),
                "code_version": code_version(), "complete": True,
            }))
        except OSError as exc:
            raise IsingLabError(f"could not write task {task.name} to {self.path}: {_reason(exc)}") from None

    def read_series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(e, m) of one finished task, checked: 1-D float arrays of equal, bounded length."""
        group = self._tasks()[name]
        try:
            ea, ma = group["e"], group["m"]
        except KeyError:
            raise IsingLabError(f"{self.path}: task {name} has no e or m series") from None
        for a in (ea, ma):
            if len(a.shape) != 1 or a.shape != ea.shape or a.shape[0] * 8 > MAX_FILE_BYTES:
                raise IsingLabError(f"{self.path}: task {name} has series of shapes {ea.shape} and {ma.shape}")
        e = np.asarray(ea[...], dtype=np.float64)
        m = np.asarray(ma[...], dtype=np.float64)
        if not (np.all(np.isfinite(e)) and np.all(np.isfinite(m))):
            raise IsingLabError(f"{self.path}: task {name} contains nan or inf")
        return e, m


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def point_summary(finished: dict) -> list[dict]:
    """Per (L, T): the seeds' summaries combined (mean of the seed means; error sqrt(sum err^2) / n)."""
    groups: dict = {}
    for attrs in finished.values():
        groups.setdefault((attrs["size"], attrs["temperature"]), []).append(attrs["summary"])
    points = []
    for (L, t), sums in sorted(groups.items()):
        point = {"size": L, "temperature": t, "seeds": len(sums)}
        for key in ("e", "m_abs", "c", "chi", "u4"):
            vals = [s[key] for s in sums if isinstance(s.get(key), dict)]
            if not vals:
                continue
            n = len(vals)
            mean = sum(v["mean"] for v in vals) / n
            err = math.sqrt(sum((v["err"] or 0.0) ** 2 for v in vals)) / n
            point[key] = {"mean": mean, "err": err}
        points.append(point)
    return points
