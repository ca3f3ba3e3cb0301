"""What a Kubernetes tick writes back: status, Events, backoff, the scale-down clock."""

from __future__ import annotations

import pytest

from panel_dask_operator import autoscaler, conditions, kube
from panel_dask_operator.policy import Decision, SpecError
from panel_dask_operator.snapshot import SchedulerSnapshot, SchedulerUnreachableError


def decision(desired: int, current: int, low_since: float | None = None) -> Decision:
    return Decision(desired, current, needed=desired, backlog=7, reason="why", low_since=low_since)


SNAPSHOT = SchedulerSnapshot(
    queued=5, no_worker=1, processing=4, threads=4, ready_workers=2, busy_workers=2, workers=()
)


@pytest.mark.parametrize(
    ("interval", "failures", "delay"),
    [(1, 1, 2), (1, 3, 8), (1, 5, 30), (0.5, 2, 2), (2, 40, 30), (None, 1, 2)],
)
def test_backoff_doubles_up_to_thirty_seconds(interval, failures, delay):
    assert autoscaler.backoff({"pollIntervalSeconds": interval}, failures) == delay


def test_problem_reasons():
    assert autoscaler.problem_reason(SpecError("x")) == "InvalidSpec"
    assert autoscaler.problem_reason(kube.ClusterMissingError("x")) == "ClusterMissing"
    assert autoscaler.problem_reason(SchedulerUnreachableError("x")) == "SchedulerUnreachable"
    assert autoscaler.problem_reason(RuntimeError("x")) == "TickFailed"


def test_scale_events_carry_the_numbers():
    assert autoscaler.scale_event("c-default", 1, 4, decision(4, 1)) == (
        "ScaledUp",
        "c-default replicas 1 -> 4; why",
    )
    reason, message = autoscaler.scale_event("c-default", 5, 3, decision(1, 5))
    assert reason == "ScaledDown"
    assert message == "c-default replicas 5 -> 3; why; 2 busy worker(s) kept until idle"


def test_outcome_only_annotates_a_short_scale_down():
    assert autoscaler.outcome(decision(1, 5), 5, 1) == "why"
    assert autoscaler.outcome(decision(4, 1), 1, 4) == "why"
    assert autoscaler.outcome(decision(2, 2), 2, 2) == "why"
    assert autoscaler.outcome(decision(1, 3), 3, 3).endswith("2 busy worker(s) kept until idle")


@pytest.mark.parametrize(
    ("made", "after", "before_since", "since"),
    [
        # full scale-down: the clock stops
        (decision(1, 5), 1, 100.0, None),
        # busy workers kept: the clock keeps its start, they go once idle
        (decision(1, 5), 3, 100.0, 100.0),
        # nobody could go yet (delay 0, no clock before): the clock starts now
        (decision(1, 5), 5, None, 500.0),
        # holding during the delay: the decision's own clock
        (decision(5, 5, low_since=120.0), 5, 120.0, 120.0),
        # scale-up: no clock
        (decision(6, 2), 6, 120.0, None),
    ],
)
def test_next_low_since(made, after, before_since, since):
    assert autoscaler.next_low_since(made, after, before_since, now=500.0) == since


def test_status_after_a_tick():
    status = autoscaler.build_status(decision(1, 5), SNAPSHOT, 5, 3, [], low_since=100.0)
    assert status["workers"] == {"ready": 2, "pending": 1, "requested": 3}
    assert (status["queued"], status["noWorker"], status["processing"]) == (5, 1, 4)
    assert (status["backlog"], status["desired"], status["threads"]) == (7, 1, 4)
    assert status["lowSince"] == conditions.rfc3339(100.0)
    last = status["lastDecision"]
    assert (last["direction"], last["from"], last["to"]) == ("down", 5, 3)
    assert "busy worker(s) kept" in last["reason"]
    [ready] = status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "Active")


def test_an_idle_repeat_writes_nothing():
    first = autoscaler.build_status(decision(2, 2), SNAPSHOT, 2, 2, [], low_since=None)
    stored = {**first, "observedGeneration": 3, "lastScaleTime": "2026-01-01T00:00:00.000000Z"}
    again = autoscaler.build_status(decision(2, 2), SNAPSHOT, 2, 2, first["conditions"], None)
    assert autoscaler.status_patch(stored, {**again, "observedGeneration": 3}) is None
    # any number that moves is written
    busier = SchedulerSnapshot(6, 1, 4, 4, 2, 2, ())
    changed = autoscaler.build_status(decision(2, 2), busier, 2, 2, first["conditions"], None)
    assert autoscaler.status_patch(stored, changed) == changed
    # a problem condition replaces the Ready one
    problem = {"conditions": conditions.ready(first["conditions"], False, "ClusterMissing", "m")}
    assert autoscaler.status_patch(stored, problem) == problem
    # the same problem again: nothing to write
    assert autoscaler.status_patch({**stored, **problem}, problem) is None


def test_a_null_the_apiserver_dropped_is_not_a_change():
    # A merge patch with "lowSince": null deletes the key: the stored status lacks it.
    written = autoscaler.build_status(decision(2, 2), SNAPSHOT, 2, 2, [], low_since=None)
    assert written["lowSince"] is None
    stored = {k: v for k, v in written.items() if v is not None}
    again = autoscaler.build_status(decision(2, 2), SNAPSHOT, 2, 2, written["conditions"], None)
    assert autoscaler.status_patch(stored, again) is None
    assert autoscaler.status_patch(stored, {**again, "lowSince": "2026-01-01T00:00:00Z"})
