"""Real Dask processes on loopback for the app's integration tests."""

import pytest
from app_dask_helpers import connected

from panel_dask_testkit.local_dask import running_dask


@pytest.fixture(scope="module")
def shared_dask(tmp_path_factory):
    """Two worker processes with two threads each, shared by a test module."""
    with running_dask(tmp_path_factory.mktemp("dask"), workers=2, threads=2) as dask:
        yield dask


@pytest.fixture
def own_dask(tmp_path):
    """A one-thread cluster for one test: long tasks and restarts harm nobody else."""
    with running_dask(tmp_path, workers=1, threads=1) as dask:
        yield dask


@pytest.fixture
async def connection(shared_dask):
    """The app's shared client, connected to the module's cluster."""
    async with connected(shared_dask) as connection:
        yield connection
