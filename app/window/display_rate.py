"""View > Display rate: how often the lattice view is redrawn.

With software OpenGL (llvmpipe and the like) every frame costs the CPU that the simulation runs
on. "Auto" therefore redraws at 60 fps with a GPU and at 35 fps when the CPU draws (GUI
benchmark on the 2-core test machine: the window took 0.39-0.54 cores at 35 fps and 0.48-0.59
at 60; the simulation's share, sim_ratio, 0.54-0.72 at 35 in ten runs, 0.53-0.68 at 60 in five),
except while a live movie records: then at 60 fps, since at 35 the view once showed 28-29 fps,
behind the movie's 30.
The choice is kept in the settings.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from isinglab.app.ui import make_action

CHOICES = ("auto", "60", "30", "20")
GPU_FPS, CPU_FPS = 60, 35  # auto: with a GPU (or while a live movie records); when the CPU draws
SETTINGS_KEY = "display/rate"


class DisplayRate:
    def __init__(self, window):
        self.window = window
        saved = window.settings.value(SETTINGS_KEY, "auto")
        self.choice = saved if saved in CHOICES else "auto"
        self.group = QActionGroup(window)
        self.actions = {c: self._action(c) for c in CHOICES}
        self.actions[self.choice].setChecked(True)
        window.lattice.rendererKnown.connect(lambda _renderer: self.apply())
        self._live_movie = window.movies.live_action  # checked while a live movie records
        window.movies.liveChanged.connect(lambda _on: self.apply())
        self.apply()

    def _action(self, choice: str) -> QAction:
        if choice == "auto":
            text = "Auto (60 fps; 35 when the CPU draws)"
            tip = ("60 fps with a GPU; with software OpenGL 35 fps, leaving the CPU to the simulation "
                   "(60 while a live movie records)")
        else:
            text, tip = f"{choice} fps", f"Redraw the lattice at most {choice} times a second"
        a = make_action(self.window, text, f"displayRate{choice.capitalize()}Action", tip,
                        lambda _checked, c=choice: self.choose(c), checkable=True)
        a.setActionGroup(self.group)
        return a

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.actions[choice].setChecked(True)
        self.window.settings.setValue(SETTINGS_KEY, choice)
        self.apply()

    def fps(self) -> int:
        if self.choice != "auto":
            return int(self.choice)
        if self.window.lattice.software_rendering and not self._live_movie.isChecked():
            return CPU_FPS
        return GPU_FPS

    def apply(self) -> None:
        interval = int(1000 / self.fps())
        if self.window.timer.interval() != interval:
            self.window.timer.setInterval(interval)


def install(window) -> DisplayRate:
    """Add View > Display rate to a MainWindow and apply the saved choice."""
    rate = DisplayRate(window)
    window.display_rate = rate
    sub = window.menu("&View").addMenu("Display rate")
    sub.setObjectName("displayRateMenu")
    sub.addActions(list(rate.actions.values()))
    return rate
