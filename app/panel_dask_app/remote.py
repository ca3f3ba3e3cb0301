"""Code the app ships to the cluster: a task wrapper for workers, a probe for the scheduler.

Both are plain module-level functions so Dask pickles them by reference; the
workers and the scheduler run from the same image, so they import this module.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

from distributed import get_worker

from panel_dask_app import scheduler_api
from panel_dask_app.tasks import get_spec


class TaskOutcome(TypedDict):
    """What a finished task reports back: its value, where it ran, how long it took."""

    value: Any
    worker: str
    duration: float


class TaskFailedError(Exception):
    """A task raised on a worker; carries the worker and run time for the table."""

    def __init__(self, message: str, worker: str, duration: float) -> None:
        # Every field goes to Exception.__init__ so the error pickles back intact.
        super().__init__(message, worker, duration)
        self.message = message
        self.worker = worker
        self.duration = duration

    def __str__(self) -> str:
        return self.message


def run_task(task_name: str, argument: int | float) -> TaskOutcome:
    """Run one named task on a worker and report the worker and the compute time.

    Timing on the worker measures the work itself, not the queueing before it.
    """
    worker = get_worker().address
    started = time.perf_counter()
    try:
        value = get_spec(task_name).function(argument)
    except Exception as exc:
        raise TaskFailedError(
            f"{type(exc).__name__}: {exc}", worker, time.perf_counter() - started
        ) from None
    return TaskOutcome(value=value, worker=worker, duration=time.perf_counter() - started)


class ClusterSummary(TypedDict):
    """Counts the cluster panel shows; one scheduler round trip fills it."""

    workers: int
    threads: int
    queued: int
    processing: int
    memory_used: int
    memory_limit: int


def cluster_summary(dask_scheduler: Any) -> ClusterSummary:
    """Count workers, threads, queued and processing tasks, memory (runs on the scheduler).

    One reading of the scheduler's state document, the same one the queue
    autoscaler reads over HTTP (:mod:`panel_dask_app.scheduler_api`), so the
    page and the autoscaler never count differently. The app reaches the
    scheduler's comm port only, hence a function run on the scheduler.
    """
    return summarize(scheduler_api.state(dask_scheduler))


def summarize(state: dict[str, Any]) -> ClusterSummary:
    """The cluster panel's counts from a state document.

    ``queued`` includes tasks with no worker able to run them, since both wait
    for capacity.
    """
    tasks, workers = state["tasks"], state["workers"]
    return ClusterSummary(
        workers=len(workers),
        threads=sum(w["nthreads"] for w in workers),
        queued=tasks.get("queued", 0) + tasks.get("no-worker", 0),
        processing=tasks.get("processing", 0),
        memory_used=sum(w["memory_process"] for w in workers),
        memory_limit=sum(w["memory_limit"] for w in workers),
    )


class TaskProgress(TypedDict):
    """Where one task stands on the scheduler, as the session's poller reads it."""

    state: str
    worker: str
    retries: int


def task_progress(keys: list[str], dask_scheduler: Any = None) -> dict[str, TaskProgress]:
    """State, processing worker and lost-worker count of each key (runs on the scheduler).

    ``retries`` is the scheduler's ``suspicious`` count: how many workers died
    while running the task. The scheduler re-runs such a task elsewhere (up to
    ``distributed.scheduler.allowed-failures`` times before KilledWorker), and
    no RPC handler reports it, hence a function run on the scheduler. Keys the
    scheduler has forgotten are left out.
    """
    progress: dict[str, TaskProgress] = {}
    for key in keys:
        ts = dask_scheduler.tasks.get(key)
        if ts is not None:
            progress[key] = TaskProgress(
                state=ts.state,
                worker=ts.processing_on.address if ts.processing_on is not None else "",
                retries=ts.suspicious,
            )
    return progress
