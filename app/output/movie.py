"""Movies of the lattice (optionally with its block-spin RG levels side by side), MP4 or GIF.

Two sources, neither of which slows the live display:
- a scene, replayed headless by core.scenes.frames on a worker thread (identical every time);
- the live engine: a timer at the movie's frame rate keeps a reference to the newest snapshot
  (snapshots are immutable, so nothing is copied on the GUI thread) and a worker thread renders
  and encodes them.
Files are written under a temporary name in the destination folder and renamed when complete,
so a failed or cancelled recording leaves nothing behind.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import time

import numpy as np

from isinglab.core.atomic_io import AtomicFile, resolve_target
from isinglab.core.errors import IsingLabError
from isinglab.core.rg.blocking import block_levels
from isinglab.core.scenes import Scene, frames, load_scene
from isinglab.core.tasks import TaskState

FORMATS = (".mp4", ".gif")
DEFAULT_SIZE = (512, 512)
GAP = 8  # pixels between side-by-side levels
BACKGROUND = (32, 32, 32)


# ---------------------------------------------------------------------------------- rendering
def palette(colors) -> np.ndarray:
    """Index -> RGB: 0 = spin down, 1 = spin up, 2 = background."""
    up, down = colors
    return np.array([down, up, BACKGROUND], np.uint8)


def _colors(name: str):
    from isinglab.app.lattice.colours import COLOR_SCHEMES
    if name not in COLOR_SCHEMES:
        raise IsingLabError(f"unknown colormap {name!r}; choose one of: {', '.join(COLOR_SCHEMES)}")
    return COLOR_SCHEMES[name]


def layout(size: tuple[int, int], panels: int) -> tuple[int, list[int], int]:
    """(side of each square panel, their x offsets, y offset) to fit `panels` squares in size."""
    w, h = size
    side = min(h, (w - GAP * (panels - 1)) // panels)
    if side < 2:
        raise IsingLabError(f"a {w}x{h} frame is too small for {panels} panels side by side")
    total = panels * side + GAP * (panels - 1)
    x0 = (w - total) // 2
    return side, [x0 + i * (side + GAP) for i in range(panels)], (h - side) // 2


def index_frame(spins: np.ndarray, size: tuple[int, int], levels: int = 0, stream: int = 0) -> np.ndarray:
    """(H, W) uint8 palette indices: the lattice and `levels` 2x2 majority block levels."""
    lattices = block_levels(spins, 2, levels, "majority", 0, stream) if levels else [spins]
    side, xs, y0 = layout(size, len(lattices))
    out = np.full((size[1], size[0]), 2, np.uint8)
    for lat, x in zip(lattices, xs):
        n = lat.shape[0]
        idx = (np.arange(side) * n) // side  # nearest-neighbour scaling, crisp spins
        out[y0:y0 + side, x:x + side] = (lat[np.ix_(idx, idx)] > 0)
    return out


def check_levels(scene_size: int, levels: int) -> None:
    if levels < 0 or levels > 4:
        raise IsingLabError(f"block levels must be between 0 and 4, got {levels}")
    if levels and scene_size % (2 ** levels):
        raise IsingLabError(f"L = {scene_size} cannot be blocked {levels} times by 2")


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise IsingLabError(f"size must look like 512x512, got {text!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096) or w % 2 or h % 2:
        raise IsingLabError(f"movie size must be even numbers between 16 and 4096, got {w}x{h}")
    return w, h


# ---------------------------------------------------------------------------------- writing
class MovieWriter:
    """Frames of palette indices -> MP4 (libx264 through imageio-ffmpeg) or GIF (Pillow),
    written to a temporary file next to `path` and renamed on close()."""

    def __init__(self, path, size: tuple[int, int], fps: int, colors, preset: str = "medium"):
        self.path, _ = resolve_target(path)
        self.ext = os.path.splitext(self.path)[1].lower()
        if self.ext not in FORMATS:
            raise IsingLabError(f"movie file must end in {' or '.join(FORMATS)}, got {os.path.basename(self.path)!r}")
        self.size, self.fps, self.count = size, int(fps), 0
        self.palette = palette(colors)
        # guarded: if this process dies mid-movie, even by SIGKILL, the temporary file goes too
        self._file = AtomicFile(self.path, guard=True)
        self.tmp = self._file.tmp
        self._gif_frames = []
        self._ffmpeg = None
        if self.ext == ".mp4":
            import imageio_ffmpeg
            self._ffmpeg = imageio_ffmpeg.write_frames(self.tmp, size, fps=self.fps, codec="libx264",
                                                       pix_fmt_out="yuv420p", quality=7, macro_block_size=1,
                                                       ffmpeg_log_level="quiet",  # errors: _check_mp4
                                                       output_params=["-movflags", "+faststart", "-preset", preset])
            self._ffmpeg.send(None)  # start the ffmpeg process

    def add(self, index: np.ndarray) -> None:
        if self._ffmpeg is not None:
            try:
                self._ffmpeg.send(np.ascontiguousarray(self.palette[index]))
            except (OSError, RuntimeError) as exc:  # ffmpeg could not write the file
                self.abort()
                raise IsingLabError(f"cannot write {self.path}: {exc}") from None
        else:
            from PIL import Image
            img = Image.fromarray(index, "P")
            img.putpalette(self.palette.ravel().tolist())
            self._gif_frames.append(img)
        self.count += 1

    def close(self) -> str:
        """Finish the file and move it into place; returns the final path."""
        try:
            if self._ffmpeg is not None:
                self._ffmpeg.close()
                self._ffmpeg = None
                _check_mp4(self.tmp)
            elif self._gif_frames:
                first, *rest = self._gif_frames
                first.save(self.tmp, format="GIF", save_all=True, append_images=rest,
                           duration=round(1000 / self.fps), loop=0, optimize=False, disposal=1)
            if self.count == 0:
                raise IsingLabError("no frames were recorded")
            self._file.commit()
        except (OSError, RuntimeError) as exc:  # RuntimeError: ffmpeg ended with an error
            self.abort()
            raise IsingLabError(f"cannot write {self.path}: {exc}") from None
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        if self._ffmpeg is not None:
            try:
                self._ffmpeg.close()
            except Exception:  # ffmpeg may already have died; the temp file goes anyway
                pass
            self._ffmpeg = None
        self._gif_frames = []
        self._file.discard()


def _check_mp4(path: str) -> None:
    """imageio-ffmpeg does not report how ffmpeg ended: read the finished container back (packets
    copied, nothing decoded), so a movie cut short by a full disk is never moved into place."""
    import subprocess

    import imageio_ffmpeg
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", path, "-map", "0",
           "-c", "copy", "-f", "null", "-"]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0 or r.stderr.strip():
        import shutil
        if shutil.disk_usage(os.path.dirname(path)).free < 1 << 20:
            raise OSError("the encoder did not finish the movie: no space left on the device")
        last = (r.stderr.decode("utf-8", "replace").strip().splitlines() or ["unreadable"])[-1]
        raise OSError(f"the encoder did not finish the movie ({last})")


# ---------------------------------------------------------------------------------- scene movies
def record_scene(scene, path, size=DEFAULT_SIZE, fps: int | None = None, levels: int | None = None,
                 colormap: str = "classic", max_frames: int | None = None, task: TaskState | None = None) -> dict:
    """Replay a scene headless and write every frame; returns a summary. Runs on any thread."""
    scene = scene if isinstance(scene, Scene) else load_scene(scene)
    levels = scene.movie.get("block_levels", 0) if levels is None else levels
    sizes = {scene.params_at_frame(k).size for k in range(scene.n_frames)}
    for n in sizes:
        check_levels(n, levels)
    n_frames = scene.n_frames if max_frames is None else min(scene.n_frames, max_frames)
    t0 = time.perf_counter()
    writer = MovieWriter(path, size, fps or scene.fps, _colors(colormap))
    try:
        for f in frames(scene, stop=n_frames):
            writer.add(index_frame(f.spins, size, levels, stream=f.index))
            if task is not None:
                task.progress((f.index + 1) / n_frames, f"frame {f.index + 1}/{n_frames}")
        out = writer.close()
    except BaseException:
        writer.abort()
        raise
    dt = time.perf_counter() - t0
    return {"movie": out, "scene": scene.id, "frames": writer.count, "fps": writer.fps,
            "size": f"{size[0]}x{size[1]}", "block_levels": levels, "seconds": round(dt, 2),
            "frames_per_s": round(writer.count / dt, 1)}


def count_frames(path) -> int:
    """Frames in a movie file, decoded with imageio (the test of 'playable')."""
    import imageio.v3 as iio
    return sum(1 for _ in iio.imiter(os.fspath(path)))


# ---------------------------------------------------------------------------------- live movies
class LiveRecorder:
    """Record the live engine: sample() (GUI timer, cheap) queues the newest snapshot; a worker
    thread renders and encodes. A full queue drops the frame (counted) rather than block the GUI."""

    def __init__(self, engine, path, size=DEFAULT_SIZE, fps: int = 30, levels: int = 0,
                 colormap: str = "classic", queue_frames: int = 120):
        self.engine, self.levels = engine, levels
        check_levels(engine.latest().params.size, levels)
        # a live recording shares the CPU with the simulation and the display: the fastest x264
        # preset costs a fraction of the default's CPU for a somewhat larger file
        self.writer = MovieWriter(path, size, fps, _colors(colormap), preset="ultrafast")
        self.size = size
        self.dropped = 0
        self.error: str | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._last_serial = None
        self._thread = threading.Thread(target=self._encode, name="isinglab-movie", daemon=True)
        self._thread.start()

    @property
    def frames(self) -> int:
        return self.writer.count

    def sample(self) -> None:
        snap = self.engine.latest()
        if snap is None or self.error:
            return
        try:
            self._queue.put_nowait(snap)  # repeated snapshots repeat the frame: movie time = wall time
        except queue.Full:
            self.dropped += 1

    def _encode(self) -> None:
        while True:
            snap = self._queue.get()
            if snap is None:
                return
            if self.error:
                continue
            try:
                levels = self.levels if snap.spins.shape[0] % (2 ** self.levels) == 0 else 0
                self.writer.add(index_frame(snap.spins, self.size, levels, stream=snap.serial))
            except Exception as exc:  # e.g. ffmpeg died: stop recording, report on stop()
                self.error = f"{type(exc).__name__}: {exc}"

    def stop(self, keep: bool = True, timeout: float = 30.0) -> dict | None:
        """Finish (keep=True) or discard the movie; returns a summary when kept."""
        self._queue.put(None)
        self._thread.join(timeout)
        if not keep or self.error or self.writer.count == 0:
            self.writer.abort()
            if self.error:
                raise IsingLabError(f"movie recording failed: {self.error}")
            return None
        path = self.writer.close()
        return {"movie": path, "frames": self.writer.count, "dropped": self.dropped}


def _finish_live(live: LiveRecorder) -> None:
    """Keep a live movie whose window closed (a thread of its own)."""
    try:
        live.stop(keep=True)
    except IsingLabError as exc:
        print(f"isinglab: live movie not kept: {exc}", file=sys.stderr)


# ---------------------------------------------------------------------------------- GUI
def install(window):
    """File menu: 'Record scene as movie…' (worker thread, progress bar, cancel) and 'Record live
    movie' (a toggle). Returns the MovieActions object (also window.movies)."""
    window.movies = _movie_actions_class()(window)
    return window.movies


