"""Every bundled scene, played in the real window, leaves a sensible state (issue 17, point 2):
the panels it shows are filled or say what they wait for, no data of another model stays on
screen, the live traces never join across a model change or a reset, and the user's layout
comes back after the scene and after a restart."""
import json
import math

import numpy as np
import pytest

from isinglab.app.window.main_window import MainWindow
from isinglab.app.window.settings import LAYOUT_VERSION
from isinglab.core import correlation as corr
from isinglab.core import scenes
from isinglab.core.params import ModelParams

pytestmark = pytest.mark.usefixtures("refcount_headroom")  # tests/app/conftest.py

WARM_UP_S = 1.5  # scene seconds played of each bundled scene (at full speed)
WAIT_MS = 60000  # a loaded 2-core machine: generous; the tests end as soon as the state is there

SHORT = {"format": 1, "id": "short-test", "name": "Short test", "description": "L = 32, a reset half-way",
         "model": {"size": 32, "temperature": 2.5, "algorithm": "metropolis", "seed": 3},
         "panels": ["latticeDock", "observablesDock"], "fps": 30, "sweeps_per_frame": 2, "duration": 1.0,
         "keyframes": [{"t": 0.5, "reset": "up"}]}
RESET_FRAME = 15  # frame_of(0.5) at 30 fps


@pytest.fixture
def short_scene(tmp_path):
    path = tmp_path / "short-test.json"
    path.write_text(json.dumps(SHORT))
    return str(path)


def _play(window, qtbot, scene, frames=None):
    """Play `scene` (an id or a path) at full speed until `frames` frames are done (default all),
    then pause (the scene's docks stay); returns the Scene."""
    player = window.scene_player
    player.speed = math.inf
    done = []
    player.frame_done.connect(done.append)
    try:
        player.load(scene, play=True)
        n = player.scene.n_frames if frames is None else min(frames, player.scene.n_frames)
        qtbot.waitUntil(lambda: len(done) >= n, timeout=WAIT_MS)
    finally:
        player.frame_done.disconnect(done.append)
    if player.playing:
        player.set_playing(False)
    return player.scene


def _visible(window) -> set:
    return {name for name, dock in window.docks.items() if not dock.isHidden()}


# ---------------------------------------------------------------------------------- every scene
def _lattice_ok(window, scene, problems):
    snap = window.engine.latest()
    if window.lattice.lattice_size != scene.params_at(0).size or window._shown_serial != snap.serial:
        problems.append(f"lattice shows L = {window.lattice.lattice_size}, not the engine's newest frame")


def _observables_ok(window, scene, problems):
    obs = window.observables
    sweeps = obs.trace_data()["sweeps"]
    if sweeps.size == 0:
        problems.append("observables: no trace points")
    elif np.any(np.diff(sweeps) <= 0):
        problems.append("observables: the trace joins two runs (sweeps go back)")
    bins = obs.scan.result()["T"].size
    text = obs.status_label.text()
    if not bins and not ("waits" in text and obs.status_label.isVisible()):
        problems.append(f"observables: T-scan empty without saying why ({text!r})")


def _blocks_ok(window, scene, problems):
    panel = window.panels["blocksDock"]
    shown = [img for img in panel.level_images[1:] if img.isVisible() and img.image is not None]
    if not shown:
        problems.append("blocks: no block-level images")
    if not panel.status_label.text():
        problems.append("blocks: no status")


def _correlations_ok(window, scene, problems):
    panel = window.panels["correlationDock"]
    u = panel.latest_update
    if u is not None and u.result is not None:
        return
    half = window.engine.latest().params.size / 2
    (x0, x1), (y0, y1) = panel.g_plot.getViewBox().viewRange()
    if not (-0.1 * half <= x0 <= 0.1 * half and 0.9 * half <= x1 <= 1.1 * half and -3.5 <= y0 < y1 <= 0.5):
        problems.append(f"correlations: empty G(r) axes r in [{x0:.3g}, {x1:.3g}], log G in [{y0:.3g}, {y1:.3g}]"
                        f" for L = {2 * half:g}")
    text = panel.waiting_text()
    if not (panel.g_waiting.isVisible() and panel.g_waiting.textItem.toPlainText() == text
            and any(w in text for w in ("collecting", "equilibrating", "waiting", "stripe"))):
        problems.append(f"correlations: empty G(r) without a visible reason ({text!r})")
    if u is not None and f"collecting {u.n}/{corr.MIN_SAMPLES}" not in text:
        problems.append(f"correlations: {u.n} snapshots collected, but the text says {text!r}")


