"""Routing presets on the kind cluster, before the journey (this file sorts first).

Each test switches the kind release (`helm upgrade --reuse-values`) to one
routing preset, proves it with a real browser, and a fixture puts the
release's values back afterwards, so the journey starts from the kind values.

- Traefik's Ingress-NGINX provider (`ingress.controller=nginx`, class nginx)
  and its own Kubernetes Ingress provider (`traefik`): affinity proven as one
  browser, many requests, one Panel pod of three.
- The HTTPRoute through Traefik's Gateway provider: routing, websockets (the
  task page connects and runs a task) and /dask/api refused. Traefik's
  Gateway provider has no session persistence, so one Panel pod.

The Gateway provider needs the Gateway API CRDs (standard channel, from the
sigs.k8s.io/gateway-api module as in the chart tests), RBAC on their
resources, `--providers.kubernetesgateway` on Traefik, a GatewayClass whose
controllerName is traefik.io/gateway-controller and a Gateway whose listener
port is an entry point's port (8000, `web`). The test adds them and removes
them again.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_journey as journey
import yaml
from kind_cluster import APP_URL, KindCluster, fetch
from playwright.sync_api import expect

from panel_dask_testcluster import gateway_api
from panel_dask_testkit.kube import CHART_DIR, run
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.kind, pytest.mark.timeout(900, func_only=True)]

REPLICAS = 3
RELOADS = 8
AFFINITY_COOKIE = "panel-dask-affinity"
GATEWAY_NAMESPACE = "traefik"
GATEWAY_CLASS = "traefik"
GATEWAY = "web"
GATEWAY_RBAC = {
    "apiGroups": ["gateway.networking.k8s.io"],
    "resources": [
        "gatewayclasses", "gateways", "httproutes", "grpcroutes", "tcproutes", "tlsroutes",
        "referencegrants", "backendtlspolicies", "listenersets",
    ],
    "verbs": ["get", "list", "watch"],
}  # fmt: skip
GATEWAY_STATUS_RBAC = {
    "apiGroups": ["gateway.networking.k8s.io"],
    "resources": [
        "gatewayclasses/status", "gateways/status", "httproutes/status", "grpcroutes/status",
        "tcproutes/status", "tlsroutes/status", "backendtlspolicies/status", "listenersets/status",
    ],
    "verbs": ["update", "patch"],
}  # fmt: skip


def upgrade(kind: KindCluster, *sets: str) -> None:
    """`helm upgrade --reuse-values` the kind release with ``--set`` pairs, and wait."""
    args = [arg for pair in sets for arg in ("--set", pair)]
    run(kind.helm, "upgrade", kind.release, str(CHART_DIR), "-n", kind.namespace,
        "--reuse-values", *args, "--wait", "--timeout", "300s")  # fmt: skip


def app_answers(path: str = "/health") -> bool:
    try:
        return fetch(f"{APP_URL}{path}")[0] == 200
    except OSError:
        return False


@pytest.fixture
def restore_release(kind: KindCluster) -> Iterator[None]:
    """Put the release's user-supplied values back after the test.

    Requested after ``traefik_gateway``, so it is torn down first: the release
    drops its HTTPRoute while the Gateway API CRDs still exist.
    """
    saved = json.loads(run(kind.helm, "get", "values", kind.release, "-n", kind.namespace,
                           "-o", "json"))  # fmt: skip
    yield
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
        yaml.safe_dump(saved, values)
        values.flush()
        run(kind.helm, "upgrade", kind.release, str(CHART_DIR), "-n", kind.namespace,
            "--reset-values", "-f", values.name, "--wait", "--timeout", "300s")  # fmt: skip
    wait_for(app_answers, f"{APP_URL}/health after restoring the release", 300, 2)


def one_browser_stays_on_one_pod(kind: KindCluster, chromium: Any) -> None:
    """One browser, many page loads and tasks: always the same Panel pod among three."""
    user = journey.User(chromium)
    try:
        journey.open_tasks(user.page)
        cookies = {c["name"]: c for c in user.context.cookies(APP_URL)}
        assert AFFINITY_COOKIE in cookies, cookies
        serving, _ = journey.serving_panel_pod(kind, user.page)
        for _ in range(RELOADS):
            user.page.reload()
            expect(user.page.locator(".dask-connection")).to_contain_text(
                "Dask: connected", timeout=journey.LONG
            )
            assert journey.serving_panel_pod(kind, user.page)[0] == serving
        journey.run_fibonacci_20(user.page)
    finally:
        user.close()


def one_browser_runs_a_task_without_affinity(chromium: Any) -> None:
    """A browser runs fibonacci(20) on the task page over its websocket; no sticky cookie."""
    user = journey.User(chromium)
    try:
        journey.open_tasks(user.page)
        journey.run_fibonacci_20(user.page)
        assert AFFINITY_COOKIE not in {c["name"] for c in user.context.cookies(APP_URL)}
    finally:
        user.close()


def scheduler_api_refused() -> None:
    for path in ("/dask/api/v1", "/dask/api/v1/get_workers"):
        status, _, body = fetch(f"{APP_URL}{path}")
        assert status == 403, f"{path} answered {status}: {body[:200]}"
    assert fetch(f"{APP_URL}/dask/status")[0] == 200


@pytest.mark.parametrize(
    ("controller", "class_name"),
    [("nginx", "nginx"), ("traefik", "traefik")],
    ids=["traefik-ingress-nginx-provider", "traefik-ingress-provider"],
)
def test_ingress_preset_keeps_one_browser_on_one_pod(
    kind: KindCluster, chromium: Any, restore_release: None, controller: str, class_name: str
) -> None:
    upgrade(kind, f"ingress.controller={controller}", f"ingress.className={class_name}",
            f"panel.replicas={REPLICAS}")  # fmt: skip
    wait_for(lambda: journey.panel_pods_ready(kind, REPLICAS), f"{REPLICAS} Ready Panel pods",
             journey.POD_WAIT, 2)  # fmt: skip
    ingress = kind.get("ingress", f"{kind.fullname}-panel")
    assert ingress["spec"]["ingressClassName"] == class_name
    wait_for(app_answers, f"{APP_URL}/health through class {class_name}", 120, 2)
    one_browser_stays_on_one_pod(kind, chromium)
    scheduler_api_refused()


def test_generic_preset_serves_one_panel_pod_with_no_controller_annotations(
    kind: KindCluster, chromium: Any, restore_release: None
) -> None:
    # generic writes no controller's annotations, so no controller sets a sticky
    # cookie: one Panel pod, as NOTES.txt says for more than one.
    upgrade(kind, "ingress.controller=generic", "ingress.className=traefik", "panel.replicas=1")
    wait_for(lambda: journey.panel_pods_ready(kind, 1), "1 Ready Panel pod", journey.POD_WAIT, 2)
    for name in (f"{kind.fullname}-panel", f"{kind.fullname}-dashboard"):
        annotations = kind.get("ingress", name)["metadata"].get("annotations") or {}
        assert not [key for key in annotations if "nginx" in key or "traefik" in key], annotations
    service = kind.get("service", f"{kind.fullname}-panel")
    assert not any("traefik" in key for key in service["metadata"].get("annotations") or {})
    wait_for(app_answers, f"{APP_URL}/health with the generic preset", 120, 2)
    one_browser_runs_a_task_without_affinity(chromium)
    scheduler_api_refused()


@pytest.fixture
def traefik_gateway(kind: KindCluster, tmp_path: Path) -> Iterator[None]:
    """Gateway API CRDs, Traefik's Gateway provider and a Gateway `web` on entry point web."""
    files = gateway_api.crd_files("standard")
    run(kind.kubectl, "apply", "--server-side", *[a for f in files for a in ("-f", str(f))])
    role = kind.get("clusterrole", "panel-dask-kind-traefik")
    original_rules = role["rules"]
    patch = {"rules": [*original_rules, GATEWAY_RBAC, GATEWAY_STATUS_RBAC]}
    run(kind.kubectl, "patch", "clusterrole", "panel-dask-kind-traefik", "--type=merge",
        "-p", json.dumps(patch))  # fmt: skip
    deployment = json.loads(run(kind.kubectl, "get", "deployment", "traefik",
                                "-n", GATEWAY_NAMESPACE, "-o", "json"))  # fmt: skip
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    run(kind.kubectl, "-n", GATEWAY_NAMESPACE, "patch", "deployment", "traefik", "--type=json",
        "-p", json.dumps([{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
                           "value": "--providers.kubernetesgateway"}]))  # fmt: skip
    run(kind.kubectl, "-n", GATEWAY_NAMESPACE, "rollout", "status", "deployment/traefik",
        "--timeout=300s")  # fmt: skip
    manifest = tmp_path / "gateway.yaml"
    manifest.write_text(yaml.safe_dump_all([
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
         "metadata": {"name": GATEWAY_CLASS},
         "spec": {"controllerName": "traefik.io/gateway-controller"}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
         "metadata": {"name": GATEWAY, "namespace": GATEWAY_NAMESPACE},
         "spec": {"gatewayClassName": GATEWAY_CLASS,
                  "listeners": [{"name": "http", "protocol": "HTTP", "port": 8000,
                                 "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
    ]))  # fmt: skip
    run(kind.kubectl, "apply", "-f", str(manifest))
    run(kind.kubectl, "-n", GATEWAY_NAMESPACE, "wait", f"gateway/{GATEWAY}",
        "--for=condition=Programmed", "--timeout=120s")  # fmt: skip
    try:
        yield
    finally:
        run(kind.kubectl, "delete", "--ignore-not-found", "-f", str(manifest))
        run(kind.kubectl, "-n", GATEWAY_NAMESPACE, "patch", "deployment", "traefik",
            "--type=json", "-p", json.dumps([{"op": "replace",
                                             "path": "/spec/template/spec/containers/0/args",
                                             "value": args}]))  # fmt: skip
        run(kind.kubectl, "patch", "clusterrole", "panel-dask-kind-traefik", "--type=merge",
            "-p", json.dumps({"rules": original_rules}))  # fmt: skip
        run(kind.kubectl, "-n", GATEWAY_NAMESPACE, "rollout", "status", "deployment/traefik",
            "--timeout=300s")  # fmt: skip
        run(kind.kubectl, "delete", "--ignore-not-found",
            *[a for f in files for a in ("-f", str(f))])  # fmt: skip


def test_httproute_through_traefiks_gateway_provider(
    kind: KindCluster, chromium: Any, traefik_gateway: None, restore_release: None
) -> None:
    parent = {"name": GATEWAY, "namespace": GATEWAY_NAMESPACE, "sectionName": "http"}
    upgrade(kind, "ingress.enabled=false", "gateway.enabled=true",
            f"gateway.parentRefs[0].name={parent['name']}",
            f"gateway.parentRefs[0].namespace={parent['namespace']}",
            f"gateway.parentRefs[0].sectionName={parent['sectionName']}",
            "gateway.hostnames[0]=localhost",
            # Traefik's Gateway provider has no session persistence: one pod.
            "panel.replicas=1")  # fmt: skip
    # Until the scaled-away pods are gone a page and its websocket can land on two pods.
    wait_for(lambda: journey.panel_pods_ready(kind, 1), "1 Ready Panel pod", journey.POD_WAIT, 2)
    assert kind.get("ingress")["items"] == []

    def accepted() -> bool:
        route = kind.get("httproute", kind.fullname)
        conditions = [
            (c["type"], c["status"])
            for p in route.get("status", {}).get("parents", [])
            for c in p["conditions"]
        ]
        return ("Accepted", "True") in conditions and ("ResolvedRefs", "True") in conditions

    wait_for(accepted, "the HTTPRoute Accepted with its refs resolved by Traefik", 120, 2)
    wait_for(app_answers, f"{APP_URL}/health through the HTTPRoute", 120, 2)

    # Routing and websockets: the task page connects over its websocket and runs a task.
    one_browser_runs_a_task_without_affinity(chromium)
    scheduler_api_refused()
