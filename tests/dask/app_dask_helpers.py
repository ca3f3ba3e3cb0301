"""Helpers for the app's Dask integration tests (a module, so test files import it by name)."""

import asyncio

from distributed import Client

from panel_dask_app.client import CONNECTED, DaskConnection
from panel_dask_app.session import TaskSession
from panel_dask_app.state import SessionTasks


async def eventually(predicate, within, what, interval=0.1):
    """Await until predicate() is truthy; fail after `within` seconds saying what."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(interval)


async def open_connection(dask):
    connection = DaskConnection(address=dask.address, connect_timeout=5, watch_interval=0.2)
    await connection.get_client(wait=30)
    assert connection.status == CONNECTED
    return connection


def new_session(connection, **form):
    return TaskSession(SessionTasks(**form), connection, poll_interval=0.2)


async def observer_client(dask):
    """A separate client that inspects the scheduler, as an operator would."""
    return await Client(dask.address, asynchronous=True, set_as_default=False)
