"""Real Dask processes on loopback for the app's integration tests."""

import pytest

from panel_dask_app.testing import LocalDask


@pytest.fixture(scope="module")
def shared_dask(tmp_path_factory):
    """Two worker processes with two threads each, shared by a test module."""
    dask = LocalDask(tmp_path_factory.mktemp("dask"))
    try:
        dask.start_scheduler()
        dask.start_workers(count=2, threads=2)
        yield dask
    finally:
        dask.close()


@pytest.fixture
def own_dask(tmp_path):
    """A one-thread cluster for one test: long tasks and restarts harm nobody else."""
    dask = LocalDask(tmp_path)
    try:
        dask.start_scheduler()
        dask.start_workers(count=1, threads=1)
        yield dask
    finally:
        dask.close()
