"""Run a sweep on a dask.distributed cluster and store each task as soon as it finishes.

The cluster is dask's own: an embedded `LocalCluster` (worker processes, one thread each) or an
existing one reached with `distributed.Client(address)`. Scheduling, moving results and
re-running the tasks of a lost worker are dask's; isinglab only submits pure tasks
(`task.run_task`), takes them back with `as_completed`, summarises each in this process and
writes it to the store before taking the next. A killed sweep thus loses at most the tasks in
flight, and the same command run again skips every finished task.
"""
from __future__ import annotations

import logging
import math
import os
import re
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..errors import IsingLabError
from ..limits import check_memory
from ..observables import summarise
from .plan import SweepPlan
from .store import SweepStore, point_summary
from .task import run_task

SCHEDULER_RE = re.compile(r"^(tcp|tls|ws|wss|ucx)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
MAX_WORKERS = 1024
CONNECT_TIMEOUT = "20s"
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # one task per core, no nested threads


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_scheduler(address: str) -> str:
    text = str(address).strip()
    if len(text) > 256 or not SCHEDULER_RE.match(text):
        shown = text if len(text) <= 60 else text[:60] + "..."
        raise IsingLabError(f"--scheduler must be an address such as tcp://HOST:PORT, got {shown!r}")
    port = int(text.rsplit(":", 1)[1])
    if not 1 <= port <= 65535:
        raise IsingLabError(f"--scheduler: port {port} is not between 1 and 65535")
    return text


@dataclass
class Progress:
    """What a progress callback sees after each finished task."""

    total: int  # tasks of the whole sweep
    skipped: int  # finished before this run (resumed)
    submitted: int
    done: int = 0
    failed: int = 0
    workers: int = 0
    started: float = field(default_factory=time.monotonic)
    work_done: float = 0.0  # spin updates of the tasks finished in this run
    work_total: float = 0.0
    task_seconds: float = 0.0  # wall time of the tasks finished in this run, summed
    task_cpu_seconds: float = 0.0  # ... and their CPU time

    @property
    def in_flight(self) -> int:
        return self.submitted - self.done - self.failed

    @property
    def running(self) -> int:
        return min(self.in_flight, self.workers) if self.workers else self.in_flight

    @property
    def eta(self) -> float:
        """Seconds left, from the work (spin updates) done so far; nan before the first task."""
        if self.work_done <= 0.0:
            return math.nan
        elapsed = time.monotonic() - self.started
        return elapsed * (self.work_total - self.work_done) / self.work_done

    def line(self) -> str:
        eta = self.eta
        eta_text = "?" if not math.isfinite(eta) else _duration(eta)
        return (f"sweep: {self.skipped + self.done}/{self.total} done, {self.running} running, "
                f"{self.in_flight - self.running} queued, {self.failed} failed, ETA {eta_text}")


def _duration(s: float) -> str:
    s = max(0, int(round(s)))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


@contextmanager
def _defer_sigint():
    """Hold back SIGINT (Ctrl-C) until the block is done; on the main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


@contextmanager
def cluster_client(scheduler: str | None, workers: int | None):
    """A distributed.Client: to `scheduler` when given, else to an embedded LocalCluster of
    `workers` worker processes with one thread each. Yields (client, description)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise IsingLabError(f"cannot reach the dask scheduler at {scheduler}: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        try:
            yield client, f"scheduler {scheduler}"
        finally:
            client.close()
        return
    n = workers or default_workers()
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR, env=dict(WORKER_ENV))
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client, f"embedded cluster of {n} workers"
        finally:
            client.close()
    finally:
        cluster.close()


def _nthreads(client) -> int:
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # the count is only for the progress line and the estimate
        return 0


def _check_resources(plan: SweepPlan, folder: str, todo: list, workers: int) -> None:
    # in this process: one result in flight and its copies; on a local cluster each worker's task
    check_memory("sweep: the e and m series of the tasks in flight", plan.task_bytes() * 2 * (workers + 2))
    need = plan.task_bytes() * len(todo)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if need > free:
        raise IsingLabError(f"sweep: {len(todo)} tasks x {plan.sweeps} sweeps need up to {need / 2**30:.3g} GiB in "
                            f"{folder}, more than the {free / 2**30:.3g} GiB free there")


def run_sweep(plan: SweepPlan, store_path, *, scheduler: str | None = None, workers: int | None = None,
              allow_long: bool = False, progress: Optional[Callable[[Progress], None]] = None) -> dict:
    """Run the tasks of `plan` that `store_path` does not hold yet; return the store summary.

    Raises IsingLabError for bad input, a store of other parameters, an unreachable scheduler,
    or (after every other task finished and was stored) tasks that failed."""
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)
    if workers is not None and not 1 <= int(workers) <= MAX_WORKERS:
        raise IsingLabError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    t_start = time.monotonic()
    store = SweepStore.existing(store_path, plan)  # nothing is created before every check passed
    finished = store.finished(remove_unfinished=True) if store is not None else {}
    todo = [t for t in plan.tasks if t.name not in finished]
    skipped = len(plan.tasks) - len(todo)
    ran, failures, n_workers, where, compute_seconds = 0, [], 0, None, 0.0
    task_seconds = task_cpu = 0.0
    folder = store.path if store is not None else os.path.dirname(os.path.abspath(os.path.expanduser(store_path)))
    if todo:
        if scheduler is None:
            n_workers = workers or default_workers()
            plan.check_work(todo, n_workers, allow_long)
            _check_resources(plan, folder, todo, n_workers)
        with cluster_client(scheduler, workers) as (client, where):
            if scheduler is not None:
                n_workers = _nthreads(client)
                plan.check_work(todo, max(1, n_workers), allow_long)
                _check_resources(plan, folder, todo, 0)
            if store is None:
                store = SweepStore.create_or_resume(store_path, plan)
            t0 = time.monotonic()
            ran, failures, state = _run(client, plan, store, todo, skipped, n_workers, progress)
            task_seconds, task_cpu = state.task_seconds, state.task_cpu_seconds
            compute_seconds = time.monotonic() - t0
    if store is None:  # an empty sweep cannot happen (a plan has tasks), but keep the store promise
        store = SweepStore.create_or_resume(store_path, plan)
    finished = store.finished()
    if failures:
        task, exc = failures[0]
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise IsingLabError(f"sweep: {len(failures)} of {len(todo)} tasks failed (first: {task.name}: "
                            f"{type(exc).__name__}: {detail}); the {len(finished)} finished tasks are in "
                            f"{store.path}; run the same command again to retry the rest")
    return {
        "store": store.path,
        "parameters": plan.parameters(),
        "tasks": len(plan.tasks),
        "finished": len(finished),
        "ran": ran,
        "skipped": skipped,
        "failed": 0,
        "cluster": where or "none (nothing to run)",
        "workers": n_workers,
        "seconds": time.monotonic() - t_start,
        "compute_seconds": compute_seconds,
        "tasks_per_second": ran / compute_seconds if compute_seconds > 0 else 0.0,
        "task_seconds": task_seconds,
        "task_cpu_seconds": task_cpu,
        "points": point_summary(finished),
    }


