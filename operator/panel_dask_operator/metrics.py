"""Read the scheduler's counts: over HTTP for Kubernetes, in-process for the local stack.

Both paths produce a :class:`SchedulerSnapshot`, the one shape the actuators read.
Over HTTP: task and worker states from Prometheus ``/metrics`` (live scheduler
counts; needs ``prometheus-client`` in the scheduler's image), total threads from
``/json/counts.json``, and each worker's name and processing count from the
scheduler's worker table ``/info/main/workers.html``. That page is the one HTTP
source that says which worker is busy: ``/api/v1/get_workers`` lists names only,
and ``/json/identity.json`` answers 500 under load (workers then report metrics
with tuple keys, which its JSON encoder refuses).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import aiohttp

from panel_dask_operator.policy import Observation

METRICS_URL_ENV = "PANEL_DASK_METRICS_URL"
DASHBOARD_PORT = 8787
DASHBOARD_PREFIX = "/dask"
TASK_STATES = ("queued", "no-worker", "processing")
READY_STATES = ("idle", "partially_saturated", "saturated")
WORKERS_PAGE = "/info/main/workers.html"
WORKER_COLUMNS = ("Worker", "Name", "Processing", "In-memory")
_SERIES = re.compile(
    r'^dask_scheduler_(tasks|workers)\{state="([a-z_-]+)"\}\s+([0-9.eE+-]+)\s*$', re.M
)


class SchedulerUnreachableError(RuntimeError):
    """The scheduler's HTTP server did not answer, or answered something unusable."""


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the scheduler sees it.

    ``stored`` is what it holds: bytes in-process, keys over HTTP (the worker
    table shows no byte count); either way, less is cheaper to retire.
    """

    address: str
    name: str
    busy: bool = False
    stored: int = 0


@dataclass(frozen=True)
class SchedulerSnapshot:
    """Task counts and workers at one instant."""

    queued: int
    no_worker: int
    processing: int
    threads: int
    ready_workers: int
    busy_workers: int
    workers: tuple[WorkerInfo, ...]

    def idle_workers(self) -> list[WorkerInfo]:
        """Workers with nothing to do, least data first: the ones safe to retire."""
        return sorted((w for w in self.workers if not w.busy), key=lambda w: (w.stored, w.name))

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


def metrics_base_url(cluster: str, namespace: str, env: Mapping[str, str] = os.environ) -> str:
    """The scheduler's HTTP base URL: the override, else its in-cluster Service."""
    override = env.get(METRICS_URL_ENV, "").strip()
    if override:
        return override.rstrip("/")
    return f"http://{cluster}-scheduler.{namespace}.svc:{DASHBOARD_PORT}{DASHBOARD_PREFIX}"


