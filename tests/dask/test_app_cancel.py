"""Cancelling, and closing a session, leave nothing of it on the scheduler."""

import pytest
from app_dask_helpers import connected, new_session, observing

from panel_dask_app.cluster import ClusterMonitor
from panel_dask_app.session import close_on_session_destroyed, wait_closed
from panel_dask_app.state import CANCELLED, PROCESSING, QUEUED
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask


@pytest.fixture
async def connection(own_dask):
    """Each test cancels on a cluster of its own, so its long tasks harm nobody else."""
    async with connected(own_dask) as connection:
        yield connection


@pytest.fixture
async def observer(own_dask):
    async with observing(own_dask) as client:
        yield client


async def scheduler_states(observer, keys):
    return await observer.scheduler.get_task_status(keys=keys)


async def all_gone(observer, keys):
    return set((await scheduler_states(observer, keys)).values()) == {None}


async def test_cancel_one_then_all(connection, observer):
    session = new_session(connection, task="sleep_seconds", argument="30", batch_size=4)
    records = await session.submit()
    keys = [r.key for r in records]
    await wait_for_async(
        lambda: (
            {r.state for r in records} <= {PROCESSING, QUEUED} and records[0].state == PROCESSING
        ),
        "the scheduler to process one task and hold the rest",
        30,
    )
    assert await session.cancel(keys[1]) is True
    await wait_for_async(lambda: records[1].state == CANCELLED, "task 2 to show cancelled", 10)
    assert records[1].result == "cancelled by user"
    await wait_for_async(lambda: all_gone(observer, keys[1:2]), "task 2 to leave the scheduler", 10)
    assert (await scheduler_states(observer, [keys[0]]))[keys[0]] == "processing"

    assert await session.cancel(keys[1]) is False
    assert session.tasks.message == "Task #2 is already cancelled."

    assert await session.cancel_all() == 3
    await wait_for_async(lambda: session.tasks.done == 4, "every task to show cancelled", 10)
    assert {r.state for r in records} == {CANCELLED}
    await wait_for_async(lambda: all_gone(observer, keys), "every task to leave the scheduler", 10)


async def test_closing_a_session_cancels_its_pending_work(connection, observer):
    monitor = ClusterMonitor(connection=connection)
    closing = new_session(connection, task="sleep_seconds", argument="30", batch_size=5)
    staying = new_session(connection, task="sleep_seconds", argument="30")
    closing_keys = [r.key for r in await closing.submit()]
    [kept] = await staying.submit()

    async def six_on_scheduler():
        summary = await monitor.poll_once()
        return summary and summary["queued"] + summary["processing"] == 6

    await wait_for_async(six_on_scheduler, "all six tasks to reach the scheduler", 30)

    # What Panel calls when the browser session is destroyed.
    destroyed = close_on_session_destroyed(closing)
    destroyed(None)
    await wait_closed()

    assert closing.closed
    await wait_for_async(lambda: all_gone(observer, closing_keys), "the session's tasks to go", 15)
    states = await scheduler_states(observer, [kept.key])
    assert states[kept.key] in {"processing", "queued", "no-worker"}, "other sessions keep theirs"
    summary = await monitor.poll_once()
    assert summary["queued"] + summary["processing"] == 1
    assert await closing.submit() == [], "a closed session submits nothing"
