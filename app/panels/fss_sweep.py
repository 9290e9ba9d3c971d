"""The finite-size scaling dock's sweep, without Qt: run one on dask, or read a store back.

`run_sweep_job` is `isinglab sweep` (core.sweep) made cancellable for a window: the same plan,
store, task function and dask keys, but it waits for results in short slices, so a cancel takes
effect within a fraction of a second (the tasks in flight are cancelled and the cluster closed;
what was stored stays, and the same sweep started again resumes it), and it asks the scheduler
which tasks are on a worker, for the task grid. `open_store_job` reads a finished or growing
store (read-only). Both run on a TaskRunner thread and fill a `SweepBoard`: the state of every
(L, T, seed) task and the e, m series of the finished ones, which the panel polls (GUI thread)
and hands to the analysis worker.
"""
from __future__ import annotations

import logging
import math
import os
import queue
import signal
import socket
import time

from isinglab.core.errors import IsingLabError
from isinglab.core.fss.analysis import BYTES_PER_SAMPLE
from isinglab.core.limits import check_memory, check_work
from isinglab.core.observables import summarise
from isinglab.core.sweep import SweepPlan
from isinglab.core.sweep.plan import MAX_SEEDS, MAX_SIZES, MAX_TEMPERATURES
from isinglab.core.sweep.runner import (WORKER_ENV, Progress, _check_resources, check_scheduler, default_workers,
                                        submit_tasks, task_key)
from isinglab.core.sweep.store import SweepStore
from isinglab.core.tasks import TaskState

from isinglab.app.panels.fss_board import FAILED, SweepBoard, SweepRequest

WAIT_SLICE_S = 0.1  # how often the sweep loop looks at the cancel flag while it waits for results
RUNNING_POLL_S = 0.25  # how often it asks the scheduler which tasks are on a worker
CONNECT_TIMEOUT_S = 10.0  # to reach a scheduler (checked for cancel every PROBE_SLICE_S)
PROBE_SLICE_S = 0.25
CLOSE_TIMEOUT_S = 2.0  # closing the client and an embedded cluster (workers busy in a kernel are killed)
ALLOW_LONG_HINT = "tick 'Allow long' to run it anyway"


# ----------------------------------------------------------------------------- running a sweep


def run_sweep_job(request: SweepRequest, board: SweepBoard, *, task: TaskState) -> dict:
    """Run the tasks of `request` that its store does not hold yet, filling `board`; returns a
    summary (store, counts, cluster). Raises IsingLabError (one line) or Cancelled."""
    generation = board.generation
    try:
        return _run(request, board, task)
    finally:
        board.finish(generation)


def _run(request: SweepRequest, board: SweepBoard, task: TaskState) -> dict:
    plan = request.check()
    scheduler = check_scheduler(request.scheduler) if request.scheduler.strip() else None
    path = request.store_path()
    store = SweepStore.existing(path, plan)  # a store of other parameters is refused here
    board.reset(plan.sizes, plan.temperatures, plan.seeds, plan.parameters(), path)
    finished = store.finished(remove_unfinished=True) if store is not None else {}
    check_memory(f"the analysis of {len(plan.tasks)} tasks x {plan.sweeps} sweeps",
                 len(plan.tasks) * plan.sweeps * BYTES_PER_SAMPLE)
    for k, (name, attrs) in enumerate(finished.items()):  # resumed: what is there joins the analysis
        task.check()
        e, m = store.read_series(name)
        board.add_run(attrs["size"], attrs["temperature"], attrs["seed_index"], e, m, attrs.get("summary") or {})
        board.set_line(f"reading the {len(finished)} finished tasks of {path}: {k + 1}")
    todo = [t for t in plan.tasks if t.name not in finished]
    if not todo:
        board.set_line(f"all {len(plan.tasks)} tasks were in {path} already")
        return _summary(plan, path, len(finished), 0, [], "none (nothing to run)", 0)
    folder = store.path if store is not None else os.path.dirname(path)
    if scheduler is None:
        workers = int(request.workers)
        _check_work(plan, todo, workers, request.allow_long)
        _check_resources(plan, folder, todo, workers)
    task.check()
    board.set_line("starting the cluster…" if scheduler is None else f"connecting to {scheduler}…")
    client, cluster, where = _connect(scheduler, request.workers, task)
    try:
        task.check()
        n_workers = _nthreads(client) or (int(request.workers) if scheduler is None else 0)
        if scheduler is not None:
            _check_work(plan, todo, max(1, n_workers), request.allow_long)
            _check_resources(plan, folder, todo, 0)
        if store is None:
            store = SweepStore.create_or_resume(path, plan)
        board.set_line(f"{len(todo)} tasks on the {where}", where)
        ran, failures = _loop(client, plan, store, todo, len(finished), n_workers, board, task)
    except BaseException:
        _close(client, cluster, kill=True)
        raise
    _close(client, cluster, kill=False)
    return _summary(plan, path, len(finished) + ran, ran, failures, where, n_workers)