def parse_states(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """Task and worker counts by state from a Prometheus exposition (missing read 0)."""
    found: dict[str, dict[str, int]] = {"tasks": {}, "workers": {}}
    for family, state, value in _SERIES.findall(text):
        found[family][state] = int(float(value))
    if not found["tasks"]:
        raise SchedulerUnreachableError(
            "the scheduler's /metrics has no dask_scheduler_tasks series; install "
            "prometheus-client in the scheduler image and enable "
            "distributed.http.scheduler.prometheus in its HTTP routes"
        )
    tasks = {state: found["tasks"].get(state, 0) for state in TASK_STATES}
    return tasks, found["workers"]


def snapshot_from_scheduler(scheduler: Any) -> SchedulerSnapshot:
    """Read an in-process ``distributed.Scheduler`` (call on its event loop).

    Live ``processing`` sets tell exactly which workers are busy, so the local
    stack retires only idle ones.
    """
    ready = [ws for ws in scheduler.workers.values() if ws.status.name == "running"]
    return SchedulerSnapshot(
        queued=len(scheduler.queued),
        no_worker=len(scheduler.unrunnable),
        processing=sum(len(ws.processing) for ws in scheduler.workers.values()),
        threads=sum(ws.nthreads for ws in ready),
        ready_workers=len(ready),
        busy_workers=sum(1 for ws in ready if ws.processing or ws.long_running),
        workers=tuple(
            WorkerInfo(
                address=ws.address,
                name=str(ws.name),
                busy=bool(ws.processing) or bool(ws.long_running),
                stored=ws.nbytes,
            )
            for ws in ready
        ),
    )


async def fetch_snapshot(
    session: aiohttp.ClientSession, base_url: str, *, time_limit: float = 5.0
) -> SchedulerSnapshot:
    """Read the scheduler's counts over HTTP.

    Raises:
        SchedulerUnreachableError: connection refused, timeout, DNS failure or a
            non-2xx answer, with the URL in the message.
    """
    tasks, states = parse_states(await _get(session, f"{base_url}/metrics", time_limit))
    counts = await _get(session, f"{base_url}/json/counts.json", time_limit, as_json=True)
    workers = parse_worker_table(await _get(session, f"{base_url}{WORKERS_PAGE}", time_limit))
    return SchedulerSnapshot(
        queued=tasks["queued"],
        no_worker=tasks["no-worker"],
        processing=tasks["processing"],
        threads=int(counts.get("cores", 0)),
        ready_workers=sum(states.get(state, 0) for state in READY_STATES),
        busy_workers=sum(1 for w in workers if w.busy),
        workers=workers,
    )


class _TableReader(HTMLParser):
    """Collects the text of every ``th``/``td`` cell of the first table, row by row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._tables += 1
        elif self._tables == 1 and tag == "tr":
            self.rows.append([])
        elif self._tables == 1 and tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_worker_table(html: str) -> tuple[WorkerInfo, ...]:
    """Workers with their processing and in-memory counts from the scheduler's worker table.

    Raises:
        SchedulerUnreachableError: the page has no table with the expected columns
            (the ``distributed.http.scheduler.info`` route is off, or the page changed).
    """
    reader = _TableReader()
    reader.feed(html)
    header = reader.rows[0] if reader.rows else []
    if not all(column in header for column in WORKER_COLUMNS):
        raise SchedulerUnreachableError(
            f"the scheduler's {WORKERS_PAGE} has no worker table with columns "
            f"{', '.join(WORKER_COLUMNS)}; enable distributed.http.scheduler.info "
            "in its HTTP routes"
        )
    at = {column: header.index(column) for column in WORKER_COLUMNS}
    workers = []
    for row in reader.rows[1:]:
        if len(row) < len(header):
            continue
        try:
            processing, stored = int(row[at["Processing"]]), int(row[at["In-memory"]])
        except ValueError:
            raise SchedulerUnreachableError(
                f"the scheduler's {WORKERS_PAGE} shows a non-numeric count in {row!r}"
            ) from None
        workers.append(
            WorkerInfo(
                address=row[at["Worker"]], name=row[at["Name"]], busy=processing > 0, stored=stored
            )
        )
    return tuple(workers)


async def retire_workers(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    addresses: Iterable[str],
    time_limit: float,
) -> list[str]:
    """Retire workers gracefully through the scheduler's HTTP API; returns their names.

    Their unique data moves to other workers before they leave; a worker the
    scheduler could not retire (nowhere to move its data) is left out of the
    answer and keeps running. Needs ``distributed.http.scheduler.api`` in the
    scheduler's HTTP routes.
    """
    url = f"{base_url}/api/v1/retire_workers"
    payload = {"workers": list(addresses)}
    try:
        async with session.post(
            url, json=payload, timeout=aiohttp.ClientTimeout(total=time_limit)
        ) as response:
            if response.status >= 300:
                raise SchedulerUnreachableError(
                    f"POST {url} answered {response.status} (is distributed.http.scheduler.api "
                    "in the scheduler's HTTP routes?)"
                )
            retired: dict[str, Any] = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SchedulerUnreachableError(f"POST {url} failed: {error!r}") from error
    return [str(info.get("name", address)) for address, info in retired.items()]


async def _get(
    session: aiohttp.ClientSession, url: str, time_limit: float, *, as_json: bool = False
) -> Any:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=time_limit)) as response:
            if response.status >= 300:
                raise SchedulerUnreachableError(f"GET {url} answered {response.status}")
            if as_json:
                return await response.json(content_type=None)
            return await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SchedulerUnreachableError(f"GET {url} failed: {error!r}") from error
