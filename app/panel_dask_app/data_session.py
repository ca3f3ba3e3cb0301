"""Run one /data session's queries on the shared Dask client: the newest only, with progress.

A query is one task per partition of the shared dataset (``summarize_partition``)
and one that combines their summaries (``answer``); only the answer travels to
this process. A newer query cancels the one running, and closing the session
cancels its query, so nobody's abandoned work occupies the cluster. Progress is
read from the futures' states, which the client already knows: no scheduler
round trip per look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from distributed import Client, Future
from distributed.client import FutureCancelledError

from panel_dask_app.budget import ProcessBudget
from panel_dask_app.client import DaskConnection, DaskUnavailableError
from panel_dask_app.data_query import DataQuery
from panel_dask_app.data_state import DataState
from panel_dask_app.data_tasks import QueryAnswer, answer, summarize_partition
from panel_dask_app.shared_dataset import SharedDataset
from panel_dask_app.tasks import TaskInputError

log = logging.getLogger(__name__)

SUPERSEDED = "superseded-by-a-newer-query"
SESSION_CLOSED = "session-closed"


@dataclass
class QueryRun:
    """One query on the cluster: a future per partition and the one for the answer."""

    number: int
    query: DataQuery
    summaries: list[Future[object]]
    answer: Future[QueryAnswer]
    started: float

    @property
    def futures(self) -> list[Future[object]]:
        """Every future of the run, the answer last."""
        return [*self.summaries, cast("Future[object]", self.answer)]

    def done_count(self) -> int:
        """Partitions summarised so far."""
        return sum(future.status == "finished" for future in self.summaries)


def submit_query(
    client: Client, partitions: list[Future[object]], query: DataQuery, number: int
) -> QueryRun:
    """Send one query's tasks; keys are unique, so no other session shares (or cancels) them.

    The keys start with ``data-`` so the Dask dashboard groups this page's work.
    """
    token = uuid.uuid4().hex
    summaries = [
        client.submit(summarize_partition, part, query, key=f"data-summary-{token}-{i}")
        for i, part in enumerate(partitions)
    ]
    result = client.submit(answer, summaries, query, key=f"data-answer-{token}")
    return QueryRun(number, query, summaries, result, time.perf_counter())


class DataSession:
    """The Dask side of one /data session: at most one query on the cluster, the newest."""

    def __init__(
        self,
        state: DataState,
        connection: DaskConnection,
        dataset: SharedDataset,
        *,
        budget: ProcessBudget | None = None,
        progress_interval: float = 0.2,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.connection = connection
        self.dataset = dataset
        self.budget = budget
        self.progress_interval = progress_interval
        self.rpc_timeout = rpc_timeout
        self.closed = False
        self.current: QueryRun | None = None
        self._requests = 0
        # Set by the page to Panel's hold on its document, so the plot and the
        # status line of one answer reach the browser in one message.
        self.hold_updates: Callable[[], contextlib.AbstractContextManager[object]] = (
            contextlib.nullcontext
        )

    async def run(self) -> None:
        """Run the query the state describes; a later call supersedes this one."""
        if self.closed:
            return
        self._requests += 1
        request = self._requests
        await self._cancel_current(SUPERSEDED)
        try:
            query = self.state.query()  # refused before waiting for anything
            client = await self.connection.get_client()
            partitions = await self.dataset.partitions(client)
        except TaskInputError as exc:
            self.state.notify(f"Not run. {exc}", "danger")
            return
        except DaskUnavailableError as exc:
            self.state.notify(f"Not run. {exc}", "warning")
            return
        if request != self._requests or self.closed:
            return  # a newer query came while this one waited for the cluster
        try:
            if self.budget is not None:
                self.budget.take(1, field="query")
        except TaskInputError as exc:
            self.state.notify(f"Not run. {exc}", "warning")
            return
        run = submit_query(client, partitions, query, request)
        self.current = run
        self.state.begin(len(run.summaries))
        progress = asyncio.get_running_loop().create_task(self._follow(run))
        try:
            await self._finish(run)
        finally:
            progress.cancel()
            if self.budget is not None:
                self.budget.give_back()
            if self.current is run:
                self.current = None
                self.state.end()

    async def _finish(self, run: QueryRun) -> None:
        try:
            result = await run.answer
        except FutureCancelledError as exc:
            if exc.reason not in (SUPERSEDED, SESSION_CLOSED):
                self.state.notify(f"The query was cancelled ({exc.reason}).", "warning")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A worker lost for good, a task that raised: say it, keep the session.
            self.state.notify(f"The query failed: {type(exc).__name__}: {exc}", "danger")
            return
        if self.current is run and not self.closed:
            with self.hold_updates():
                self.state.show(result, run.query, time.perf_counter() - run.started)

    async def _follow(self, run: QueryRun) -> None:
        while True:
            await asyncio.sleep(self.progress_interval)
            self.state.advance(run.done_count())

    async def close(self) -> None:
        """Cancel the running query: the session is gone."""
        if self.closed:
            return
        self.closed = True
        await self._cancel_current(SESSION_CLOSED)

    async def _cancel_current(self, reason: str) -> None:
        run, self.current = self.current, None
        if run is None:
            return
        self.state.end()
        client = run.answer.client
        try:
            await asyncio.wait_for(client.cancel(run.futures, reason=reason), self.rpc_timeout)
        except (TimeoutError, OSError) as exc:
            # The client cancels its futures itself when it loses the scheduler.
            log.warning("cancel of a data query failed: %s", exc)
