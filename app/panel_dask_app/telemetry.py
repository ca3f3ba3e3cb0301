"""Prometheus metrics of one Panel process: sessions, callback latency and task outcomes.

They answer what a platform engineer asks of the Panel pods: how many users are
on each pod, how long a click takes to be handled, and what became of the work
they sent to Dask. prometheus-client serves them on a port of their own
(``PANEL_DASK_METRICS_PORT``), not on Panel's port, so the Ingress, which
routes only Panel's port, never exposes them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# What became of a task a user submitted; the state names of the tasks table.
TASK_OUTCOMES = ("submitted", "finished", "failed", "cancelled", "lost")
# A session lasts from one page view to hours of use.
SESSION_BUCKETS = (1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600)
# A callback users feel is 10 ms to a few seconds.
CALLBACK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SESSIONS_OPEN = Gauge("panel_dask_sessions_open", "Browser sessions open in this Panel process")
SESSION_SECONDS = Histogram(
    "panel_dask_session_duration_seconds",
    "How long browser sessions lasted, from page load to close",
    buckets=SESSION_BUCKETS,
)
CALLBACK_SECONDS = Histogram(
    "panel_dask_callback_seconds",
    "Time the server took to handle a user's action, by page and action",
    ("page", "action"),
    buckets=CALLBACK_BUCKETS,
)
TASKS = Counter(
    "panel_dask_tasks",
    "Tasks users submitted to Dask, and what became of them",
    ("outcome",),
)
for _outcome in TASK_OUTCOMES:
    TASKS.labels(_outcome)  # every outcome exists from the start, so rates are never absent

P = ParamSpec("P")
R = TypeVar("R")


def count_task(outcome: str, count: int = 1) -> None:
    """Count tasks that reached ``outcome`` (one of :data:`TASK_OUTCOMES`)."""
    if outcome not in TASK_OUTCOMES:
        raise ValueError(f"task outcome {outcome!r} is not one of {', '.join(TASK_OUTCOMES)}")
    TASKS.labels(outcome).inc(count)


def session_opened() -> Callable[[], None]:
    """Count an open session; the returned function, called once at close, records its life."""
    SESSIONS_OPEN.inc()
    opened = time.monotonic()

    def closed() -> None:
        SESSIONS_OPEN.dec()
        SESSION_SECONDS.observe(time.monotonic() - opened)

    return closed


def timed_callback(
    page: str, action: str
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate an async widget callback so its duration lands in the callback histogram."""

    def decorate(callback: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(callback)
        async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with CALLBACK_SECONDS.labels(page, action).time():
                return await callback(*args, **kwargs)

        return timed

    return decorate


def serve(port: int, address: str = "0.0.0.0") -> None:  # noqa: S104 - in-pod
    """Serve this process's metrics on ``http://address:port/metrics`` (0: not at all)."""
    if port:
        start_http_server(port, addr=address)
