"""The process-wide objects every session shares: one each, however sessions arrive."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import panel as pn
import pytest

from panel_dask_app.budget import get_budget
from panel_dask_app.client import get_connection
from panel_dask_app.cluster import get_cluster_monitor

GETTERS = [get_connection, get_cluster_monitor, get_budget]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    pn.state.cache.clear()
    yield
    pn.state.cache.clear()


@pytest.mark.parametrize("getter", GETTERS, ids=lambda getter: getter.__name__)
def test_sessions_on_many_threads_share_one_object(getter: Callable[[], object]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: getter(), range(32)))
    assert all(item is found[0] for item in found)
    assert getter() is found[0]
