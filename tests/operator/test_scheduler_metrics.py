"""Reading a real scheduler's counts over HTTP, and retiring workers through it."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from conftest import free_port
from distributed import Client, Event

from panel_dask_operator.metrics import (
    SchedulerUnreachableError,
    fetch_snapshot,
    metrics_base_url,
    parse_states,
    retire_workers,
)
from panel_dask_operator.policy import ScalingSpec, workers_needed

SAMPLE = """# HELP dask_scheduler_tasks Number of tasks known by scheduler
# TYPE dask_scheduler_tasks gauge
dask_scheduler_tasks{state="queued"} 14.0
dask_scheduler_tasks{state="no-worker"} 2.0
dask_scheduler_tasks{state="processing"} 6.0
dask_scheduler_tasks{state="memory"} 3.0
dask_scheduler_workers{state="idle"} 1.0
dask_scheduler_workers{state="retiring"} 2.0
"""


def test_parse_task_states():
    tasks, workers = parse_states(SAMPLE)
    assert tasks == {"queued": 14, "no-worker": 2, "processing": 6}
    assert workers == {"idle": 1, "retiring": 2}


def test_parse_without_prometheus_says_what_to_install():
    with pytest.raises(SchedulerUnreachableError, match="prometheus-client"):
        parse_states("# Prometheus metrics are not available, see: https://docs.dask.org")


def test_base_url_override_and_in_cluster_default():
    assert metrics_base_url("c", "ns", {}) == "http://c-scheduler.ns.svc:8787/dask"
    env = {"PANEL_DASK_METRICS_URL": "http://127.0.0.1:9/dask/"}
    assert metrics_base_url("c", "ns", env) == "http://127.0.0.1:9/dask"


async def test_unreachable_scheduler_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/dask"  # nothing listens: a real refused connection
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SchedulerUnreachableError, match=url):
            await fetch_snapshot(session, url, time_limit=2)


def blocking_task():
    """A task that waits for the test's go; nested, so Dask ships it by value."""

    def blocked(i: int) -> int:
        Event("go").wait()
        return i * 2

    return blocked


async def poll(base_url: str, predicate, what: str, limit: float = 30):
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as session:
        while True:
            snapshot = await fetch_snapshot(session, base_url)
            if predicate(snapshot):
                return snapshot
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last {snapshot}")
            await asyncio.sleep(0.2)


@pytest.mark.dask
async def test_snapshot_of_a_real_backlog(dask_processes):
    dask_processes.start_worker("w1", nthreads=1)
    async with Client(dask_processes.address, asynchronous=True) as client:
        await poll(dask_processes.base_url, lambda s: s.ready_workers == 1, "one worker")
        blocked = blocking_task()
        futures = client.map(blocked, range(10), pure=False)
        unplaceable = client.submit(blocked, 99, resources={"GPU": 1}, pure=False)
        snapshot = await poll(
            dask_processes.base_url,
            lambda s: s.queued + s.processing == 10 and s.no_worker == 1,
            "10 tasks queued or processing, 1 no-worker",
        )
        assert snapshot.queued >= 1, "the scheduler should queue root-ish tasks"
        observation = snapshot.observation(pending=0)
        assert (observation.threads, observation.ready_workers) == (1, 1)
        assert [w.name for w in snapshot.workers] == ["w1"]
        assert observation.backlog == 10 - 1 + 1  # all but the running one, plus no-worker
        assert workers_needed(ScalingSpec(tasks_per_worker=2), observation) == 1 + 5
        await Event("go", client=client).set()
        assert await client.gather(futures) == [i * 2 for i in range(10)]
        await client.cancel(unplaceable)
        await poll(
            dask_processes.base_url,
            lambda s: (s.queued, s.processing, s.no_worker) == (0, 0, 0),
            "the drained scheduler",
        )


@pytest.mark.dask
async def test_retire_moves_data_off_the_worker(dask_processes):
    dask_processes.start_worker("keep")
    dask_processes.start_worker("go")
    async with Client(dask_processes.address, asynchronous=True) as client:
        snapshot = await poll(
            dask_processes.base_url, lambda s: s.ready_workers == 2, "two workers"
        )
        leaving = next(w for w in snapshot.workers if w.name == "go")
        [data] = await client.scatter([list(range(1000))], workers=[leaving.address])
        async with aiohttp.ClientSession() as session:
            names = await retire_workers(
                session, dask_processes.base_url, addresses=[leaving.address], time_limit=30
            )
        assert names == ["go"]
        after = await poll(dask_processes.base_url, lambda s: len(s.workers) == 1, "one worker")
        assert after.workers[0].name == "keep"
        assert await data.result() == list(range(1000))
