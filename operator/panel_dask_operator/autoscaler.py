"""One Kubernetes autoscaling tick: observe the scheduler, decide, act, report.

The decision is :func:`panel_dask_operator.policy.decide`; this module is the
shell around it. Scale-up patches the worker group's replicas and lets
dask-kubernetes create the Deployments. Scale-down is done here, not by
dask-kubernetes: its own path retires workers via ``<service>:8787/api/v1``
without the dashboard prefix, then over the comm port, then falls back to
deleting the newest Deployments blindly (dask/dask-kubernetes#910, #855). Here
workers that never connected go first, then the scheduler retires the idle ones
it chooses (their data moves), then exactly those Deployments are deleted and
the replicas patched to match, so dask-kubernetes finds nothing left to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from dask_kubernetes.operator.controller import controller

from panel_dask_operator import conditions, kube, metrics
from panel_dask_operator.policy import Decision, ScalingSpec, SpecError, decide, held_workers

MAX_BACKOFF_SECONDS = 30.0
RETIRE_TIME_LIMIT = 120.0


@dataclass
class Memory:
    """What one autoscaler carries from tick to tick (restored from status on restart)."""

    low_since: float | None = None
    failures: int = 0
    last_problem: str = ""


def poll_interval(spec: dict[str, Any]) -> float:
    """Seconds between ticks (the CRD guarantees a positive number)."""
    return float(spec.get("pollIntervalSeconds") or 1.0)


def backoff(spec: dict[str, Any], failures: int) -> float:
    """Wait longer after each consecutive failure, up to 30 s."""
    return float(min(MAX_BACKOFF_SECONDS, poll_interval(spec) * 2 ** min(failures, 10)))


async def tick(body: dict[str, Any], memory: Memory, session: aiohttp.ClientSession) -> float:
    """Run one tick for the autoscaler in ``body``; returns the seconds until the next."""
    meta, spec = body["metadata"], body.get("spec", {})
    name, namespace = meta["name"], meta["namespace"]
    previous = body.get("status", {}).get("conditions", [])
    status: dict[str, Any] = {"observedGeneration": meta.get("generation")}
    try:
        scaling = ScalingSpec.from_resource(spec)
        if spec.get("suspend"):
            memory.low_since, memory.failures = None, 0
            status["conditions"] = conditions.ready(
                previous, False, "Suspended", "spec.suspend is true: replicas are left alone"
            )
            status["lowSince"] = None
            await kube.patch_status(name, namespace, status)
            return poll_interval(spec)
        worker_group = await kube.get_worker_group(spec["cluster"], namespace)
        base_url = metrics.metrics_base_url(spec["cluster"], namespace)
        snapshot = await metrics.fetch_snapshot(session, base_url)
    except (SpecError, kube.ClusterMissingError, metrics.SchedulerUnreachableError) as error:
        return await _report_problem(body, memory, previous, error)

    replicas = kube.replicas_of(worker_group)
    observation = snapshot.observation(pending=replicas - snapshot.ready_workers)
    decision = decide(scaling, observation, low_since=memory.low_since, now=time.time())
    memory.low_since = decision.low_since
    actual = replicas
    if decision.desired > replicas:
        await kube.set_replicas(worker_group, decision.desired)
        actual = decision.desired
    elif decision.desired < replicas:
        actual = await _scale_down(worker_group, decision, snapshot, session, base_url)
    if actual != replicas:
        await kube.post_event(
            body,
            "ScaledUp" if actual > replicas else "ScaledDown",
            f"{kube.worker_group_name(spec['cluster'])} replicas {replicas} -> {actual}; "
            + decision.reason,
        )
    if memory.failures:
        await kube.post_event(
            body, "Recovered", f"scheduler and cluster reachable again: {base_url}"
        )
    memory.failures, memory.last_problem = 0, ""
    status.update(_status(decision, observation.threads, snapshot, replicas, actual, previous))
    if actual != replicas:
        status["lastScaleTime"] = conditions.now_rfc3339()
    await kube.patch_status(name, namespace, status)
    return poll_interval(spec)


async def _scale_down(
    worker_group: Any,
    decision: Decision,
    snapshot: metrics.SchedulerSnapshot,
    session: aiohttp.ClientSession,
    base_url: str,
) -> int:
    """Remove workers down to ``decision.desired``, never a busy one; returns the new size."""
    namespace, group = worker_group.namespace, worker_group.name
    # dask-kubernetes' replica handler runs in this process under this lock: holding it
    # makes "delete these Deployments, then patch replicas" atomic for it.
    async with controller.worker_group_scale_locks[f"{namespace}/{group}"]:
        deployments = await kube.worker_deployments(worker_group)
        excess = len(deployments) - decision.desired
        connected = {w.name for w in snapshot.workers}
        doomed = [d.name for d in deployments if d.name not in connected][: max(0, excess)]
        retirable = snapshot.ready_workers - held_workers(snapshot.observation(pending=0))
        wanted = min(excess - len(doomed), retirable)
        if wanted > 0:
            # The scheduler picks idle workers first, least data first (workers_to_close).
            names = await metrics.retire_workers(
                session, base_url, count=wanted, time_limit=RETIRE_TIME_LIMIT
            )
            doomed += [n for n in names if n in _names(deployments)]
        for deployment_name in doomed:
            await kube.delete_deployment(deployment_name, namespace)
        remaining = max(decision.desired, len(deployments) - len(doomed))
        if remaining != kube.replicas_of(worker_group):
            await kube.set_replicas(worker_group, remaining)
        return remaining


def _names(deployments: list[Any]) -> set[str]:
    return {str(d.name) for d in deployments}


def _status(
    decision: Decision,
    threads: int,
    snapshot: metrics.SchedulerSnapshot,
    replicas: int,
    actual: int,
    previous: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "queued": snapshot.queued,
        "noWorker": snapshot.no_worker,
        "processing": snapshot.processing,
        "threads": threads,
        "backlog": decision.backlog,
        "workers": {
            "ready": snapshot.ready_workers,
            "pending": max(0, actual - snapshot.ready_workers),
            "requested": actual,
        },
        "desired": decision.desired,
        "lowSince": conditions.rfc3339(decision.low_since),
        "lastDecision": {
            "time": conditions.now_rfc3339(),
            "direction": "up" if actual > replicas else "down" if actual < replicas else "hold",
            "from": replicas,
            "to": actual,
            "reason": decision.reason,
        },
        "conditions": conditions.ready(previous, True, "Active", "scaling from the queue"),
    }


async def _report_problem(
    body: dict[str, Any], memory: Memory, previous: list[dict[str, Any]], error: Exception
) -> float:
    reason = {
        SpecError: "InvalidSpec",
        kube.ClusterMissingError: "ClusterMissing",
        metrics.SchedulerUnreachableError: "SchedulerUnreachable",
    }[type(error)]
    message = str(error)
    memory.failures += 1
    delay = backoff(body.get("spec", {}), memory.failures)
    if message != memory.last_problem:
        await kube.post_event(body, reason, f"{message}; retrying in {delay:.0f}s", warning=True)
        memory.last_problem = message
    status = {"conditions": conditions.ready(previous, False, reason, message)}
    await kube.patch_status(body["metadata"]["name"], body["metadata"]["namespace"], status)
    return delay
