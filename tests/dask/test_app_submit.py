"""Submitting through the app's session and shared client to real Dask processes."""

import pytest
from app_dask_helpers import new_session, observing

from panel_dask_app.cluster import ClusterMonitor
from panel_dask_app.remote import TaskFailedError, run_task
from panel_dask_app.state import FINISHED
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask


async def test_submit_and_await_one_task(connection):
    session = new_session(connection, task="fibonacci", argument="20")
    [record] = await session.submit()
    assert session.tasks.message == "Submitted 1 × fibonacci(20)."
    await wait_for_async(lambda: record.done, "fibonacci(20) to finish", 60)
    assert record.state == FINISHED
    assert record.result == "6765"
    assert record.worker.startswith("tcp://127.0.0.1:")
    assert record.duration is not None and record.duration >= 0
    await wait_for_async(lambda: session.tasks.done == 1, "the table to count it", 5)
    assert session.tasks.table.loc[record.key, "result or error"] == "6765"
    assert session.pending_keys == []


async def test_batch_of_twenty_spreads_over_workers(connection, shared_dask):
    session = new_session(connection, task="fibonacci", argument="22", batch_size=20)
    records = await session.submit()
    assert len({r.key for r in records}) == 20
    await wait_for_async(lambda: session.tasks.done == 20, "20 tasks to finish", 120)
    assert {r.state for r in records} == {FINISHED}
    assert {r.result for r in records} == {"17711"}
    assert [r.number for r in records] == list(range(1, 21))
    assert len({r.worker for r in records}) == 2, "both worker processes should take work"
    assert session.tasks.progress_text == "20 of 20 done"


async def test_numpy_and_sleep_tasks_run_on_workers(connection):
    session = new_session(connection, task="matrix_norm", argument="200")
    [matrix] = await session.submit()
    session.tasks.task = "sleep_seconds"
    session.tasks.argument = "0.2"
    [sleep] = await session.submit()
    await wait_for_async(lambda: matrix.done and sleep.done, "both tasks to finish", 60)
    assert (matrix.state, sleep.state) == (FINISHED, FINISHED)
    assert float(matrix.result) > 0
    assert sleep.result == "0.2"


async def test_invalid_input_submits_nothing(connection):
    session = new_session(connection, task="fibonacci", argument="1000000000")
    assert await session.submit() == []
    assert session.tasks.message_kind == "danger"
    assert "n: must be from 0 to 35" in session.tasks.message
    assert session.tasks.total == 0


async def test_worker_errors_come_back_with_worker_and_message(shared_dask):
    async with observing(shared_dask) as client:
        future = client.submit(run_task, "fibonacci", -1, pure=False)
        with pytest.raises(TaskFailedError) as caught:
            await future
    assert caught.value.message == "TaskInputError: n: must be from 0 to 35, got -1"
    assert caught.value.worker.startswith("tcp://127.0.0.1:")


async def test_cluster_monitor_counts_workers_threads_and_memory(connection):
    monitor = ClusterMonitor(connection=connection)
    summary = await monitor.poll_once()
    assert summary is not None, monitor.error
    assert (summary["workers"], summary["threads"]) == (2, 4)
    assert summary["memory_used"] > 0
    assert summary["memory_limit"] >= summary["memory_used"]
    assert monitor.error == ""
