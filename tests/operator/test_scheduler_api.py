"""The scheduler's state route, served by a real scheduler and read by the operator's reader.

This is the contract test between ``panel_dask_app.scheduler_api`` (the producer,
in the app image) and ``panel_dask_operator.snapshot`` (the reader): the
scheduler is configured from the product's one route list, its workers are real
processes, and every read goes through :class:`SchedulerClient`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import dask
import pytest
from distributed import Client, Event, LocalCluster

from panel_dask_app.remote import cluster_summary, summarize
from panel_dask_app.scheduler_api import PATH
from panel_dask_app.scheduler_routes import routes_config
from panel_dask_operator.local import http_base_url
from panel_dask_operator.retirement import retire_for_removal
from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_operator.snapshot import STATE_PATH, SchedulerSnapshot, SchedulerUnreachableError

pytestmark = pytest.mark.dask

GUARD_S = 60  # only a guard against a hang; nothing here is timed


def local_cluster(workers: int) -> LocalCluster:
    """An in-process scheduler with real worker processes (one thread each), on loopback."""
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        asynchronous=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[LocalCluster, Client, SchedulerClient]]:
    """Two workers under a scheduler serving the product's routes, a client, the reader."""
    with dask.config.set(routes_config()):
        async with (
            local_cluster(2) as cluster,
            Client(cluster, asynchronous=True) as client,
            aiohttp.ClientSession() as session,
        ):
            await client.wait_for_workers(2)
            yield cluster, client, SchedulerClient(session, http_base_url(cluster.scheduler))


def blocking_task():
    """A task that waits for the test's go; nested, so Dask ships it by value."""

    def blocked(i: int) -> int:
        Event("go").wait()
        return i * 2

    return blocked


async def snapshot_when(scheduler: SchedulerClient, done, what: str) -> SchedulerSnapshot:
    """Long-poll until ``done(snapshot)``: each read answers when the backlog moved."""

    async def reads() -> SchedulerSnapshot:
        snapshot = await scheduler.snapshot()
        while not done(snapshot):
            snapshot = await scheduler.snapshot(wait=1)
        return snapshot

    try:
        return await asyncio.wait_for(reads(), GUARD_S)
    except TimeoutError:
        raise AssertionError(f"the scheduler never showed {what}") from None


def test_the_reader_asks_for_the_path_the_route_serves():
    assert STATE_PATH == PATH


async def test_route_serves_what_the_operator_reads(served):
    cluster, client, scheduler = served
    snapshot = await scheduler.snapshot()
    assert (snapshot.ready_workers, snapshot.threads, snapshot.busy_workers) == (2, 2, 0)
    assert {w.address for w in snapshot.workers} == set(cluster.scheduler.workers)
    assert sorted(w.name for w in snapshot.workers) == ["0", "1"]
    assert snapshot.version
    # The app's cluster panel reads the same document on the scheduler.
    summary = await client.run_on_scheduler(cluster_summary)
    assert (summary["workers"], summary["threads"], summary["queued"]) == (2, 2, 0)
    assert summary["memory_limit"] > 0 and summary["memory_used"] > 0


async def test_long_poll_wakes_when_tasks_are_submitted(served):
    _, client, scheduler = served
    idle = await scheduler.snapshot()
    # Nothing moves while no work arrives: the poll is still waiting after a while.
    waiting = asyncio.ensure_future(scheduler.snapshot(wait=50))
    await asyncio.sleep(0.5)
    assert not waiting.done(), "an idle scheduler answered a long poll early"
    futures = client.map(blocking_task(), range(6), pure=False)
    woken = await asyncio.wait_for(waiting, GUARD_S)  # well before the 50 s wait ran out
    assert woken.version != idle.version
    assert woken.queued + woken.processing + woken.no_worker >= 1
    backlog = await snapshot_when(
        scheduler, lambda s: s.queued + s.processing == 6 and s.busy_workers == 2, "six tasks"
    )
    assert backlog.queued >= 1, "root-ish tasks beyond the threads wait in queued"
    await Event("go", client=client).set()
    assert await client.gather(futures) == [i * 2 for i in range(6)]
    drained = await snapshot_when(scheduler, lambda s: s.queued + s.processing == 0, "drained")
    assert drained.busy_workers == 0


async def test_long_poll_without_change_keeps_the_version(served):
    _, _, scheduler = served
    first = await scheduler.snapshot()
    again = await scheduler.snapshot(wait=0.3)
    assert again.version == first.version
    assert again.workers == first.workers


async def test_no_worker_tasks_are_counted(served):
    _, client, scheduler = served
    unplaceable = client.submit(blocking_task(), 1, resources={"GPU": 1}, pure=False)
    snapshot = await snapshot_when(scheduler, lambda s: s.no_worker == 1, "one no-worker task")
    assert snapshot.observation(pending=0).backlog == 1
    await client.cancel(unplaceable)


async def test_a_bad_wait_is_refused(served):
    _, _, scheduler = served
    url = f"{scheduler.base_url}{STATE_PATH}"
    async with scheduler.session.get(url, params={"since": "x", "wait": "soon"}) as response:
        assert response.status == 400
        assert "wait" in (await response.json())["error"]


async def test_retire_moves_data_off_the_worker(served):
    _, client, scheduler = served
    leaving, staying = (await scheduler.snapshot()).workers
    [data] = await client.scatter([list(range(1000))], workers=[leaving.address])
    assert await scheduler.retire([leaving.address], time_limit=30) == [leaving.name]
    after = await snapshot_when(scheduler, lambda s: len(s.workers) == 1, "one worker")
    assert after.workers[0].name == staying.name
    assert await data.result() == list(range(1000))


async def test_scale_down_retires_the_idle_worker_never_the_busy_one(served):
    _, client, scheduler = served
    busy, idle = (await scheduler.snapshot()).workers
    running = client.submit(blocking_task(), 21, workers=[busy.address], pure=False)
    await snapshot_when(scheduler, lambda s: s.busy_workers == 1, "one busy worker")
    group = ["never-connected", idle.name, busy.name]
    doomed = await retire_for_removal(scheduler, group, 3, allow_busy=False)
    assert doomed == ["never-connected", idle.name]
    after = await snapshot_when(scheduler, lambda s: len(s.workers) == 1, "one worker")
    assert after.workers[0].name == busy.name
    await Event("go", client=client).set()
    assert await running.result() == 42
    story = await client.story(running.key)
    assert sum(1 for entry in story if entry[2] == "processing") == 1, story


async def test_a_scheduler_without_the_route_names_the_module():
    async with local_cluster(0) as cluster, aiohttp.ClientSession() as session:
        scheduler = SchedulerClient(session, http_base_url(cluster.scheduler))
        with pytest.raises(SchedulerUnreachableError, match="panel_dask_app.scheduler_api"):
            await scheduler.snapshot()


async def test_an_unreachable_scheduler_names_the_url():
    with socket.socket() as bound:  # bound, never listening: a real refused connection
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/dask"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SchedulerUnreachableError, match=url):
                await SchedulerClient(session, url).snapshot(time_limit=2)


def test_the_app_summary_reads_the_document_the_route_serves():
    document = {
        "version": "v",
        "tasks": {"queued": 3, "no-worker": 1, "processing": 2, "memory": 7},
        "workers": [
            {"nthreads": 2, "memory_process": 10, "memory_limit": 100},
            {"nthreads": 1, "memory_process": 5, "memory_limit": 50},
        ],
    }
    assert summarize(document) == {
        "workers": 2,
        "threads": 3,
        "queued": 4,
        "processing": 2,
        "memory_used": 15,
        "memory_limit": 150,
    }
