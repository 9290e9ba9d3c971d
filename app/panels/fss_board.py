"""The finite-size scaling dock's shared state, without Qt: what a sweep was asked for
(SweepRequest) and the board of every (L, T, seed) task that the sweep thread fills and the
panel polls (SweepBoard, its snapshots BoardView and BoardData)."""
from __future__ import annotations

import datetime
import itertools
import os
import tempfile
import threading
from dataclasses import dataclass

import numpy as np

from isinglab.core.errors import IsingLabError
from isinglab.core.fss import Run
from isinglab.core.sampling import AUTO
from isinglab.core.sweep import SweepPlan, parse_sizes, parse_temperatures
from isinglab.core.sweep.plan import TEMPERATURE_DIGITS
from isinglab.core.sweep.runner import MAX_WORKERS, check_scheduler

PENDING, RUNNING, DONE, FAILED = 0, 1, 2, 3
_names = itertools.count()


def _t_key(t) -> int:
    return int(round(float(t) * 10 ** TEMPERATURE_DIGITS))


@dataclass(frozen=True)
class SweepRequest:
    """What the dock's inputs ask for (unchecked: `plan()` and the job check it)."""

    sizes: str
    t_from: float
    t_to: float
    t_step: float
    seeds: int
    sweeps: int
    seed: int = 0
    workers: int = 1
    scheduler: str = ""  # "" = an embedded cluster of `workers` processes
    store: str = ""  # "" = a new store in the temporary folder
    allow_long: bool = False

    def plan(self) -> SweepPlan:
        """The checked plan (one IsingLabError line for any bad input)."""
        sizes = parse_sizes(self.sizes)
        temps = parse_temperatures(f"{self.t_from!r}:{self.t_to!r}:{self.t_step!r}")
        return SweepPlan.build(sizes, temps, int(self.seeds), int(self.sweeps), None, AUTO, int(self.seed))

    def check(self) -> SweepPlan:
        """Everything that can be checked without the file system or a cluster (GUI thread: cheap)."""
        if self.scheduler.strip():
            check_scheduler(self.scheduler)
        elif not 1 <= int(self.workers) <= MAX_WORKERS:
            raise IsingLabError(f"workers must be between 1 and {MAX_WORKERS}, got {self.workers}")
        return self.plan()

    def store_path(self) -> str:
        if self.store.strip():
            return os.path.abspath(os.path.expanduser(self.store.strip()))
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return os.path.join(tempfile.gettempdir(), f"isinglab-sweep-{stamp}-{os.getpid()}-{next(_names)}.zarr")


# ----------------------------------------------------------------------------- the board


@dataclass(frozen=True)
class BoardView:
    """A copy of the board for the GUI thread: the grid and one line of text."""

    generation: int
    version: int
    sizes: tuple
    temperatures: tuple
    seeds: int
    states: np.ndarray  # int8 (sizes, temperatures, seeds): PENDING, RUNNING, DONE, FAILED
    line: str
    cluster: str
    store: str

    def counts(self) -> dict:
        return {name: int(np.count_nonzero(self.states == code))
                for name, code in (("pending", PENDING), ("running", RUNNING), ("done", DONE), ("failed", FAILED))}


@dataclass(frozen=True)
class BoardData:
    """What the analysis worker gets: the finished runs per size and their summaries."""

    generation: int  # the board's resets so far: data of an older sweep are dropped
    version: int
    parameters: dict
    runs: dict  # L -> tuple of Run
    summaries: tuple  # (L, T, summary) per finished task
    complete: bool  # the sweep or the load ended: no more data will come


class SweepBoard:
    """The tasks of one sweep (or store) and their results, written by the job's thread and read
    by the GUI thread (views) and the analysis worker (data). Every method takes the lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._reset((), (), 1, None, "")
        self.version = 0
        self.generation = 0  # resets so far: a job finishes only the board it filled

    def _reset(self, sizes, temperatures, seeds, parameters, store) -> None:
        self.sizes = tuple(int(L) for L in sizes)
        self.temperatures = tuple(float(t) for t in temperatures)
        self.seeds = max(1, int(seeds))
        self.parameters = parameters
        self.store = store
        self.states = np.zeros((len(self.sizes), len(self.temperatures), self.seeds), dtype=np.int8)
        self._row = {L: i for i, L in enumerate(self.sizes)}
        self._col = {_t_key(t): j for j, t in enumerate(self.temperatures)}
        self.runs: dict = {}
        self.summaries: list = []
        self.line = ""
        self.cluster = ""
        self.complete = False
        self.data_version = 0

    def reset(self, sizes, temperatures, seeds, parameters: dict | None, store: str) -> None:
        with self._lock:
            self._reset(sizes, temperatures, seeds, parameters, store)
            self.version += 1
            self.generation += 1

    def _cell(self, size, temperature, seed_index):
        i = self._row.get(int(size))
        j = self._col.get(_t_key(temperature))
        if i is None or j is None or not 0 <= int(seed_index) < self.seeds:
            return None
        return i, j, int(seed_index)

    def set_state(self, size, temperature, seed_index, state: int) -> None:
        with self._lock:
            cell = self._cell(size, temperature, seed_index)
            if cell is not None and self.states[cell] != state:
                self.states[cell] = state
                self.version += 1

    def set_running(self, cells) -> None:
        """Mark these (L, T, seed index) cells running and every other running cell pending."""
        with self._lock:
            new = np.where(self.states == RUNNING, PENDING, self.states).astype(np.int8)
            for c in cells:
                cell = self._cell(*c)
                if cell is not None and new[cell] == PENDING:
                    new[cell] = RUNNING
            if not np.array_equal(new, self.states):
                self.states = new
                self.version += 1

    def add_run(self, size: int, temperature: float, seed_index: int, e, m, summary: dict) -> None:
        """A finished task: its series for the analysis, its summary for the measured points."""
        run = Run(float(temperature), int(seed_index), np.asarray(e, dtype=np.float64), np.asarray(m, dtype=np.float64))
        with self._lock:
            self.runs.setdefault(int(size), []).append(run)
            self.summaries.append((int(size), float(temperature), summary))
            cell = self._cell(size, temperature, seed_index)
            if cell is not None:
                self.states[cell] = DONE
            self.version += 1
            self.data_version += 1

    def set_line(self, line: str, cluster: str | None = None) -> None:
        with self._lock:
            if line != self.line or (cluster is not None and cluster != self.cluster):
                self.line = line
                if cluster is not None:
                    self.cluster = cluster
                self.version += 1

    def finish(self, generation: int) -> None:
        """The job that started at `generation` ended (finished, failed or cancelled): if it filled
        the board, what the board holds is final and no task runs any more."""
        with self._lock:
            if self.generation == generation:
                return  # refused before it reset the board: the board still shows what it did
            self.states[self.states == RUNNING] = PENDING
            self.complete = True
            self.version += 1
            self.data_version += 1

    def view(self) -> BoardView:
        with self._lock:
            return BoardView(self.generation, self.version, self.sizes, self.temperatures, self.seeds, self.states.copy(),
                             self.line, self.cluster, self.store)

    def data(self) -> BoardData:
        with self._lock:
            return BoardData(self.generation, self.data_version, dict(self.parameters or {}),
                             {L: tuple(r) for L, r in self.runs.items()}, tuple(self.summaries), self.complete)
