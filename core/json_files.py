"""The one way isinglab reads a JSON file it did not just write itself (scenes, sidecars).

`load_json_object(path, what)` and `parse_json_object(data, where)` return a dict or raise an
IsingLabError with one line that names the file and the rule it broke. The rules:

- the path must be an existing regular file (a folder, a FIFO or a device is refused without
  opening it for a blocking read, so nothing can hang on it) of at most MAX_JSON_BYTES (1 MiB):
  the size is checked before reading, and never more than the limit + 1 bytes are read;
- UTF-8 only. A UTF-8 byte-order mark is accepted and skipped (some Windows editors write one);
  UTF-16 and UTF-32 (with or without a BOM) are refused with a message that says to save the file
  as UTF-8; bytes that are not UTF-8 are refused with their offset; so are strings holding an
  unpaired surrogate escape (e.g. "\\ud800"), which no UTF-8 file can contain;
- strict JSON: NaN, Infinity and -Infinity literals are refused, a number that overflows a
  double (1e400) is refused rather than read as infinity, integers have at most MAX_INT_DIGITS
  digits, and nesting deeper than MAX_DEPTH levels is refused before parsing (so deep input can
  never reach Python's recursion limit);
- a key that appears twice in one object is refused (JSON leaves its meaning open);
- the top level must be an object.

Nothing is ever evaluated or unpickled: the file is data, read by the standard json parser.
Field-by-field validation is the caller's job (core/scenes.py for scenes, app/commands/figure.py
for sidecars).
"""
from __future__ import annotations

import codecs
import json
import math
import os
import re
import stat

from .errors import IsingLabError

MAX_JSON_BYTES = 1 << 20  # 1 MiB: the largest scene or sidecar is a few KiB
MAX_DEPTH = 32  # objects and arrays nested in one another
MAX_INT_DIGITS = 40  # no field needs more (seeds are < 2^63, 19 digits)

# a JSON string, or one bracket; strings are skipped whole so brackets inside them do not count
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


class _Refused(Exception):
    """A rule broken while parsing (raised from the json hooks)."""


def show_path(path) -> str:
    """A path as it may appear in a one-line message (control characters escaped)."""
    text = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    return text if text.isprintable() else ascii(text)


def load_json_object(path, what: str = "JSON file", max_bytes: int = MAX_JSON_BYTES) -> dict:
    """Read `path` under the rules above; `what` names it in messages ("scene file", "sidecar")."""
    name = f"{what} {show_path(path)}"
    return parse_json_object(read_limited(path, what, max_bytes), name)


def read_limited(path, what: str = "file", max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a regular file of at most max_bytes; IsingLabError otherwise."""
    name = f"{what} {show_path(path)}"
    try:
        text = os.fspath(path)
    except TypeError:
        raise IsingLabError(f"{what}: expected a path, got {type(path).__name__}") from None
    if not text or "\0" in str(text):
        raise IsingLabError(f"{name}: not a valid path")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise IsingLabError(f"{name} does not exist") from None
    except OSError as exc:
        raise IsingLabError(f"cannot read {name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsingLabError(f"{name} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise IsingLabError(f"{name} is not a regular file (a device, FIFO or socket)")
    if st.st_size > max_bytes:
        raise IsingLabError(f"{name} is {_size(st.st_size)}, larger than the limit of {_size(max_bytes)}")
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open() must not wait
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IsingLabError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsingLabError(f"{name} is not a regular file (a device, FIFO or socket)")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 16, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise IsingLabError(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > max_bytes:  # it grew since the stat
        raise IsingLabError(f"{name} is larger than the limit of {_size(max_bytes)}")
    return b"".join(chunks)


def parse_json_object(data, where: str = "JSON", max_bytes: int = MAX_JSON_BYTES) -> dict:
    """Parse bytes (UTF-8) or text under the rules above; `where` starts every message."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        text = decode_utf8(bytes(data), where)
    elif isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        raise IsingLabError(f"{where}: expected JSON text, got {type(data).__name__}")
    if len(text) > max_bytes:
        raise IsingLabError(f"{where}: the JSON text is larger than the limit of {_size(max_bytes)}")
    _check_depth(text, where)
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_float, parse_int=_int,
                         object_pairs_hook=_unique_keys)
    except _Refused as exc:
        raise IsingLabError(f"{where}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise IsingLabError(f"{where}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    except RecursionError:  # _check_depth keeps this out of reach; kept as a last guard
        raise IsingLabError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, TypeError) as exc:
        raise IsingLabError(f"{where}: not valid JSON ({_one_line(exc)})") from None
    if not isinstance(obj, dict):
        raise IsingLabError(f"{where}: the top level must be a JSON object {{...}}, got {_kind(obj)}")
    _check_strings(obj, where)
    return obj


def decode_utf8(blob: bytes, where: str) -> str:
    for bom, name in _BOMS:
        if blob.startswith(bom):
            raise IsingLabError(f"{where}: the file is {name} encoded; save it as UTF-8")
    if blob.startswith(codecs.BOM_UTF8):
        blob = blob[len(codecs.BOM_UTF8):]  # accepted and skipped
    elif len(blob) >= 2 and (blob[0] == 0 or blob[1] == 0):
        # JSON starts with an ASCII character: a zero byte beside it means UTF-16/32 without a BOM
        name = "UTF-32" if len(blob) >= 4 and (blob[:3] == b"\0\0\0" or blob[1:4] == b"\0\0\0") else "UTF-16"
        raise IsingLabError(f"{where}: the file looks {name} encoded; save it as UTF-8")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IsingLabError(f"{where}: not UTF-8 (byte 0x{blob[exc.start]:02x} at offset {exc.start}); "
                            "save it as UTF-8") from None


# ------------------------------------------------------------------------------ rules

def _no_constant(name):
    raise _Refused(f"not valid JSON ({name} is not allowed: numbers must be finite)")


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _Refused(f"the number {_short(text)} is out of range")
    return v


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer with {len(text.lstrip('-'))} digits is out of range "
                       f"(at most {MAX_INT_DIGITS})")
    return int(text)


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {_short(repr(key))} appears twice in one object")
        out[key] = value
    return out


def _check_depth(text: str, where: str) -> None:
    if "[" not in text and "{" not in text:
        return
    depth = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise IsingLabError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        elif c in "]}":
            depth -= 1


def _check_strings(obj, where: str) -> None:
    stack = [obj]
    while stack:
        o = stack.pop()
        items = list(o.items()) if isinstance(o, dict) else (enumerate(o) if isinstance(o, list) else ())
        for k, v in items:
            for s in (k, v):
                if isinstance(s, str):
                    try:
                        s.encode("utf-8")
                    except UnicodeEncodeError:
                        raise IsingLabError(f"{where}: a string holds an unpaired surrogate escape "
                                            f"({_short(ascii(s))})") from None
            if isinstance(v, (dict, list)):
                stack.append(v)


def _kind(obj) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(obj), "a number")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} bytes"


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _one_line(exc) -> str:
    return " ".join(str(exc).split())[:200]


def one_line(message: str) -> str:
    """A message with any control character (a newline in a file name...) escaped, so that it
    prints as exactly one line."""
    text = str(message)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def strict_json(obj):
    """obj as strict JSON values: numpy arrays and scalars become lists and numbers, non-finite
    floats become null (JSON has no NaN), anything else unknown becomes its str()."""
    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # numpy array or scalar
        return strict_json(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return str(obj)