def _network_ok(window, scene, problems):
    panel = window.panels["networkDock"]
    panel.use_simulation_parameters()
    size = window.engine.latest().params.size
    if panel.classifier_tab.size_spin.value() != min(size, panel.classifier_tab.size_spin.maximum()):
        problems.append("network: 'From simulation' does not take the scene's L")


def _controls_ok(window, scene, problems):
    p = window.engine.latest().params
    if window.controls.temperature != pytest.approx(p.temperature, abs=1e-3):
        problems.append("controls: the temperature is not the scene's")


CHECKS = {"latticeDock": _lattice_ok, "observablesDock": _observables_ok, "blocksDock": _blocks_ok,
          "correlationDock": _correlations_ok, "networkDock": _network_ok, "controlsDock": _controls_ok}


def _problems(window, scene) -> list[str]:
    out = []
    for name in scene.panels:
        CHECKS[name](window, scene, out)
    return out


def test_every_bundled_scene_fills_the_panels_it_shows(open_window, qtbot):
    """One window plays the first WARM_UP_S of each scene in turn (each after a run of another
    model: none of its data may stay on screen); each shown panel must then be filled or say
    what it waits for."""
    from isinglab.core import torch_loader
    torch_loader.load()  # the network panel imports torch when first shown: not in the clock
    window = open_window(ModelParams(size=64, temperature=2.0, seed=1), (1280, 800), no_gl=True)
    ids = scenes.scene_ids()
    assert len(ids) >= 6
    failures = []
    for scene_id in ids:
        scene = scenes.load_scene(scene_id)
        frames = int(WARM_UP_S * scene.fps)
        _play(window, qtbot, scene_id, frames)
        last = []

        def settled():
            last[:] = _problems(window, scene)
            return not last

        try:
            qtbot.waitUntil(settled, timeout=20000)
        except Exception:
            failures.append(f"{scene_id} after {frames} frames: " + "; ".join(last))
        if _visible(window) != set(scene.panels):
            failures.append(f"{scene_id} shows {sorted(_visible(window))}, not its panels")
        p = window.engine.latest().params
        if window.observables.scan.model["size"] != p.size:
            failures.append(f"{scene_id}: the T-scan holds L = {window.observables.scan.model['size']}")
        if window.panels["correlationDock"].state()["model"] not in (
                None, {"size": p.size, "coupling": p.coupling, "field": p.field}):
            failures.append(f"{scene_id}: the correlations hold another model")
    qtbot.waitUntil(lambda: window.panels["networkDock"].device_text != "", timeout=WAIT_MS)
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------- traces
def test_traces_never_join_across_a_model_change_or_a_reset(open_window, qtbot, short_scene):
    """After a long run at L = 64 (correlations on screen, filled), a scene at L = 32: the traces
    hold only the scene's run, the hidden correlations and the network's "From simulation"
    follow L = 32; then, in the scene, a reset: the traces hold only what followed it."""
    window = open_window(ModelParams(size=64, temperature=2.0, seed=1), (1280, 800), no_gl=True)
    corr_panel, network = window.panels["correlationDock"], window.panels["networkDock"]

    def trace():
        return window.observables.trace_data()["sweeps"]

    window.docks["correlationDock"].raise_()
    window.named_actions["run"].setChecked(True)  # L = 64 until the correlations have data
    qtbot.waitUntil(lambda: corr_panel.latest_update is not None and trace().size >= 4
                    and window.engine.latest().sweeps >= 1000, timeout=WAIT_MS)
    window.named_actions["run"].setChecked(False)
    scene = _play(window, qtbot, short_scene, RESET_FRAME - 3)  # L = 32: a model change, no reset yet
    qtbot.waitUntil(lambda: trace().size and trace().max() == window.engine.latest().sweeps, timeout=WAIT_MS)
    qtbot.wait(200)  # a late batch of the run before would show now
    window.observables.redraw_traces()
    x, _ = window.observables.traces["e"].getData()
    assert trace().max() < RESET_FRAME * scene.sweeps_per_frame, trace()  # nothing of the L = 64 run
    assert np.all(np.diff(trace()) > 0), trace()
    assert x.max() == trace().max()
    assert window.docks["correlationDock"].isHidden()
    assert corr_panel.latest_update is None and corr_panel.state()["model"] is None
    network.use_simulation_parameters()
    assert network.classifier_tab.size_spin.value() == 32
    assert window.observables.scan.model["size"] == 32
    _play(window, qtbot, short_scene)  # again, the whole scene: a reset "up" at frame 15
    end = scene.n_frames * scene.sweeps_per_frame
    qtbot.waitUntil(lambda: trace().size and trace().max() >= end, timeout=WAIT_MS)
    qtbot.wait(200)
    assert trace().min() > RESET_FRAME * scene.sweeps_per_frame, trace()  # only what followed the reset
    assert np.all(np.diff(trace()) > 0)