def _movie_actions_class():
    """Qt is imported here, so `isinglab movie` and record_scene run without loading it."""
    from isinglab.app import qt  # noqa: F401
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QProgressBar, QToolButton

    from isinglab.core.scenes import list_scenes

    from isinglab.app.panels.workers import TaskRunner
    from isinglab.app.ui import make_action

    class MovieActions(QObject):
        liveChanged = Signal(bool)  # a live recording started (True) or ended

        def __init__(self, window):
            super().__init__(window)
            self.window = window
            self.live: LiveRecorder | None = None
            self.last_result: dict | None = None
            self.runner = TaskRunner(self)
            self.runner.progress.connect(self._progress)
            self.runner.finished.connect(self._done)
            self.runner.failed.connect(lambda msg: self._ended(f"Movie not written: {msg}"))
            self.runner.cancelled.connect(lambda: self._ended("Movie cancelled: nothing written"))
            self.scene_action = self._action("movieSceneAction", "Record scene as movie…",
                                             "Replay a scene and write it to MP4 or GIF (in the background)")
            self.live_action = self._action("movieLiveAction", "Record live movie",
                                            "Record the live lattice to MP4 or GIF until toggled off (Ctrl+Shift+M)",
                                            "Ctrl+Shift+M", checkable=True)
            self.scene_action.triggered.connect(self._scene_dialog)
            self.live_action.toggled.connect(self._live_toggled)
            self.bar = QProgressBar()
            self.bar.setObjectName("movieProgress")
            self.bar.setMaximumWidth(180)
            self.cancel_button = QToolButton()
            self.cancel_button.setObjectName("movieCancelButton")
            self.cancel_button.setText("Cancel movie")
            self.cancel_button.setToolTip("Stop writing the movie; nothing is left on disk")
            self.cancel_button.clicked.connect(self.cancel)
            for w in (self.bar, self.cancel_button):
                window.statusBar().addPermanentWidget(w)
                w.hide()
            self.timer = QTimer(self)
            self.timer.setObjectName("movieLiveTimer")
            self.timer.timeout.connect(self._sample)
            file_menu = window.menu("&File")
            first = file_menu.actions()[0] if file_menu.actions() else None
            file_menu.insertActions(first, [self.scene_action, self.live_action])
            file_menu.insertSeparator(first)
            window.on_close(self.shutdown)  # stop the worker and the live recording

        def _action(self, name, text, tip, shortcut=None, checkable=False):
            return make_action(self.window, text, name, tip, shortcuts=shortcut, checkable=checkable)

        # ---- scene movies ----
        def _scene_dialog(self):
            player = getattr(self.window, "scene_player", None)
            scene = getattr(player, "scene", None)
            if scene is None:
                infos = list_scenes()
                name, ok = QInputDialog.getItem(self.window, "Record scene", "Scene:",
                                                [i.name for i in infos], 0, False)
                if not ok:
                    return
                scene = next(i for i in infos if i.name == name).id
            sid = scene if isinstance(scene, str) else scene.id
            path, _ = QFileDialog.getSaveFileName(self.window, "Save movie", f"{sid}.mp4",
                                                  "MP4 video (*.mp4);;GIF animation (*.gif)")
            if path:
                self.record_scene(scene, path)

        def record_scene(self, scene, path, size=DEFAULT_SIZE, levels=None, max_frames=None):
            self.last_result = None
            self.bar.setValue(0)
            self.bar.show()
            self.cancel_button.show()
            self.runner.start(record_scene, scene, path, size, None, levels, self.window.lattice.colormap,
                              max_frames)

        def cancel(self):
            self.runner.cancel()
            if self.live_action.isChecked():
                self.stop_live(keep=False)

        def _progress(self, fraction, text):
            self.bar.setValue(int(round(100 * fraction)))
            self.bar.setToolTip(text)

        def _done(self, result):
            self.last_result = result
            self._ended(f"Saved {result['movie']} ({result['frames']} frames)")

        def _ended(self, message):
            self.bar.hide()
            self.cancel_button.hide()
            self.window.statusBar().showMessage(message, 10000)

        # ---- live movies ----
        def _live_toggled(self, on):
            if on and self.live is None:
                path, _ = QFileDialog.getSaveFileName(self.window, "Record live movie", "isinglab-live.mp4",
                                                      "MP4 video (*.mp4);;GIF animation (*.gif)")
                if not path or not self.start_live(path):
                    self._set_checked(False)
            elif not on and self.live is not None:
                self.stop_live(keep=True)

        def start_live(self, path, size=DEFAULT_SIZE, fps=30, levels=0) -> bool:
            try:
                self.live = LiveRecorder(self.window.engine, path, size, fps, levels, self.window.lattice.colormap)
            except IsingLabError as exc:
                self._ended(f"Movie not started: {exc}")
                return False
            self._set_checked(True)
            self.cancel_button.show()
            self.timer.setInterval(round(1000 / fps))
            self.timer.start()
            self.window.statusBar().showMessage(f"Recording {path} …", 3000)
            return True

        def stop_live(self, keep=True) -> dict | None:
            self.timer.stop()
            live, self.live = self.live, None
            self._set_checked(False)
            if live is None:
                return None
            try:
                result = live.stop(keep=keep)
            except IsingLabError as exc:
                self._ended(str(exc))
                return None
            self.last_result = result
            self._ended(f"Saved {result['movie']} ({result['frames']} frames, {result['dropped']} dropped)"
                        if result else "Live movie discarded")
            return result

        def _sample(self):
            if self.live is not None:
                self.live.sample()

        def _set_checked(self, on):
            self.live_action.blockSignals(True)
            self.live_action.setChecked(on)
            self.live_action.blockSignals(False)
            self.liveChanged.emit(on)

        def shutdown(self):
            self.runner.cancel(wait=True)
            if self.live is not None:
                # finishing the file (the queued frames, ffmpeg's last pass) can take seconds:
                # not on the closing window's clock. Not a daemon: the process ends once the
                # movie is complete.
                self.timer.stop()
                live, self.live = self.live, None
                threading.Thread(target=_finish_live, args=(live,), name="isinglab-movie-finish").start()

    return MovieActions

