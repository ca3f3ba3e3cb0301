"""The one object that talks to a Dask scheduler over HTTP: read its state, retire workers.

Both actuators use it: the Kubernetes autoscaler and ``kubectl scale`` (through
the in-cluster Service, under the chart's ``/dask`` prefix) and the local
stack (the in-process scheduler's own HTTP server). Reads are long polls: a
:class:`SchedulerClient` remembers the version of the last state it read, so
``snapshot(wait=s)`` answers as soon as the backlog moved since then, or after
``s`` seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

from panel_dask_operator.snapshot import (
    STATE_PATH,
    SchedulerSnapshot,
    SchedulerUnreachableError,
    read_state,
)

URL_ENV = "PANEL_DASK_METRICS_URL"
DASHBOARD_PORT = 8787
DASHBOARD_PREFIX = "/dask"
RETIRE_PATH = "/api/v1/retire_workers"


def scheduler_base_url(cluster: str, namespace: str, env: Mapping[str, str] = os.environ) -> str:
    """The scheduler's HTTP base URL: the override, else its in-cluster Service."""
    override = env.get(URL_ENV, "").strip()
    if override:
        return override.rstrip("/")
    return f"http://{cluster}-scheduler.{namespace}.svc:{DASHBOARD_PORT}{DASHBOARD_PREFIX}"


class SchedulerClient:
    """One scheduler's HTTP routes, through a session its owner opens and closes."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self._version: str | None = None

    async def snapshot(self, *, wait: float = 0.0, time_limit: float = 5.0) -> SchedulerSnapshot:
        """The scheduler's state; with ``wait``, once it changed since the last read.

        The first read, and every read with ``wait=0``, answers at once.

        Raises:
            SchedulerUnreachableError: connection refused, timeout, DNS failure, a
                non-2xx answer (with the URL in the message) or an unusable document.
        """
        params = {}
        if wait > 0 and self._version is not None:
            params = {"since": self._version, "wait": f"{wait:.3f}"}
        url = f"{self.base_url}{STATE_PATH}"
        document = await self._request("GET", url, time_limit + wait, params=params)
        snapshot = read_state(document)
        self._version = snapshot.version
        return snapshot

    async def retire(self, addresses: Iterable[str], *, time_limit: float) -> list[str]:
        """Retire workers gracefully through the scheduler's HTTP API; returns their names.

        Their unique data moves to other workers before they leave; a worker the
        scheduler could not retire (nowhere to move its data) is left out of the
        answer and keeps running. Needs ``distributed.http.scheduler.api`` in the
        scheduler's HTTP routes.
        """
        url = f"{self.base_url}{RETIRE_PATH}"
        retired = await self._request("POST", url, time_limit, json={"workers": list(addresses)})
        if not isinstance(retired, dict):
            raise SchedulerUnreachableError(f"POST {url} answered {retired!r}, not an object")
        return [str(info.get("name", address)) for address, info in retired.items()]

    async def _request(self, method: str, url: str, time_limit: float, **options: Any) -> Any:
        try:
            async with self.session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=time_limit), **options
            ) as response:
                if response.status >= 300:
                    raise SchedulerUnreachableError(
                        f"{method} {url} answered {response.status}; are "
                        "distributed.http.scheduler.api and panel_dask_app.scheduler_api "
                        "in the scheduler's HTTP routes?"
                    )
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise SchedulerUnreachableError(f"{method} {url} failed: {error!r}") from error
