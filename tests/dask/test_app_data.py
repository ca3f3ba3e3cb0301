"""The /data page's queries on real Dask processes: answers, progress, superseding, closing."""

import asyncio

import pytest
from app_dask_helpers import connected, new_data_session, observing, occupied_workers
from distributed import futures_of

from panel_dask_app.budget import ProcessBudget
from panel_dask_app.data_session import SUPERSEDED
from panel_dask_app.data_tasks import aggregate_frame
from panel_dask_app.dataset import make_frame
from panel_dask_app.session import close_on_session_destroyed, wait_closed
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask

WORKER_THREADS = 4  # shared_dask: two workers of two threads


async def forgotten(observer, run):
    states = await observer.scheduler.get_task_status(keys=[f.key for f in run.futures])
    return set(states.values()) == {None}


async def test_answers_equal_pandas_on_the_same_rows(connection):
    session = new_data_session(connection, group_by="name", aggregation="std", column="id")
    await session.run()
    state = session.state
    assert state.message == ""
    assert state.runs == 1 and not state.running
    expected = aggregate_frame(make_frame(session.dataset.spec).compute(), state.query())
    assert list(state.answer.series.index) == list(expected.series.index)
    assert state.answer.series.round(9).tolist() == expected.series.round(9).tolist()
    assert state.answer.rows == session.dataset.spec.rows
    assert state.progress_done == state.progress_total == session.dataset.spec.partitions
    assert state.status.startswith("Answer 1: std of id per name, days 1–2: 26 points")

    state.param.update(group_by="time", bucket="1min", aggregation="max", days=(2, 2))
    await session.run()
    assert state.runs == 2 and state.shown.bucket == "1min"
    assert state.answer.points == 24 * 60
    assert session.current is None  # nothing of a finished query stays on the cluster


async def test_every_process_shares_one_published_dataset(shared_dask, connection):
    first = new_data_session(connection, days=3)
    await first.run()
    # Another Panel process: its own client, its own handle on the dataset.
    async with connected(shared_dask) as other_connection:
        second = new_data_session(other_connection, days=3)
        await second.run()
        mine = [f.key for f in await first.dataset.partitions(await connection.get_client())]
        other_client = await other_connection.get_client()
        theirs = [f.key for f in await second.dataset.partitions(other_client)]
        assert mine == theirs and len(mine) == 3
        assert first.dataset.spec.name in await other_client.list_datasets()
        published = await other_client.get_dataset(first.dataset.spec.name)
        assert {f.key for f in futures_of(published)} == set(mine)


async def test_a_newer_query_cancels_the_running_one(shared_dask, connection):
    session = new_data_session(connection)
    await session.run()  # the dataset is on the workers
    client = await connection.get_client()
    async with observing(shared_dask) as observer, occupied_workers(client, WORKER_THREADS):
        older = asyncio.create_task(session.run())
        await wait_for_async(lambda: session.current is not None, "the first query to be sent")
        first = session.current
        session.state.aggregation = "min"
        newer = asyncio.create_task(session.run())
        await asyncio.wait_for(older, 30)  # returns once its answer is cancelled
        assert first.answer.status == "cancelled"
        assert session.current is not first
        await wait_for_async(lambda: forgotten(observer, first), "the old query to leave", 15)
    await newer
    state = session.state
    assert state.runs == 2 and state.shown.aggregation == "min"
    assert state.message == ""  # superseding is what the user asked for: no warning
    assert SUPERSEDED.startswith("superseded")


async def test_closing_the_session_cancels_its_query(shared_dask, connection):
    session = new_data_session(connection)
    await session.run()
    client = await connection.get_client()
    async with observing(shared_dask) as observer, occupied_workers(client, WORKER_THREADS):
        session.state.column = "y"
        running = asyncio.create_task(session.run())
        await wait_for_async(lambda: session.current is not None, "the query to be sent")
        run = session.current
        close_on_session_destroyed(session)(None)  # what Panel calls when the tab goes
        await wait_closed()
        await asyncio.wait_for(running, 30)
        assert session.closed and run.answer.status == "cancelled"
        await wait_for_async(lambda: forgotten(observer, run), "the query to leave", 15)
    assert session.state.runs == 1  # the cancelled query showed nothing
    await session.run()  # a closed session runs nothing more
    assert session.current is None and session.state.runs == 1


async def test_bad_input_shows_a_message_and_the_session_keeps_working(connection):
    session = new_data_session(connection, bucket="1s", aggregation="std")
    await session.run()
    state = session.state
    assert state.message.startswith("Not run. aggregation: std needs two rows or more")
    assert state.message_kind == "danger" and state.runs == 0
    state.bucket = "1h"
    await session.run()
    assert state.runs == 1 and state.message == ""


async def test_the_process_budget_counts_a_query_as_one(connection):
    budget = ProcessBudget(limit=1)
    busy = new_data_session(connection, budget=budget)
    refused = new_data_session(connection, budget=budget)
    await busy.run()
    assert budget.used == 0
    client = await connection.get_client()
    async with occupied_workers(client, WORKER_THREADS):
        running = asyncio.create_task(busy.run())
        await wait_for_async(lambda: busy.current is not None, "the first query to be sent")
        await refused.run()
        assert refused.state.message.startswith("Not run. query: this server runs at most 1")
    await running
    assert budget.used == 0 and busy.state.runs == 2
