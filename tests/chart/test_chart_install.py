"""`helm install` on the real control plane, in a namespace enforcing `restricted`.

The nodes are kwok's: pods are scheduled, admitted and turned Ready, but run
no code. So these tests check what Kubernetes itself decides (admission,
scheduling, rollout, readiness, endpoints, RBAC, garbage collection), never
what the containers do. No operator runs here, so the DaskCluster stays a
resource and no scheduler pods appear; what the chart itself creates is checked.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chart_cluster import values_file

from panel_dask_testkit.kube import CHART_DIR, RESTRICTED, apply_crds, get_json, run
from panel_dask_testkit.waiting import wait_for

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
PANEL = "panel-dask-panel"
AFFINITY_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/affinity": "cookie",
    "nginx.ingress.kubernetes.io/affinity-mode": "persistent",
    "nginx.ingress.kubernetes.io/session-cookie-name": "panel-dask-affinity",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
}


def helm_install(control_plane: Any, namespace: str, *args: str) -> str:
    return run(
        control_plane.helm, "install", RELEASE, str(CHART_DIR), "--namespace", namespace,
        "--wait", "--timeout", "180s", *args,
    )  # fmt: skip


def ready_endpoints(control_plane: Any, namespace: str, service: str) -> int:
    """Ready addresses over the Service's EndpointSlices (what kube-proxy routes to)."""
    slices = get_json(
        control_plane, "endpointslices", "-n", namespace,
        "-l", f"kubernetes.io/service-name={service}",
    )  # fmt: skip
    return sum(
        1
        for item in slices["items"]
        for endpoint in item.get("endpoints") or []
        if endpoint.get("conditions", {}).get("ready")
    )


def deployment_ready(control_plane: Any, namespace: str, name: str, replicas: int) -> bool:
    status = get_json(control_plane, "deployment", name, "-n", namespace)["status"]
    return status.get("readyReplicas") == replicas and status.get("updatedReplicas") == replicas


