"""Which worker Deployments go on a scale-down, and retiring their workers first.

Shared by the queue autoscaler and by ``kubectl scale daskworkergroup`` (through
dask-kubernetes' replica handler, see :mod:`panel_dask_operator.dask_controller`).
Order of removal: Deployments whose worker never reached the scheduler (nothing
to lose), then idle workers holding the least, then — only when a person asked
for the count explicitly — busy ones, which the scheduler retires gracefully
(their data moves, their running tasks are rescheduled). A worker is only ever
deleted after the scheduler has retired it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_operator.snapshot import WorkerInfo

RETIRE_TIME_LIMIT = 120.0


@dataclass(frozen=True)
class Removal:
    """A scale-down plan: Deployments to delete at once, workers to retire first."""

    unconnected: tuple[str, ...]
    retire: tuple[WorkerInfo, ...]

    def deletable(self, retired: Sequence[str]) -> list[str]:
        """Deployment names to delete once the scheduler has retired ``retired`` (names)."""
        gone = set(retired)
        return [*self.unconnected, *(w.name for w in self.retire if w.name in gone)]


def plan_removal(
    deployments: Sequence[str], workers: Sequence[WorkerInfo], count: int, *, allow_busy: bool
) -> Removal:
    """Choose up to ``count`` of the group's Deployments to remove.

    Args:
        deployments: the worker group's Deployment names, newest first (a worker's
            name on the scheduler is its Deployment's name).
        workers: the workers the scheduler knows, of any group.
        count: how many to remove.
        allow_busy: take busy workers when idle ones run out (an explicit
            ``kubectl scale``); the autoscaler never does.
    """
    count = max(0, count)
    connected = {w.name: w for w in workers}
    unconnected = tuple(d for d in deployments if d not in connected)[:count]
    members = [connected[d] for d in deployments if d in connected]
    idle = sorted((w for w in members if not w.busy), key=lambda w: w.stored)
    busy = sorted((w for w in members if w.busy), key=lambda w: w.stored) if allow_busy else []
    return Removal(unconnected, tuple([*idle, *busy][: count - len(unconnected)]))


async def retire_for_removal(
    scheduler: SchedulerClient,
    deployments: Sequence[str],
    count: int,
    *,
    allow_busy: bool,
) -> list[str]:
    """Plan on a fresh view of the scheduler, retire the chosen workers; names to delete.

    Raises:
        SchedulerUnreachableError: the scheduler could not be read or asked.
    """
    snapshot = await scheduler.snapshot()
    plan = plan_removal(deployments, snapshot.workers, count, allow_busy=allow_busy)
    retired: list[str] = []
    if plan.retire:
        retired = await scheduler.retire(
            [w.address for w in plan.retire], time_limit=RETIRE_TIME_LIMIT
        )
    return plan.deletable(retired)
