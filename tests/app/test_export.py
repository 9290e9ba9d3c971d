"""Figure export: every panel's screen look in every format parses, sidecars round-trip through the
strict reader (app/output/sidecar.py), figure sets hold publication figures and screen looks,
bad paths fail cleanly."""
import json
import os
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QMenu

from isinglab.app.output import export, sidecar
from isinglab.app.lattice.colours import COLOR_SCHEMES
from isinglab.core.errors import IsingLabError
from isinglab.core.params import ModelParams

PARAMS = ModelParams(size=32, temperature=2.2, seed=7)


@pytest.fixture
def window(open_window):
    return open_window(PARAMS, (1280, 800), steps=3)


@pytest.fixture
def torch_settled():
    """Drawing the network dock starts importing torch (its device line); the import cannot be
    cancelled, so let it end before the thread check (slow on a loaded machine)."""
    yield
    from isinglab.core import torch_loader
    thread = torch_loader._thread
    if thread is not None:
        thread.join(120)


def check_file(path: str, fmt: str, size_px) -> None:
    assert os.path.getsize(path) > 0
    if fmt == "png":
        img = QImage(path)
        assert not img.isNull()
        assert [img.width(), img.height()] == size_px
    elif fmt == "svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
    else:
        data = open(path, "rb").read()
        assert data.startswith(b"%PDF-")
        assert data.rstrip().endswith(b"%%EOF")


