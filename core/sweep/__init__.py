"""Parameter sweeps over (L, T, seed) on a dask.distributed cluster, stored in Zarr.

plan: SweepPlan (inputs, tasks, the seed of each task, work estimates); task: run_task, the
pure function a worker runs; store: SweepStore, the Zarr layout the client writes; runner:
run_sweep (embedded LocalCluster or an existing scheduler, resume, progress). The analysis of a
store is core.fss. dask and zarr are imported only when a sweep runs or a store is opened.
"""
from .plan import SweepPlan, Task, parse_sizes, parse_temperatures, task_seed

__all__ = ["SweepPlan", "Task", "parse_sizes", "parse_temperatures", "task_seed"]