def _check_work(plan: SweepPlan, tasks, workers: int, allow_long: bool) -> None:
    updates = sum(plan.task_updates(t) for t in tasks)
    check_work("sweep", updates / max(1, workers), algorithm=plan.algorithm, allow_long=allow_long,
               detail=f"sum over {len(tasks)} tasks of L^2 x (thermalize + sweeps) / {workers} workers",
               hint=ALLOW_LONG_HINT)


def _summary(plan, path, finished, ran, failures, where, workers) -> dict:
    out = {"store": path, "parameters": plan.parameters(), "tasks": len(plan.tasks), "finished": finished,
           "ran": ran, "failed": len(failures), "cluster": where, "workers": workers}
    if failures:
        name, message = failures[0]
        out["message"] = (f"{len(failures)} tasks failed (first: {name}: {message}); start the same sweep "
                          "again to retry them")
    return out


def _connect(scheduler: str | None, workers: int, task: TaskState):
    """(client, cluster or None, description): an embedded LocalCluster, or the scheduler at
    `scheduler` after a socket probe that answers a refused or silent address at once."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        _probe(scheduler, task)
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S:g}s", set_as_default=False)
        except Exception as exc:  # distributed raises OSError, TimeoutError, and worse for a non-dask peer
            raise IsingLabError(f"cannot reach the dask scheduler at {scheduler}: {_first_line(exc)}") from None
        return client, None, f"scheduler {scheduler}"
    n = int(workers) or default_workers()
    try:
        # no dashboard, and the scheduler's HTTP server on a free port (not 8787, which another
        # cluster on this machine may hold: dask would warn)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                               scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR,
                               env=dict(WORKER_ENV))
    except Exception as exc:
        raise IsingLabError(f"could not start a local dask cluster of {n} workers: {_first_line(exc)}") from None
    try:
        client = Client(cluster, set_as_default=False)
    except Exception as exc:
        _close_quietly(cluster)
        raise IsingLabError(f"could not connect to the local dask cluster: {_first_line(exc)}") from None
    return client, cluster, f"embedded cluster of {n} worker{'s' if n != 1 else ''}"


def _probe(address: str, task: TaskState) -> None:
    """Open a TCP connection to the scheduler's port, in short slices (a cancel is seen)."""
    scheme, rest = address.split("://", 1)
    if scheme != "tcp":
        return  # tls, ws, ucx: left to distributed
    host, port = rest.rsplit(":", 1)
    host = host.strip("[]")
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        task.check()
        left = deadline - time.monotonic()
        if left <= 0:
            raise IsingLabError(f"cannot reach the dask scheduler at {address}: no answer within "
                                f"{CONNECT_TIMEOUT_S:g} s")
        try:
            with socket.create_connection((host, int(port)), timeout=min(PROBE_SLICE_S, left)):
                return
        except ConnectionRefusedError:
            raise IsingLabError(f"cannot reach the dask scheduler at {address}: connection refused "
                                "(is a scheduler running there?)") from None
        except socket.gaierror:
            raise IsingLabError(f"cannot reach the dask scheduler at {address}: unknown host {host}") from None
        except OSError as exc:
            if isinstance(exc, (TimeoutError, socket.timeout)):
                continue
            if time.monotonic() >= deadline:
                raise IsingLabError(f"cannot reach the dask scheduler at {address}: {_first_line(exc)}") from None
            time.sleep(min(PROBE_SLICE_S, max(0.0, deadline - time.monotonic())))


def _close(client, cluster, kill: bool) -> None:
    """Close the client and an embedded cluster. `kill` (cancelled, or an error): the embedded
    workers are killed first, since a worker busy in a kernel closes only after the nanny's
    timeout (seconds); what they computed is not needed, and the store is written only here."""
    if cluster is not None and kill:
        for nanny in list(cluster.workers.values()):
            try:
                if nanny.pid:
                    os.kill(nanny.pid, signal.SIGKILL)
            except (AttributeError, OSError, ValueError):  # gone already
                pass
    try:
        client.close(timeout=CLOSE_TIMEOUT_S)
    except Exception:  # closing what may already be gone: nothing left to tell anyone
        pass
    if cluster is not None:
        try:
            cluster.close(timeout=CLOSE_TIMEOUT_S)
        except Exception:
            pass


def _close_quietly(cluster) -> None:
    try:
        cluster.close(timeout=CLOSE_TIMEOUT_S)
    except Exception:
        pass


def _nthreads(client) -> int:
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # only for the progress line and the estimate
        return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:200] if text else type(exc).__name__)


