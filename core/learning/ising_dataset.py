"""The labelled-configurations type, what makes one valid, and its NPZ file format.

Why a module of its own: a dataset comes from two places, sampling (datasets.generate) and a file
(IsingDataset.load), and both must produce the same checked object. The file side is a trust
boundary: load() reads an archive anyone may have written, so it is strict by design (headers
checked before anything is allocated, values checked before they are trusted, never unpickled).
"""
from __future__ import annotations

import io
import math
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from dataclasses import field as _field

import numpy as np

from ..errors import IsingLabError
from ..limits import MAX_FILE_BYTES, check_memory
from ..params import (ALGORITHMS, EXACT_MIN_SIZE, MAX_SEED, MAX_SIZE, check_coupling, check_field, check_ratio,
                      check_temperature)
from .operators import energies

MAX_SAMPLES = 1_000_000
MAX_CLASSES = 256


@dataclass(frozen=True)
class IsingDataset:
    """Configurations x (n, L, L) int8 with labels y (n,) indexing `temperatures`."""

    spins: np.ndarray
    labels: np.ndarray
    temperatures: np.ndarray
    coupling: float = 1.0
    field: float = 0.0
    spacing: np.ndarray = _field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sweeps, per class
    tau: np.ndarray = _field(default_factory=lambda: np.zeros(0))  # pilot tau_int, per class
    algorithms: tuple = ()  # per class
    seed: int = 0

    def __post_init__(self):
        x, y, t = np.asarray(self.spins), np.asarray(self.labels), np.asarray(self.temperatures, float)
        if x.ndim != 3 or x.shape[1] != x.shape[2]:
            raise IsingLabError(f"spins must be (n, L, L), got shape {x.shape}")
        if y.shape != (x.shape[0],):
            raise IsingLabError(f"labels must be ({x.shape[0]},), got shape {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= t.size):
            raise IsingLabError(f"labels must index the {t.size} temperatures")
        for name, value in (("spins", x.astype(np.int8, copy=False)), ("labels", y.astype(np.int64, copy=False)),
                            ("temperatures", t)):
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def size(self) -> int:
        return int(self.spins.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.temperatures.size)

    def __len__(self) -> int:
        return int(self.labels.size)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.n_classes)

    def energies(self) -> np.ndarray:
        """(n,) total energy E(x) = -J bond_sum(x) - h M(x) of each configuration."""
        return energies(self.spins, self.coupling, self.field)

    def subset(self, index) -> "IsingDataset":
        index = np.asarray(index)
        return IsingDataset(self.spins[index], self.labels[index], self.temperatures, self.coupling,
                            self.field, self.spacing, self.tau, self.algorithms, self.seed)

    def split(self, held_out: float = 0.25, seed: int = 0) -> tuple["IsingDataset", "IsingDataset"]:
        """(train, held-out), stratified: each class keeps the same fraction in both."""
        if not 0.0 < held_out < 1.0:
            raise IsingLabError(f"held-out fraction must be in (0, 1), got {held_out}")
        rng = np.random.default_rng([seed, 0x5B17])
        train, test = [], []
        for k in range(self.n_classes):
            idx = rng.permutation(np.flatnonzero(self.labels == k))
            cut = int(round(idx.size * held_out))
            if idx.size >= 2:
                cut = min(max(cut, 1), idx.size - 1)
            test.append(idx[:cut])
            train.append(idx[cut:])
        return self.subset(np.sort(np.concatenate(train))), self.subset(np.sort(np.concatenate(test)))

    def check_classifiable(self) -> None:
        """Raise a user-facing error unless a temperature classifier can be trained on this set."""
        if len(self) == 0:
            raise IsingLabError("the dataset is empty: generate or load configurations first")
        counts = self.class_counts()
        present = int((counts > 0).sum())
        if present < 2:
            raise IsingLabError(f"a classifier needs at least 2 temperature classes, the dataset has {present}")
        if (counts < 2).any():
            t = self.temperatures[counts < 2][0]
            raise IsingLabError(f"class T = {t:g} has fewer than 2 configurations; generate more samples")

    def describe(self) -> str:
        temps = ", ".join(f"{t:g}" for t in self.temperatures)
        return f"{len(self)} configurations of {self.size}x{self.size} at T = {temps}"

    def save(self, path) -> str:
        """Write an NPZ file (spins, labels, temperatures, model and sampling metadata) all or
        nothing through core.atomic_io (".npz" is added when missing); return the path written.
        A failed write (a full disk, a folder, a device) leaves an existing file unchanged."""
        from ..atomic_io import write_atomic
        buf = io.BytesIO()
        np.savez_compressed(buf, spins=self.spins, labels=self.labels, temperatures=self.temperatures,
                            coupling=self.coupling, field=self.field, spacing=np.asarray(self.spacing),
                            tau=np.asarray(self.tau), algorithms=np.array(self.algorithms, dtype=str),
                            seed=self.seed)
        return write_atomic(path, buf.getvalue(), suffix=".npz")  # its errors name the file and the reason

    @classmethod
    def load(cls, path) -> "IsingDataset":
        """Read an NPZ written by save(), checking everything before trusting it: the archive,
        each member's header (dtype, shape, size: nothing is allocated beyond MAX_FILE_BYTES and
        the memory available), then the values (spins +-1, labels indexing the temperatures,
        temperatures, J and h in the model's ranges). Never unpickles. IsingLabError, one line."""
        try:
            f = _read_npz(path)
            return _dataset_from_arrays(f)
        except _BadFile as exc:
            raise IsingLabError(f"cannot read dataset {_show(path)}: {exc}") from None


