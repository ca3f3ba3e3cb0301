"""Which Deployments a scale-down removes: the pure plan, table-driven and by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel_dask_operator.retirement import Removal, plan_removal
from panel_dask_operator.snapshot import WorkerInfo


def worker(name: str, busy: bool = False, stored: int = 0) -> WorkerInfo:
    return WorkerInfo(address=f"tcp://{name}:1", name=name, busy=busy, stored=stored)


# Deployments newest first, as kube.worker_deployments lists them.
GROUP = ["g-worker-e", "g-worker-d", "g-worker-c", "g-worker-b", "g-worker-a"]


@pytest.mark.parametrize(
    ("workers", "count", "allow_busy", "unconnected", "retire"),
    [
        # nothing connected yet: newest Deployments go, nothing to retire
        ([], 2, False, ["g-worker-e", "g-worker-d"], []),
        # never-connected ones before any connected worker, even an idle one
        (
            [worker(n) for n in ("g-worker-e", "g-worker-c", "g-worker-b", "g-worker-a")],
            2,
            False,
            ["g-worker-d"],
            ["g-worker-e"],
        ),
        # idle workers holding the least go first; busy ones are kept
        (
            [
                worker("g-worker-e", busy=True),
                worker("g-worker-d", stored=5),
                worker("g-worker-c", stored=1),
                worker("g-worker-b", busy=True),
                worker("g-worker-a", stored=3),
            ],
            4,
            False,
            [],
            ["g-worker-c", "g-worker-a", "g-worker-d"],
        ),
        # an explicit kubectl scale takes busy ones after the idle ones
        (
            [
                worker("g-worker-e", busy=True, stored=9),
                worker("g-worker-d"),
                worker("g-worker-c", busy=True, stored=1),
                worker("g-worker-b"),
                worker("g-worker-a"),
            ],
            4,
            True,
            [],
            ["g-worker-d", "g-worker-b", "g-worker-a", "g-worker-c"],
        ),
        # workers of another group are never chosen
        (
            [worker("other-worker-x"), *(worker(n, busy=True) for n in GROUP)],
            1,
            False,
            [],
            [],
        ),
        # nothing to remove
        ([worker(n) for n in GROUP], 0, True, [], []),
    ],
)
def test_plan(workers, count, allow_busy, unconnected, retire):
    plan = plan_removal(GROUP, workers, count, allow_busy=allow_busy)
    assert list(plan.unconnected) == unconnected
    assert [w.name for w in plan.retire] == retire


def test_only_retired_workers_are_deleted():
    plan = Removal(("g-worker-d",), (worker("g-worker-e"), worker("g-worker-c")))
    # the scheduler could not move g-worker-c's data: it stays
    assert plan.deletable(["g-worker-e"]) == ["g-worker-d", "g-worker-e"]
    assert plan.deletable([]) == ["g-worker-d"]


names = st.lists(st.sampled_from([f"w{i}" for i in range(12)]), unique=True, max_size=12)


@given(
    deployments=names,
    connected=st.dictionaries(
        st.sampled_from([f"w{i}" for i in range(16)]),
        st.tuples(st.booleans(), st.integers(0, 100)),
        max_size=16,
    ),
    count=st.integers(-2, 15),
    allow_busy=st.booleans(),
)
def test_plan_properties(deployments, connected, count, allow_busy):
    workers = [worker(n, busy=b, stored=s) for n, (b, s) in connected.items()]
    plan = plan_removal(deployments, workers, count, allow_busy=allow_busy)
    chosen = [*plan.unconnected, *(w.name for w in plan.retire)]
    # at most count, each once, only the group's own Deployments
    assert len(chosen) <= max(0, count)
    assert len(set(chosen)) == len(chosen)
    assert set(chosen) <= set(deployments)
    # never-connected Deployments are only ever deleted, never "retired"
    assert not set(plan.unconnected) & set(connected)
    assert all(w.name in connected for w in plan.retire)
    # the autoscaler never takes a busy worker
    if not allow_busy:
        assert not [w for w in plan.retire if w.busy]
    # as many as asked whenever enough candidates exist
    candidates = [d for d in deployments if d not in connected or allow_busy or not connected[d][0]]
    assert len(chosen) == min(max(0, count), len(candidates))
