"""The operator's reader of the scheduler's state document, and when it calls for a tick."""

from __future__ import annotations

import copy

import pytest

from panel_dask_operator.policy import ScalingSpec
from panel_dask_operator.snapshot import SchedulerUnreachableError, WorkerInfo, read_state
from panel_dask_operator.watch import would_act


def worker(name: str, status: str = "running", processing: int = 0, **fields):
    return {
        "name": name,
        "address": f"tcp://{name}:1",
        "status": status,
        "nthreads": 2,
        "processing": processing,
        "long_running": 0,
        "stored_keys": 3,
        "stored_bytes": 300,
        "memory_process": 1000,
        "memory_limit": 4000,
        **fields,
    }


DOCUMENT = {
    "version": "abc-7",
    "tasks": {"queued": 5, "no-worker": 1, "processing": 3, "memory": 9},
    "workers": [
        worker("busy", processing=3),
        worker("idle"),
        worker("seceder", long_running=1),
        worker("leaving", status="closing_gracefully"),
    ],
}


def test_counts_and_workers():
    snapshot = read_state(DOCUMENT)
    assert (snapshot.queued, snapshot.no_worker, snapshot.processing) == (5, 1, 3)
    assert snapshot.version == "abc-7"
    # only running workers are ready and bring threads; a long-running task keeps one busy
    assert (snapshot.ready_workers, snapshot.threads, snapshot.busy_workers) == (3, 6, 2)
    # every known worker is listed, so a retiring one is never taken for a missing one
    assert [w.name for w in snapshot.workers] == ["busy", "idle", "seceder", "leaving"]
    assert snapshot.workers[1] == WorkerInfo("tcp://idle:1", "idle", busy=False, stored=300)


def test_missing_states_read_zero():
    snapshot = read_state({**DOCUMENT, "tasks": {}})
    assert (snapshot.queued, snapshot.no_worker, snapshot.processing) == (0, 0, 0)


@pytest.mark.parametrize("field", ["name", "address", "status", "nthreads", "processing",
                                   "long_running", "stored_bytes"])  # fmt: skip
def test_a_worker_without_a_field_is_refused_by_name(field):
    document = copy.deepcopy(DOCUMENT)
    del document["workers"][0][field]
    with pytest.raises(SchedulerUnreachableError, match=repr(field)):
        read_state(document)


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ([], "not a JSON object"),
        ({**DOCUMENT, "version": 7}, "'version'"),
        ({**DOCUMENT, "tasks": {"queued": "5"}}, "'tasks'"),
        ({**DOCUMENT, "tasks": {"queued": True}}, "'tasks'"),
        ({**DOCUMENT, "workers": {}}, "'workers'"),
        ({**DOCUMENT, "workers": [worker("w", nthreads=2.5)]}, "'nthreads'"),
    ],
)
def test_unusable_documents_are_refused(document, why):
    with pytest.raises(SchedulerUnreachableError, match=why):
        read_state(document)


SPEC = ScalingSpec(minimum=1, maximum=10, tasks_per_worker=4, scale_down_delay=60)


def test_a_burst_calls_for_a_tick_a_steady_backlog_does_not():
    snapshot = read_state(DOCUMENT)  # backlog 6 on 3 ready workers
    assert would_act(SPEC, snapshot, replicas=3, low_since=None, now=0)
    # the replicas already requested for that backlog: nothing to do until it moves
    assert not would_act(SPEC, snapshot, replicas=5, low_since=None, now=0)


def test_an_idle_cluster_calls_for_a_tick_only_after_the_window():
    idle = read_state({**DOCUMENT, "tasks": {}, "workers": [worker("a"), worker("b")]})
    assert not would_act(SPEC, idle, replicas=2, low_since=None, now=100)
    assert not would_act(SPEC, idle, replicas=2, low_since=50, now=100)
    assert would_act(SPEC, idle, replicas=2, low_since=30, now=100)
