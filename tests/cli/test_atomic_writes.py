"""One atomic writer: a failed write never touches the old file, leaves no temporary file, and
writes go only where asked. Full disks are real (a 2 MB tmpfs: CI runs as root) where
mounting is permitted; the same failure is also simulated in-process everywhere."""
import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from isinglab.core import atomic_io
from isinglab.core.atomic_io import AtomicFile, resolve_target, write_atomic
from isinglab.core.errors import IsingLabError

TMP = atomic_io.TMP_PREFIX
TINY_SCENE = {
    "format": 1, "id": "tiny", "name": "Tiny", "description": "a small scene for tests",
    "model": {"size": 32, "temperature": 2.0, "coupling": 1.0, "field": 0.0,
              "algorithm": "metropolis", "seed": 1, "initial": "random"},
    "panels": ["latticeDock", "observablesDock"],
    "fps": 10, "sweeps_per_frame": 1, "duration": 1.0, "keyframes": [],
}


def _temps(folder):
    return [n for n in os.listdir(folder) if n.startswith(TMP)]


def _written(folder):
    """Whether some temporary file in `folder` holds bytes already."""
    for name in _temps(folder):
        try:
            if os.path.getsize(os.path.join(folder, name)):
                return True
        except OSError:
            pass  # renamed or removed meanwhile
    return False


def _snapshot(folder):
    return {n: open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))}


@pytest.fixture
def full_disk(tmp_path):
    """A 2 MB tmpfs (skipped with the reason where mounting is not permitted)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.strip() or r.returncode}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def _fill(folder, leave=4096):
    """Fill the file system up to `leave` bytes."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(os.path.join(folder, "filler"), "wb") as f:
        try:
            f.write(b"\0" * max(0, free - leave))
        except OSError:
            pass


def _cli(args, cwd=None, timeout=300):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------------------ the writer

def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    assert write_atomic(path, "new") == str(path)
    assert path.read_text() == "new" and _temps(tmp_path) == []


def test_simulated_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.bin"
    path.write_bytes(b"good old content")
    calls = []

    def write(fd, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, bytes(data[:10]))  # a short write first, then the disk is full
    monkeypatch.setattr(atomic_io, "_write_chunk", write)
    with pytest.raises(IsingLabError, match="no space left.*left unchanged"):
        write_atomic(path, b"x" * 100_000)
    assert path.read_bytes() == b"good old content" and _temps(tmp_path) == []


