"""Publication figures (app/output/figures): every panel with data, fed real measurements, exports
S.png / S.svg / S.pdf drawn by matplotlib from one Figure plus S.data.npz and sidecars; the SVG
(rsvg-convert) and the PDF (pdftoppm) render like the PNG, text is real text or glyph outlines,
the lattice is a lossless image, the column presets have their widths."""
import json
import os
import re
import shutil
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from isinglab.app.output import export, sidecar
from isinglab.app.output.figures import data as figure_data
from isinglab.app.panels.blocks_flow import FlowKey
from isinglab.app.panels.correlation import ANALYSIS_INTERVAL_S
from isinglab.core import exact
from isinglab.core.backends import make_sampler
from isinglab.core.learning import operators
from isinglab.core.learning.distill import DistilledClass, Distillation
from isinglab.core.learning.pseudolikelihood import fit_pseudolikelihood
from isinglab.core.params import ModelParams
from isinglab.core.rg import rg_flow
from isinglab.core.rg.mcrg import estimate_tc

PARAMS = ModelParams(size=32, temperature=2.3, seed=7)
PUBLICATION = ("latticeDock", "observablesDock", "blocksDock", "correlationDock", "networkDock")
MAX_DIFFERING = 0.02  # fraction of pixels whose grey level differs by more than a quarter of the range
TOOLS = ("rsvg-convert", "pdftoppm", "pdfimages", "pdfinfo")

needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                 reason="needs rsvg-convert and poppler-utils (apt librsvg2-bin poppler-utils)")


@pytest.fixture
def torch_settled():
    """Drawing the network dock starts importing torch (its device line); the import cannot be
    cancelled, so let it end before the thread check (slow on a loaded machine)."""
    yield
    from isinglab.core import torch_loader
    thread = torch_loader._thread
    if thread is not None:
        thread.join(120)


# ------------------------------------------------------------------------------ real data for every panel

def _measure(params, sweeps, every=1):
    """(sweeps, e, m) of a fresh run at params, one measurement per `every` sweeps."""
    s = make_sampler(params)
    out = []
    for _ in range(sweeps // every):
        s.sweep(every)
        e, m = s.energy_magnetisation()
        out.append((s.sweeps_done, e, m))
    return np.array(out).T, s


def _feed(win):
    win.timer.stop()  # no display ticks: nothing else feeds the panels during the test
    win.refresh()
    obs = win.observables
    obs.clear_traces()
    obs.clear()
    (sw, e, m), _ = _measure(PARAMS, 300)
    obs.add_trace(sw, e, m, PARAMS)
    for t in (2.0, 2.3, 2.6):
        (_, e, m), _ = _measure(PARAMS.with_(temperature=t, algorithm="wolff"), 150)
        obs.add_samples(np.full(100, t), e[50:], m[50:])
    obs.flush_redraws()

    blocks = win.panels["blocksDock"]
    flow = rg_flow(PARAMS.with_(temperature=2.4), 2, sweeps=300)
    blocks._flow_levels = (FlowKey(32, 2.4, 1.0, 0.0, blocks.rule, blocks.block), flow.levels)
    blocks._references[(blocks.rule, blocks.block)] = [
        rg_flow(ModelParams(size=32, temperature=t, seed=3), 2, sweeps=200) for t in (2.1, exact.TC, 3.0)]
    blocks.mcrg_result = estimate_tc(32, 2, blocks.rule, 2000)

    corr = win.panels["correlationDock"]
    corr.set_model(32, 1.0, 0.0)
    update = None
    for t in (2.6, 2.5):
        p = ModelParams(size=32, temperature=t, algorithm="wolff", seed=11)
        s = make_sampler(p)
        s.sweep(50)
        for k in range(40):
            s.sweep(2)
            spins = s.spins()
            spins.flags.writeable = False
            if k == 39:
                time.sleep(ANALYSIS_INTERVAL_S + 0.05)  # the bin is fitted again with all its snapshots
            update = corr.scan.process(spins, p)
    corr._on_update(update)
    corr.refresh()
    assert corr.data_sets(), "the correlation panel has no fitted bin"

    net = win.panels["networkDock"]
    batch = []
    s = make_sampler(ModelParams(size=8, temperature=2.6, seed=5))
    s.sweep(100)
    for _ in range(120):
        s.sweep(5)
        batch.append(s.spins().copy())
    net.pl_fit = fit_pseudolikelihood(np.array(batch), 2.6, range_=1)
    ops = tuple(operators.basis(1))
    rng = np.random.default_rng(0)
    ref = operators.exact_couplings(ops, 1.5)
    classes = []
    for t in (2.0, 2.5, 3.0):
        ex = operators.exact_couplings(ops, t) - ref
        classes.append(DistilledClass(t, ex + 0.01 * rng.standard_normal(len(ops)), ex, 0.99))
    net.distilled = Distillation(ops, 1, 1.5, tuple(classes))


@pytest.fixture
def exported(open_window, tmp_path, refcount_headroom, torch_settled):
    win = open_window(PARAMS, (1280, 800), steps=5)
    _feed(win)
    folder = tmp_path / "set"
    folder.mkdir()
    written = export.export_figure_set(win, str(folder), export.FORMATS, panels=list(win.docks))
    return win, folder, written


# ------------------------------------------------------------------------------ comparison

def _grey(path, size=None) -> np.ndarray:
    im = Image.open(path).convert("L")
    return np.asarray(im.resize(size, Image.BILINEAR) if size else im, dtype=float)


def differing(png: str, rendered: str) -> float:
    """The fraction of pixels whose grey level differs by more than a quarter of the range, the
    rendering resampled to the PNG's size."""
    ref = _grey(png)
    other = _grey(rendered, (ref.shape[1], ref.shape[0]))
    return float(np.mean(np.abs(other - ref) > 64))


def render_svg(svg: str, width: int, height: int, out: str) -> str:
    subprocess.run(["rsvg-convert", "-w", str(width), "-h", str(height), "-o", out, svg], check=True,
                   capture_output=True, timeout=120)
    return out


def render_pdf(pdf: str, dpi: int, out_stem: str) -> str:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", pdf, out_stem], check=True,
                   capture_output=True, timeout=120)
    return out_stem + ".png"


