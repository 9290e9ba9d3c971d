"""What a sweep is: sizes x temperatures x seeds, the sweeps of each task, and each task's seed.

A sweep is one task per (L, T, seed index). A task's random stream derives only from
(global seed, L, T, seed index): `task_seed` hashes them through numpy's SeedSequence into the
sampler's integer seed, so results do not depend on how many workers ran the tasks, nor where,
nor in which order. Temperatures are rounded to TEMPERATURE_DIGITS decimals, and the hash uses
that rounded value as an integer, so "2.27" from a list and from a range give the same task.

Every input is checked here (one IsingLabError line each), before a cluster is started.
"""
from __future__ import annotations

import hashlib
import json
import math
import dataclasses
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import IsingLabError
from ..limits import MAX_COUNT, check_count, check_work, estimate_seconds, show_number
from ..params import ALGORITHMS, MAX_SEED, ModelParams, check_temperature
from ..sampling import AUTO, auto_algorithm

TEMPERATURE_DIGITS = 6  # temperatures are rounded to 1e-6 (J/k_B): the task's name and seed use it
MIN_STEP = 10.0 ** -TEMPERATURE_DIGITS
MAX_SIZES = 64
MAX_TEMPERATURES = 10_000
MAX_SEEDS = 10_000
MAX_TASKS = 100_000  # groups in one store: more is not a sweep but a mistake
MIN_SWEEPS = 16  # measured sweeps of one task: enough for a binned error bar
BYTES_PER_SWEEP = 16  # e and m, float64, one each per measured sweep
SEED_TAG = 0x15_1A_B5_EE  # keeps sweep streams apart from other uses of the same integers
FORMAT = "isinglab-sweep"
FORMAT_VERSION = 1