def task_key(plan: SweepPlan, task) -> str:
    """The dask key of a task: the same in `isinglab sweep` and the dock, so either resumes the other."""
    return f"isinglab-sweep-{plan.fingerprint()}-{task.name}"


def submit_tasks(client, plan: SweepPlan, todo: list) -> tuple[list, dict]:
    """Submit `todo`, the largest lattices first (the longest tasks); returns (order, future -> task)."""
    order = sorted(todo, key=lambda t: (-t.size, t.temperature, t.seed_index))
    futures = {client.submit(run_task, t.size, t.temperature, plan.algorithm, t.seed, plan.sweeps,
                             plan.thermalize, plan.coupling, plan.field, key=task_key(plan, t)): t
               for t in order}
    return order, futures


def _run(client, plan: SweepPlan, store: SweepStore, todo: list, skipped: int, workers: int, progress) -> tuple:
    from distributed import as_completed

    order, futures = submit_tasks(client, plan, todo)
    state = Progress(total=len(plan.tasks), skipped=skipped, submitted=len(futures), workers=workers,
                     work_total=float(sum(plan.task_updates(t) for t in todo)))
    failures: list = []
    ran = 0
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            task = futures.pop(fut)
            if fut.status == "finished":
                try:
                    result = fut.result()
                except Exception as exc:  # lost between finishing and being fetched
                    failures.append((task, exc))
                    state.failed += 1
                else:
                    e, m = result["e"], result["m"]
                    summary = summarise(e, m, task.size, task.temperature)
                    with _defer_sigint():  # Ctrl-C lands between two tasks, not inside a write
                        store.write(task, plan, result, summary)
                    ran += 1
                    state.task_seconds += float(result.get("seconds", 0.0))
                    state.task_cpu_seconds += float(result.get("cpu_seconds", 0.0))
                    state.done += 1
                    state.work_done += plan.task_updates(task)
            else:
                try:
                    exc = fut.exception()
                except Exception as err:  # cancelled futures have no exception to fetch
                    exc = err
                failures.append((task, exc if exc is not None else RuntimeError(fut.status)))
                state.failed += 1
            fut.release()
            if progress is not None:
                state.workers = _nthreads(client) or state.workers
                progress(state)
    finally:
        for fut in futures:  # interrupted: cancel what is left (its tasks are simply run again)
            fut.cancel()
    return ran, failures, state
