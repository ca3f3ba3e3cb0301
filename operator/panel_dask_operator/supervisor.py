"""One asyncio task per DaskQueueAutoscaler, fed by the watch stream.

kopf timers would do this, but kopf puts a finalizer on every object a timer
serves, and a DaskQueueAutoscaler left behind by ``helm uninstall`` (operator
gone first) would then never finish deleting. Watch events need no finalizer:
the latest body of each object is kept here and its loop ticks at
``spec.pollIntervalSeconds``. A restarted operator lists the objects again,
restores the scale-down clock from ``status.lowSince`` and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp

from panel_dask_operator import autoscaler, conditions

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
        while key in self._bodies:
            body = self._bodies[key]
            try:
                delay = await autoscaler.tick(body, memory, self._http())
            except Exception:  # an API hiccup must not end autoscaling
                memory.failures += 1
                delay = autoscaler.backoff(body.get("spec", {}), memory.failures)
                logger.exception("autoscaler %s/%s tick failed; retry in %.0fs", *key, delay)
            await asyncio.sleep(delay)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session