# ---------------------------------------------------------------------------------- layout
def _layout(window) -> tuple:
    return (_visible(window), {n: d.isFloating() for n, d in window.docks.items()},
            {n: window.dockWidgetArea(d) for n, d in window.docks.items()})


def test_user_layout_comes_back_after_a_scene_stops_or_finishes(open_window, qtbot, short_scene):
    window = open_window(ModelParams(size=64, temperature=2.0, seed=1), (1280, 800), no_gl=True)
    window.docks["networkDock"].hide()  # the user's own layout: not the default one
    qtbot.wait(200)  # the first start's default proportions are set by a timer
    user, user_state = _layout(window), window.saveState(LAYOUT_VERSION)
    assert "controlsDock" in user[0]
    player = window.scene_player
    player.speed = math.inf
    with qtbot.waitSignal(player.finished, timeout=WAIT_MS):
        player.load(short_scene, play=True)
        assert _visible(window) == {"latticeDock", "observablesDock"}  # the scene's docks only
    assert _layout(window) == user and window.saveState(LAYOUT_VERSION) == user_state
    player.load(short_scene, play=True)
    player.load("antiferromagnet", play=True)  # scene after scene: still the user's layout held
    assert "controlsDock" not in _visible(window)
    player.stop_action.trigger()  # stopped half-way
    assert _layout(window) == user
    player.load(short_scene, play=True)
    player.play_action.trigger()  # paused: the scene's layout stays
    assert _visible(window) == {"latticeDock", "observablesDock"}
    window.named_actions["reset_layout"].trigger()  # the default layout becomes the user's
    player.stop()
    assert _visible(window) == set(window.docks)
    window.docks["networkDock"].hide()
    user = _visible(window)
    player.load(short_scene, play=True)
    window.presenter.set_active(True)  # presenter mode saves the scene's layout on entering
    player.stop()  # the user's layout waits until presenter mode is left
    window.presenter.set_active(False)
    qtbot.waitUntil(lambda: _visible(window) == user, timeout=5000)


def test_user_layout_comes_back_after_a_restart_during_a_scene(qtbot, short_scene):
    first = MainWindow(ModelParams(size=32), no_gl=True)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.docks["blocksDock"].hide()
    user = _visible(first)
    first.scene_player.load(short_scene, play=True)
    assert "controlsDock" not in _visible(first)
    first.close()  # during the scene
    again = MainWindow(ModelParams(size=32), no_gl=True)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    try:
        assert _visible(again) == user
        assert again.docks["controlsDock"].isVisible()
    finally:
        again.close()
