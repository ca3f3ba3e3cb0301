"""The queue autoscaling decision: a pure function shared by every actuator.

Nothing here touches kopf, Kubernetes, HTTP or the clock, so the same rules drive
the Kubernetes operator and the local stack, and are tested in microseconds.

The formula (also in the README)::

    backlog = queued + no_worker + max(0, processing - threads)
    running = min(processing, threads)
    held    = max(busy_workers, ceil(running / threads_per_worker))
    needed  = held + ceil(backlog / tasks_per_worker)
    target  = clamp(needed, minimum, maximum)

``held`` keeps the workers that are already running tasks: without it a steady,
fully-served load has a zero backlog, scales down, builds a backlog again and
flaps. A task is only ``queued`` when the scheduler deems it root-ish, so
``no_worker`` and tasks assigned beyond the threads count as backlog too.
Scale-up is immediate; scale-down waits until the target has stayed below the
current size for ``scale_down_delay`` seconds. Pending (requested, not yet
connected) workers count toward the current size, so a burst does not overshoot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The DaskQueueAutoscaler spec's defaults: the one owner. The CRD's schema
# defaults and the chart's `autoscaler.*` values repeat them, and
# tests/chart/test_chart_contract.py fails when either differs from these.
SPEC_DEFAULTS: dict[str, int] = {
    "minimum": 1,
    "maximum": 10,
    "tasksPerWorker": 4,
    "scaleDownDelaySeconds": 60,
    "pollIntervalSeconds": 1,
}


class SpecError(ValueError):
    """A scaling spec field holds a value outside its allowed range."""


@dataclass(frozen=True)
class ScalingSpec:
    """Bounds and pacing of one autoscaler (the CRD's spec, in Python names)."""

    minimum: int = SPEC_DEFAULTS["minimum"]
    maximum: int = SPEC_DEFAULTS["maximum"]
    tasks_per_worker: int = SPEC_DEFAULTS["tasksPerWorker"]
    scale_down_delay: float = SPEC_DEFAULTS["scaleDownDelaySeconds"]

    def __post_init__(self) -> None:
        _require(self.minimum >= 0, "minimum", self.minimum, "an integer >= 0")
        _require(self.maximum >= 1, "maximum", self.maximum, "an integer >= 1")
        _require(
            self.minimum <= self.maximum,
            "minimum",
            self.minimum,
            f"an integer <= maximum ({self.maximum})",
        )
        _require(self.tasks_per_worker >= 1, "tasksPerWorker", self.tasks_per_worker, ">= 1")
        _require(
            self.scale_down_delay >= 0,
            "scaleDownDelaySeconds",
            self.scale_down_delay,
            "a number >= 0",
        )

    @classmethod
    def from_resource(cls, spec: Mapping[str, Any]) -> ScalingSpec:
        """Build from a DaskQueueAutoscaler spec (camelCase keys, CRD defaults)."""
        merged: dict[str, Any] = {
            **SPEC_DEFAULTS,
            **{k: v for k, v in spec.items() if v is not None},
        }
        return cls(
            minimum=_integer(merged, "minimum"),
            maximum=_integer(merged, "maximum"),
            tasks_per_worker=_integer(merged, "tasksPerWorker"),
            scale_down_delay=_number(merged, "scaleDownDelaySeconds"),
        )


@dataclass(frozen=True)
class Observation:
    """What the scheduler and the actuator report at one instant."""

    queued: int
    no_worker: int
    processing: int
    threads: int
    ready_workers: int
    pending_workers: int = 0
    busy_workers: int = 0

    @property
    def current(self) -> int:
        """Workers requested so far: connected ones plus those still starting."""
        return self.ready_workers + self.pending_workers

    @property
    def backlog(self) -> int:
        """Tasks waiting for a thread: queued, unplaceable, or assigned beyond the threads."""
        return self.queued + self.no_worker + max(0, self.processing - self.threads)

    @property
    def running(self) -> int:
        """Tasks that occupy a thread right now."""
        return min(self.processing, self.threads)


@dataclass(frozen=True)
class Decision:
    """The outcome of one tick: how many workers, why, and the memory to carry over."""

    desired: int
    current: int
    needed: int
    backlog: int
    reason: str
    low_since: float | None

    @property
    def changes(self) -> bool:
        """Whether the actuator has to act."""
        return self.desired != self.current

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``hold`` — short words for events and status."""
        if self.desired > self.current:
            return "up"
        if self.desired < self.current:
            return "down"
        return "hold"


def held_workers(obs: Observation) -> int:
    """Workers the running tasks occupy: busy ones, at least by the thread count."""
    threads_per_worker = obs.threads / obs.ready_workers if obs.ready_workers else 1.0
    by_threads = math.ceil(obs.running / threads_per_worker) if threads_per_worker > 0 else 0
    return max(obs.busy_workers, by_threads)


def workers_needed(spec: ScalingSpec, obs: Observation) -> int:
    """Workers that hold the running tasks plus those that absorb the backlog (unclamped)."""
    return held_workers(obs) + math.ceil(obs.backlog / spec.tasks_per_worker)


def decide(spec: ScalingSpec, obs: Observation, *, low_since: float | None, now: float) -> Decision:
    """Decide the worker count for this tick.

    Args:
        spec: bounds and pacing.
        obs: the scheduler's counts and the actuator's ready/pending workers.
        low_since: when the target first dropped below the current size (the
            previous decision's ``low_since``), or None.
        now: the current time in seconds, on the same clock as ``low_since``.
    """
    needed = workers_needed(spec, obs)
    target = min(max(needed, spec.minimum), spec.maximum)
    current = obs.current
    numbers = (
        f"backlog {obs.backlog} (queued {obs.queued}, no-worker {obs.no_worker}, "
        f"processing {obs.processing} on {obs.threads} threads), "
        f"workers {obs.ready_workers} ready + {obs.pending_workers} pending, "
        f"needed {needed} within [{spec.minimum}, {spec.maximum}]"
    )

    def decision(desired: int, why: str, since: float | None) -> Decision:
        return Decision(desired, current, needed, obs.backlog, f"{why}: {numbers}", since)

    if target > current:
        return decision(target, f"scale up {current} -> {target} at once", None)
    if current > spec.maximum:
        since = None if target == spec.maximum else now if low_since is None else low_since
        return decision(spec.maximum, f"scale down {current} -> {spec.maximum} (maximum)", since)
    if target == current:
        return decision(current, f"hold at {current}", None)
    since = now if low_since is None else low_since
    waited = now - since
    if waited >= spec.scale_down_delay:
        return decision(
            target,
            f"scale down {current} -> {target} after {waited:.0f}s below "
            f"(delay {spec.scale_down_delay:.0f}s)",
            None,
        )
    return decision(
        current,
        f"hold at {current}, {target} would do; scaling down in "
        f"{spec.scale_down_delay - waited:.0f}s if it stays low",
        since,
    )


def _require(ok: bool, field: str, value: object, allowed: str) -> None:
    if not ok:
        raise SpecError(f"spec.{field} is {value!r}; allowed: {allowed}")


def _integer(spec: Mapping[str, Any], field: str) -> int:
    value = spec[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"spec.{field} is {value!r}; allowed: an integer")
    return value


def _number(spec: Mapping[str, Any], field: str) -> float:
    value = spec[field]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"spec.{field} is {value!r}; allowed: a number")
    return float(value)
