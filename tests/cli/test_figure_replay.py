"""`isinglab figure --from SIDECAR` redraws a publication figure from its recorded data file: the
same PNG, nothing simulated, no Qt. A changed or missing data file, a screen look and an older
sidecar without data are refused with one line and exit 2; --resimulate re-runs the recorded
seed and parameters and says that only the statistics agree."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from isinglab.app.commands import entry
from isinglab.app.output import export, sidecar
from isinglab.core.backends import make_sampler
from isinglab.core.params import ModelParams

PARAMS = ModelParams(size=16, temperature=2.3, seed=4)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = entry.main(["figure", *[str(a) for a in argv]])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def refused(rc: int, err: str) -> str:
    assert rc == 2 and "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


@pytest.fixture
def published(open_window, tmp_path):
    """Publication figures of the lattice and the observables (a real trace and T-scan), and the
    lattice's screen look."""
    win = open_window(PARAMS, steps=3)
    win.timer.stop()  # nothing else feeds the panels
    obs = win.observables
    obs.clear_traces()
    obs.clear()
    s = make_sampler(PARAMS.with_(algorithm="wolff"))
    rows = []
    for _ in range(120):
        s.sweep(1)
        rows.append((s.sweeps_done, *s.energy_magnetisation()))
    sw, e, m = np.array(rows).T
    obs.add_trace(sw, e, m, PARAMS)
    obs.add_samples(np.full(100, 2.3), e[20:], m[20:])
    folder = tmp_path / "published"
    folder.mkdir()
    for panel in ("latticeDock", "observablesDock"):
        export.export_publication(win, panel, str(folder), export.FORMATS)
    export.export_screen(win, "latticeDock", str(folder))
    return folder


def test_redraw_from_the_recorded_data_gives_the_same_figure(published, tmp_path, capsys):
    for stem in ("lattice", "observables"):
        out = tmp_path / f"again-{stem}"
        rc, stdout, err = run_cli(capsys, "--from", published / f"{stem}.png.json", "--out", out)
        assert rc == 0, err
        assert "redrawn from the recorded data" in stdout
        assert sorted(os.listdir(out)) == sorted(f"{stem}{s}" for s in (".data.npz", ".png", ".png.json", ".svg",
                                                                          ".svg.json", ".pdf", ".pdf.json"))
        for suffix in (".png", ".svg", ".pdf", ".data.npz"):  # the same bytes: same data, code and style
            assert (out / f"{stem}{suffix}").read_bytes() == (published / f"{stem}{suffix}").read_bytes(), suffix
        old = sidecar.load_sidecar(str(published / f"{stem}.png.json"))
        new = sidecar.load_sidecar(str(out / f"{stem}.png.json"))
        for key in ("params", "sweeps", "seed", "data", "figure", "size_px", "dpi", "panel_state"):
            assert new[key] == old[key], key


def test_redraw_needs_no_window_and_no_qt(published, tmp_path):
    code = ("import sys\nfrom isinglab.app.commands.entry import main\n"
            f"rc = main(['figure', '--from', {str(published / 'lattice.png.json')!r}, '--out', "
            f"{str(tmp_path / 'o')!r}, '--formats', 'png'])\n"
            "sys.exit(rc if rc else 3 * any(m.split('.')[0] in ('PySide6', 'pyqtgraph', 'vispy') for m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "no-such-platform"  # any Qt window would fail
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "o" / "lattice.png").read_bytes() == (published / "lattice.png").read_bytes()


def test_a_changed_or_missing_data_file_is_refused(published, tmp_path, capsys):
    side, data, out = published / "observables.svg.json", published / "observables.data.npz", tmp_path / "o"
    blob = data.read_bytes()
    data.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    err = refused(*run_cli(capsys, "--from", side, "--out", out)[::2])
    assert "observables.data.npz" in err and "sha256 differs" in err
    assert not out.exists()
    data.unlink()
    err = refused(*run_cli(capsys, "--from", side, "--out", out)[::2])
    assert "observables.data.npz" in err and "is missing" in err
    assert not out.exists()


def test_screen_looks_and_older_sidecars_have_no_recorded_data(published, tmp_path, capsys):
    out = tmp_path / "o"
    err = refused(*run_cli(capsys, "--from", published / "lattice.screen.png.json", "--out", out)[::2])
    assert "no recorded data" in err and "--resimulate" in err
    old = json.loads((published / "lattice.png.json").read_text())
    for key in ("style", "data", "figure"):  # as sidecars were before publication figures
        del old[key]
    (tmp_path / "old.png.json").write_text(json.dumps(old))
    err = refused(*run_cli(capsys, "--from", tmp_path / "old.png.json", "--out", out)[::2])
    assert "no recorded data" in err and "--resimulate" in err
    assert not out.exists()


def test_resimulate_reruns_the_seed_and_says_only_the_statistics_agree(published, tmp_path, capsys):
    out = tmp_path / "rerun"
    rc, stdout, err = run_cli(capsys, "--from", published / "lattice.png.json", "--out", out, "--resimulate",
                              "--formats", "png")
    assert rc == 0, err
    assert "only the statistics agree" in stdout
    assert sorted(os.listdir(out)) == ["lattice.data.npz", "lattice.png", "lattice.png.json"]
    again = sidecar.load_sidecar(str(out / "lattice.png.json"))
    assert again["style"] == "publication" and again["params"] == PARAMS
    assert again["figure"]["preset"] == "single"
    rc, _, err = run_cli(capsys, "--from", published / "lattice.screen.png.json", "--out", tmp_path / "screen",
                         "--resimulate")
    assert rc == 0, err
    assert sorted(os.listdir(tmp_path / "screen")) == ["lattice.screen.png", "lattice.screen.png.json"]
