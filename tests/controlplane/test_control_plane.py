"""The test control plane is a real one.

Workloads become Ready on kwok nodes,
Services get endpoints, RBAC and Pod Security are enforced."""

from __future__ import annotations

import json

from panel_dask_testcluster.cluster import ControlPlane
from panel_dask_testcluster.pins import HELM_VERSION, KUBERNETES_VERSION
from panel_dask_testkit.waiting import wait_for

WAIT = 120.0


def ok(cp: ControlPlane, *args: str, stdin: str | None = None) -> str:
    result = cp.kubectl(*args, input=stdin, capture_output=True, text=True)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def deployment_and_service(namespace: str, replicas: int) -> str:
    labels = {"app": "web"}
    container = {"name": "web", "image": "registry.invalid/web:1", "ports": [{"containerPort": 80}]}
    items = [
        {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80}]},
        },
    ]  # fmt: skip
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def ready_endpoints(cp: ControlPlane, namespace: str) -> int:
    slices = json.loads(
        ok(
            cp,
            "get",
            "endpointslices",
            "-n",
            namespace,
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "json",
        )
    )["items"]
    return sum(
        1
        for s in slices
        for e in s.get("endpoints") or []
        if e.get("conditions", {}).get("ready") and e.get("addresses")
    )


def ready_replicas(cp: ControlPlane, namespace: str) -> int:
    status = json.loads(ok(cp, "get", "deployment", "web", "-n", namespace, "-o", "json"))["status"]
    return int(status.get("readyReplicas") or 0)


def test_deployment_becomes_ready_and_scales_with_endpoints(control_plane, namespace):
    ok(control_plane, "apply", "-f", "-", stdin=deployment_and_service(namespace, 3))
    wait_for(lambda: ready_replicas(control_plane, namespace) == 3, "3/3 ready replicas")
    wait_for(lambda: ready_endpoints(control_plane, namespace) == 3, "3 ready endpoints")
    pods = json.loads(ok(control_plane, "get", "pods", "-n", namespace, "-o", "json"))["items"]
    assert all(p["status"]["phase"] == "Running" and p["status"].get("podIP") for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} <= {f"kwok-node-{i}" for i in range(3)}

    ok(control_plane, "scale", "deployment/web", "--replicas=5", "-n", namespace)
    wait_for(lambda: ready_replicas(control_plane, namespace) == 5, "5/5 ready replicas")
    wait_for(lambda: ready_endpoints(control_plane, namespace) == 5, "5 ready endpoints")


def test_service_account_without_a_role_is_forbidden(control_plane, namespace):
    ok(control_plane, "create", "serviceaccount", "nobody", "-n", namespace)
    token = ok(control_plane, "create", "token", "nobody", "-n", namespace).strip()
    as_token = ("--token", token, "--kubeconfig", "/dev/null", "--server", control_plane.server,
                "--certificate-authority", str(control_plane.ca_file))  # fmt: skip
    whoami = control_plane.kubectl(
        "auth", "whoami", "-o", "json", *as_token, capture_output=True, text=True
    )
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]["username"]
    assert user == f"system:serviceaccount:{namespace}:nobody"
    denied = control_plane.kubectl(
        "get", "pods", "-n", namespace, *as_token, capture_output=True, text=True
    )
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr and 'cannot list resource "pods"' in denied.stderr


def test_a_role_grants_exactly_what_it_says(control_plane, namespace):
    ok(control_plane, "create", "serviceaccount", "reader", "-n", namespace)
    ok(
        control_plane,
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
        "-n",
        namespace,
    )
    ok(control_plane, "create", "rolebinding", "reader", "--role=pod-reader",
       f"--serviceaccount={namespace}:reader", "-n", namespace)  # fmt: skip
    who = f"--as=system:serviceaccount:{namespace}:reader"

    def can(*args: str) -> bool:
        result = control_plane.kubectl("auth", "can-i", *args, who, capture_output=True, text=True)
        return result.stdout.strip() == "yes"

    assert can("list", "pods", "-n", namespace)
    assert can("get", "pods", "-n", namespace)
    assert not can("delete", "pods", "-n", namespace)
    assert not can("list", "secrets", "-n", namespace)
    assert not can("list", "pods", "-n", "default")
    assert not can("list", "nodes")


def test_restricted_namespace_refuses_a_privileged_pod(control_plane, namespace_factory):
    namespace = namespace_factory(labels={"pod-security.kubernetes.io/enforce": "restricted"})
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "registry.invalid/c:1",
                                 "securityContext": {"privileged": True}}]},
    }  # fmt: skip
    result = control_plane.kubectl(
        "apply", "-f", "-", input=json.dumps(pod), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "violates PodSecurity" in result.stderr and "privileged" in result.stderr


def test_versions_are_the_pinned_releases(control_plane):
    server = json.loads(ok(control_plane, "get", "--raw", "/version"))
    assert server["gitVersion"] == KUBERNETES_VERSION
    client = json.loads(ok(control_plane, "version", "--client", "-o", "json"))
    assert client["clientVersion"]["gitVersion"] == KUBERNETES_VERSION
    helm = control_plane.helm("version", "--short", capture_output=True, text=True)
    assert helm.stdout.startswith(HELM_VERSION), helm.stdout + helm.stderr