@pytest.fixture(scope="module")
def installed(control_plane: Any, namespace_factory: Any) -> Iterator[str]:
    """One release of the default values, shared by the read-only checks below."""
    apply_crds(control_plane)
    namespace = namespace_factory(labels=RESTRICTED)
    helm_install(control_plane, namespace, "-f", str(values_file("default")))
    yield namespace
    run(control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait")


def test_install_makes_every_deployment_ready(control_plane: Any, installed: str) -> None:
    deployments = get_json(control_plane, "deployments", "-n", installed)["items"]
    names = {d["metadata"]["name"] for d in deployments}
    assert names == {PANEL, "panel-dask-operator"}
    for deployment in deployments:
        wanted = deployment["spec"]["replicas"]
        assert deployment["status"].get("readyReplicas") == wanted, deployment["status"]


def test_every_service_has_ready_endpoints(control_plane: Any, installed: str) -> None:
    services = get_json(control_plane, "services", "-n", installed)["items"]
    assert [s["metadata"]["name"] for s in services] == [PANEL]
    for service in services:
        name = service["metadata"]["name"]
        wait_for(lambda n=name: ready_endpoints(control_plane, installed, n) == 2, f"{name} 2 ep")


def test_pods_are_admitted_under_restricted(control_plane: Any, installed: str) -> None:
    labels = get_json(control_plane, "namespace", installed)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = get_json(control_plane, "pods", "-n", installed)["items"]
    components = sorted(p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods)
    assert components == ["operator", "panel", "panel"]


def test_ingress_routes_root_with_affinity_and_dask_to_the_scheduler(
    control_plane: Any, installed: str
) -> None:
    ingresses = {
        i["metadata"]["name"]: i
        for i in get_json(control_plane, "ingress", "-n", installed)["items"]
    }
    panel, dashboard = ingresses[PANEL], ingresses["panel-dask-dashboard"]
    assert AFFINITY_ANNOTATIONS.items() <= panel["metadata"]["annotations"].items()
    routes = {
        (
            path["path"],
            path["backend"]["service"]["name"],
            path["backend"]["service"]["port"]["name"],
        )
        for ingress in (panel, dashboard)
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {
        ("/", PANEL, "http"),
        ("/dask", "panel-dask-scheduler", "http-dashboard"),
        # The scheduler's API path, refused by Panel (403) rather than served.
        ("/dask/api", PANEL, "http"),
    }
    assert {i["spec"]["ingressClassName"] for i in (panel, dashboard)} == {"nginx"}
    assert "affinity" not in " ".join(dashboard["metadata"].get("annotations", {}))


def test_dask_resources_name_the_cluster_the_panel_env_points_at(
    control_plane: Any, installed: str
) -> None:
    cluster = get_json(control_plane, "daskcluster", "panel-dask", "-n", installed)
    autoscaler = get_json(control_plane, "daskqueueautoscaler", "panel-dask", "-n", installed)
    assert autoscaler["spec"]["cluster"] == cluster["metadata"]["name"]
    assert (autoscaler["spec"]["minimum"], autoscaler["spec"]["maximum"]) == (1, 10)
    env = get_json(control_plane, "deployment", PANEL, "-n", installed)["spec"]["template"]
    env = {e["name"]: e for e in env["spec"]["containers"][0]["env"]}
    assert env["DASK_SCHEDULER_ADDRESS"]["value"] == (
        f"tcp://panel-dask-scheduler.{installed}.svc.cluster.local:8786"
    )
    assert env["DASK_DASHBOARD_URL"]["value"] == "/dask"
    assert env["PANEL_USE_XHEADERS"]["value"] == "true"
    assert env["PANEL_ALLOW_WEBSOCKET_ORIGIN"]["value"] == "panel-dask.local"


def test_kubectl_scale_panel_to_four(control_plane: Any, installed: str) -> None:
    run(control_plane.kubectl, "scale", f"deployment/{PANEL}", "--replicas=4", "-n", installed)
    try:
        wait_for(lambda: deployment_ready(control_plane, installed, PANEL, 4), "4 Ready Panel pods")
        wait_for(lambda: ready_endpoints(control_plane, installed, PANEL) == 4, "4 Panel endpoints")
    finally:
        run(control_plane.kubectl, "scale", f"deployment/{PANEL}", "--replicas=2", "-n", installed)


def cookie_secret(control_plane: Any, namespace: str) -> bytes:
    secret = get_json(control_plane, "secret", "panel-dask-cookie-secret", "-n", namespace)
    return base64.b64decode(secret["data"]["cookie-secret"])


def panel_pods(control_plane: Any, namespace: str) -> dict[str, dict[str, Any]]:
    pods = get_json(
        control_plane, "pods", "-n", namespace, "-l", "app.kubernetes.io/component=panel"
    )["items"]
    return {p["metadata"]["name"]: p for p in pods if not p["metadata"].get("deletionTimestamp")}


def test_upgrade_rolls_panel_pods_and_keeps_the_cookie_secret(
    control_plane: Any, namespace_factory: Any
) -> None:
    apply_crds(control_plane)
    namespace = namespace_factory(labels=RESTRICTED)
    helm_install(control_plane, namespace)
    secret_before = cookie_secret(control_plane, namespace)
    pods_before = set(panel_pods(control_plane, namespace))
    assert len(secret_before) == 64 and len(pods_before) == 2

    run(
        control_plane.helm, "upgrade", RELEASE, str(CHART_DIR), "--namespace", namespace,
        "--wait", "--timeout", "180s", "--set", "panel.numThreads=8",
    )  # fmt: skip

    def rolled() -> dict[str, dict[str, Any]] | None:
        pods = panel_pods(control_plane, namespace)
        fresh = not (set(pods) & pods_before) and len(pods) == 2
        return pods if fresh else None

    pods_after = wait_for(rolled, "the old Panel pods to be replaced")
    for pod in pods_after.values():
        env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
        assert env["PANEL_NUM_THREADS"]["value"] == "8"
        ref = env["PANEL_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "panel-dask-cookie-secret"
    assert cookie_secret(control_plane, namespace) == secret_before
    wait_for(lambda: deployment_ready(control_plane, namespace, PANEL, 2), "2 Ready after upgrade")
    run(control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait")


def namespaced_leftovers(control_plane: Any, namespace: str) -> list[str]:
    """Every object left in the namespace, except what Kubernetes puts in each one."""
    kinds = run(
        control_plane.kubectl, "api-resources", "--namespaced=true", "--verbs=list", "-o", "name"
    ).split()
    kinds = [k for k in kinds if k not in {"events", "events.events.k8s.io"}]
    names = run(
        control_plane.kubectl, "get", ",".join(kinds), "-n", namespace, "-o", "name",
        "--ignore-not-found",
    ).split()  # fmt: skip
    defaults = {"serviceaccount/default", "configmap/kube-root-ca.crt"}
    return sorted(set(names) - defaults)


def test_uninstall_finishes_and_leaves_nothing_behind(
    control_plane: Any, namespace_factory: Any
) -> None:
    apply_crds(control_plane)
    namespace = namespace_factory(labels=RESTRICTED)
    helm_install(control_plane, namespace, "--set", "autoscaler.enabled=true")
    assert len(namespaced_leftovers(control_plane, namespace)) > 10
    run(
        control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait",
        "--timeout", "120s",
    )  # fmt: skip
    wait_for(
        lambda: namespaced_leftovers(control_plane, namespace) == [] or None,
        f"namespace {namespace} to be empty after helm uninstall",
    )
    assert run(control_plane.helm, "list", "--namespace", namespace, "-q").strip() == ""


CLEANUP_SCRIPT = CHART_DIR / "files" / "uninstall-cleanup.py"


def run_cleanup_script(
    control_plane: Any, namespace: str, account_dir: Path, timeout: int
) -> subprocess.CompletedProcess[str]:
    """Run the pre-delete hook's script here, as the hook pod would: with the
    operator ServiceAccount's token, against the apiserver."""
    token = run(control_plane.kubectl, "create", "token", "panel-dask-operator", "-n", namespace)
    account_dir.mkdir(exist_ok=True)
    (account_dir / "token").write_text(token.strip())
    (account_dir / "ca.crt").write_bytes(Path(control_plane.ca_file).read_bytes())
    server = urlsplit(control_plane.server)
    env = {
        **os.environ,
        "SERVICE_ACCOUNT_DIR": str(account_dir),
        "KUBERNETES_SERVICE_HOST": server.hostname or "",
        "KUBERNETES_SERVICE_PORT": str(server.port),
    }
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name=panel-dask"
    command = [sys.executable, str(CLEANUP_SCRIPT), namespace, selector, str(timeout)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout + 60, check=False
    )


def dask_resources(control_plane: Any, namespace: str) -> list[str]:
    return run(
        control_plane.kubectl, "get", "daskclusters,daskqueueautoscalers", "-n", namespace,
        "-o", "name",
    ).split()  # fmt: skip


def test_uninstall_hook_script_waits_for_a_held_finalizer_then_deletes(
    control_plane: Any, namespace_factory: Any, tmp_path: Path
) -> None:
    """The hook is rendered when the DaskCluster sets idleTimeout. No operator runs
    here, so the test holds a finalizer itself (as kopf would): the script must
    report the held cluster, then succeed once it is released. It deletes only
    the DaskCluster: the autoscaler carries no finalizer and is Helm's to delete."""
    apply_crds(control_plane)
    namespace = namespace_factory(labels=RESTRICTED)
    helm_install(control_plane, namespace, "-f", str(values_file("idle-timeout")))
    autoscaler = "daskqueueautoscaler.panel-dask.io/panel-dask"
    cluster = "daskcluster.kubernetes.dask.org/panel-dask"
    assert sorted(dask_resources(control_plane, namespace)) == [cluster, autoscaler]
    held = '{"metadata":{"finalizers":["panel-dask.io/test-hold"]}}'
    run(
        control_plane.kubectl, "patch", "daskcluster", "panel-dask", "-n", namespace,
        "--type", "merge", "-p", held,
    )  # fmt: skip

    stuck = run_cleanup_script(control_plane, namespace, tmp_path / "sa", timeout=3)
    assert stuck.returncode == 1, stuck.stdout + stuck.stderr
    assert "still present" in stuck.stdout and "panel-dask" in stuck.stdout
    assert sorted(dask_resources(control_plane, namespace)) == [cluster, autoscaler]

    run(
        control_plane.kubectl, "patch", "daskcluster", "panel-dask", "-n", namespace,
        "--type", "merge", "-p", '{"metadata":{"finalizers":null}}',
    )  # fmt: skip
    done = run_cleanup_script(control_plane, namespace, tmp_path / "sa", timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert dask_resources(control_plane, namespace) == [autoscaler]
    run(control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait")
    assert dask_resources(control_plane, namespace) == []
