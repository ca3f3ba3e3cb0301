"""The scheduler's state as JSON: what the queue autoscaler and the cluster panel read.

A route module for ``distributed.scheduler.http.routes`` (the scheduler runs from
the app image, so this module is there). It serves, under the dashboard prefix::

    GET /panel-dask/v1/state[?since=VERSION&wait=SECONDS]

    {"version": "3f2a…-17",
     "tasks": {"queued": 12, "no-worker": 0, "processing": 4, "memory": 9, …},
     "workers": [{"name": "w1", "address": "tcp://…", "status": "running",
                  "nthreads": 2, "processing": 2, "long_running": 0,
                  "stored_keys": 5, "stored_bytes": 4096,
                  "memory_process": 123456789, "memory_limit": 2147483648}, …]}

``tasks`` counts every task by state (missing states are 0); ``workers`` lists
every worker the scheduler knows, ``status`` being ``running`` once it takes
work. ``version`` is opaque and changes whenever the backlog may have moved: a
task entering or leaving ``queued``, ``no-worker`` or ``processing``, a worker
added or removed. A request that passes the last ``version`` it saw and a
``wait`` is answered as soon as the version differs, or after ``wait`` seconds
(at most 60): a long poll, so a reader reacts within milliseconds of a burst
and sends one request per ``wait`` while nothing happens.

The shape is a contract with the operator, which must not import this
package. The producer is this module, and the fields above are its
documentation. The operator carries its own reader
(``panel_dask_operator.snapshot``) that checks every field it uses and refuses
a document without them; ``tests/operator/test_scheduler_api.py`` runs this
route in a real scheduler and reads it with that reader, so a change on either
side fails there. The app reads the same document in-process
(:func:`state`, run on the scheduler), never a second set of counts.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections import Counter
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin
from distributed.http.utils import RequestHandler

PATH = "/panel-dask/v1/state"
MAX_WAIT_S = 60.0
BACKLOG_STATES = frozenset({"queued", "no-worker", "processing"})


class BacklogChanges(SchedulerPlugin):
    """Counts the scheduler events that can move the backlog, and wakes long polls on each.

    Runs on the scheduler's event loop, like the route's handlers, so a plain
    :class:`asyncio.Event` (replaced after each change) wakes every waiter.
    """

    name = "panel-dask-backlog-changes"

    def __init__(self) -> None:
        self._epoch = uuid.uuid4().hex[:12]  # a restarted scheduler never repeats a version
        self._count = 0
        self._changed = asyncio.Event()

    @property
    def version(self) -> str:
        """Opaque; differs after every change, and between two scheduler processes."""
        return f"{self._epoch}-{self._count}"

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        """Called for every task transition: cheap unless the backlog moved."""
        if start in BACKLOG_STATES or finish in BACKLOG_STATES:
            self._bump()

    def add_worker(self, scheduler: Any, worker: str) -> None:
        """A worker arrived: more capacity."""
        self._bump()

    def remove_worker(self, scheduler: Any, worker: str, **kwargs: Any) -> None:
        """A worker left: less capacity, maybe rescheduled tasks."""
        self._bump()

    async def wait_past(self, version: str, seconds: float) -> None:
        """Return once the version differs from ``version``, or after ``seconds``."""
        if version != self.version:
            return
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            pass

    def _bump(self) -> None:
        self._count += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def backlog_changes(scheduler: Any) -> BacklogChanges:
    """The scheduler's change counter, installed on first use (no preload needed)."""
    plugin = scheduler.plugins.get(BacklogChanges.name)
    if not isinstance(plugin, BacklogChanges):
        plugin = BacklogChanges()
        scheduler.add_plugin(plugin, name=BacklogChanges.name)
    return plugin


def state(dask_scheduler: Any) -> dict[str, Any]:
    """The document this route serves, read on the scheduler's event loop.

    Task counts come from the task prefixes (what the scheduler's own
    Prometheus gauge sums), so this costs per prefix and per worker, not per task.
    """
    tasks: Counter[str] = Counter()
    for prefix in dask_scheduler.task_prefixes.values():
        tasks.update({s: n for s, n in prefix.states.items() if n})
    return {
        "version": backlog_changes(dask_scheduler).version,
        "tasks": dict(tasks),
        "workers": [
            {
                "name": str(ws.name),
                "address": ws.address,
                "status": ws.status.name,
                "nthreads": ws.nthreads,
                "processing": len(ws.processing),
                "long_running": len(ws.long_running),
                "stored_keys": len(ws.has_what),
                "stored_bytes": ws.nbytes,
                "memory_process": ws.memory.process,
                "memory_limit": ws.memory_limit or 0,
            }
            for ws in dask_scheduler.workers.values()
        ],
    }


def wait_seconds(raw: str | None) -> float:
    """The ``wait`` argument: 0 when absent, capped at MAX_WAIT_S; ValueError when not a number."""
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"wait={raw!r}; allowed: a number of seconds >= 0")
    return min(seconds, MAX_WAIT_S)


class StateHandler(RequestHandler):
    """``GET`` the state document, after waiting for a change when asked to."""

    async def get(self) -> None:
        """Answer now, or once the version moves past ``since`` (at most ``wait`` seconds)."""
        try:
            wait = wait_seconds(self.get_argument("wait", None))
        except ValueError as error:
            self.set_status(400)
            self.write({"error": str(error)})
            return
        since = self.get_argument("since", None)
        if since is not None and wait > 0:
            await backlog_changes(self.server).wait_past(since, wait)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.write(json.dumps(state(self.server)))


routes: list[tuple[str, type, dict[str, Any]]] = [(PATH, StateHandler, {})]
