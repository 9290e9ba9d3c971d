"""Hostile input to the headless commands: every rejection is one line on stderr, exit code 2,
no traceback, nothing written, no hang.

Property-based (hypothesis): for every numeric option of every core command, values that are
never valid (nan, inf, zero or negative where that is out of range, huge, tiny, non-numeric
text, empty) and dataset files that are never valid (empty, truncated, random bytes, non-zip,
zips without .npy arrays, NPZ whose headers or values are wrong). The strategies generate only
invalid values, so no example starts a simulation. Runs `isinglab.core.cli.main` in-process; a few
subprocess runs of the real console script check the one-line contract and a closed stdout.
"""
from __future__ import annotations

import errno
import io
import math
import os
import signal
import subprocess
import sys
import uuid
import zipfile
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isinglab.core import atomic_io
from isinglab.core.cli import main
from isinglab.core.errors import IsingLabError
from isinglab.core.learning.datasets import IsingDataset
from isinglab.core.limits import MAX_COUNT, MAX_WORK_SECONDS, check_work, estimate_seconds

# ISINGLAB_HOSTILE_EXAMPLES=500 runs a deeper, randomised search (the default is quick and repeatable)
_DEEP = int(os.environ.get("ISINGLAB_HOSTILE_EXAMPLES", "0"))
SETTINGS = settings(max_examples=_DEEP or 25, deadline=None, derandomize=not _DEEP, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
RUN_LIMIT_S = 60  # one in-process run; a hostile value that slipped through and started work fails here


# --------------------------------------------------------------------------- running main()

class _Hang(BaseException):
    pass


@contextmanager
def _time_limit(seconds):
    def on_alarm(signum, frame):
        raise _Hang(f"the command ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_main(capsys, argv):
    capsys.readouterr()
    with _time_limit(RUN_LIMIT_S):
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_rejected(capsys, argv, out_path=None):
    folder_before = sorted(os.listdir(os.path.dirname(out_path))) if out_path else None
    code, out, err = run_main(capsys, argv)
    lines = err.splitlines()
    assert code == 2, (argv, code, err)
    assert len(lines) == 1 and lines[0].strip(), (argv, err)
    assert "Traceback" not in err
    assert "error" in lines[0]
    if out_path:
        assert not os.path.exists(out_path), argv
        assert sorted(os.listdir(os.path.dirname(out_path))) == folder_before, argv  # no temporary files left
    return lines[0]


# --------------------------------------------------------------------------- hostile values

def _parses_as_number(text: str) -> bool:
    for conv in (float, int):
        try:
            conv(text)
            return True
        except (ValueError, OverflowError):
            pass
    return False


def _not_a_number_list(text: str) -> bool:
    """True unless every comma-separated part of text is a number (then it could be a valid list)."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    return not parts or not all(_parses_as_number(p) for p in parts)


non_numeric = st.text(max_size=12).filter(lambda t: not _parses_as_number(t))
not_finite = st.sampled_from(["nan", "inf", "-inf", "NaN", "+inf", "1e400", "-1e999"])
always_bad = st.one_of(non_numeric, not_finite, st.just(""))


def _fmt(x) -> str:
    return repr(x) if isinstance(x, float) else str(x)


def floats_outside(lo, hi):
    """Finite numbers outside [lo, hi], as text."""
    return st.one_of(st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False),
                     st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False)).map(_fmt)


def ints_outside(lo, hi):
    return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)).map(str)


def non_integers():
    """Numbers that are not integers: 1.5, -0.25, 1e-9 ..."""
    return st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).filter(
        lambda v: v != math.floor(v)).map(_fmt)


def bad_float(lo, hi):
    return st.one_of(always_bad, floats_outside(lo, hi))


def bad_int(lo, hi):
    return st.one_of(always_bad, ints_outside(lo, hi), non_integers())


TEMPERATURE = st.one_of(bad_float(1e-3, 1e3), st.sampled_from(["0", "-0", "1e-320", "5e-324", "1e300", "-2.5"]))
COUPLING = st.one_of(bad_float(-1e3, 1e3), st.sampled_from(["1e300", "-1e300", "1e309"]))
SEED = st.one_of(bad_int(0, 2**63 - 1), st.just(str(2**63)))
COUNT = bad_int(0, MAX_COUNT)  # negative, beyond the hard ceiling, not an integer
LONG = st.integers(min_value=10**10, max_value=MAX_COUNT).map(str)  # valid counts, far too much work
SIZE = st.one_of(bad_int(2, 65536), st.sampled_from(["1", "0", "-4", "65537", "1e9", "16.5"]))

MODEL = {"--size": SIZE, "--temperature": TEMPERATURE, "--coupling": COUPLING, "--field": COUPLING, "--seed": SEED}

OPTIONS = {
    "simulate": {**MODEL, "--sweeps": st.one_of(COUNT, LONG, st.sampled_from(["0", "1"])),
                 "--thermalize": st.one_of(COUNT, LONG),
                 "--measure-every": st.one_of(bad_int(1, MAX_COUNT), st.sampled_from(["0", "5000", "1000000"]))},
    "exact": {**MODEL, "--size": st.one_of(bad_int(2, 65536), st.sampled_from(["1", "0", "65537"]))},
    "correlate": {**MODEL, "--sweeps": st.one_of(COUNT, LONG, st.sampled_from(["0", "15"])),
                  "--thermalize": st.one_of(COUNT, LONG)},
    "rg": {**MODEL, "--block": st.one_of(bad_int(2, 16), st.sampled_from(["3", "5", "7", "9"])),
           "--levels": st.one_of(bad_int(0, 4)), "--sweeps": st.one_of(COUNT, LONG, st.sampled_from(["0", "3"])),
           "--thermalize": st.one_of(COUNT, LONG)},
    "bench": {"--size": SIZE, "--temperature": TEMPERATURE, "--threads": bad_int(0, 1),
              "--seconds": st.one_of(bad_float(1e-3, MAX_WORK_SECONDS),
                                     st.sampled_from(["0", "-0", "-1", "601", "86401", "1e10"]))},
    "learn": {**MODEL, "--samples": st.one_of(bad_int(1, 10**6), st.just("0")),
              "--range": st.one_of(bad_int(1, 6)), "--epochs": bad_int(1, 100_000),
              "--channels": bad_int(1, 64), "--held-out": st.one_of(bad_float(0.0, 1.0),
                                                                     st.sampled_from(["0", "1", "-0.5", "2"])),
              "--temperatures": st.one_of(
                  always_bad.filter(_not_a_number_list), st.just(","),
                  st.lists(TEMPERATURE.filter(lambda t: "," not in t and ";" not in t), min_size=1,
                           max_size=3).map(lambda ts: ",".join(["2.0"] + ts)),
                  st.sampled_from(["2.0,2.0", "2.0,3.0,2.0"]))},
}
# what makes a valid value of another option a hostile one: the rest of the command line
CONTEXT = {"simulate": [], "exact": [], "correlate": [], "rg": [], "bench": ["--seconds=0.1"], "learn": ["--classify"]}
# bench --threads 0 means "all"; the hostile threads are counts beyond the machine's
THREADS_TOO_MANY = st.integers(min_value=4097, max_value=10**6).map(str)


def _cases():
    for command, options in OPTIONS.items():
        for option in options:
            yield pytest.param(command, option, id=f"{command}{option}")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def _out_path(folder):
    sub = folder / uuid.uuid4().hex
    sub.mkdir()
    return str(sub / "set.npz")


@pytest.mark.parametrize("command,option", list(_cases()))
@SETTINGS
@given(data=st.data())
def test_every_numeric_option_rejects_hostile_values(capsys, scratch, command, option, data):
    strategy = OPTIONS[command][option]
    if (command, option) == ("bench", "--threads"):
        strategy = st.one_of(strategy.filter(lambda t: not t.lstrip("+").isdigit()), THREADS_TOO_MANY)
    value = data.draw(strategy, label=option)
    context = [c for c in CONTEXT[command] if not c.startswith(option + "=")]
    argv = [command, f"{option}={value}", *context]
    out_path = None
    if command == "learn":
        out_path = _out_path(scratch)
        argv += ["--save", out_path]
    message = assert_rejected(capsys, argv, out_path)
    assert "isinglab" in message


@SETTINGS
@given(values=st.lists(st.sampled_from(["-1e300", "nan", "", "x", "1e400"]), min_size=2, max_size=4))
def test_several_hostile_options_at_once(capsys, scratch, values):
    opts = ["--temperature", "--coupling", "--field", "--size"]
    argv = ["simulate"] + [f"{o}={v}" for o, v in zip(opts, values)]
    assert_rejected(capsys, argv)


# --------------------------------------------------------------------------- the work limit

@pytest.mark.parametrize("argv", [
    ["simulate", "--size=4096", "--sweeps=100000"],
    ["simulate", "--size=64", "--thermalize=10000000000"],
    ["correlate", "--size=1024", "--sweeps=100000"],
    ["rg", "--size=1024", "--sweeps=1000000"],
    ["rg", "--estimate-tc", "--size=512"],
    ["learn", "--samples=1000000", "--size=256"],
    ["learn", "--classify", "--samples=100000", "-L", "8", "--kernel=3", "--channels=64", "--epochs=100000"],
    ["bench", "--seconds=3600"],
])
def test_long_jobs_need_allow_long(capsys, argv):
    message = assert_rejected(capsys, argv)
    assert "--allow-long" in message and "limit" in message


def test_allow_long_lifts_the_work_limit_but_not_the_memory_limit(capsys):
    message = assert_rejected(capsys, ["simulate", "--size=4", "--sweeps=1000000000000", "--allow-long"])
    assert "memory" in message  # 10^12 measurements would not fit: refused before it starts


def test_limit_api():
    assert estimate_seconds(1e9, "metropolis") == pytest.approx(1.0)
    assert estimate_seconds(1e9, "wolff") > estimate_seconds(1e9, "multispin")
    assert check_work("x", 1e6) < MAX_WORK_SECONDS
    with pytest.raises(IsingLabError, match="--allow-long"):
        check_work("scene demo", 1e15, algorithm="wolff")
    assert check_work("scene demo", 1e15, algorithm="wolff", allow_long=True) > MAX_WORK_SECONDS


# --------------------------------------------------------------------------- hostile dataset files

def _good_arrays(n=24, L=6, k=2):
    rng = np.random.default_rng(1)
    return {"spins": np.where(rng.random((n, L, L)) < 0.5, -1, 1).astype(np.int8),
            "labels": np.arange(n) % k, "temperatures": np.linspace(2.0, 3.0, k),
            "coupling": np.float64(1.0), "field": np.float64(0.0), "spacing": np.ones(k, np.int64),
            "tau": np.full(k, 0.5), "algorithms": np.array(["metropolis"] * k), "seed": np.int64(0)}


def _npz_bytes(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


GOOD = _npz_bytes(_good_arrays())
bad_numbers = st.sampled_from([np.nan, np.inf, -np.inf, -2.0, 0.0, 1e300, 1e-320, -1e-3])
wrong_dtype = st.sampled_from([np.float64, np.float32, np.bool_, np.complex128])


@st.composite
def hostile_arrays(draw):
    """A dict of arrays that differs from a valid dataset by one thing that makes it invalid."""
    a = _good_arrays()
    n, k = len(a["labels"]), len(a["temperatures"])
    kind = draw(st.sampled_from([
        "temperature", "spin_value", "spin_dtype", "label_dtype", "label_value", "label_shape", "array_seed",
        "array_coupling", "coupling_value", "field_value", "seed_value", "drop", "spins_shape", "no_rows",
        "algorithm", "temperatures_shape", "spacing_shape", "object"]))
    if kind == "temperature":
        t = a["temperatures"].copy()
        t[draw(st.integers(0, k - 1))] = draw(bad_numbers)
        a["temperatures"] = t
    elif kind == "spin_value":
        s = a["spins"].copy()
        s.flat[draw(st.integers(0, s.size - 1))] = draw(st.integers(-128, 127).filter(lambda v: v not in (-1, 1)))
        a["spins"] = s
    elif kind == "spin_dtype":
        a["spins"] = a["spins"].astype(draw(wrong_dtype))
    elif kind == "label_dtype":
        a["labels"] = a["labels"].astype(draw(wrong_dtype))
    elif kind == "label_value":
        y = a["labels"].copy()
        y[draw(st.integers(0, n - 1))] = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=k)).filter(
            lambda v: -2**63 <= v < 2**63))
        a["labels"] = y
    elif kind == "label_shape":
        a["labels"] = np.zeros(draw(st.integers(0, 50).filter(lambda m: m != n)), np.int64)
    elif kind == "array_seed":
        a["seed"] = np.arange(draw(st.integers(0, 4)))
    elif kind == "array_coupling":
        a["coupling"] = np.ones(draw(st.integers(0, 4)))
    elif kind == "coupling_value":
        a["coupling"] = np.float64(draw(st.sampled_from([np.nan, np.inf, 1e300, -1e4, 1e-12])))
    elif kind == "field_value":
        a["field"] = np.float64(draw(st.sampled_from([np.nan, -np.inf, 1e300, 2e3])))
    elif kind == "seed_value":
        a["seed"] = np.int64(draw(st.integers(min_value=-2**63, max_value=-1)))
    elif kind == "drop":
        del a[draw(st.sampled_from(["spins", "labels", "temperatures", "coupling", "field"]))]
    elif kind == "spins_shape":
        shape = draw(st.sampled_from([(n, 6, 5), (n, 36), (n, 1, 1), (n, 6, 6, 1)]))
        a["spins"] = np.ones(shape, np.int8)
    elif kind == "no_rows":
        a["spins"], a["labels"] = np.ones((0, 6, 6), np.int8), np.zeros(0, np.int64)
    elif kind == "algorithm":
        a["algorithms"] = np.array([draw(st.text(min_size=1, max_size=8).filter(
            lambda s: s not in ("metropolis", "heatbath", "wolff", "swendsen-wang", "multispin")))] * k)
    elif kind == "temperatures_shape":
        a["temperatures"] = np.full((k, 2), 2.0)
    elif kind == "spacing_shape":
        a["spacing"] = np.ones(k + draw(st.integers(1, 3)), np.int64)
    elif kind == "object":
        a[draw(st.sampled_from(["algorithms", "temperatures", "spins"]))] = np.array([{"x": 1}], dtype=object)
    return a


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return buf.getvalue()


def _huge_header(shape, descr="|i1") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\x01" * 64


@st.composite
def hostile_files(draw):
    kind = draw(st.sampled_from(["arrays", "truncated", "random", "text", "non_npy", "huge", "empty",
                                 "garbage_member"]))
    if kind == "arrays":
        return _zip({f"{k}.npy": _npy(v) for k, v in draw(hostile_arrays()).items()})
    if kind == "truncated":
        return GOOD[:draw(st.integers(0, len(GOOD) - 1))]
    if kind == "random":
        return draw(st.binary(min_size=1, max_size=2000))
    if kind == "text":
        return draw(st.text(min_size=1, max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "non_npy":
        plain = st.text(min_size=1, max_size=10).filter(lambda s: "\x00" not in s and not s.endswith(".npy"))
        names = draw(st.lists(plain, min_size=1, max_size=3, unique=True))
        return _zip({name: b"x" for name in names})
    if kind == "huge":  # a header that claims an enormous array: must be refused before any allocation
        shape = draw(st.sampled_from([(10**9, 10**5, 10**5), (2**40, 64, 64), (10**12,)]))
        members = {f"{k}.npy": _npy(v) for k, v in _good_arrays().items()}
        key = draw(st.sampled_from(["spins", "labels", "temperatures"]))
        if key != "spins":
            shape = (shape[0] * 10**6,)
        elif len(shape) != 3:
            shape = (shape[0], 1000, 1000)
        members[f"{key}.npy"] = _huge_header(shape, {"spins": "|i1", "labels": "<i8", "temperatures": "<f8"}[key])
        return _zip(members)
    if kind == "empty":
        return b""
    members = {f"{k}.npy": _npy(v) for k, v in _good_arrays().items()}
    members[f"{draw(st.sampled_from(['spins', 'labels', 'coupling']))}.npy"] = draw(st.binary(max_size=300))
    return _zip(members)


@pytest.mark.parametrize("mode", ["couplings", "classify"])
@SETTINGS
@given(blob=hostile_files())
def test_hostile_dataset_files_are_refused(capsys, scratch, mode, blob):
    path = scratch / f"{uuid.uuid4().hex}.npz"
    path.write_bytes(blob)
    argv = ["learn", "--load", str(path), "--json"] + (["--classify", "--epochs=1"] if mode == "classify" else [])
    before = path.read_bytes()
    message = assert_rejected(capsys, argv)
    assert "dataset" in message or "learn" in message
    assert path.read_bytes() == before  # reading never writes
    with pytest.raises(IsingLabError):
        IsingDataset.load(path)


def test_the_valid_file_of_the_strategies_loads(tmp_path):
    path = tmp_path / "good.npz"
    path.write_bytes(GOOD)
    data = IsingDataset.load(path)
    assert len(data) == 24 and data.size == 6 and data.n_classes == 2


@pytest.mark.parametrize("name", ["fifo", "folder", "device", "missing", "empty-name"])
def test_non_files_are_refused_without_blocking(capsys, tmp_path, name):
    target = {"fifo": tmp_path / "p.npz", "folder": tmp_path, "device": "/dev/zero",
              "missing": tmp_path / "none.npz", "empty-name": ""}[name]
    if name == "fifo":
        os.mkfifo(target)
    assert_rejected(capsys, ["learn", "--load", str(target)])


# --------------------------------------------------------------------------- full disk

def fill_the_disk(monkeypatch, budget):
    """Make atomic_io's writes run out of space (ENOSPC) after `budget` bytes."""
    left = [budget]

    def write(fd, data):
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), left[0], 4096)
        left[0] -= n
        return os.write(fd, bytes(data[:n]))

    if hasattr(atomic_io, "_write_chunk"):  # atomic_io's own hook for this
        monkeypatch.setattr(atomic_io, "_write_chunk", write)
    else:
        class _Os:
            def __getattr__(self, name):
                return getattr(os, name)
        fake = _Os()
        fake.write = write
        monkeypatch.setattr(atomic_io, "os", fake)


