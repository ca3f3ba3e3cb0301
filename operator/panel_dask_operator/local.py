"""The local actuator: the same policy sizing a ``LocalCluster`` on one machine.

``make dev`` starts a local cluster and calls :func:`start_local_autoscaler`. Scale-up
asks the cluster for more workers; scale-down first drops workers that never
connected, then retires idle workers through the scheduler (their data moves to the
workers that stay) and only then closes them. A busy worker is never chosen.

Bounds come from the environment (``PANEL_DASK_WORKERS_MIN``/``_MAX``,
``PANEL_DASK_TASKS_PER_WORKER``, ``PANEL_DASK_SCALE_DOWN_DELAY``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from panel_dask_operator.metrics import SchedulerSnapshot, snapshot_from_scheduler
from panel_dask_operator.policy import Decision, ScalingSpec, SpecError, decide

logger = logging.getLogger(__name__)

ENV_FIELDS = {
    "PANEL_DASK_WORKERS_MIN": ("minimum", 1),
    "PANEL_DASK_WORKERS_MAX": ("maximum", 4),
    "PANEL_DASK_TASKS_PER_WORKER": ("tasksPerWorker", 4),
    "PANEL_DASK_SCALE_DOWN_DELAY": ("scaleDownDelaySeconds", 10),
}


def spec_from_env(env: Mapping[str, str] = os.environ) -> ScalingSpec:
    """Local bounds from the environment; a bad value names its variable."""
    values: dict[str, Any] = {}
    for variable, (field, default) in ENV_FIELDS.items():
        raw = env.get(variable, "").strip()
        try:
            values[field] = (float(raw) if "Delay" in field else int(raw)) if raw else default
        except ValueError:
            raise SpecError(f"{variable}={raw!r}; allowed: a number") from None
    try:
        return ScalingSpec.from_resource(values)
    except SpecError as error:
        names = {field: variable for variable, (field, _) in ENV_FIELDS.items()}
        message = str(error)
        for field, variable in names.items():
            message = message.replace(f"spec.{field} ", f"{variable} (spec.{field}) ")
        raise SpecError(message) from None


class LocalAutoscaler:
    """Drives one in-process-scheduler ``SpecCluster`` (e.g. ``LocalCluster``) by the policy."""

    def __init__(self, cluster: Any, spec: ScalingSpec, *, interval: float = 0.5) -> None:
        self.cluster = cluster
        self.spec = spec
        self.interval = interval
        self.decisions: collections.deque[Decision] = collections.deque(maxlen=1000)
        self._low_since: float | None = None
        self._stop = asyncio.Event()
        self._future: Future[None] | asyncio.Task[None] | None = None

    async def tick(self) -> Decision:
        """Observe, decide, act once (on the cluster's event loop)."""
        snapshot = snapshot_from_scheduler(self.cluster.scheduler)
        requested = len(self.cluster.worker_spec)
        observation = snapshot.observation(pending=requested - snapshot.ready_workers)
        decision = decide(self.spec, observation, low_since=self._low_since, now=time.monotonic())
        self._low_since = decision.low_since
        if decision.changes or decision.desired != requested:
            logger.info("local autoscaler: %s", decision.reason)
            self.decisions.append(decision)
        if decision.desired > requested:
            self.cluster.scale(decision.desired)
        elif decision.desired < requested:
            await self._scale_down(snapshot, requested - decision.desired)
        return decision

    async def run(self) -> None:
        """Tick every ``interval`` seconds until :meth:`stop`; a failed tick is logged."""
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # a flaky tick must not end autoscaling
                logger.exception("local autoscaler tick failed")
            try:
                await asyncio.wait_for(self._stop.wait(), self.interval)
            except TimeoutError:
                pass

    def start(self) -> LocalAutoscaler:
        """Run on the cluster's loop, from that loop or from any other thread."""
        loop: asyncio.AbstractEventLoop = self.cluster.loop.asyncio_loop
        running: asyncio.AbstractEventLoop | None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._future = loop.create_task(self.run())
        else:
            self._future = asyncio.run_coroutine_threadsafe(self.run(), loop)
        return self

    def stop(self) -> None:
        """Ask the loop to stop after the current tick (thread-safe)."""
        self.cluster.loop.asyncio_loop.call_soon_threadsafe(self._stop.set)

    async def _scale_down(self, snapshot: SchedulerSnapshot, count: int) -> None:
        connected = {w.name for w in snapshot.workers}
        by_name = {str(name): name for name in self.cluster.worker_spec}
        never_connected = [by_name[n] for n in by_name if n not in connected]
        drop = never_connected[:count]
        scheduler = self.cluster.scheduler
        still_idle = [
            w.address
            for w in snapshot.idle_workers()
            if w.address in scheduler.workers and not scheduler.workers[w.address].processing
        ][: count - len(drop)]
        if still_idle:
            # Retire before closing: SpecCluster alone would close the processes and
            # lose their results; retire_workers replicates unique data first.
            retired = await scheduler.retire_workers(workers=still_idle, close_workers=False)
            drop += [by_name[str(info["name"])] for info in retired.values()]
        if drop:
            await self.cluster.scale_down(drop)


def start_local_autoscaler(
    cluster: Any, spec: ScalingSpec | None = None, *, interval: float = 0.5
) -> LocalAutoscaler:
    """The hook the local stack calls once its cluster is up; returns the running autoscaler."""
    return LocalAutoscaler(cluster, spec or spec_from_env(), interval=interval).start()
