"""One Kubernetes autoscaling tick: observe the scheduler, decide, act, report.

The decision is :func:`panel_dask_operator.policy.decide`; what to write back
(status, Events, backoff) is decided by the pure functions here; :func:`tick`
is the shell that does the I/O. Scale-up patches the worker group's replicas
and lets dask-kubernetes create the Deployments. Scale-down is done here:
workers that never connected go first, then idle workers the scheduler retires
(their data moves), then exactly those Deployments are deleted and the replicas
patched to match, so dask-kubernetes' replica handler finds nothing left to do.
Between ticks, :func:`pause` long-polls the scheduler (:mod:`panel_dask_operator.watch`),
so a burst is acted on at once rather than at the next interval.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from panel_dask_operator import compat, conditions, kube, retirement, telemetry, watch
from panel_dask_operator.policy import Decision, ScalingSpec, SpecError, decide
from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_operator.snapshot import SchedulerSnapshot, SchedulerUnreachableError

MAX_BACKOFF_SECONDS = 30.0
PROBLEMS: dict[type[Exception], str] = {
    SpecError: "InvalidSpec",
    kube.ClusterMissingError: "ClusterMissing",
    SchedulerUnreachableError: "SchedulerUnreachable",
}


@dataclass
class Memory:
    """What one autoscaler carries from tick to tick (restored from status on restart).

    ``replicas`` is the worker count the last successful tick left, None until
    one succeeded (or while suspended): what :func:`pause` compares against.
    """

    low_since: float | None = None
    failures: int = 0
    last_problem: str = ""
    replicas: int | None = None


def poll_interval(spec: dict[str, Any]) -> float:
    """Seconds between ticks (the CRD guarantees a positive number)."""
    return float(spec.get("pollIntervalSeconds") or 1.0)


def backoff(spec: dict[str, Any], failures: int) -> float:
    """Wait longer after each consecutive failure: twice the interval per failure, up to 30 s."""
    return float(min(MAX_BACKOFF_SECONDS, poll_interval(spec) * 2 ** min(failures, 10)))


def problem_reason(error: Exception) -> str:
    """The condition reason (CamelCase) for an expected failure; ``TickFailed`` otherwise."""
    for kind, reason in PROBLEMS.items():
        if isinstance(error, kind):
            return reason
    return "TickFailed"


def direction(before: int, after: int) -> str:
    """``up``, ``down`` or ``hold`` for a replica change."""
    return "up" if after > before else "down" if after < before else "hold"


def outcome(decision: Decision, before: int, after: int) -> str:
    """The decision's reason, completed when busy workers cut a scale-down short."""
    if decision.desired < before and after > decision.desired:
        kept = after - decision.desired
        return f"{decision.reason}; {kept} busy worker(s) kept until idle"
    return decision.reason


def next_low_since(
    decision: Decision, after: int, low_since: float | None, now: float
) -> float | None:
    """The scale-down clock after acting.

    A scale-down that busy workers cut short keeps the clock where it was, so
    those workers go as soon as they are idle instead of after another delay.
    """
    if decision.direction == "down" and after > decision.desired:
        return now if low_since is None else low_since
    return decision.low_since


def scale_event(group: str, before: int, after: int, decision: Decision) -> tuple[str, str]:
    """Reason and message of the Event that explains a replica change."""
    reason = "ScaledUp" if after > before else "ScaledDown"
    return reason, f"{group} replicas {before} -> {after}; {outcome(decision, before, after)}"


def build_status(
    decision: Decision,
    snapshot: SchedulerSnapshot,
    before: int,
    after: int,
    previous: list[dict[str, Any]],
    low_since: float | None,
) -> dict[str, Any]:
    """The status after a successful tick that moved the replicas from ``before`` to ``after``."""
    return {
        "queued": snapshot.queued,
        "noWorker": snapshot.no_worker,
        "processing": snapshot.processing,
        "threads": snapshot.threads,
        "backlog": decision.backlog,
        "workers": {
            "ready": snapshot.ready_workers,
            "pending": max(0, after - snapshot.ready_workers),
            "requested": after,
        },
        "desired": decision.desired,
        "lowSince": conditions.rfc3339(low_since),
        "lastDecision": {
            "time": conditions.now_rfc3339(),
            "direction": direction(before, after),
            "from": before,
            "to": after,
            "reason": outcome(decision, before, after),
        },
        "conditions": conditions.ready(previous, True, "Active", "scaling from the queue"),
    }


def status_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """``new`` if it says something ``old`` does not, else None (no write needed).

    Only the decision's own timestamp differs between two identical idle ticks;
    skipping those keeps a quiet autoscaler from writing to the apiserver every second.
    A key set to None counts as absent: the merge patch that wrote it deleted it.
    """

    def comparable(status: dict[str, Any]) -> dict[str, Any]:
        last = {k: v for k, v in (status.get("lastDecision") or {}).items() if k != "time"}
        kept = {k: v for k, v in status.items() if v is not None}
        return {**kept, "lastDecision": last}

    merged = {**old, **new}
    return None if comparable(merged) == comparable(old) else new


