"""Submit, watch and cancel one browser session's tasks on the shared Dask client.

Everything here is a coroutine on the server's event loop: submitting only
queues a message on the client's batched stream, results are awaited, and
scheduler queries are bounded by a timeout, so no session can stall the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import panel as pn
from distributed import Future
from distributed.client import FutureCancelledError

from panel_dask_app import telemetry
from panel_dask_app.budget import ProcessBudget
from panel_dask_app.client import DaskConnection, DaskUnavailableError
from panel_dask_app.remote import TaskFailedError, TaskOutcome, run_task, task_progress
from panel_dask_app.state import (
    CANCELLED,
    ERROR,
    FINISHED,
    LOST,
    SessionTasks,
    TaskRecord,
)
from panel_dask_app.tasks import TaskInputError

log = logging.getLogger(__name__)

USER_CANCELLED = "cancelled-by-user"
SESSION_CLOSED = "session-closed"
_CONNECTION_LOST = "scheduler-connection-lost"
# Each final state of the tasks table, as the task metric's outcome label.
OUTCOMES = {FINISHED: "finished", ERROR: "failed", CANCELLED: "cancelled", LOST: "lost"}
# At most one table update per interval: a lone result shows at once, a burst
# of results that finish together costs one update, not one per task.
REFRESH_INTERVAL_S = 0.1


def refresh_delay(now: float, last_refresh: float, interval: float) -> float:
    """Seconds to wait before the next table update (0: update on the next loop tick)."""
    return max(0.0, last_refresh + interval - now)


class TaskSession:
    """The Dask side of one session: futures, their watchers and a status poller."""

    def __init__(
        self,
        tasks: SessionTasks,
        connection: DaskConnection,
        *,
        poll_interval: float = 0.5,
        rpc_timeout: float = 10.0,
        budget: ProcessBudget | None = None,
    ) -> None:
        self.tasks = tasks
        self.connection = connection
        self.budget = budget
        self.poll_interval = poll_interval
        self.rpc_timeout = rpc_timeout
        self.closed = False
        self._futures: dict[str, Future[TaskOutcome]] = {}
        # Futures just finished, held for one more poll: a task re-run after a
        # worker died may finish between two polls, and its retry count is
        # only on the scheduler while some client still holds the key.
        self._settling: dict[str, Future[TaskOutcome]] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._refresh_handle: asyncio.Handle | None = None
        self._last_refresh = float("-inf")
        self._progress_failed = False
        self._lost: list[TaskRecord] = []
        self._lost_handle: asyncio.Handle | None = None
        # Set by the page to Panel's hold on its document: the changes of one
        # update then reach the browser as one message, not one per widget.
        self.hold_updates: Callable[[], contextlib.AbstractContextManager[object]] = (
            contextlib.nullcontext
        )

    @property
    def pending_keys(self) -> list[str]:
        """Keys of this session's futures that are not done yet."""
        return list(self._futures)

    async def submit(self) -> list[TaskRecord]:
        """Validate the form and submit the batch; feedback goes to ``tasks.message``."""
        if self.closed:
            return []
        try:
            self.tasks.plan()  # a bad form is reported before waiting for the scheduler
            client = await self.connection.get_client()
            # Planned again with no await before the records exist: clicks that
            # arrive while this one waited have been counted by now, so rapid
            # repeated clicks cannot overshoot the caps.
            plan = self.tasks.plan()
            if self.budget is not None:
                self.budget.take(plan.count)
        except TaskInputError as exc:
            self.tasks.notify(f"Nothing submitted. {exc}", "danger")
            return []
        except DaskUnavailableError as exc:
            self.tasks.notify(f"Nothing submitted. {exc}", "warning")
            return []
        # The task name leads the key so the Dask dashboard groups and colours by task.
        keys = [f"{plan.task}-{uuid.uuid4().hex}" for _ in range(plan.count)]
        # Sent before the table is redrawn, so drawing never delays the work;
        # no await until the watchers exist, so none can miss its record.
        futures = [client.submit(run_task, plan.task, plan.argument, key=key) for key in keys]
        telemetry.count_task("submitted", len(futures))
        with self.hold_updates():
            records = self.tasks.new_records(plan, keys)
            what = f"{plan.count} × {plan.task}({plan.argument})"
            self.tasks.notify(f"Submitted {what}.", "success")
        for record, future in zip(records, futures, strict=True):
            self._futures[record.key] = future
            self._spawn(self._watch(record, future))
        self._ensure_poller()
        return records

    async def cancel(self, key: str) -> bool:
        """Cancel one unfinished task; returns whether there was one to cancel."""
        future = self._futures.get(key)
        record = self.tasks.find(key)
        if future is None or record is None:
            if record is not None:
                self.tasks.notify(f"Task #{record.number} is already {record.state}.", "info")
            return False
        await self._cancel([future], USER_CANCELLED)
        self.tasks.notify(f"Cancelled task #{record.number}.", "info")
        return True

    async def cancel_all(self, reason: str = USER_CANCELLED) -> int:
        """Cancel every unfinished task of this session; returns how many."""
        futures = list(self._futures.values())
        if futures:
            await self._cancel(futures, reason)
        if reason == USER_CANCELLED:
            self.tasks.notify(f"Cancelled {len(futures)} unfinished task(s).", "info")
        return len(futures)

    def clear_done(self) -> None:
        """Remove finished rows from the table."""
        removed = self.tasks.clear_done()
        self.tasks.notify(f"Cleared {removed} finished task(s).", "info")

    async def close(self) -> None:
        """Cancel unfinished work and stop watching: the session is gone.

        Called when the browser session is destroyed, so nothing of this
        session keeps running on the cluster.
        """
        if self.closed:
            return
        self.closed = True
        await self.cancel_all(SESSION_CLOSED)
        if self._poller is not None:
            self._poller.cancel()
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        # A watcher cancelled before it ever ran skipped its finally block.
        if self.budget is not None:
            self.budget.give_back(len(self._futures))
        self._futures.clear()
        self._settling.clear()

    async def _cancel(self, futures: list[Future[TaskOutcome]], reason: str) -> None:
        by_client: dict[int, tuple[Any, list[Future[TaskOutcome]]]] = {}
        for future in futures:
            by_client.setdefault(id(future.client), (future.client, []))[1].append(future)
        for client, group in by_client.values():
            try:
                await asyncio.wait_for(client.cancel(group, reason=reason), self.rpc_timeout)
            except (TimeoutError, OSError) as exc:
                # The client also cancels its futures itself when it loses the
                # scheduler, so a failed cancel leaves nothing behind.
                log.warning("cancel of %d task(s) failed: %s", len(group), exc)

    async def _watch(self, record: TaskRecord, future: Future[TaskOutcome]) -> None:
        try:
            outcome = await future
        except FutureCancelledError as exc:
            if exc.reason == _CONNECTION_LOST:
                record.param.update(state=LOST, result=exc.msg or "scheduler connection lost")
                self._report_lost_soon(record)
            else:
                record.param.update(state=CANCELLED, result=exc.reason.replace("-", " "))
        except TaskFailedError as exc:
            record.param.update(
                state=ERROR, result=exc.message, worker=exc.worker, duration=exc.duration
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Whatever else a worker or the scheduler raised (e.g. KilledWorker)
            # belongs in the table, not in a log nobody reads.
            record.param.update(state=ERROR, result=f"{type(exc).__name__}: {exc}")
        else:
            record.param.update(
                state=FINISHED,
                result=_format_value(outcome["value"]),
                worker=outcome["worker"],
                duration=outcome["duration"],
            )
        finally:
            if record.state in OUTCOMES:  # not when the watcher itself was cancelled
                telemetry.count_task(OUTCOMES[record.state])
            finished = self._futures.pop(record.key, None)
            if finished is not None and self.budget is not None:
                self.budget.give_back()
            if finished is not None and not self.closed and record.state == FINISHED:
                self._settling[record.key] = finished
                self._ensure_poller()
            self._refresh_soon()

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = self._spawn(self._poll())

    async def _poll(self) -> None:
        """Show queued/processing and re-runs while tasks run; ends when none are left.

        The first look waits one interval: a task done by then needs no
        progress shown, and the scheduler and this server are spared the query.
        """
        while (self._futures or self._settling) and not self.closed:
            await asyncio.sleep(self.poll_interval)
            if self.closed or not (self._futures or self._settling):
                break
            settled = list(self._settling)
            watched = {**self._futures, **self._settling}
            client = next(iter(watched.values())).client
            try:
                progress = await asyncio.wait_for(
                    client.run_on_scheduler(task_progress, keys=list(watched)),
                    self.rpc_timeout,
                )
            except (TimeoutError, OSError):
                progress = {}  # the connection watchdog reports the outage
            except Exception as exc:
                # e.g. a scheduler configured to refuse pickled functions: the
                # tasks still finish, only their progress goes unseen.
                if not self._progress_failed:
                    log.warning("cannot read task progress from the scheduler: %r", exc)
                self._progress_failed = True
                progress = {}
            for key in settled:
                self._settling.pop(key, None)
            with self.hold_updates():
                retried = self.tasks.observe(progress)
            if retried:
                numbers = ", ".join(f"#{record.number}" for record in retried)
                self.tasks.notify(
                    f"A Dask worker was lost while running task(s) {numbers}; Dask runs "
                    "them again on another worker, nothing to do.",
                    "info",
                )

    def _report_lost_soon(self, record: TaskRecord) -> None:
        # Every unfinished task is lost at once; say so in one notice, not one per task.
        self._lost.append(record)
        if self._lost_handle is None:
            self._lost_handle = asyncio.get_running_loop().call_later(0.1, self._report_lost)

    def _report_lost(self) -> None:
        lost, self._lost, self._lost_handle = self._lost, [], None
        if self.closed or not lost:
            return
        numbers = ", ".join(f"#{record.number}" for record in lost)
        self.tasks.notify(
            f"The connection to the Dask scheduler was lost (restarted or unreachable): "
            f"{len(lost)} unfinished task(s) ({numbers}) were lost and will not finish. "
            "Submit them again once the status says connected.",
            "warning",
        )

    def _refresh_soon(self) -> None:
        # Scheduled rather than run here, so every watcher woken in this loop
        # iteration has updated its record before the one table update.
        if self._refresh_handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = refresh_delay(loop.time(), self._last_refresh, REFRESH_INTERVAL_S)
        self._refresh_handle = loop.call_later(delay, self._refresh)

    def _refresh(self) -> None:
        self._refresh_handle = None
        self._last_refresh = asyncio.get_running_loop().time()
        with self.hold_updates():
            self.tasks.refresh()

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)
        return task


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


_closing: set[asyncio.Task[None]] = set()


class ClosableSession(Protocol):
    """A page's Dask side (the tasks page's or the data page's): close() cancels its work."""

    async def close(self) -> None:
        """Cancel the session's unfinished work on the cluster."""


def close_on_session_destroyed(session: ClosableSession) -> Callable[[Any], None]:
    """Register ``session.close()`` to run when Panel destroys the browser session.

    Bokeh calls destroy callbacks synchronously on the event loop, so the close
    is scheduled as a task, kept referenced until it completes.
    """

    def _destroyed(session_context: Any) -> None:
        task = asyncio.get_running_loop().create_task(session.close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    pn.state.on_session_destroyed(_destroyed)
    return _destroyed


async def wait_closed() -> None:
    """Wait for sessions being closed (used at shutdown and in tests)."""
    with contextlib.suppress(Exception):
        await asyncio.gather(*_closing)