@pytest.fixture(scope="module")
def small_dataset():
    from isinglab.core.learning.datasets import generate
    return generate(8, [2.0, 3.0], 30, seed=1, cache=False)


def test_full_disk_leaves_an_existing_dataset_intact(monkeypatch, tmp_path, small_dataset):
    path = tmp_path / "set.npz"
    small_dataset.save(path)
    before = path.read_bytes()
    fill_the_disk(monkeypatch, 300)
    with pytest.raises(IsingLabError, match="no space left") as info:
        small_dataset.subset(np.arange(10)).save(path)
    assert "\n" not in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.npz"]  # no temporary file left
    assert len(IsingDataset.load(path)) == 60


def test_full_disk_during_learn_save_is_one_line_and_keeps_the_old_file(capsys, monkeypatch, tmp_path,
                                                                       small_dataset):
    path = tmp_path / "set.npz"
    small_dataset.save(path)
    before = path.read_bytes()
    fill_the_disk(monkeypatch, 1000)
    code, out, err = run_main(capsys, ["learn", "-L", "8", "-T", "3", "--samples", "40", "--save", str(path)])
    monkeypatch.undo()
    assert code == 2 and len(err.splitlines()) == 1 and "no space left" in err and "Traceback" not in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.npz"]


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    try:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mnt)],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount permission): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, timeout=20)


