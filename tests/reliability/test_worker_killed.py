"""A Dask worker SIGKILLed in the middle of a session's tasks: nothing is lost, the retry shows.

Real scheduler and worker processes (each worker under a nanny, which starts a
fresh worker as Kubernetes restarts a pod); the session is the app's own
TaskSession on the shared DaskConnection, as a browser session drives it.
"""

import os
import signal

import pytest
from distributed import Client

from panel_dask_app.client import DaskConnection
from panel_dask_app.session import TaskSession
from panel_dask_app.state import ERROR, FINISHED, PROCESSING, SessionTasks
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask

DURATIONS = ["4", "4.5", "5", "5.5"]


@pytest.fixture
def two_workers(tmp_path):
    with running_dask(tmp_path, workers=2, threads=1) as dask:
        yield dask


async def test_killed_worker_tasks_finish_with_right_results_and_show_the_retry(two_workers):
    connection = DaskConnection(address=two_workers.address, watch_interval=0.2)
    observer = await Client(two_workers.address, asynchronous=True, set_as_default=False)
    try:
        await connection.get_client(wait=30)
        tasks = SessionTasks(task="sleep_seconds")
        session = TaskSession(tasks, connection, poll_interval=0.2)
        records = []
        for seconds in DURATIONS:
            tasks.argument = seconds
            records += await session.submit()
        first = records[0]
        await wait_for_async(
            lambda: first.state == PROCESSING and first.worker, "task #1 to run on a worker", 60
        )
        victim = first.worker
        pids = await observer.run(os.getpid, workers=[victim])
        os.kill(pids[victim], signal.SIGKILL)

        await wait_for_async(lambda: all(r.done for r in records), "every task to finish", 120)
        assert [r.state for r in records] == [FINISHED] * len(DURATIONS), [
            (r.number, r.state, r.result) for r in records
        ]
        assert [float(r.result) for r in records] == [float(d) for d in DURATIONS]
        assert ERROR not in {r.state for r in records}
        # The session saw the lost run: the row, the summary and a notice say so.
        assert first.retries == 1
        assert first.worker != victim
        assert tasks.table.loc[first.key, "retries"] == 1
        assert "re-run after a worker was lost" in tasks.progress_text
        assert tasks.message_kind == "info"
        assert "#1" in tasks.message and "again on another worker" in tasks.message
        await session.close()
    finally:
        await observer.close()
        await connection.close()