def _loop(client, plan: SweepPlan, store: SweepStore, todo: list, skipped: int, workers: int,
          board: SweepBoard, task: TaskState) -> tuple[int, list]:
    order, futures = submit_tasks(client, plan, todo)  # the keys `isinglab sweep` uses too
    by_key = {task_key(plan, t): (i, t) for i, t in enumerate(order)}
    state = Progress(total=len(plan.tasks), skipped=skipped, submitted=len(futures), workers=workers,
                     work_total=float(sum(plan.task_updates(t) for t in todo)))
    failures: list = []
    ran = 0
    ready: queue.Queue = queue.Queue()  # futures as they end (done callbacks run on dask's threads)
    for fut in futures:
        fut.add_done_callback(ready.put)
    asked = 0.0
    try:
        while futures:
            task.check()
            if time.monotonic() - asked >= RUNNING_POLL_S:
                asked = time.monotonic()
                _mark_running(client, by_key, board)
            try:
                done = [ready.get(timeout=WAIT_SLICE_S)]
            except queue.Empty:
                continue
            while not ready.empty():
                done.append(ready.get_nowait())
            for fut in done:
                if fut not in futures:
                    continue
                t = futures.pop(fut)
                try:
                    if fut.status != "finished":
                        raise fut.exception() or RuntimeError(fut.status)
                    result = fut.result()
                except Exception as exc:  # the task raised, or its worker was lost too often
                    failures.append((t.name, f"{type(exc).__name__}: {_first_line(exc)}"))
                    state.failed += 1
                    board.set_state(t.size, t.temperature, t.seed_index, FAILED)
                else:
                    e, m = result["e"], result["m"]
                    summary = summarise(e, m, t.size, t.temperature)
                    store.write(t, plan, result, summary)
                    board.add_run(t.size, t.temperature, t.seed_index, e, m, summary)
                    ran += 1
                    state.done += 1
                    state.work_done += plan.task_updates(t)
                fut.release()
                state.workers = workers
                board.set_line(state.line())
    finally:
        if futures:  # cancelled or failed: what is left goes (its tasks simply run again next time)
            try:
                client.cancel(list(futures))
            except Exception:
                pass
    return ran, failures


def _mark_running(client, by_key: dict, board: SweepBoard) -> None:
    """The tasks running on the workers: of the tasks the scheduler has sent to a worker (dask's
    "processing", which also holds the next ones in the worker's queue), as many as the worker has
    threads, in the order of submission (dask's priority)."""
    try:
        processing = client.processing()
        threads = client.nthreads()
    except Exception:  # the grid just shows no running cells for a moment
        return
    cells = []
    for worker, keys in processing.items():
        mine = sorted((by_key[k] for k in keys if k in by_key), key=lambda pair: pair[0])
        for _, t in mine[:max(1, int(threads.get(worker, 1)))]:
            cells.append((t.size, t.temperature, t.seed_index))
    board.set_running(cells)


# ----------------------------------------------------------------------------- opening a store


def open_store_job(path: str, board: SweepBoard, *, task: TaskState) -> dict:
    """Read the finished tasks of the sweep store at `path` (read-only) into `board`."""
    generation = board.generation
    try:
        return _open(path, board, task)
    finally:
        board.finish(generation)


def _open(path: str, board: SweepBoard, task: TaskState) -> dict:
    store = SweepStore.open_read(path)
    params = store.parameters
    sizes, temps, seeds = _dimensions(store.path, params)
    if float(params.get("field", 0.0) or 0.0) != 0.0 or float(params.get("coupling", 1.0) or 1.0) != 1.0:
        raise IsingLabError(f"{store.path}: the dock analyses the zero-field ferromagnet (J = 1, h = 0)")
    finished = store.finished()
    samples = sum(int(a.get("sweeps") or 0) for a in finished.values())
    check_memory(f"fss: {len(finished)} tasks of {store.path}", samples * BYTES_PER_SAMPLE)
    board.reset(sizes, temps, seeds, params, store.path)
    n = len(finished)
    for k, (name, attrs) in enumerate(finished.items()):
        task.progress(k / max(n, 1), f"reading {k + 1}/{n}")
        try:
            L, t, s = int(attrs["size"]), float(attrs["temperature"]), int(attrs["seed_index"])
        except (KeyError, TypeError, ValueError):
            raise IsingLabError(f"{store.path}: task {name} lacks its size, temperature or seed index") from None
        e, m = store.read_series(name)
        summary = attrs.get("summary")
        if not isinstance(summary, dict):
            summary = summarise(e, m, L, t)
        board.add_run(L, t, s, e, m, summary)
    total = len(sizes) * len(temps) * seeds
    board.set_line(f"{n} of {total} tasks finished in {store.path} (read-only)", "none (a stored sweep)")
    return {"store": store.path, "parameters": params, "tasks": total, "finished": n, "ran": 0, "failed": 0,
            "cluster": "none (a stored sweep)", "workers": 0}


def _dimensions(path: str, params: dict) -> tuple[list, list, int]:
    """Sizes, temperatures and seeds of a store's parameters, checked (the grid is built from them)."""
    try:
        sizes = [int(L) for L in params["sizes"]]
        temps = [float(t) for t in params["temperatures"]]
        seeds = int(params["seeds"])
    except (KeyError, TypeError, ValueError):
        raise IsingLabError(f"{path}: the store's parameters lack its sizes, temperatures or seeds") from None
    if not (0 < len(sizes) <= MAX_SIZES and 0 < len(temps) <= MAX_TEMPERATURES and 1 <= seeds <= MAX_SEEDS
            and all(L > 0 for L in sizes) and all(math.isfinite(t) and t > 0 for t in temps)):
        raise IsingLabError(f"{path}: the store's sizes, temperatures or seeds are out of range")
    return sizes, temps, seeds