def test_a_really_full_tmpfs_leaves_an_existing_dataset_intact(tiny_tmpfs, small_dataset):
    path = tiny_tmpfs / "set.npz"
    small_dataset.save(path)
    before = path.read_bytes()
    rng = np.random.default_rng(0)
    big = IsingDataset(np.where(rng.random((800, 64, 64)) < 0.5, -1, 1).astype(np.int8),
                       np.arange(800) % 2, np.array([2.0, 3.0]))  # ~400 kB compressed: more than is free
    with pytest.raises(IsingLabError, match="no space left|could not write") as info:
        big.save(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tiny_tmpfs.iterdir()) == ["set.npz"]


def test_save_adds_the_suffix_and_says_so(capsys, tmp_path):
    target = tmp_path / "set"
    code, out, err = run_main(capsys, ["learn", "-L", "8", "-T", "3", "--samples", "300", "--range", "1",
                                       "--save", str(target), "--json"])
    assert code == 0, err
    assert (tmp_path / "set.npz").exists() and not target.exists()
    assert "added the suffix .npz" in err


@pytest.mark.parametrize("target", ["/dev/full", "FOLDER", "MISSING/x.npz"])
def test_save_to_a_non_file_is_refused_before_sampling(capsys, tmp_path, target):
    target = target.replace("FOLDER", str(tmp_path)).replace("MISSING", str(tmp_path / "no"))
    message = assert_rejected(capsys, ["learn", "--samples", "1000000", "-L", "64", "--save", target])
    assert "cannot write" in message


