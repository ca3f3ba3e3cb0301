"""A process-wide, periodically refreshed summary of the Dask cluster.

One poller per server process, however many sessions show the cluster panel:
each extra session adds no load on the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import panel as pn
import param
from dask.utils import format_bytes
from param.parameters import NoNone

from panel_dask_app.client import DaskConnection, DaskUnavailableError, get_connection
from panel_dask_app.remote import ClusterSummary, cluster_summary


class ClusterMonitor(param.Parameterized):
    """Polls the scheduler for workers, threads, queued/processing tasks and memory."""

    connection = param.ClassSelector(class_=DaskConnection, allow_None=NoNone)
    interval = param.Number(default=2.0, bounds=(0.1, None), doc="Seconds between polls.")
    summary = param.Dict(default=None, allow_None=True, doc="The last ClusterSummary.")
    error = param.String(default="", doc="Why the last poll failed, if it did.")
    updated = param.Number(default=None, allow_None=True, doc="time.time() of the last success.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling on the running event loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def poll_once(self) -> ClusterSummary | None:
        """Fetch one summary, recording it or the reason it failed."""
        try:
            client = await self.connection.get_client()
            summary: ClusterSummary = await asyncio.wait_for(
                client.run_on_scheduler(cluster_summary), timeout=max(self.interval, 5.0)
            )
        except DaskUnavailableError as exc:
            self.param.update(summary=None, error=str(exc))
            return None
        except (TimeoutError, OSError) as exc:
            self.param.update(summary=None, error=f"scheduler did not answer ({exc!r})")
            return None
        self.param.update(summary=dict(summary), error="", updated=time.time())
        return summary

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.interval)


def summary_rows(summary: ClusterSummary | dict[str, int] | None) -> list[tuple[str, str]]:
    """Label/value pairs for the cluster panel; dashes when there is no data."""
    if summary is None:
        return [(label, "–") for label in ("Workers", "Threads", "Queued", "Processing", "Memory")]
    memory = format_bytes(summary["memory_used"])
    if summary["memory_limit"]:
        memory += f" / {format_bytes(summary['memory_limit'])}"
    return [
        ("Workers", str(summary["workers"])),
        ("Threads", str(summary["threads"])),
        ("Queued", str(summary["queued"])),
        ("Processing", str(summary["processing"])),
        ("Memory", memory),
    ]


_CACHE_KEY = "panel_dask_app.cluster_monitor"


def get_cluster_monitor() -> ClusterMonitor:
    """Return this process's shared monitor, created once (``pn.state.as_cached``)."""
    return pn.state.as_cached(_CACHE_KEY, lambda: ClusterMonitor(connection=get_connection()))
