"""The local actuator: the same policy sizing a ``LocalCluster`` on one machine.

``make dev`` starts a local cluster and calls :func:`start_local_autoscaler`. It
reads the scheduler exactly as the Kubernetes autoscaler does: the state route
over the scheduler's own HTTP server, long-polled between ticks, so the
cluster's scheduler must serve ``panel_dask_app.scheduler_api`` and
``distributed.http.scheduler.api`` (the product's route list). Scale-up asks the
cluster for more workers; scale-down follows the same plan
(:func:`panel_dask_operator.retirement.plan_removal`): workers that never
connected first, then idle workers, retired through the scheduler (their data
moves to the workers that stay) and only then closed. A busy worker is never
chosen.

Bounds come from the environment (``PANEL_DASK_WORKERS_MIN``/``_MAX``,
``PANEL_DASK_TASKS_PER_WORKER``, ``PANEL_DASK_SCALE_DOWN_DELAY``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import aiohttp

from panel_dask_operator import retirement, telemetry, watch
from panel_dask_operator.policy import Decision, ScalingSpec, SpecError, decide
from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_operator.snapshot import SchedulerSnapshot

logger = logging.getLogger(__name__)

# The local cluster's series carry these labels, where a Kubernetes autoscaler's carry its own.
TELEMETRY_LABELS = ("local", "make-dev")
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
    """Drives one in-process-scheduler ``SpecCluster`` (e.g. ``LocalCluster``) by the policy.

    ``interval`` is the longest time between two ticks; a backlog that calls for
    more workers is acted on as soon as the scheduler reports it.
    """

    def __init__(
        self,
        cluster: Any,
        spec: ScalingSpec,
        *,
        interval: float = 0.5,
        base_url: str | None = None,
    ) -> None:
        self.cluster = cluster
        self.spec = spec
        self.interval = interval
        self.base_url = base_url or http_base_url(cluster.scheduler)
        self.decisions: collections.deque[Decision] = collections.deque(maxlen=1000)
        self._low_since: float | None = None
        self._stop = asyncio.Event()
        self._future: Future[None] | asyncio.Task[None] | None = None

    async def tick(
        self, scheduler: SchedulerClient, snapshot: SchedulerSnapshot | None = None
    ) -> Decision:
        """Observe (unless ``snapshot`` was just read), decide, act once, on the cluster's loop."""
        with telemetry.TICK_SECONDS.labels(*TELEMETRY_LABELS).time():
            snapshot = snapshot or await scheduler.snapshot()
            requested = len(self.cluster.worker_spec)
            observation = snapshot.observation(pending=requested - snapshot.ready_workers)
            now = time.monotonic()
            decision = decide(self.spec, observation, low_since=self._low_since, now=now)
            self._low_since = decision.low_since
            if decision.changes or decision.desired != requested:
                logger.info("local autoscaler: %s", decision.reason)
                self.decisions.append(decision)
            if decision.desired > requested:
                self.cluster.scale(decision.desired)
            elif decision.desired < requested:
                await self._scale_down(scheduler, requested - decision.desired)
        telemetry.observe_tick(
            *TELEMETRY_LABELS,
            backlog=observation.backlog,
            desired=decision.desired,
            ready=snapshot.ready_workers,
            pending=max(0, decision.desired - snapshot.ready_workers),
            direction=decision.direction,
        )
        return decision

    async def run(self) -> None:
        """Tick until :meth:`stop`, waiting in between for a reason to act; failures are logged."""
        async with aiohttp.ClientSession() as session:
            scheduler = SchedulerClient(session, self.base_url)
            snapshot: SchedulerSnapshot | None = None
            while not self._stop.is_set():
                try:
                    await self.tick(scheduler, snapshot)
                except Exception:  # a flaky tick must not end autoscaling
                    logger.exception("local autoscaler tick failed")
                snapshot = await self._pause(scheduler)

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

    async def _pause(self, scheduler: SchedulerClient) -> SchedulerSnapshot | None:
        """Wait for a reason to act, ``interval`` or :meth:`stop`; returns what it read."""
        waiting = asyncio.ensure_future(
            watch.until_reason_to_act(
                scheduler,
                self.spec,
                replicas=len(self.cluster.worker_spec),
                low_since=self._low_since,
                within=self.interval,
                clock=time.monotonic,
            )
        )
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not waiting.done():
            waiting.cancel()
            return None
        if waiting.exception() is None:
            return waiting.result()
        logger.warning("local autoscaler: %s", waiting.exception())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.interval)
        return None

    async def _scale_down(self, scheduler: SchedulerClient, count: int) -> None:
        # Retire before closing: SpecCluster alone would close the processes and
        # lose their results; the scheduler replicates unique data first.
        by_name = {str(name): name for name in self.cluster.worker_spec}
        newest_first = list(reversed(by_name))
        names = await retirement.retire_for_removal(
            scheduler, newest_first, count, allow_busy=False
        )
        drop = [by_name[name] for name in names if name in by_name]
        if drop:
            await self.cluster.scale_down(drop)


def http_base_url(scheduler: Any) -> str:
    """Where an in-process scheduler serves its HTTP routes (no dashboard prefix)."""
    server = scheduler.http_server
    host = server.address if server.address not in ("", "0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.port}"


def start_local_autoscaler(
    cluster: Any, spec: ScalingSpec | None = None, *, interval: float = 0.5
) -> LocalAutoscaler:
    """The hook the local stack calls once its cluster is up; returns the running autoscaler."""
    return LocalAutoscaler(cluster, spec or spec_from_env(), interval=interval).start()
