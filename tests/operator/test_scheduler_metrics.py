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
    parse_worker_table,
    retire_workers,
)
from panel_dask_operator.policy import ScalingSpec, workers_needed
from panel_dask_operator.retirement import retire_for_removal

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


# The scheduler's worker table as distributed renders it (cells trimmed, one row busy).
WORKERS_PAGE = """<html><body><h1 class="title"> Scheduler tcp://127.0.0.1:1 </h1>
<table class="table is-striped is-hoverable sortable"><thead><tr>
<th> Worker </th><th> Name </th><th> Cores </th><th> Memory </th><th> Memory use </th>
<th> Occupancy </th><th> Processing </th><th> In-memory </th><th> Services</th><th> Logs </th>
<th> Last seen </th><th> </th></tr></thead><tbody>
<tr ><td><a href="../worker/tcp%3A%2F%2F127.0.0.1%3A2.html">tcp://127.0.0.1:2</a></td>
<td> c-default-worker-1 &amp; co </td><td> 2 </td><td data-sort="1"> 1 B </td>
<td> <progress class="progress" value="1" max="2"></progress></td><td data-sort="0"> 0 s </td>
<td> 3 </td><td> 7 </td><td> </td><td> <a href="../logs/x.html">logs</a></td>
<td data-sort="0.1"> 100 ms </td><td><form><button name="x">Close</button></form></td></tr>
<tr ><td><a href="../worker/y.html">tcp://127.0.0.1:3</a></td><td>  </td><td> 1 </td><td> 1 B </td>
<td> </td><td> 0 s </td><td> 0 </td><td> 0 </td><td> </td><td> logs</td><td> 1 s </td><td></td></tr>
</tbody></table><script>const t = "<table><tr><td>";</script></body></html>"""


def test_parse_worker_table():
    busy, idle = parse_worker_table(WORKERS_PAGE)
    assert (busy.address, busy.name, busy.busy, busy.stored) == (
        "tcp://127.0.0.1:2",
        "c-default-worker-1 & co",
        True,
        7,
    )
    assert (idle.address, idle.name, idle.busy, idle.stored) == ("tcp://127.0.0.1:3", "", False, 0)


def test_worker_table_missing_says_which_route():
    with pytest.raises(SchedulerUnreachableError, match="distributed.http.scheduler.info"):
        parse_worker_table("<html><body>404: Not Found</body></html>")


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
        assert snapshot.busy_workers == 1 and snapshot.workers[0].busy
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


@pytest.mark.dask
async def test_scale_down_retires_the_idle_worker_never_the_busy_one(dask_processes):
    for name in ("c-default-worker-busy", "c-default-worker-idle"):
        dask_processes.start_worker(name)
    async with Client(dask_processes.address, asynchronous=True) as client:
        two = await poll(dask_processes.base_url, lambda s: s.ready_workers == 2, "two workers")
        busy_address = next(w.address for w in two.workers if w.name == "c-default-worker-busy")
        running = client.submit(blocking_task(), 21, workers=[busy_address], pure=False)
        await poll(dask_processes.base_url, lambda s: s.busy_workers == 1, "one busy worker")
        group = ["c-default-worker-new", "c-default-worker-idle", "c-default-worker-busy"]
        async with aiohttp.ClientSession() as session:
            doomed = await retire_for_removal(
                session, dask_processes.base_url, group, 3, allow_busy=False
            )
        # the never-connected Deployment and the idle worker; the busy one stays
        assert doomed == ["c-default-worker-new", "c-default-worker-idle"]
        after = await poll(dask_processes.base_url, lambda s: len(s.workers) == 1, "one worker")
        assert after.workers[0].name == "c-default-worker-busy"
        await Event("go", client=client).set()
        assert await running.result() == 42
        # the task ran once, where it started: nothing was rescheduled
        story = await client.story(running.key)
        assert sum(1 for entry in story if entry[2] == "processing") == 1, story
