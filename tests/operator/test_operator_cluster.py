"""The operator against the real control plane, with the chart's CRDs, chart and RBAC.

The operator runs as a process authenticated with the chart's operator
ServiceAccount token, so every call it makes passes the chart's Role. It
provisions the chart's DaskCluster with dask-kubernetes' controller and scales
``panel-dask-default`` from the backlog of a real local Dask scheduler; real
worker processes join it for every worker Deployment (see operator_cluster).
The namespace enforces the ``restricted`` Pod Security Standard.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, Event
from operator_cluster import (
    CLUSTER,
    DELAY,
    GROUP,
    SETTINGS,
    Stack,
    blocked_until,
    quiet_for,
    scaled,
)

from panel_dask_testkit.kube import (
    RELEASE,
    RESTRICTED,
    apply_crds,
    get_json,
    install_chart,
    run,
    service_account_kubeconfig,
)
from panel_dask_testkit.net import free_port
from panel_dask_testkit.operator_process import OperatorProcess
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.dask, pytest.mark.timeout(600)]


def test_cluster_gets_its_scheduler_service_and_worker_group(stack: Stack) -> None:
    def provisioned() -> bool:
        stack.check()
        scheduler = stack.get("deployments", "-l", "dask.org/component=scheduler")["items"]
        return len(scheduler) == 1 and scheduler[0]["status"].get("readyReplicas") == 1

    wait_for(provisioned, "the scheduler Deployment, Ready under restricted")
    service = stack.get("service", f"{CLUSTER}-scheduler")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "tcp-comm": 8786,
        "http-dashboard": 8787,
    }
    assert service["spec"]["type"] == "ClusterIP"
    [group] = wait_for(lambda: stack.get("daskworkergroups")["items"], "the worker group")
    assert (group["metadata"]["name"], group["spec"]["cluster"]) == (GROUP, CLUSTER)
    wait_for(lambda: stack.get("daskcluster", CLUSTER)["status"].get("phase") == "Running",
               "the DaskCluster Running")  # fmt: skip
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "one worker Deployment, connected")

    def reported() -> bool:
        status = stack.autoscaler().get("status", {})
        return (
            stack.ready_condition().get("reason") == "Active"
            and status.get("desired") == 1
            and status.get("workers", {}).get("ready") == 1
        )

    wait_for(reported, "status: Ready (Active), 1 worker ready, 1 desired")
    table = stack.kubectl("get", "dqa", CLUSTER).split("\n")
    row = dict(zip(table[0].split(), table[1].split(), strict=False))
    shown = {"NAME": CLUSTER, "CLUSTER": CLUSTER, "MIN": "1", "MAX": "6", "WORKERS": "1",
             "DESIRED": "1", "STATE": "Active"}  # fmt: skip
    assert {k: row.get(k) for k in shown} == shown, table
    # Nothing our operator serves carries a finalizer, so deletion never waits for it.
    for kind, name in [("daskcluster", CLUSTER), ("daskqueueautoscaler", CLUSTER),
                       ("daskworkergroup", GROUP)]:  # fmt: skip
        assert not stack.get(kind, name)["metadata"].get("finalizers"), kind


def test_backlog_scales_up_to_the_expected_count_then_down_after_the_delay(
    stack: Stack,
) -> None:
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "one worker to start from")
        ups_before, downs_before = stack.events("ScaledUp"), stack.events("ScaledDown")
        futures = client.map(blocked_until("go-1"), range(8), pure=False)
        # 8 tasks on 2-thread workers, 2 backlog tasks per extra worker: 4 workers, at once
        # (the 3 pending ones count as capacity, so no second step and no overshoot).
        wait_for(lambda: stack.converged(client, 4), "4 workers for 8 tasks")
        ups = stack.new_events("ScaledUp", ups_before)
        assert [scaled(m) for m in ups] == [(1, 4)], ups
        assert "backlog" in ups[0] and "needed 4 within [1, 6]" in ups[0], ups[0]
        status = stack.autoscaler()["status"]
        assert status["desired"] == 4 and status["backlog"] >= 0
        assert status["lastDecision"]["reason"], status
        # What Prometheus scrapes from the operator says the same.
        metrics, mine = stack.operator.metrics(), {"namespace": stack.namespace}
        assert metrics.value("panel_dask_autoscaler_desired_workers", **mine) == 4
        assert metrics.value("panel_dask_autoscaler_decisions_total", direction="up", **mine)
        assert metrics.value("panel_dask_autoscaler_tick_seconds_count", **mine)
        assert metrics.value("panel_dask_operator_kubernetes_requests_total", verb="patch")
        backlog = metrics.value("panel_dask_autoscaler_backlog_tasks", **mine)
        assert backlog is not None and backlog >= 0

        Event("go-1", client=client).set()
        assert client.gather(futures) == [i * 2 for i in range(8)]
        wait_for(lambda: stack.converged(client, 1), "back to the minimum of 1")
    downs = stack.new_events("ScaledDown", downs_before)
    assert downs and min(scaled(m)[1] for m in downs) == 1, downs
    for message in downs:
        waited = re.search(r"after (\d+)s below \(delay (\d+)s\)", message)
        assert waited and int(waited[1]) >= int(waited[2]) == DELAY, message
    # never above the expected count on the way
    assert stack.new_events("ScaledUp", ups_before) == ups
    wait_for(lambda: stack.autoscaler()["status"]["lastDecision"]["to"] == 1,
               "status: the last decision took the workers to 1")  # fmt: skip


def test_operator_restart_mid_scale_up_and_down_duplicates_nothing(stack: Stack) -> None:
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "one worker to start from")
        futures = client.map(blocked_until("go-2"), range(8), pure=False)
        wait_for(lambda: stack.replicas() > 1, "the scale-up to begin")
        stack.operator.kill()  # SIGKILL: dask-kubernetes is creating Deployments right now
        stack.operator.start()
        wait_for(lambda: stack.converged(client, 4), "4 workers after the restart")
        quiet_for(lambda: len(stack.worker_deployments()) == 4, "no extra Deployment", 2)
        assert len(stack.get("deployments", "-l", "dask.org/component=scheduler")["items"]) == 1
        services = stack.get("services", "-l", f"dask.org/cluster-name={CLUSTER}")["items"]
        assert [s["metadata"]["name"] for s in services] == [f"{CLUSTER}-scheduler"]
        assert [g["metadata"]["name"] for g in stack.get("daskworkergroups")["items"]] == [GROUP]

        Event("go-2", client=client).set()
        assert client.gather(futures) == [i * 2 for i in range(8)]
        # mid scale-down: the clock is running (status.lowSince) when the operator dies
        wait_for(lambda: stack.autoscaler()["status"].get("lowSince"), "the scale-down clock")
        stack.operator.kill()
        stack.operator.start()
        wait_for(lambda: stack.converged(client, 1), "back to 1 after the restart")


def test_suspended_autoscaler_leaves_kubectl_scale_alone(stack: Stack) -> None:
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "one worker to start from")
        stack.kubectl("patch", "daskqueueautoscaler", CLUSTER, "--type", "merge",
                      "-p", '{"spec": {"suspend": true}}')  # fmt: skip
        wait_for(lambda: stack.ready_condition().get("reason") == "Suspended", "Suspended")
        stack.kubectl("scale", f"daskworkergroup/{GROUP}", "--replicas=3")
        wait_for(lambda: stack.converged(client, 3), "3 workers by kubectl scale")
        # Idle and above the minimum: an active autoscaler would go down after DELAY.
        quiet_for(lambda: stack.converged(client, 3), "3 workers stay", 2 * DELAY + 2)

        stack.kubectl("scale", f"daskworkergroup/{GROUP}", "--replicas=2")
        wait_for(lambda: stack.converged(client, 2), "2 workers by kubectl scale")

        downs = stack.events("ScaledDown")
        stack.kubectl("patch", "daskqueueautoscaler", CLUSTER, "--type", "merge",
                      "-p", '{"spec": {"suspend": false}}')  # fmt: skip
        wait_for(lambda: stack.converged(client, 1), "the autoscaler back in charge")
        assert [scaled(m) for m in stack.new_events("ScaledDown", downs)] == [(2, 1)]


def test_unreachable_scheduler_is_a_condition_and_a_backoff_not_a_crash(stack: Stack) -> None:
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "one worker to start from")
    operator_pid = stack.operator.pid
    stack.dask.kill_scheduler()

    def unreachable() -> bool:
        stack.check()
        return stack.ready_condition().get("reason") == "SchedulerUnreachable"

    wait_for(unreachable, "Ready False: SchedulerUnreachable")
    condition = stack.ready_condition()
    assert condition["status"] == "False" and stack.dask.dashboard_url in condition["message"]
    warnings = list(stack.events("SchedulerUnreachable").values())
    assert warnings and all("retrying in" in w for w in warnings), warnings
    assert stack.replicas() == 1  # no worker count changes on a blind tick
    errors = "panel_dask_autoscaler_errors_total"
    failed = stack.operator.metrics().value(
        errors, namespace=stack.namespace, reason="SchedulerUnreachable"
    )
    assert failed and failed >= 1

    stack.dask.start_scheduler()  # same ports: the same address and URL, like a Service
    with Client(stack.dask.address) as client:
        wait_for(lambda: stack.converged(client, 1), "the worker back on the new scheduler")
    wait_for(lambda: stack.ready_condition().get("reason") == "Active", "Ready: Active again")
    assert stack.events("Recovered")
    stack.check()
    assert stack.operator.pid == operator_pid  # the same process all along


def test_deleting_the_cluster_does_not_hang(stack: Stack) -> None:
    stack.kubectl("delete", "daskcluster", CLUSTER, "--timeout=60s")
    wait_for(lambda: not stack.get("daskworkergroups")["items"], "the worker group collected")
    wait_for(lambda: not stack.worker_deployments(), "the worker Deployments collected")
    wait_for(lambda: stack.ready_condition().get("reason") == "ClusterMissing",
               "Ready False: ClusterMissing")  # fmt: skip
    assert CLUSTER in stack.ready_condition()["message"]
    stack.check()


def test_uninstall_with_the_operator_gone_does_not_hang(
    control_plane: Any, namespace_factory: Any, tmp_path: Path
) -> None:
    apply_crds(control_plane)
    namespace = namespace_factory(labels=RESTRICTED)
    install_chart(control_plane, namespace, SETTINGS)
    nowhere = f"http://127.0.0.1:{free_port()}/dask"
    kubeconfig = service_account_kubeconfig(control_plane, namespace, tmp_path / "kubeconfig")
    operator = OperatorProcess(namespace, kubeconfig, nowhere, tmp_path)
    operator.start()
    try:
        [group] = wait_for(
            lambda: get_json(control_plane, "daskworkergroups", "-n", namespace)["items"],
            "the worker group",
        )
    finally:
        operator.kill()
    # Owned from birth: even an operator gone right after creating it leaves no orphan.
    owners = group["metadata"].get("ownerReferences", [])
    assert [(o["kind"], o["name"]) for o in owners] == [("DaskCluster", CLUSTER)], group
    run(control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait",
        "--timeout", "120s")  # fmt: skip

    def dask_left() -> list[str]:
        return run(control_plane.kubectl, "get",
                   "daskclusters,daskworkergroups,daskqueueautoscalers,deployments",
                   "-n", namespace, "-o", "name").split()  # fmt: skip

    left: list[str] = []

    def gone() -> bool:
        left[:] = dask_left()
        return not left

    try:
        wait_for(gone, "every Dask resource gone")
    except TimeoutError as error:
        raise AssertionError(f"{error}; left: {left}") from None