# --------------------------------------------------------------------------- the real console script

SCRIPT = [sys.executable, "-m", "isinglab.app.commands.entry"]


@pytest.mark.parametrize("argv", [
    ["bench", "--seconds", "0"],
    ["exact", "-T", "1e300"],
    ["exact", "-J", "0"],
    ["simulate", "--measure-every", "0"],
    ["rg", "-b", "3", "-L", "16"],
    ["learn", "--load", "/dev/null"],
])
def test_console_script_one_line_exit_2(argv):
    res = subprocess.run(SCRIPT + argv, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.splitlines()) == 1 and "Traceback" not in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("argv", [["exact", "-L", "4", "--json"], ["--help"], ["exact", "--help"]])
def test_closed_stdout_is_a_quiet_exit(argv):
    proc = subprocess.Popen(SCRIPT + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written, like `| head -0`
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code in (0, 141), err
    assert err == "", err


def test_head_one_of_a_long_output_is_a_quiet_exit():
    res = subprocess.run(" ".join(SCRIPT) + " learn -L 6 -T 3 --samples 300 --full --json | head -1",
                         shell=True, capture_output=True, text=True, timeout=300)
    assert res.stdout.strip() == "{"
    assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr and res.stderr == ""


def test_error_messages_stay_one_line_with_a_newline_in_a_file_name(capsys, tmp_path):
    weird = tmp_path / "two\nlines.npz"
    weird.write_bytes(b"not a zip")
    message = assert_rejected(capsys, ["learn", "--load", str(weird)])
    assert "two" in message