def default_thermalize(sweeps: int) -> int:
    """Sweeps discarded before measuring when --thermalize is not given: max(100, sweeps / 10)."""
    return max(100, sweeps // 10)


def temperature_key(t: float) -> int:
    """The temperature as an integer in units of 1e-6: the name and the seed of a task use it."""
    return int(round(t * 10 ** TEMPERATURE_DIGITS))


def parse_sizes(text: str) -> list[int]:
    """'16,32,64' -> [16, 32, 64] (sorted, each L in the sampled range, no repeats)."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise IsingLabError(f"--sizes must be a comma-separated list of lattice sizes, got {_short(text)}")
    if len(parts) > MAX_SIZES:
        raise IsingLabError(f"--sizes: at most {MAX_SIZES} sizes, got {len(parts)}")
    sizes = []
    for p in parts:
        try:
            v = int(p)
        except ValueError:
            raise IsingLabError(f"--sizes: {_short(p)} is not an integer lattice size") from None
        sizes.append(v)
    if len(set(sizes)) != len(sizes):
        raise IsingLabError(f"--sizes: a size is repeated in {_short(text)}")
    return sorted(sizes)


def parse_temperatures(text: str) -> list[float]:
    """'2.22:2.32:0.005' (start:stop:step, stop included) or '2.2,2.25,2.3' -> sorted temperatures,
    rounded to TEMPERATURE_DIGITS decimals, each in the model's range, no repeats."""
    s = str(text).strip()
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 3:
            raise IsingLabError(f"--temperatures: a range is START:STOP:STEP, got {_short(text)}")
        lo, hi, step = (_number(p, "--temperatures") for p in parts)
        if not step > 0.0:
            raise IsingLabError(f"--temperatures: the step must be > 0, got {step:g}")
        if step < MIN_STEP:
            raise IsingLabError(f"--temperatures: the step must be at least {MIN_STEP:g}, got {step:g}")
        if hi < lo:
            raise IsingLabError(f"--temperatures: STOP must not be below START, got {lo:g}:{hi:g}")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count > MAX_TEMPERATURES:
            raise IsingLabError(f"--temperatures: at most {MAX_TEMPERATURES} temperatures, got {show_number(count)}")
        values = [lo + i * step for i in range(count)]
    else:
        parts = [p.strip() for p in s.split(",")]
        if any(not p for p in parts):
            raise IsingLabError(f"--temperatures must be START:STOP:STEP or a comma-separated list, got {_short(text)}")
        if len(parts) > MAX_TEMPERATURES:
            raise IsingLabError(f"--temperatures: at most {MAX_TEMPERATURES} temperatures, got {len(parts)}")
        values = [_number(p, "--temperatures") for p in parts]
    temps = []
    for v in values:
        try:
            check_temperature(v)
        except IsingLabError as exc:
            raise IsingLabError(f"--temperatures: {exc}") from None
        temps.append(round(v, TEMPERATURE_DIGITS))
    if len(set(temps)) != len(temps):
        raise IsingLabError(f"--temperatures: two temperatures are equal to {TEMPERATURE_DIGITS} decimals")
    return sorted(temps)


def _number(text: str, name: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise IsingLabError(f"{name}: {_short(text)} is not a number") from None
    if not math.isfinite(v):
        raise IsingLabError(f"{name}: {_short(text)} is not a finite number")
    return v


def _short(text) -> str:
    s = str(text)
    return repr(s if len(s) <= 40 else s[:40] + "...")


@dataclass(frozen=True)
class Task:
    size: int
    temperature: float
    seed_index: int
    seed: int  # the sampler's seed, from task_seed

    @property
    def name(self) -> str:
        """The task's group name in the store, e.g. 'L0032_T2.269000_s03'."""
        return f"L{self.size:04d}_T{self.temperature:.{TEMPERATURE_DIGITS}f}_s{self.seed_index:02d}"

    @property
    def spins(self) -> int:
        return self.size * self.size


def task_seed(global_seed: int, size: int, temperature: float, seed_index: int) -> int:
    """The sampler seed of one task: a SeedSequence of (global seed, L, T, seed index) only."""
    ss = np.random.SeedSequence([SEED_TAG, int(global_seed), int(size), temperature_key(temperature),
                                 int(seed_index)])
    return int(ss.generate_state(1, np.uint64)[0]) % MAX_SEED


@dataclass(frozen=True)
class SweepPlan:
    sizes: tuple
    temperatures: tuple
    seeds: int
    sweeps: int
    thermalize: int
    algorithm: str  # resolved ("auto" picks Wolff for the zero-field ferromagnet)
    seed: int = 0
    coupling: float = 1.0
    field: float = 0.0
    tasks: tuple = dataclasses.field(default=(), compare=False, repr=False)

    @classmethod
    def build(cls, sizes, temperatures, seeds: int, sweeps: int, thermalize: int | None = None,
              algorithm: str = AUTO, seed: int = 0) -> "SweepPlan":
        """A checked plan: every (L, algorithm) pair valid, counts in range, tasks listed."""
        sizes = tuple(int(L) for L in sizes)
        temperatures = tuple(float(t) for t in temperatures)
        if not sizes:
            raise IsingLabError("--sizes: give at least one lattice size")
        if not temperatures:
            raise IsingLabError("--temperatures: give at least one temperature")
        check_count("--seeds", seeds, 1, MAX_SEEDS)
        check_count("--sweeps", sweeps, MIN_SWEEPS, MAX_COUNT)
        thermalize = default_thermalize(sweeps) if thermalize is None else thermalize
        check_count("--thermalize", thermalize, 0, MAX_COUNT)
        if not 0 <= int(seed) < MAX_SEED:
            raise IsingLabError(f"--seed must be an integer in [0, 2^63), got {seed!r}")
        if algorithm != AUTO and algorithm not in ALGORITHMS:
            raise IsingLabError(f"unknown algorithm {algorithm!r}; choose auto or one of: {', '.join(ALGORITHMS)}")
        algo = auto_algorithm(ModelParams(size=sizes[0], temperature=temperatures[0]), algorithm)
        n_tasks = len(sizes) * len(temperatures) * seeds
        if n_tasks > MAX_TASKS:
            raise IsingLabError(f"sweep: {len(sizes)} sizes x {len(temperatures)} temperatures x {seeds} seeds = "
                                f"{show_number(n_tasks)} tasks, more than the limit of {MAX_TASKS}")
        for L in sizes:
            for t in (temperatures[0], temperatures[-1]):
                try:
                    ModelParams(size=L, temperature=t, algorithm=algo, seed=0).validated()
                except IsingLabError as exc:
                    raise IsingLabError(f"sweep: L = {L}, T = {t:g}: {exc}") from None
        tasks = tuple(Task(L, t, k, task_seed(seed, L, t, k))
                      for L in sizes for t in temperatures for k in range(seeds))
        return cls(sizes=sizes, temperatures=temperatures, seeds=int(seeds), sweeps=int(sweeps),
                   thermalize=int(thermalize), algorithm=algo, seed=int(seed), tasks=tasks)

    def parameters(self) -> dict:
        """What identifies the sweep (JSON-safe): a store is resumed only with equal parameters."""
        d = asdict(self)
        d.pop("tasks")
        d["sizes"] = list(self.sizes)
        d["temperatures"] = list(self.temperatures)
        return d

    def fingerprint(self) -> str:
        """A short hash of the parameters (the dask keys of this sweep's tasks carry it)."""
        blob = json.dumps(self.parameters(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def task_updates(self, task: Task) -> int:
        """Spin updates of one task: L^2 x (thermalize + sweeps)."""
        return task.spins * (self.thermalize + self.sweeps)

    def check_work(self, tasks, workers: int, allow_long: bool = False) -> float:
        """The estimated wall time of `tasks` on `workers` parallel workers within core/limits.py."""
        tasks = list(tasks)
        updates = sum(self.task_updates(t) for t in tasks)
        workers = max(1, int(workers))
        return check_work("sweep", updates / workers, algorithm=self.algorithm, allow_long=allow_long,
                          detail=f"sum over {len(tasks)} tasks of L^2 x (thermalize + sweeps) / {workers} workers")

    def estimate_seconds(self, tasks, workers: int) -> float:
        return estimate_seconds(sum(self.task_updates(t) for t in tasks) / max(1, workers), self.algorithm)

    def task_bytes(self) -> int:
        return BYTES_PER_SWEEP * self.sweeps
