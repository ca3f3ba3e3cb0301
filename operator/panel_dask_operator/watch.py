"""Between two autoscaler ticks: wait until the backlog gives the policy a reason to act.

Both actuators tick at most every poll interval, and in between long-poll the
scheduler (:meth:`SchedulerClient.snapshot` with ``wait``). Each answer that
comes early is run through the policy with the replicas of the last tick: only
when the decision would change them does the tick come early. So a burst is
acted on within about :data:`REACTION_S` of reaching the scheduler, a busy
scheduler whose every task completion moves the backlog costs no more ticks
(Kubernetes requests, status writes) than before, and an idle one is asked
once per interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from panel_dask_operator.policy import ScalingSpec, decide
from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_operator.snapshot import SchedulerSnapshot

# Pause after an early answer that called for nothing: bounds the reads of a busy scheduler.
REACTION_S = 0.1


def would_act(
    spec: ScalingSpec,
    snapshot: SchedulerSnapshot,
    replicas: int,
    low_since: float | None,
    now: float,
) -> bool:
    """True when the policy, seeing ``snapshot``, would move the workers away from ``replicas``."""
    observation = snapshot.observation(pending=replicas - snapshot.ready_workers)
    return decide(spec, observation, low_since=low_since, now=now).desired != replicas


async def until_reason_to_act(
    scheduler: SchedulerClient,
    spec: ScalingSpec,
    *,
    replicas: int,
    low_since: float | None,
    within: float,
    clock: Callable[[], float],
) -> SchedulerSnapshot | None:
    """Long-poll until the policy would act or ``within`` seconds pass; the last snapshot read.

    ``clock`` is the clock ``low_since`` is on. None when ``within`` left no
    time to read. Raises SchedulerUnreachableError like the reads do.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    snapshot: SchedulerSnapshot | None = None
    while (left := deadline - loop.time()) > 0:
        snapshot = await scheduler.snapshot(wait=left)
        if would_act(spec, snapshot, replicas, low_since, clock()):
            return snapshot
        if deadline - loop.time() > REACTION_S:
            await asyncio.sleep(REACTION_S)
    return snapshot