def no_temp_files(folder) -> bool:
    return not [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_every_panel_in_every_format_parses(window, tmp_path, torch_settled):
    opts = export.ExportOptions(scale=1.5, dpi=120)
    for name in window.docks:
        for fmt in export.FORMATS:
            fig, side = export.export_panel(window, name, str(tmp_path / f"{name}.{fmt}"), opts=opts)
            loaded = sidecar.load_sidecar(side)
            assert loaded["panel"] == name and loaded["format"] == fmt and loaded["style"] == "screen"
            check_file(fig, fmt, loaded["size_px"])
    assert no_temp_files(tmp_path)


def test_lattice_png_has_whole_pixels_per_spin(window, tmp_path):
    fig, side = export.export_panel(window, "latticeDock", str(tmp_path / "l.png"),
                                    opts=export.ExportOptions(scale=1.0, dpi=300))
    img = QImage(fig)
    assert img.width() == img.height() and img.width() % PARAMS.size == 0
    assert img.dotsPerMeterX() == round(300 / 0.0254)
    per = img.width() // PARAMS.size
    spins = window.engine.latest().spins  # paused engine: the exported state
    up, down = COLOR_SCHEMES[window.lattice.colormap]
    for i in range(0, PARAMS.size, 5):
        for j in range(0, PARAMS.size, 3):
            c = img.pixelColor(j * per + per // 2, i * per + per // 2)
            assert (c.red(), c.green(), c.blue()) == tuple(up if spins[i, j] > 0 else down)


def test_sidecar_round_trip_reproduces_the_parameters(window, tmp_path):
    _, side = export.export_panel(window, "observablesDock", str(tmp_path / "obs.svg"))
    loaded = sidecar.load_sidecar(side)
    assert loaded["params"] == window.engine.latest().params == PARAMS
    assert loaded["sweeps"] == window.engine.latest().sweeps
    assert loaded["seed"] == 7 and loaded["algorithm"] == "metropolis"
    assert "scan" in loaded["panel_state"] and loaded["isinglab_version"]
    raw = json.loads(open(side).read())
    assert raw["params"] == {"size": 32, "temperature": 2.2, "coupling": 1.0, "field": 0.0,
                             "algorithm": "metropolis", "seed": 7}


def test_figure_set_writes_publication_figures_and_screen_looks(window, tmp_path, torch_settled):
    written = export.export_figure_set(window, str(tmp_path), export.FORMATS)
    visible = export.visible_panels(window)
    assert visible and "latticeDock" in visible
    with_data = [n for n in visible if export.has_publication(window, n)]
    assert "latticeDock" in with_data and "controlsDock" not in with_data
    figures = export.figure_files(written)
    assert len(figures) == 3 * len(with_data) + len(visible)  # PNG/SVG/PDF + the screen PNG
    assert all(os.path.exists(p + ".json") for p in figures)
    names = set(os.listdir(tmp_path))
    for name in visible:
        stem = export.FILE_STEMS[name]
        assert f"{stem}.screen.png" in names
        assert (f"{stem}.data.npz" in names) == (name in with_data)
        assert (f"{stem}.svg" in names) == (name in with_data)
    assert sorted(written) == sorted(str(tmp_path / n) for n in names)
    (tmp_path / "screen").mkdir()
    screen_only = export.export_figure_set(window, str(tmp_path / "screen"), opts=export.ExportOptions(style="screen"),
                                           panels=["latticeDock"])
    assert [os.path.basename(p) for p in screen_only] == ["lattice.screen.png", "lattice.screen.png.json"]


def test_unwritable_destination_leaves_nothing(window, tmp_path):
    with pytest.raises(IsingLabError, match="does not exist"):
        export.export_panel(window, "latticeDock", str(tmp_path / "missing" / "a.png"))
    blocker = tmp_path / "taken.png"
    blocker.mkdir()  # a folder where the file should go: refused before anything is drawn
    with pytest.raises(IsingLabError, match="it is a folder"):
        export.export_panel(window, "latticeDock", str(blocker))
    assert sorted(os.listdir(tmp_path)) == ["taken.png"]
    with pytest.raises(IsingLabError, match="format"):
        export.export_panel(window, "latticeDock", str(tmp_path / "a.bmp"))
    with pytest.raises(IsingLabError, match="scale"):
        export.export_panel(window, "latticeDock", str(tmp_path / "a.png"), opts=export.ExportOptions(scale=0))
    assert sorted(os.listdir(tmp_path)) == ["taken.png"]


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"panel": "latticeDock", "sweeps": 3}', "missing params"),
    ('{"panel": "nopeDock", "sweeps": 3, "params": {}}', "panel must be one of"),
    ('{"panel": "latticeDock", "sweeps": -1, "params": {}}', "sweeps"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {"size": 32, "temperature": -1}}', "temperature"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {"size": 32, "colour": 1}}', r"unknown key\(s\) 'colour' in params"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {}, "evil": 1}', r"unknown key\(s\) 'evil'"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {"size": 32, "temperature": 2.0}, "style": "screen", '
     '"data": {"file": "lattice.data.npz", "sha256": "' + "0" * 64 + '"}}', "only a publication figure"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {"size": 32, "temperature": 2.0}, "style": "publication", '
     '"data": {"file": "../x.data.npz", "sha256": "' + "0" * 64 + '"}}', "no folder"),
    ('{"panel": "latticeDock", "sweeps": 1, "params": {"size": 32, "temperature": 2.0}, "style": "publication", '
     '"data": {"file": "x.data.npz", "sha256": "abc"}}', "sha256 must be 64"),
])
def test_corrupt_sidecar_is_rejected(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(IsingLabError, match=message):
        sidecar.load_sidecar(str(path))


def test_the_loose_sidecar_reader_is_gone():
    """One strict reader (app/output/sidecar.py); export.py keeps no looser copy."""
    for name in ("load_sidecar", "check_sidecar", "params_from_dict"):
        assert not hasattr(export, name)


def test_install_adds_named_actions_and_the_dialog_exports(window, tmp_path, qtbot):
    actions = window.export_actions
    for a in actions.values():
        assert a.objectName().endswith("Action") and a.toolTip()
    file_menu = window.menu("&File")
    sub = window.findChild(QMenu, "exportMenu")
    assert sub.menuAction() in file_menu.actions()
    assert file_menu.actions()[-1] is window.named_actions["quit"]  # Quit stays last
    assert window.docks["blocksDock"].actions()  # right-click on the dock offers export
    dialog = export.open_export_dialog(window, "latticeDock")
    dialog.folder_edit.setText(str(tmp_path))
    dialog.format_boxes["pdf"].setChecked(True)
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("double"))
    dialog.font_spin.setValue(10.0)
    written = dialog.export()
    assert sorted(os.path.basename(p) for p in written) == ["lattice.data.npz", "lattice.pdf", "lattice.pdf.json",
                                                             "lattice.png", "lattice.png.json"]
    fig = sidecar.load_sidecar(str(tmp_path / "lattice.png.json"))["figure"]
    assert fig["preset"] == "double" and fig["font_size"] == 10.0 and fig["width_in"] == 7.0
    dialog.style_combo.setCurrentIndex(dialog.style_combo.findData("screen"))
    assert not dialog.preset_combo.isEnabled() and dialog.scale_spin.isEnabled()
    written = dialog.export()
    assert sorted(os.path.basename(p) for p in written) == ["lattice.screen.png", "lattice.screen.png.json"]
    dialog.close()
    assert isinstance(actions["figure"], QAction)
