"""Cancelling, and closing a session, leave nothing of it on the scheduler."""

import pytest
from app_dask_helpers import eventually, new_session, observer_client, open_connection

from panel_dask_app.cluster import ClusterMonitor
from panel_dask_app.session import close_on_session_destroyed, wait_closed
from panel_dask_app.state import CANCELLED, PROCESSING, QUEUED

pytestmark = pytest.mark.dask


@pytest.fixture
async def connection(own_dask):
    connection = await open_connection(own_dask)
    yield connection
    await connection.close()


@pytest.fixture
async def observer(own_dask):
    client = await observer_client(own_dask)
    yield client
    await client.close()


async def scheduler_states(observer, keys):
    return await observer.scheduler.get_task_status(keys=keys)


async def all_gone(observer, keys):
    return set((await scheduler_states(observer, keys)).values()) == {None}


async def test_cancel_one_then_all(connection, observer):
    session = new_session(connection, task="sleep_seconds", argument="30", batch_size=4)
    records = await session.submit()
    keys = [r.key for r in records]
    await eventually(
        lambda: (
            {r.state for r in records} <= {PROCESSING, QUEUED} and records[0].state == PROCESSING
        ),
        30,
        "the scheduler to process one task and hold the rest",
    )
    assert await session.cancel(keys[1]) is True
    await eventually(lambda: records[1].state == CANCELLED, 10, "task 2 to show cancelled")
    assert records[1].result == "cancelled by user"
    await eventually(lambda: all_gone(observer, keys[1:2]), 10, "task 2 to leave the scheduler")
    assert (await scheduler_states(observer, [keys[0]]))[keys[0]] == "processing"

    assert await session.cancel(keys[1]) is False
    assert session.tasks.message == "Task #2 is already cancelled."

    assert await session.cancel_all() == 3
    await eventually(lambda: session.tasks.done == 4, 10, "every task to show cancelled")
    assert {r.state for r in records} == {CANCELLED}
    await eventually(lambda: all_gone(observer, keys), 10, "every task to leave the scheduler")


async def test_closing_a_session_cancels_its_pending_work(connection, observer):
    monitor = ClusterMonitor(connection=connection)
    closing = new_session(connection, task="sleep_seconds", argument="30", batch_size=5)
    staying = new_session(connection, task="sleep_seconds", argument="30")
    closing_keys = [r.key for r in await closing.submit()]
    [kept] = await staying.submit()

    async def six_on_scheduler():
        summary = await monitor.poll_once()
        return summary and summary["queued"] + summary["processing"] == 6

    await eventually(six_on_scheduler, 30, "all six tasks to reach the scheduler")

    # What Panel calls when the browser session is destroyed.
    destroyed = close_on_session_destroyed(closing)
    destroyed(None)
    await wait_closed()

    assert closing.closed
    await eventually(lambda: all_gone(observer, closing_keys), 15, "the session's tasks to go")
    states = await scheduler_states(observer, [kept.key])
    assert states[kept.key] in {"processing", "queued", "no-worker"}, "other sessions keep theirs"
    summary = await monitor.poll_once()
    assert summary["queued"] + summary["processing"] == 1
    assert await closing.submit() == [], "a closed session submits nothing"
