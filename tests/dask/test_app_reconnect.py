"""The shared client survives a scheduler restart on the same port without an app restart."""

import pytest
from app_dask_helpers import connected, new_session

from panel_dask_app.client import CONNECTED, DISCONNECTED, RECONNECTING
from panel_dask_app.state import FINISHED, LOST, PROCESSING
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(RECONNECTING, id="short-outage-client-reconnects"),
        pytest.param(DISCONNECTED, id="long-outage-new-client"),
    ],
)
async def test_scheduler_restart_then_new_submissions_succeed(own_dask, outage):
    async with connected(own_dask) as connection:
        session = new_session(connection, task="sleep_seconds", argument="30")
        [running] = await session.submit()
        await wait_for_async(lambda: running.state == PROCESSING, "the task to start", 30)

        own_dask.close()
        await wait_for_async(lambda: connection.status == outage, f"status {outage!r}", 60)
        assert own_dask.address in connection.message
        await wait_for_async(lambda: running.state == LOST, "the running task to show lost", 30)
        assert "re-run" in running.result
        # The session says, in one notice, that its running work was lost.
        await wait_for_async(lambda: "lost" in session.tasks.message, "the lost-work notice", 5)
        assert session.tasks.message_kind == "warning"
        assert "1 unfinished task(s) (#1) were lost" in session.tasks.message

        if outage == DISCONNECTED:
            # Submitting during the outage says so and queues nothing.
            assert await session.submit() == []
            assert session.tasks.message_kind == "warning"
            assert own_dask.address in session.tasks.message

        own_dask.start_scheduler()
        own_dask.start_workers(count=1, threads=1)
        await wait_for_async(lambda: connection.status == CONNECTED, "the app to reconnect", 60)

        session.tasks.param.update(task="fibonacci")
        session.tasks.argument = "10"
        [after] = await session.submit()
        await wait_for_async(lambda: after.done, "a task submitted after the restart", 60)
        assert (after.state, after.result) == (FINISHED, "55")