def test_failing_writer_function_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")

    def writer(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError(errno.EIO, "Input/output error")
    with pytest.raises(IsingLabError, match="could not write"):
        write_atomic(path, writer)
    assert path.read_bytes() == b"old" and _temps(tmp_path) == []


def test_empty_result_is_not_moved_into_place(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(IsingLabError, match="nothing was written"):
        write_atomic(path, lambda tmp: None)
    assert path.read_bytes() == b"old"


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_targets_that_are_not_regular_files_are_refused(tmp_path, kind):
    if kind == "folder":
        target = tmp_path / "dir"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    else:
        target = "/dev/null"
    before = os.stat(target).st_mode
    with pytest.raises(IsingLabError, match="folder|not a regular file"):
        write_atomic(target, b"x")
    with pytest.raises(IsingLabError):
        resolve_target(target, ".npz")  # adding a suffix does not get around it
    assert os.stat(target).st_mode == before and _temps(tmp_path) == []


def test_suffix_is_added_with_a_note(tmp_path):
    target, note = resolve_target(tmp_path / "data", ".npz")
    assert target == str(tmp_path / "data.npz") and ".npz" in note
    assert resolve_target(tmp_path / "data.NPZ", ".npz")[1] is None


def test_a_link_to_a_file_keeps_the_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_missing_or_readonly_folder(tmp_path):
    with pytest.raises(IsingLabError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "a.txt", "x")


def test_existing_permissions_are_kept(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomic(path, "new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_temporaries_of_dead_processes_are_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{TMP}{dead.pid}-abcd-movie.mp4"
    stale.write_bytes(b"junk")
    mine = tmp_path / f"{TMP}{os.getpid()}-abcd-other.mp4"
    mine.write_bytes(b"in flight")
    write_atomic(tmp_path / "x.txt", "x")
    assert not stale.exists() and mine.exists()


def test_guard_removes_the_temporary_when_the_writer_is_killed(tmp_path):
    code = ("import sys, time; from isinglab.core.atomic_io import AtomicFile; "
            f"f = AtomicFile({str(tmp_path / 'm.mp4')!r}, guard=True); open(f.tmp, 'wb').write(b'x'); "
            "print(f.tmp, flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    tmp = p.stdout.readline().strip()
    assert os.path.exists(tmp)
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 5
    while os.path.exists(tmp) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(tmp)


def test_guard_keeps_a_committed_file(tmp_path):
    f = AtomicFile(str(tmp_path / "m.bin"), guard=True)
    with open(f.tmp, "wb") as out:
        out.write(b"done")
    f.commit()
    time.sleep(0.2)
    assert (tmp_path / "m.bin").read_bytes() == b"done" and _temps(tmp_path) == []


# ------------------------------------------------------------------------------ every writer

def test_export_panel_failure_keeps_old_figure_and_sidecar(qtbot, tmp_path, monkeypatch):
    from isinglab.app.output.export import export_panel
    from isinglab.app.window.main_window import MainWindow
    from isinglab.core.params import ModelParams
    win = MainWindow(ModelParams(size=16), no_gl=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        export_panel(win, "latticeDock", str(tmp_path / "lattice.png"))
        before = _snapshot(tmp_path)
        real_write = atomic_io._write_chunk

        def full_for_png(fd, data):
            if bytes(data[:4]) == b"\x89PNG":
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(fd, data)
        monkeypatch.setattr(atomic_io, "_write_chunk", full_for_png)
        with pytest.raises(IsingLabError, match="no space left"):
            export_panel(win, "latticeDock", str(tmp_path / "lattice.png"))
        assert _snapshot(tmp_path) == before  # figure and its sidecar as they were
    finally:
        win.close()


def test_dataset_save_failure_keeps_the_old_dataset(tmp_path, monkeypatch):
    import numpy as np
    from isinglab.core.learning.datasets import IsingDataset
    rng = np.random.default_rng(0)
    data = IsingDataset(rng.choice(np.array([-1, 1], np.int8), (4, 8, 8)), np.array([0, 0, 1, 1]),
                        np.array([2.0, 3.0]))
    path = tmp_path / "set.npz"
    data.save(path)
    before = path.read_bytes()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic_io, "_write_chunk", full)
    with pytest.raises(IsingLabError):
        data.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and _temps(tmp_path) == []
    assert len(IsingDataset.load(path)) == 4


def test_figure_on_a_full_disk_keeps_the_old_files(full_disk, tmp_path):
    scene = tmp_path / "tiny.json"
    scene.write_text(json.dumps(TINY_SCENE))
    good = tmp_path / "good"
    good.mkdir()
    r = _cli(["figure", "--scene", str(scene), "--out", str(good), "--formats", "svg,pdf", "--scale", "1"])
    assert r.returncode == 0, r.stderr
    for name in os.listdir(good):
        (full_disk / name).write_bytes((good / name).read_bytes())
    before = _snapshot(full_disk)
    _fill(full_disk, leave=0)
    r = _cli(["figure", "--scene", str(scene), "--out", str(full_disk), "--formats", "svg,pdf", "--scale", "2"])
    assert r.returncode == 2, r.stderr
    assert "no space left" in r.stderr and "Traceback" not in r.stderr
    os.remove(full_disk / "filler")
    assert _snapshot(full_disk) == before
    assert _temps(full_disk) == []


def test_movie_on_a_full_disk_keeps_the_old_file(full_disk, tmp_path):
    scene = tmp_path / "tiny.json"
    scene.write_text(json.dumps(TINY_SCENE))
    (full_disk / "m.mp4").write_bytes(b"old movie")
    _fill(full_disk, leave=8192)
    r = _cli(["movie", "--scene", str(scene), "--out", str(full_disk / "m.mp4"), "--size", "512x512"])
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no space left" in r.stderr
    assert (full_disk / "m.mp4").read_bytes() == b"old movie"
    assert _temps(full_disk) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_movie_leaves_the_old_file_and_no_temporary(tmp_path, sig):
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.mp4").write_bytes(b"old movie")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.Popen([sys.executable, "-m", "isinglab.app.commands.entry", "movie", "--scene", "cool-through-tc",
                          "--out", str(out / "m.mp4")], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    # signal once frames reach the file: by then every kernel is compiled or loaded. (A Ctrl+C
    # while numba loads its cache at the first frames of a fresh install can still end in
    # Python's "Exception ignored" traceback from inside numba: a known gap, issue 14.)
    deadline = time.monotonic() + 180
    while not _written(out) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert _temps(out), "the movie never started writing"
    p.send_signal(sig)
    p.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _temps(out) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _temps(out) == []
    assert (out / "m.mp4").read_bytes() == b"old movie"
    if sig != signal.SIGKILL:
        assert "Traceback" not in p.stderr.read()


def test_screenshot_to_a_device_is_refused(tmp_path):
    before = os.stat("/dev/null")
    r = _cli(["gui", "-L", "16", "--no-gl", "--run-seconds", "0.2", "--screenshot", "/dev/null"])
    assert r.returncode == 2 and "not a regular file" in r.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_dataset_save_to_a_folder_or_device_is_refused(tmp_path):
    import numpy as np
    from isinglab.core.learning.datasets import IsingDataset
    data = IsingDataset(np.ones((2, 8, 8), np.int8), np.array([0, 1]), np.array([2.0, 3.0]))
    (tmp_path / "somedir").mkdir()
    for target in (tmp_path / "somedir", "/dev/null"):
        with pytest.raises(IsingLabError, match="folder|not a regular file"):
            data.save(target)
    assert not os.path.exists("/dev/null.npz") and not (tmp_path / "somedir.npz").exists()
