"""The shared client survives a scheduler restart on the same port without an app restart."""

import pytest
from app_dask_helpers import eventually, new_session, open_connection

from panel_dask_app.client import CONNECTED, DISCONNECTED, RECONNECTING
from panel_dask_app.state import FINISHED, LOST, PROCESSING

pytestmark = pytest.mark.dask


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(RECONNECTING, id="short-outage-client-reconnects"),
        pytest.param(DISCONNECTED, id="long-outage-new-client"),
    ],
)
async def test_scheduler_restart_then_new_submissions_succeed(own_dask, outage):
    connection = await open_connection(own_dask)
    try:
        session = new_session(connection, task="sleep_seconds", argument="30")
        [running] = await session.submit()
        await eventually(lambda: running.state == PROCESSING, 30, "the task to start")

        own_dask.close()
        await eventually(lambda: connection.status == outage, 60, f"status {outage!r}")
        assert own_dask.address in connection.message
        await eventually(lambda: running.state == LOST, 30, "the running task to show lost")
        assert "re-run" in running.result
        # The session says, in one notice, that its running work was lost.
        await eventually(lambda: "lost" in session.tasks.message, 5, "the lost-work notice")
        assert session.tasks.message_kind == "warning"
        assert "1 unfinished task(s) (#1) were lost" in session.tasks.message

        if outage == DISCONNECTED:
            # Submitting during the outage says so and queues nothing.
            assert await session.submit() == []
            assert session.tasks.message_kind == "warning"
            assert own_dask.address in session.tasks.message

        own_dask.start_scheduler()
        own_dask.start_workers(count=1, threads=1)
        await eventually(lambda: connection.status == CONNECTED, 60, "the app to reconnect")

        session.tasks.param.update(task="fibonacci")
        session.tasks.argument = "10"
        [after] = await session.submit()
        await eventually(lambda: after.done, 60, "a task submitted after the restart")
        assert (after.state, after.result) == (FINISHED, "55")
    finally:
        await connection.close()
