"""Caps that hold under rapid clicks and many sessions, against real Dask processes.

A burst of submits on one session (what rapid repeated clicks become on the
server's loop) never overshoots the per-session cap; sessions of one process
(many tabs of one browser) share the process-wide budget; every refusal says
which cap and how much is left, and the budget comes back as tasks end.
"""

import asyncio

import pytest
from distributed import Client

from panel_dask_app.budget import ProcessBudget
from panel_dask_app.client import DaskConnection
from panel_dask_app.session import TaskSession
from panel_dask_app.state import CANCELLED, FINISHED, SessionTasks
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def dask(tmp_path_factory):
    with running_dask(tmp_path_factory.mktemp("dask"), workers=1, threads=2) as cluster:
        yield cluster


async def sleep_tasks_on(address):
    async with Client(address, asynchronous=True, set_as_default=False) as observer:
        return await observer.run_on_scheduler(
            lambda dask_scheduler: [k for k in dask_scheduler.tasks if k.startswith("sleep_")]
        )


async def at_least(count, dask):
    """The session's tasks on the scheduler once there are ``count`` or more, else None."""
    keys = await sleep_tasks_on(dask.address)
    return keys if len(keys) >= count else None


async def none_left(dask):
    return not await sleep_tasks_on(dask.address)


async def test_a_burst_of_submits_never_passes_the_session_cap(dask):
    connection = DaskConnection(address=dask.address, watch_interval=0.2)
    budget = ProcessBudget(1000)
    try:
        # Submits start before the client exists: each waits for the connection,
        # which is where an unguarded check-then-submit would interleave.
        tasks = SessionTasks(task="sleep_seconds", argument="30", max_outstanding=5)
        session = TaskSession(tasks, connection, poll_interval=0.2, budget=budget)
        results = await asyncio.gather(*(session.submit() for _ in range(25)))
        assert sum(len(r) for r in results) == 5
        assert len(tasks.records) == 5
        assert budget.used == 5
        # Submissions travel on the client's batched stream: wait for them to
        # arrive, then check that no more than the cap did.
        arrived = await wait_for_async(
            lambda: at_least(5, dask), "the submitted tasks to reach the scheduler", 30
        )
        assert len(arrived) == 5
        assert "at most 5 unfinished tasks per session" in tasks.message
        assert tasks.message_kind == "danger"

        await session.close()
        assert budget.used == 0
        await wait_for_async(
            lambda: none_left(dask), "the cancelled tasks to leave the cluster", 30
        )
    finally:
        await connection.close()


async def test_sessions_of_one_process_share_its_budget(dask):
    connection = DaskConnection(address=dask.address, watch_interval=0.2)
    budget = ProcessBudget(6)
    try:
        await connection.get_client(wait=30)

        def tab():
            tasks = SessionTasks(task="sleep_seconds", argument="30", max_outstanding=5)
            return TaskSession(tasks, connection, poll_interval=0.2, budget=budget)

        first, second, third = tab(), tab(), tab()
        first.tasks.batch_size = 5
        assert len(await first.submit()) == 5
        second.tasks.batch_size = 2
        assert await second.submit() == []
        assert second.tasks.message == (
            "Nothing submitted. how many: this server runs at most 6 unfinished tasks for all "
            "its sessions and 5 are unfinished, so up to 1 more can be submitted now; try "
            "again when some finish"
        )
        assert second.tasks.records == []
        second.tasks.batch_size = 1
        assert len(await second.submit()) == 1
        assert await third.submit() == []
        assert "up to 0 more" in third.tasks.message

        # Work ending gives the budget back: cancelled here, finished below.
        assert await first.cancel_all() == 5
        await wait_for_async(lambda: budget.used == 1, "the cancelled tasks to be given back", 30)
        assert {r.state for r in first.tasks.records} == {CANCELLED}
        third.tasks.param.update(task="fibonacci")
        third.tasks.param.update(argument="10", batch_size=5)
        records = await third.submit()
        assert len(records) == 5
        await wait_for_async(lambda: all(r.done for r in records), "the fibonacci tasks", 60)
        assert {(r.state, r.result) for r in records} == {(FINISHED, "55")}
        await wait_for_async(lambda: budget.used == 1, "finished tasks to be given back", 10)
        for session in (first, second, third):
            await session.close()
        assert budget.used == 0
    finally:
        await connection.close()
