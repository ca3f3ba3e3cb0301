"""Helpers for the app's Dask integration tests (a module, so test files import it by name)."""

import contextlib

from distributed import Client

from panel_dask_app.client import CONNECTED, DaskConnection
from panel_dask_app.session import TaskSession
from panel_dask_app.state import SessionTasks


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
