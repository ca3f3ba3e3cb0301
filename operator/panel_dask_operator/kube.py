"""The few Kubernetes calls the queue autoscaler makes (through kr8s, like dask-kubernetes)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import kr8s
import kr8s.asyncio
from dask_kubernetes.operator._objects import DaskCluster, DaskWorkerGroup
from kr8s.asyncio.objects import Deployment, Event, new_class

from panel_dask_operator.conditions import now_rfc3339
from panel_dask_operator.telemetry import count_request

GROUP = "panel-dask.io"
VERSION = "v1alpha1"
KIND = "DaskQueueAutoscaler"
PLURAL = "daskqueueautoscalers"
COMPONENT = "panel-dask-operator"

DaskQueueAutoscaler = new_class(KIND, f"{GROUP}/{VERSION}", namespaced=True, plural=PLURAL)


_clients: dict[int, Any] = {}


async def client() -> Any:
    """This event loop's kr8s client, made once.

    kr8s' own factory (used when no ``api=`` is passed) re-reads ``/version`` on every
    lookup, one extra GET per call; the autoscaler polls every second, so that would
    double its load on the apiserver.
    """
    loop = id(asyncio.get_running_loop())
    if loop not in _clients:
        _clients[loop] = await kr8s.asyncio.api()
    return _clients[loop]


class ClusterMissingError(LookupError):
    """The DaskCluster or its default worker group does not exist (yet)."""


def worker_group_name(cluster: str) -> str:
    """The worker group dask-kubernetes creates for a DaskCluster's ``spec.worker``."""
    return f"{cluster}-default"


async def get_worker_group(cluster: str, namespace: str) -> Any:
    """The cluster's default worker group; ``ClusterMissingError`` names what is missing."""
    try:
        count_request("get")
        return await DaskWorkerGroup.get(
            worker_group_name(cluster), namespace=namespace, api=await client()
        )
    except kr8s.NotFoundError:
        pass
    try:
        count_request("get")
        await DaskCluster.get(cluster, namespace=namespace, api=await client())
    except kr8s.NotFoundError:
        raise ClusterMissingError(
            f"DaskCluster {namespace}/{cluster} not found (spec.cluster names it)"
        ) from None
    raise ClusterMissingError(
        f"DaskWorkerGroup {namespace}/{worker_group_name(cluster)} not found yet; "
        "the dask-kubernetes controller creates it from the DaskCluster"
    )


def replicas_of(worker_group: Any) -> int:
    """``spec.worker.replicas`` of a DaskWorkerGroup (0 when unset)."""
    return int(worker_group.raw.get("spec", {}).get("worker", {}).get("replicas", 0) or 0)


async def set_replicas(worker_group: Any, replicas: int) -> None:
    """Patch ``spec.worker.replicas``; dask-kubernetes' handler adds or removes Deployments."""
    count_request("patch")
    await worker_group.patch({"spec": {"worker": {"replicas": replicas}}})


async def worker_deployments(worker_group: Any) -> list[Any]:
    """The group's worker Deployments, newest first (the first to let go)."""
    count_request("list")
    deployments = list(await worker_group.deployments())
    return sorted(deployments, key=lambda d: d.metadata.creationTimestamp or "", reverse=True)


async def delete_deployment(name: str, namespace: str) -> None:
    """Delete one worker Deployment; already gone is fine."""
    try:
        count_request("get")
        deployment = await Deployment.get(name, namespace=namespace, api=await client())
        count_request("delete")
        await deployment.delete(propagation_policy="Background")
    except kr8s.NotFoundError:
        pass


async def patch_status(name: str, namespace: str, status: dict[str, Any]) -> None:
    """Merge-patch the autoscaler's status subresource."""
    count_request("get")
    autoscaler = await DaskQueueAutoscaler.get(name, namespace=namespace, api=await client())
    count_request("patch")
    await autoscaler.patch({"status": status}, subresource="status")


async def post_event(
    owner: dict[str, Any], reason: str, message: str, *, warning: bool = False
) -> None:
    """Post a core/v1 Event about the autoscaler, so `kubectl describe dqa` says why."""
    meta = owner["metadata"]
    now = now_rfc3339()
    event = await Event(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": socket.gethostname()[:128],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        },
        namespace=meta["namespace"],
        api=await client(),
    )
    count_request("create")
    await event.create()