# ----------------------------------------------------------------------------- validation

def check_temperatures(temperatures) -> np.ndarray:
    """A 1-D array of valid, pairwise distinct temperatures."""
    try:
        values = [check_temperature(t) for t in np.atleast_1d(np.asarray(temperatures, dtype=object)).ravel()]
    except TypeError:
        raise IsingLabError(f"temperatures must be numbers, got {temperatures!r}") from None
    if not values:
        raise IsingLabError("give at least one temperature")
    if len(values) > MAX_CLASSES:
        raise IsingLabError(f"at most {MAX_CLASSES} temperatures, got {len(values)}")
    t = np.array(values, dtype=float)
    order = np.sort(t)
    close = np.flatnonzero(np.diff(order) <= 1e-9 * order[1:])
    if close.size:
        raise IsingLabError(f"temperatures must be distinct: T = {order[close[0]]:g} appears twice")
    return t


def parse_temperatures(text: str) -> np.ndarray:
    """'2.0, 2.3,2.6' -> array; the error names the bad entry."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    values = []
    for p in parts:
        try:
            values.append(float(p))
        except ValueError:
            raise IsingLabError(f"temperature {p!r} is not a number") from None
    return check_temperatures(values)


def check_samples(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise IsingLabError(f"number of samples must be an integer, got {n!r}")
    if n < 1:
        raise IsingLabError(f"number of samples must be >= 1 (an empty dataset teaches nothing), got {n}")
    if n > MAX_SAMPLES:
        raise IsingLabError(f"number of samples {n} is larger than the maximum {MAX_SAMPLES}")
    return int(n)


# ----------------------------------------------------------------------------- reading NPZ files

NPZ_REQUIRED = ("spins", "labels", "temperatures", "coupling", "field")
NPZ_OPTIONAL = ("spacing", "tau", "algorithms", "seed")
MAX_MEMBERS = 64
MAX_HEADER = 10_000  # bytes of an .npy header (numpy's own default)
SPIN_CHECK_ROWS = 4096  # configurations checked for +-1 per pass (bounded temporary memory)
# key: (dtype kinds, ndim, what)
_MEMBERS = {
    "spins": ("iu", 3, "an (n, L, L) integer array"),
    "labels": ("iu", 1, "an (n,) integer array"),
    "temperatures": ("fiu", 1, "a 1-D array of numbers"),
    "coupling": ("fiu", 0, "a single number"),
    "field": ("fiu", 0, "a single number"),
    "spacing": ("iu", 1, "a 1-D integer array"),
    "tau": ("fiu", 1, "a 1-D array of numbers"),
    "algorithms": ("U", 1, "a 1-D array of algorithm names"),
    "seed": ("iu", 0, "a single integer"),
}
MAX_NAME_CHARS = 32  # per algorithm name


class _BadFile(Exception):
    pass


def _show(path) -> str:
    """A path for a one-line message."""
    try:
        text = os.fspath(path)
    except TypeError:
        return repr(path)
    text = text if isinstance(text, str) else os.fsdecode(text)
    return text if text.isprintable() and len(text) <= 200 else repr(text[:200])


def _read_npz(path) -> dict:
    try:
        text = os.fspath(path)
    except TypeError:
        raise _BadFile("not a file name") from None
    if not text or "\0" in str(text):
        raise _BadFile("not a file name")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise _BadFile("no such file") from None
    except OSError as exc:
        raise _BadFile(exc.strerror or str(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise _BadFile("it is a folder")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end
        raise _BadFile("not a regular file")
    if st.st_size == 0:
        raise _BadFile("the file is empty")
    if st.st_size > MAX_FILE_BYTES:
        raise _BadFile(f"the file has {st.st_size / 2**30:.3g} GiB, more than the limit of "
                       f"{MAX_FILE_BYTES / 2**30:g} GiB")
    try:
        with zipfile.ZipFile(text) as zf:
            return _read_members(zf)
    except _BadFile:
        raise
    except zipfile.BadZipFile as exc:
        raise _BadFile(f"not an NPZ archive or damaged ({exc})") from None
    except (OSError, EOFError, ValueError, zlib.error, NotImplementedError, RuntimeError,
            OverflowError) as exc:
        raise _BadFile(f"damaged archive ({type(exc).__name__}: {str(exc)[:120]})") from None


def _read_members(zf: zipfile.ZipFile) -> dict:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _BadFile(f"the archive has {len(infos)} members, more than the {MAX_MEMBERS} a dataset can have")
    by_key = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or info.is_dir():
            raise _BadFile(f"member {name[:60]!r} is not an .npy array")
        key = name[:-4]
        if key in by_key:
            raise _BadFile(f"member {name[:60]!r} appears twice")
        by_key[key] = info
    missing = [k for k in NPZ_REQUIRED if k not in by_key]
    if missing:
        raise _BadFile(f"no {missing[0]!r} array (an isinglab dataset has {', '.join(NPZ_REQUIRED)})")
    wanted = [k for k in NPZ_REQUIRED + NPZ_OPTIONAL if k in by_key]  # other .npy members are ignored
    headers = {k: _member_header(zf, by_key[k], k) for k in wanted}
    total = sum(nbytes for _, _, nbytes in headers.values())
    if total > MAX_FILE_BYTES:
        raise _BadFile(f"its arrays would need {total / 2**30:.3g} GiB, more than the limit of "
                       f"{MAX_FILE_BYTES / 2**30:g} GiB")
    try:
        check_memory("the dataset", 2 * total)  # the arrays and the int8 / int64 copies made of them
    except IsingLabError as exc:
        raise _BadFile(str(exc)) from None
    _check_shapes({k: shape for k, (shape, _, _) in headers.items()})
    out = {}
    for k in wanted:
        with zf.open(by_key[k]) as fp:
            arr = np.lib.format.read_array(fp, allow_pickle=False, max_header_size=MAX_HEADER)
        shape, dtype, _ = headers[k]
        if arr.shape != shape or arr.dtype != dtype:
            raise _BadFile(f"{k!r} changed while reading")
        out[k] = arr
    return out


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str):
    """(shape, dtype, nbytes) from the .npy header alone: nothing of the data is read or allocated."""
    kinds, ndim, what = _MEMBERS[key]
    with zf.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=MAX_HEADER)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=MAX_HEADER)
            else:
                raise _BadFile(f"{key!r} has an unsupported .npy format version {version}")
        except (ValueError, EOFError, SyntaxError, TypeError) as exc:
            raise _BadFile(f"{key!r} is not a valid .npy array ({str(exc)[:100]})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise _BadFile(f"{key!r} holds Python objects or records (never loaded); it must be {what}")
    if dtype.kind not in kinds or (dtype.kind == "U" and dtype.itemsize > 4 * MAX_NAME_CHARS):
        raise _BadFile(f"{key!r} must be {what}, got dtype {dtype.str}")
    if len(shape) != ndim:
        raise _BadFile(f"{key!r} must be {what}, got shape {shape}")
    if any((not isinstance(d, int)) or d < 0 for d in shape):
        raise _BadFile(f"{key!r} has an invalid shape {shape}")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > MAX_FILE_BYTES:
        raise _BadFile(f"{key!r} claims shape {shape} ({nbytes / 2**30:.3g} GiB), more than the limit of "
                       f"{MAX_FILE_BYTES / 2**30:g} GiB")
    if info.file_size < nbytes:
        raise _BadFile(f"{key!r} is truncated: its header claims {nbytes} bytes, the archive holds {info.file_size}")
    return tuple(shape), dtype, nbytes


def _check_shapes(shapes: dict) -> None:
    n, L, L2 = shapes["spins"]
    if L != L2:
        raise _BadFile(f"'spins' must be (n, L, L), got shape {shapes['spins']}")
    if not EXACT_MIN_SIZE <= L <= MAX_SIZE:
        raise _BadFile(f"'spins' has L = {L}, outside {EXACT_MIN_SIZE}..{MAX_SIZE}")
    if n == 0:
        raise _BadFile("it holds no configurations")
    if shapes["labels"] != (n,):
        raise _BadFile(f"'labels' must have one entry per configuration ({n}), got shape {shapes['labels']}")
    k = shapes["temperatures"][0]
    if not 1 <= k <= MAX_CLASSES:
        raise _BadFile(f"'temperatures' must hold 1 to {MAX_CLASSES} values, got {k}")
    for key in ("spacing", "tau", "algorithms"):
        if key in shapes and shapes[key][0] not in (0, k):
            raise _BadFile(f"{key!r} must have one entry per temperature ({k}), got shape {shapes[key]}")


def _dataset_from_arrays(f: dict) -> IsingDataset:
    x = f["spins"]
    for start in range(0, x.shape[0], SPIN_CHECK_ROWS):
        chunk = x[start:start + SPIN_CHECK_ROWS]
        if not ((chunk == 1) | (chunk == -1)).all():
            bad = chunk[(chunk != 1) & (chunk != -1)][0]
            raise _BadFile(f"'spins' must be +1 or -1, found {bad}")
    x = x.astype(np.int8, copy=False)
    try:
        temps = check_temperatures(f["temperatures"])
        coupling = check_coupling(f["coupling"].item())
        field = check_field(f["field"].item())
        for t in temps:
            check_ratio(float(t), coupling)
    except IsingLabError as exc:
        raise _BadFile(str(exc)) from None
    y = f["labels"]
    if y.size and (y.min() < 0 or y.max() >= temps.size):
        bad = y.min() if y.min() < 0 else y.max()
        raise _BadFile(f"'labels' must index the {temps.size} temperatures (0..{temps.size - 1}), found {bad}")
    y = y.astype(np.int64)
    spacing = f.get("spacing", np.zeros(0, np.int64))
    if spacing.size and (spacing.min() < 0 or spacing.max() > 10**12):
        raise _BadFile("'spacing' must be sweeps between samples, >= 0")
    tau = f.get("tau", np.zeros(0))
    if tau.size and not (np.isfinite(tau.astype(float)).all() and (tau >= 0).all()):
        raise _BadFile("'tau' must be finite and >= 0")
    algorithms = tuple(str(a) for a in f.get("algorithms", np.zeros(0, dtype="U1")))
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        raise _BadFile(f"'algorithms' names an unknown algorithm {unknown[0][:MAX_NAME_CHARS]!r}")
    seed = f["seed"].item() if "seed" in f else 0
    if not 0 <= seed < MAX_SEED:
        raise _BadFile(f"'seed' must be in [0, 2^63), got {seed}")
    return IsingDataset(x, y, temps, coupling, field, spacing.astype(np.int64), tau.astype(float), algorithms,
                        int(seed))
