"""One asyncio task per DaskQueueAutoscaler, fed by the watch stream.

kopf timers would do this, but kopf puts a finalizer on every object a timer
serves, and a DaskQueueAutoscaler left behind by ``helm uninstall`` (operator
gone first) would then never finish deleting. Watch events need no finalizer:
the latest body of each object is kept here and its loop ticks at
``spec.pollIntervalSeconds``, or sooner when the scheduler's backlog calls for
it (:func:`panel_dask_operator.autoscaler.pause`). A restarted operator lists
the objects again, restores the scale-down clock from ``status.lowSince`` and
carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp

from panel_dask_operator import autoscaler, conditions, telemetry
from panel_dask_operator.scheduler import SchedulerClient, scheduler_base_url
from panel_dask_operator.snapshot import SchedulerSnapshot

logger = logging.getLogger(__name__)
Key = tuple[str, str]


class Supervisor:
    """Starts, feeds and stops the per-object autoscaling loops."""

    def __init__(self) -> None:
        self._bodies: dict[Key, dict[str, Any]] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def running(self) -> list[str]:
        """``namespace/name`` of every object with a live loop."""
        return sorted(f"{ns}/{name}" for (ns, name), t in self._tasks.items() if not t.done())

    def upsert(self, body: dict[str, Any]) -> None:
        """Remember the newest body; start its loop if none runs."""
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        self._bodies[key] = body
        task = self._tasks.get(key)
        if task is None or task.done():
            self._tasks[key] = asyncio.create_task(self._loop(key), name=f"dqa {key[0]}/{key[1]}")

    def forget(self, namespace: str, name: str) -> None:
        """Stop the loop of a deleted object."""
        self._bodies.pop((namespace, name), None)
        telemetry.forget(namespace, name)
        task = self._tasks.pop((namespace, name), None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Stop every loop and the HTTP session (operator shutdown)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _loop(self, key: Key) -> None:
        body = self._bodies[key]
        memory = autoscaler.Memory(
            low_since=conditions.parse_rfc3339(body.get("status", {}).get("lowSince"))
        )
        scheduler: SchedulerClient | None = None
        snapshot: SchedulerSnapshot | None = None
        while key in self._bodies:
            body = self._bodies[key]
            current, scheduler = scheduler, self._scheduler(scheduler, body)
            if scheduler is not current:
                snapshot = None  # read from another scheduler
            try:
                delay = await autoscaler.tick(body, memory, scheduler, snapshot)
            except Exception as error:  # an API hiccup must not end autoscaling
                telemetry.observe_error(*key, autoscaler.problem_reason(error))
                memory.failures += 1
                delay = autoscaler.backoff(body.get("spec", {}), memory.failures)
                logger.exception("autoscaler %s/%s tick failed; retry in %.0fs", *key, delay)
            try:
                snapshot = await autoscaler.pause(body, memory, scheduler, delay)
            except Exception:  # waiting must not end autoscaling either
                logger.exception("autoscaler %s/%s wait failed", *key)
                snapshot = None
                await asyncio.sleep(delay)

    def _scheduler(self, current: SchedulerClient | None, body: dict[str, Any]) -> SchedulerClient:
        """The client for ``body``'s scheduler: ``current`` unless its URL or session is stale."""
        cluster, namespace = body.get("spec", {}).get("cluster", ""), body["metadata"]["namespace"]
        base_url = scheduler_base_url(cluster, namespace)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        if current is None or current.base_url != base_url or current.session is not self._session:
            current = SchedulerClient(self._session, base_url)
        return current