async def tick(
    body: dict[str, Any],
    memory: Memory,
    scheduler: SchedulerClient,
    snapshot: SchedulerSnapshot | None = None,
) -> float:
    """Run one tick for the autoscaler in ``body``; returns the seconds until the next.

    ``snapshot`` is a state :func:`pause` has just read, else the tick reads one.
    """
    meta = body["metadata"]
    with telemetry.TICK_SECONDS.labels(meta["namespace"], meta["name"]).time():
        return await _tick(body, memory, scheduler, snapshot)


async def _tick(
    body: dict[str, Any],
    memory: Memory,
    scheduler: SchedulerClient,
    snapshot: SchedulerSnapshot | None,
) -> float:
    meta, spec = body["metadata"], body.get("spec", {})
    name, namespace = meta["name"], meta["namespace"]
    old_status = body.get("status") or {}
    previous = old_status.get("conditions", [])
    status: dict[str, Any] = {"observedGeneration": meta.get("generation")}
    try:
        scaling = ScalingSpec.from_resource(spec)
        if spec.get("suspend"):
            memory.low_since, memory.failures, memory.last_problem = None, 0, ""
            memory.replicas = None
            status["conditions"] = conditions.ready(
                previous, False, "Suspended", "spec.suspend is true: replicas are left alone"
            )
            status["lowSince"] = None
            await _write_status(name, namespace, old_status, status)
            return poll_interval(spec)
        worker_group = await kube.get_worker_group(spec["cluster"], namespace)
        snapshot = snapshot or await scheduler.snapshot()
        replicas = kube.replicas_of(worker_group)
        observation = snapshot.observation(pending=replicas - snapshot.ready_workers)
        now = time.time()
        decision = decide(scaling, observation, low_since=memory.low_since, now=now)
        actual = replicas
        if decision.desired > replicas:
            await kube.set_replicas(worker_group, decision.desired)
            actual = decision.desired
        elif decision.desired < replicas:
            actual = await _scale_down(worker_group, decision.desired, scheduler)
    except (SpecError, kube.ClusterMissingError, SchedulerUnreachableError) as error:
        return await _report_problem(body, memory, previous, error)

    memory.low_since = next_low_since(decision, actual, memory.low_since, now)
    memory.replicas = actual
    telemetry.observe_tick(
        namespace,
        name,
        backlog=observation.backlog,
        desired=decision.desired,
        ready=snapshot.ready_workers,
        pending=max(0, actual - snapshot.ready_workers),
        direction=direction(replicas, actual),
    )
    if actual != replicas:
        group = kube.worker_group_name(spec["cluster"])
        await kube.post_event(body, *scale_event(group, replicas, actual, decision))
    if memory.failures:
        await kube.post_event(
            body, "Recovered", f"scheduler and cluster reachable: {scheduler.base_url}"
        )
    memory.failures, memory.last_problem = 0, ""
    status.update(build_status(decision, snapshot, replicas, actual, previous, memory.low_since))
    if actual != replicas:
        status["lastScaleTime"] = conditions.now_rfc3339()
    await _write_status(name, namespace, old_status, status)
    return poll_interval(spec)


async def pause(
    body: dict[str, Any], memory: Memory, scheduler: SchedulerClient, delay: float
) -> SchedulerSnapshot | None:
    """Wait before the next tick; returns the state read while waiting, if any.

    After a failure or while suspended: ``delay`` seconds. Otherwise until the
    scheduler's backlog would change the replicas, at most ``delay`` seconds.
    """
    if memory.failures or memory.replicas is None:
        await asyncio.sleep(delay)
        return None
    try:
        return await watch.until_reason_to_act(
            scheduler,
            ScalingSpec.from_resource(body.get("spec", {})),
            replicas=memory.replicas,
            low_since=memory.low_since,
            within=delay,
            clock=time.time,
        )
    except (SpecError, SchedulerUnreachableError):
        return None  # the tick reads again and reports it


async def _scale_down(worker_group: Any, desired: int, scheduler: SchedulerClient) -> int:
    """Remove workers down to ``desired``, never a busy one; returns the new replica count."""
    namespace, group = worker_group.namespace, worker_group.name
    async with compat.scale_lock(namespace, group):
        deployments = [str(d.name) for d in await kube.worker_deployments(worker_group)]
        doomed = await retirement.retire_for_removal(
            scheduler, deployments, len(deployments) - desired, allow_busy=False
        )
        for deployment_name in doomed:
            await kube.delete_deployment(deployment_name, namespace)
        remaining = max(desired, len(deployments) - len(doomed))
        if remaining != kube.replicas_of(worker_group):
            await kube.set_replicas(worker_group, remaining)
        return remaining


async def _write_status(
    name: str, namespace: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    patch = status_patch(old, new)
    if patch is not None:
        await kube.patch_status(name, namespace, patch)


async def _report_problem(
    body: dict[str, Any], memory: Memory, previous: list[dict[str, Any]], error: Exception
) -> float:
    """Condition, Warning Event (once per distinct message) and the backoff delay."""
    reason, message = problem_reason(error), str(error)
    meta = body["metadata"]
    telemetry.observe_error(meta["namespace"], meta["name"], reason)
    memory.failures += 1
    delay = backoff(body.get("spec", {}), memory.failures)
    if message != memory.last_problem:
        await kube.post_event(body, reason, f"{message}; retrying in {delay:.0f}s", warning=True)
        memory.last_problem = message
    status = {"conditions": conditions.ready(previous, False, reason, message)}
    await _write_status(meta["name"], meta["namespace"], body.get("status") or {}, status)
    return delay
