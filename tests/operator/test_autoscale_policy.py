"""The pure scaling decision: table-driven cases and properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel_dask_operator.policy import (
    Observation,
    ScalingSpec,
    SpecError,
    decide,
    workers_needed,
)

SPEC = ScalingSpec(minimum=1, maximum=10, tasks_per_worker=4, scale_down_delay=60)


def obs(queued=0, no_worker=0, processing=0, threads=2, ready=1, pending=0, busy=0):
    return Observation(queued, no_worker, processing, threads, ready, pending, busy)


@pytest.mark.parametrize(
    ("observation", "needed"),
    [
        # idle cluster: nothing needed, minimum applies later
        (obs(), 0),
        # queued alone: one worker running 2 tasks plus ceil(12/4) for the queue
        (obs(queued=12, processing=2, threads=2, ready=1), 1 + 3),
        # no-worker tasks are backlog too (e.g. no worker yet at all)
        (obs(no_worker=9, threads=0, ready=0), 3),
        # processing beyond the threads (non-root-ish tasks, queued reads 0)
        (obs(processing=10, threads=2, ready=1), 1 + 2),
        # steady fully-served load: keep the busy workers, nothing more
        (obs(processing=6, threads=6, ready=3), 3),
        # busy workers reported by the scheduler beat the thread estimate
        (obs(processing=3, threads=8, ready=4, busy=3), 3),
    ],
)
def test_workers_needed(observation, needed):
    assert workers_needed(SPEC, observation) == needed


@pytest.mark.parametrize(
    ("observation", "low_since", "now", "desired", "low_since_after"),
    [
        # burst: scale up at once to the target, clamped to maximum
        (obs(queued=100, processing=2, ready=1), None, 0.0, 10, None),
        # pending workers count as capacity: same burst, 9 already requested
        (obs(queued=100, processing=2, ready=1, pending=9), None, 1.0, 10, None),
        # below the minimum: scale up even with no load
        (obs(ready=0), None, 0.0, 1, None),
        # load gone: hold and remember since when
        (obs(ready=5), None, 100.0, 5, 100.0),
        # still low but the delay has not passed
        (obs(ready=5), 100.0, 159.0, 5, 100.0),
        # delay passed: down to the minimum, memory cleared
        (obs(ready=5), 100.0, 160.0, 1, None),
        # load came back inside the window: the memory resets
        (obs(processing=10, threads=10, ready=5), 100.0, 130.0, 5, None),
        # above the maximum (spec lowered): back within bounds at once
        (obs(ready=12), None, 0.0, 10, 0.0),
    ],
)
def test_decide_table(observation, low_since, now, desired, low_since_after):
    decision = decide(SPEC, observation, low_since=low_since, now=now)
    assert decision.desired == desired
    assert decision.low_since == low_since_after
    assert decision.changes == (desired != observation.current)
    assert f"backlog {observation.backlog}" in decision.reason


def test_reason_names_the_numbers():
    decision = decide(SPEC, obs(queued=7, no_worker=2, processing=3), low_since=None, now=0)
    assert decision.direction == "up"
    for text in ("queued 7", "no-worker 2", "processing 3", "1 ready", "needed"):
        assert text in decision.reason


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"minimum": -1}, "spec.minimum"),
        ({"maximum": 0}, "spec.maximum"),
        ({"minimum": 5, "maximum": 2}, "spec.minimum"),
        ({"tasksPerWorker": 0}, "spec.tasksPerWorker"),
        ({"scaleDownDelaySeconds": -1}, "spec.scaleDownDelaySeconds"),
        ({"maximum": "ten"}, "spec.maximum"),
        ({"minimum": True}, "spec.minimum"),
    ],
)
def test_bad_spec_names_field_and_allowed_values(spec, field):
    with pytest.raises(SpecError, match=field) as error:
        ScalingSpec.from_resource({"cluster": "c", **spec})
    assert "allowed" in str(error.value)


def test_spec_defaults_match_the_crd():
    assert ScalingSpec.from_resource({"cluster": "c"}) == ScalingSpec(1, 10, 4, 60.0)


# --- properties -------------------------------------------------------------------

specs = st.builds(
    lambda lo, span, k, delay: ScalingSpec(lo, max(1, lo + span), k, delay),
    st.integers(0, 20),
    st.integers(0, 30),
    st.integers(1, 16),
    st.floats(0, 600),
)
observations = st.builds(
    Observation,
    queued=st.integers(0, 10_000),
    no_worker=st.integers(0, 1_000),
    processing=st.integers(0, 2_000),
    threads=st.integers(0, 256),
    ready_workers=st.integers(0, 64),
    pending_workers=st.integers(0, 64),
    busy_workers=st.integers(0, 64),
)
maybe_since = st.one_of(st.none(), st.floats(0, 10_000))


@given(specs, observations, maybe_since, st.floats(0, 20_000))
def test_never_outside_bounds(spec, observation, low_since, now):
    decision = decide(spec, observation, low_since=low_since, now=now)
    if spec.minimum <= observation.current <= spec.maximum or decision.changes:
        assert spec.minimum <= decision.desired <= spec.maximum


@given(specs, observations, st.floats(0, 10_000), st.floats(0, 10_000))
def test_never_scales_down_before_the_delay(spec, observation, since, elapsed):
    if observation.current > spec.maximum:
        return  # the maximum is absolute; covered by the table
    decision = decide(spec, observation, low_since=since, now=since + elapsed)
    if decision.desired < observation.current:
        assert elapsed >= spec.scale_down_delay
    first = decide(spec, observation, low_since=None, now=since)
    if spec.scale_down_delay > 0:
        assert first.desired >= observation.current


@given(specs, observations, st.floats(0, 1_000))
def test_pending_workers_prevent_overshoot(spec, observation, now):
    """Asking again while the requested workers are still starting adds none."""
    first = decide(spec, observation, low_since=None, now=now)
    if first.direction != "up":
        return
    starting = Observation(
        observation.queued,
        observation.no_worker,
        observation.processing,
        observation.threads,
        observation.ready_workers,
        first.desired - observation.ready_workers,
        observation.busy_workers,
    )
    again = decide(spec, starting, low_since=first.low_since, now=now + 1)
    assert again.desired == first.desired
    assert not again.changes


def serve(load: int, workers: int, threads_per_worker: int) -> Observation:
    """What a scheduler reports for `load` concurrent tasks on `workers` workers."""
    threads = workers * threads_per_worker
    running = min(load, threads)
    return Observation(
        queued=load - running,
        no_worker=0,
        processing=running,
        threads=threads,
        ready_workers=workers,
        busy_workers=min(workers, math.ceil(running / threads_per_worker)),
    )


# 200 ticks per example: no per-example deadline on a loaded machine.
@settings(max_examples=300, deadline=None)
@given(specs, st.integers(0, 500), st.integers(1, 8), st.integers(0, 40))
def test_steady_load_gives_a_steady_count(spec, load, threads_per_worker, start):
    """Under a constant load the count settles once and then never changes again."""
    workers, low_since, history = start, None, []
    for tick in range(200):
        now = tick * (spec.scale_down_delay / 3 + 1)
        decision = decide(
            spec, serve(load, workers, threads_per_worker), low_since=low_since, now=now
        )
        workers, low_since = decision.desired, decision.low_since
        history.append(workers)
    settled = history[-50:]
    assert len(set(settled)) == 1, history
    expected = math.ceil(load / threads_per_worker)
    assert settled[0] == min(max(expected, spec.minimum), spec.maximum)
    # no flapping: the count only ever moves one way, from the start to the settled value
    steps = [b - a for a, b in zip(history, history[1:], strict=False) if a != b]
    assert all(step > 0 for step in steps) or all(step < 0 for step in steps), history
