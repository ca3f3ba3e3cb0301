"""The scheduler's state as the autoscalers see it, read from the scheduler's JSON.

The scheduler serves that JSON from a route of the app image
(``panel_dask_app.scheduler_api``, ``GET <dashboard>/panel-dask/v1/state``),
documented there. This operator must not import the app, so the contract is
held from both ends: :func:`read_state` checks every field it uses and refuses
a document without them (naming the field), and a test runs the real route in a
real scheduler and reads it with this function. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from panel_dask_operator.policy import Observation

STATE_PATH = "/panel-dask/v1/state"
STATE_ROUTE_MODULE = "panel_dask_app.scheduler_api"
WORKER_FIELDS = {
    "name": str,
    "address": str,
    "status": str,
    "nthreads": int,
    "processing": int,
    "long_running": int,
    "stored_bytes": int,
}


class SchedulerUnreachableError(RuntimeError):
    """The scheduler's HTTP server did not answer, or answered something unusable."""


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the scheduler sees it; ``stored``: bytes held (less is cheaper to retire)."""

    address: str
    name: str
    busy: bool = False
    stored: int = 0


@dataclass(frozen=True)
class SchedulerSnapshot:
    """Task counts and workers at one instant; ``version`` changes with the backlog."""

    queued: int
    no_worker: int
    processing: int
    threads: int
    ready_workers: int
    busy_workers: int
    workers: tuple[WorkerInfo, ...]
    version: str = ""

    def observation(self, pending: int) -> Observation:
        """The policy's input, with ``pending`` workers requested but not connected."""
        return Observation(
            queued=self.queued,
            no_worker=self.no_worker,
            processing=self.processing,
            threads=self.threads,
            ready_workers=self.ready_workers,
            pending_workers=max(0, pending),
            busy_workers=self.busy_workers,
        )


def read_state(document: Any) -> SchedulerSnapshot:
    """A snapshot from the state document; workers count as ready once ``running``.

    Raises:
        SchedulerUnreachableError: a field this reader needs is missing or of the
            wrong type (the route changed, or another route answered).
    """
    if not isinstance(document, Mapping):
        raise _refused("the answer is not a JSON object")
    version, tasks, workers = (document.get(k) for k in ("version", "tasks", "workers"))
    if not isinstance(version, str):
        raise _refused("'version' is not a string")
    if not isinstance(tasks, Mapping) or not all(_is_int(n) for n in tasks.values()):
        raise _refused("'tasks' is not an object of counts")
    if not isinstance(workers, list):
        raise _refused("'workers' is not a list")
    for worker in workers:
        _check_worker(worker)
    running = [w for w in workers if w["status"] == "running"]
    return SchedulerSnapshot(
        queued=int(tasks.get("queued", 0)),
        no_worker=int(tasks.get("no-worker", 0)),
        processing=int(tasks.get("processing", 0)),
        threads=sum(w["nthreads"] for w in running),
        ready_workers=len(running),
        busy_workers=sum(1 for w in running if _busy(w)),
        workers=tuple(
            WorkerInfo(
                address=w["address"], name=w["name"], busy=_busy(w), stored=w["stored_bytes"]
            )
            for w in workers
        ),
        version=version,
    )


def _check_worker(worker: Any) -> None:
    if not isinstance(worker, Mapping):
        raise _refused("a worker is not a JSON object")
    for field, kind in WORKER_FIELDS.items():
        value = worker.get(field)
        if not (_is_int(value) if kind is int else isinstance(value, kind)):
            raise _refused(f"worker field {field!r} is missing or not {kind.__name__}: {worker!r}")


def _busy(worker: Mapping[str, Any]) -> bool:
    return bool(worker["processing"] or worker["long_running"])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refused(why: str) -> SchedulerUnreachableError:
    return SchedulerUnreachableError(
        f"the scheduler's {STATE_PATH} answered an unusable document: {why}; "
        f"is {STATE_ROUTE_MODULE} in its distributed.scheduler.http.routes?"
    )