def pdf_images(pdf: str) -> list[dict]:
    text = subprocess.run(["pdfimages", "-list", pdf], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in text.splitlines()[2:] if line.strip()]
    return [{"width": int(r[3]), "height": int(r[4]), "enc": r[8]} for r in rows]


def pdf_page_points(pdf: str) -> tuple[float, float]:
    text = subprocess.run(["pdfinfo", pdf], check=True, capture_output=True, text=True).stdout
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", text).groups()
    return float(w), float(h)


# ------------------------------------------------------------------------------ tests

def test_every_panel_with_data_gets_a_publication_set_and_a_screen_look(exported):
    win, folder, written = exported
    names = set(os.listdir(folder))
    for panel_id in win.docks:
        stem = export.FILE_STEMS[panel_id]
        assert {f"{stem}.screen.png", f"{stem}.screen.png.json"} <= names, stem
        publication = {f"{stem}.{ext}" for ext in ("png", "svg", "pdf", "png.json", "svg.json", "pdf.json",
                                                   "data.npz")}
        if panel_id in PUBLICATION:
            assert publication <= names, (stem, sorted(names))
        else:  # the controls have no data: no publication figure
            assert not publication & names, stem
    assert sorted(written) == sorted(str(folder / n) for n in names)
    for panel_id in PUBLICATION:
        stem = export.FILE_STEMS[panel_id]
        blob = (folder / f"{stem}.data.npz").read_bytes()
        for fmt in export.FORMATS:
            side = sidecar.load_sidecar(str(folder / f"{stem}.{fmt}.json"))  # the strict reader
            assert side["style"] == "publication" and side["panel"] == panel_id and side["format"] == fmt
            assert side["data"] == {"file": f"{stem}.data.npz", "sha256": figure_data.digest(blob)}
            assert side["figure"]["preset"] == "single" and side["figure"]["width_in"] == pytest.approx(3.4)
            path, data = sidecar.recorded_data(str(folder / f"{stem}.{fmt}.json"), side)
            assert data == blob
        with np.load(folder / f"{stem}.data.npz", allow_pickle=False) as z:  # plain arrays and JSON only
            meta = json.loads(str(z["meta"]))
            assert meta["panel"] == panel_id and meta["tables"]
            for table in meta["tables"]:
                for col in table["columns"]:
                    assert z[f"{table['name']}/{col}"].dtype.kind in "biuf"
    with np.load(folder / "observables.data.npz", allow_pickle=False) as z:  # the T-scan schema, as exported
        assert [c for c in z.files if c.startswith("tscan/")] == [
            f"tscan/{c}" for c in ("T", "T_mean", "n", "m_abs", "m_abs_err", "e", "e_err", "c", "c_err", "chi",
                                   "chi_err")]
    screen = sidecar.load_sidecar(str(folder / "controls.screen.png.json"))
    assert screen["style"] == "screen" and "data" not in screen


