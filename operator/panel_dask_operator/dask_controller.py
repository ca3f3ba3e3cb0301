"""Load dask-kubernetes' controller into this kopf process, minus its finalizing timers.

kopf gives every resource a timer handler matches a finalizer (``requires_finalizer``
is always true for timers). dask-kubernetes has two timers: ``daskautoscaler_adapt``
(its duration-based DaskAutoscaler, which would fight the queue autoscaler) and
``daskcluster_autoshutdown`` (acts only when ``spec.idleTimeout`` is set). Left as
they are, every DaskCluster carries a finalizer and its deletion hangs whenever the
operator is gone first (e.g. ``helm uninstall``). So the first is dropped and the
second is kept only for clusters that set ``idleTimeout``.

Its choice of workers on a scale-down (``kubectl scale daskworkergroup``) is
replaced too: it asks ``<scheduler>:8787/api/v1`` without the chart's ``/dask``
prefix, falls back to the comm port, then deletes Deployments blindly
(dask/dask-kubernetes#910, #855), and the scheduler's ``n``-based choice may
take busy workers while idle ones exist. :func:`retire_workers` uses the same
plan as the queue autoscaler instead.

Its default worker group is created without an owner and adopted by the
DaskCluster only in a later handler; an operator stopped in between (an
uninstall, a crash) leaves a group the garbage collector never removes. Here
the group is owned from birth, like the scheduler Deployment and Service.

Every reach into dask-kubernetes' or kopf's internals goes through
:mod:`panel_dask_operator.compat`.

And a DaskCluster can stay ``Pending`` for good: the handler that creates the
scheduler Service writes ``Pending`` when it returns, which may land after the
Service handler already wrote ``Running`` (dask/dask-kubernetes#968).
:func:`daskcluster_phase_from_service` derives the phase again after that write.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import kopf
import kr8s
from dask_kubernetes.operator._objects import DaskCluster, DaskWorkerGroup
from dask_kubernetes.operator.controller import controller
from kr8s.asyncio.objects import Service

from panel_dask_operator import compat, kube, retirement
from panel_dask_operator.scheduler import SchedulerClient, scheduler_base_url
from panel_dask_operator.snapshot import SchedulerUnreachableError

DROPPED = (controller.daskautoscaler_adapt, controller.daskcluster_autoshutdown)


def _idle_timeout_set(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("idleTimeout"))


def trim(registry: kopf.OperatorRegistry) -> None:
    """Remove the finalizing timers from ``registry`` and re-add autoshutdown, filtered."""
    compat.drop_timers(registry, DROPPED)
    kopf.timer(
        "daskcluster.kubernetes.dask.org",
        interval=5.0,
        when=_idle_timeout_set,
        registry=registry,
    )(controller.daskcluster_autoshutdown)


def build_owned_worker_group_spec(
    cluster_name: str, spec: kopf.Spec, annotations: kopf.Annotations, labels: kopf.Labels
) -> dict[str, Any]:
    """dask-kubernetes' default worker group, owned by the DaskCluster being handled."""
    upstream = compat.ORIGINALS["build_default_worker_group_spec"]
    data: dict[str, Any] = upstream(cluster_name, spec, annotations, labels)
    kopf.adopt(data)  # the owner is the DaskCluster whose handler is running
    return data


async def retire_workers(
    n_workers: int,
    scheduler_service_name: str,
    worker_group_name: str,
    namespace: str | None,
    logger: kopf.Logger,
) -> list[str]:
    """Retire ``n_workers`` of a group for dask-kubernetes' replica handler; Deployments to delete.

    Same signature as the function it replaces. Called under the group's scale
    lock; the handler deletes the Deployments named in the answer. Busy workers
    are taken only when idle ones run out: a person asked for this count.
    """
    assert namespace
    worker_group = await DaskWorkerGroup.get(worker_group_name, namespace=namespace)
    cluster = str(worker_group.raw["spec"]["cluster"])
    deployments = [str(d.name) for d in await kube.worker_deployments(worker_group)]
    try:
        async with aiohttp.ClientSession() as session:
            scheduler = SchedulerClient(session, scheduler_base_url(cluster, namespace))
            names = await retirement.retire_for_removal(
                scheduler, deployments, n_workers, allow_busy=True
            )
    except SchedulerUnreachableError as error:
        logger.warning(f"{error}; removing the {n_workers} newest workers of {worker_group_name}")
        return deployments[:n_workers]
    if len(names) < n_workers:
        logger.warning(
            f"the scheduler retired {len(names)} of {n_workers} workers of {worker_group_name} "
            "(the others hold data nobody else can take); they stay"
        )
    return names


def phase_of(service: dict[str, Any]) -> str:
    """The DaskCluster phase a scheduler Service implies (dask-kubernetes' own rule)."""
    spec, status = service.get("spec", {}), service.get("status", {})
    waiting = spec.get("type") == "LoadBalancer" and not status.get("loadBalancer", {}).get(
        "ingress"
    )
    return "Pending" if waiting else "Running"


@kopf.on.field("daskcluster.kubernetes.dask.org", field="status.phase", new="Pending")
async def daskcluster_phase_from_service(name: str | None, namespace: str | None, **_: Any) -> None:
    """Once ``Pending`` is written, set the phase its scheduler Service implies."""
    assert name and namespace
    try:
        service = await Service.get(f"{name}-scheduler", namespace=namespace)
    except kr8s.NotFoundError:
        return  # the Service handler sets the phase when the Service appears
    phase = phase_of(service.raw)
    if phase != "Pending":
        cluster = await DaskCluster.get(name, namespace=namespace)
        await cluster.patch({"status": {"phase": phase}})


trim(kopf.get_default_registry())
compat.replace_controller_functions(
    retire_workers=retire_workers, build_default_worker_group_spec=build_owned_worker_group_spec
)
