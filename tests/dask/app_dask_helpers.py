"""Helpers for the app's Dask integration tests (a module, so test files import it by name)."""

import contextlib
import uuid

from distributed import Client, Event

from panel_dask_app.client import CONNECTED, DaskConnection
from panel_dask_app.data_session import DataSession
from panel_dask_app.data_state import DataState
from panel_dask_app.dataset import DAY_ROWS, DatasetSpec
from panel_dask_app.session import TaskSession
from panel_dask_app.shared_dataset import SharedDataset
from panel_dask_app.state import SessionTasks
from panel_dask_testkit.waiting import wait_for_async


@contextlib.asynccontextmanager
async def connected(dask):
    """The app's shared connection to ``dask``, connected, closed afterwards."""
    connection = DaskConnection(address=dask.address, connect_timeout=5, watch_interval=0.2)
    try:
        await connection.get_client(wait=30)
        assert connection.status == CONNECTED
        yield connection
    finally:
        await connection.close()


def new_session(connection, **form):
    return TaskSession(SessionTasks(**form), connection, poll_interval=0.2)


@contextlib.asynccontextmanager
async def observing(dask):
    """A separate client that inspects the scheduler, as an operator would."""
    async with Client(dask.address, asynchronous=True, set_as_default=False) as client:
        yield client


def new_data_session(connection, days=2, budget=None, **query):
    """A /data session on its own dataset of ``days`` days (its own published name)."""
    dataset = SharedDataset(DatasetSpec(days * DAY_ROWS))
    state = DataState(dataset.spec, **query)
    return DataSession(state, connection, dataset, budget=budget, progress_interval=0.05)


@contextlib.asynccontextmanager
async def occupied_workers(client, threads):
    """Every worker thread busy waiting on a Dask Event until the block ends: queued work stays
    queued, so a test can act on a query that has not finished."""
    release = Event(f"release-{uuid.uuid4().hex}", client=client)
    blockers = [client.submit(release.wait, pure=False) for _ in range(threads)]

    async def all_running():
        states = await client.scheduler.get_task_status(keys=[f.key for f in blockers])
        return set(states.values()) == {"processing"}

    try:
        await wait_for_async(all_running, f"{threads} blocking tasks to occupy the workers", 30)
        yield
    finally:
        await release.set()
        await client.gather(blockers)
