"""Settings are data: a settings file can never run code, and a hostile or corrupt one is set aside.

The attack: QSettings stores a Python object as `@Variant(...PyObjectWrapper <pickle>)` and
PySide6 unpickles it when the key is read. The file is written with the real QSettings, exactly
as an attacker would, with a __reduce__ payload that leaves a marker file when it runs.
"""
import glob
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import QByteArray, QSettings

from isinglab.app.window.main_window import MainWindow
from isinglab.app.window.settings import Settings, open_settings, parse_settings, settings_path
from isinglab.core.params import ModelParams

KEYS = ("window/geometry", "window/state", "display/rate")


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # runs on unpickling: creates the marker file


def _write_hostile(marker, keys=KEYS):
    path = settings_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = QSettings(path, QSettings.Format.IniFormat)
    for key in keys:
        s.setValue(key, Payload(str(marker)))
    s.sync()
    del s
    with open(path, "rb") as f:
        assert b"@Variant" in f.read()  # the file really carries the payload
    return path


def test_payload_written_with_qsettings_really_runs_when_qt_reads_it(tmp_path):
    """Guards the test itself: the payload is live when a fresh process reads it the old way
    (in this process QSettings would answer from its cache, not from the file)."""
    marker = tmp_path / "ran"
    path = _write_hostile(marker, keys=("display/rate",))
    code = ("from PySide6.QtCore import QSettings; "
            f"QSettings({path!r}, QSettings.Format.IniFormat).value('display/rate')")
    subprocess.run([sys.executable, "-c", code], timeout=60)
    assert marker.exists()


@pytest.mark.parametrize("keys", [KEYS, ("window/geometry",), ("window/state",), ("display/rate",),
                                  ("some/other_key",)])
def test_window_start_never_runs_a_settings_payload(qtbot, tmp_path, keys):
    marker = tmp_path / "ran"
    path = _write_hostile(marker, keys)
    win = MainWindow(ModelParams(size=16))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    message = win.statusBar().currentMessage()
    win.close()
    assert not marker.exists()
    assert "Settings file set aside" in message
    kept = glob.glob(path + ".corrupt-*")
    assert len(kept) == 1 and b"@Variant" in open(kept[0], "rb").read()  # kept, never deleted
    assert b"@Variant" not in open(path, "rb").read()  # the new file is plain data


def test_payload_does_not_run_in_a_fresh_process(tmp_path):
    """The whole start-up path, as a user starts it: `isinglab gui --run-seconds 0.5`."""
    marker = tmp_path / "ran"
    config = tmp_path / "config"
    env = dict(os.environ, ISINGLAB_CONFIG_DIR=str(config), QT_QPA_PLATFORM="offscreen")
    code = textwrap.dedent(f"""
        import os
        from PySide6.QtCore import QSettings
        class P:
            def __reduce__(self):
                return (open, ({str(marker)!r}, "w"))
        os.makedirs({str(config)!r}, exist_ok=True)
        s = QSettings({str(config / 'isinglab.ini')!r}, QSettings.Format.IniFormat)
        for k in {KEYS!r}:
            s.setValue(k, P())
        s.sync()
    """)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    r = subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", "gui", "-L", "16", "--no-gl",
                        "--run-seconds", "0.5"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not marker.exists()


def test_round_trip_of_text_and_bytes(tmp_path):
    path = str(tmp_path / "s.ini")
    s = Settings(path)
    blob = bytes(range(256)) * 3
    s.setValue("window/geometry", QByteArray(blob))
    s.setValue("display/rate", "30")
    s.setValue("top", 5)
    assert s.sync()
    values = parse_settings(open(path, encoding="utf-8").read())
    again = Settings(path, values)
    assert bytes(again.bytes_value("window/geometry")) == blob
    assert again.value("display/rate") == "30" and again.value("top") == "5"
    assert again.value("missing", "d") == "d"


def test_objects_are_refused_on_write(tmp_path):
    with pytest.raises(TypeError):
        Settings(str(tmp_path / "s.ini")).setValue("k", Payload("x"))


@pytest.mark.parametrize("content", [
    b"[window]\ngeometry=@ByteArray(\\0\\x1)\n",
    b"[display]\nrate=@Variant(\\0\\0\\0\\x7f)\n",
    b"\xff\xfe[\x00w\x00",  # UTF-16
    b"no section header\n",
    b"[a]\nk=1\n[a]\nk=2\n",  # duplicate section
    b"[a]\n" + b"k=" + b"x" * 300_000 + b"\n",  # larger than any real settings file
])
def test_unusable_file_is_set_aside_with_a_message(content):
    path = settings_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)
    settings, note = open_settings()
    assert note and "set aside" in note
    assert settings.keys() == []
    assert not os.path.exists(path) and len(glob.glob(path + ".corrupt-*")) == 1


def test_settings_path_that_is_a_folder_is_reported_not_fatal():
    path = settings_path()
    os.makedirs(path)
    settings, note = open_settings()
    assert note and "not a regular file" in note
    assert settings.keys() == []


def test_failed_settings_write_keeps_the_old_file(monkeypatch):
    import errno
    from isinglab.core import atomic_io
    settings, _ = open_settings()
    settings.setValue("display/rate", "30")
    assert settings.sync()
    before = open(settings.path, "rb").read()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic_io, "_write_chunk", full)
    settings.setValue("display/rate", "20")
    assert not settings.sync()
    assert "no space left" in settings.last_error
    monkeypatch.undo()
    assert open(settings.path, "rb").read() == before
    folder = os.path.dirname(settings.path)
    assert [n for n in os.listdir(folder) if n.startswith(".isinglab-tmp-")] == []