@needs_tools
def test_svg_and_pdf_render_like_the_png_for_every_panel(exported, tmp_path):
    _, folder, _ = exported
    for panel_id in PUBLICATION:
        stem = str(folder / export.FILE_STEMS[panel_id])
        png = Image.open(stem + ".png")
        dpi = round(png.info["dpi"][0])
        assert dpi == 150
        svg_text = open(stem + ".svg", encoding="utf-8").read()
        assert "<text" in svg_text or re.search(r'<path id="DejaVuSans-', svg_text), f"{stem}.svg: no text"
        assert "image/jpeg" not in svg_text
        svg_png = render_svg(stem + ".svg", png.width, png.height, str(tmp_path / "svg.png"))
        pdf_png = render_pdf(stem + ".pdf", dpi, str(tmp_path / "pdf"))
        for what, rendered in (("svg", svg_png), ("pdf", pdf_png)):
            frac = differing(stem + ".png", rendered)
            assert frac < MAX_DIFFERING, f"{stem}.{what}: {100 * frac:.2f} % of pixels differ from the PNG"
        assert all(img["enc"] != "jpeg" for img in pdf_images(stem + ".pdf"))
        with open(stem + ".pdf", "rb") as f:
            assert b"/DCTDecode" not in f.read()
    images = pdf_images(str(folder / "lattice.pdf"))  # the spins: a lossless (Flate) image, whole spins
    assert len(images) == 1 and images[0]["enc"] == "image"
    assert images[0]["width"] % PARAMS.size == 0 and images[0]["width"] == images[0]["height"]
    assert b"/FlateDecode" in (folder / "lattice.pdf").read_bytes()


@needs_tools
@pytest.mark.parametrize("preset, inches", [("single", 3.4), ("double", 7.0)])
def test_presets_give_column_widths(open_window, tmp_path, preset, inches):
    params = ModelParams(size=16, temperature=2.5, seed=1)
    win = open_window(params, steps=3)
    win.timer.stop()
    (sw, e, m), _ = _measure(params, 60)
    win.observables.add_trace(sw, e, m, params)
    opts = export.ExportOptions(dpi=200, preset=preset, font_size=9.0)
    for panel_id in ("latticeDock", "observablesDock"):
        written = export.export_publication(win, panel_id, str(tmp_path), export.FORMATS, opts)
        stem = str(tmp_path / export.FILE_STEMS[panel_id])
        assert sorted(written) == sorted(f"{stem}{s}" for s in (".data.npz", ".png", ".png.json", ".svg",
                                                                  ".svg.json", ".pdf", ".pdf.json"))
        w_pt, h_pt = pdf_page_points(stem + ".pdf")
        assert w_pt == pytest.approx(72 * inches, abs=0.01)
        png = Image.open(stem + ".png")
        assert png.width == round(inches * 200) and round(png.info["dpi"][0]) == 200
        side = sidecar.load_sidecar(stem + ".png.json")
        assert png.height == int(h_pt / 72 * 200 + 1e-6) and side["size_px"] == [png.width, png.height]
        assert side["figure"] == {"preset": preset, "font_size": 9.0, "width_in": inches,
                                  "height_in": pytest.approx(h_pt / 72, abs=1e-3)}
        assert re.search(r'<svg[^>]* width="([\d.]+)pt"', (tmp_path / f"{export.FILE_STEMS[panel_id]}.svg")
                         .read_text()).group(1) == f"{72 * inches:g}"


def test_the_controls_have_no_publication_figure(open_window, tmp_path):
    win = open_window(ModelParams(size=16, temperature=2.5, seed=1))
    with pytest.raises(Exception, match="no data, so no publication figure"):
        export.export_publication(win, "controlsDock", str(tmp_path))
    assert os.listdir(tmp_path) == []
