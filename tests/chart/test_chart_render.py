"""Every ci case lints, renders, and is accepted by the real kube-apiserver.

`kubectl apply --dry-run=server` runs the real admission chain (schema
validation of the CRs against the chart's CRDs, Pod Security admission in a
namespace enforcing `restricted`) without creating anything.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chart_cluster import CI_CASES, documents_of, pod_specs, render, server_dry_run, values_file
from dask_kubernetes.operator.controller.controller import (
    build_scheduler_deployment_spec,
    build_scheduler_service_spec,
    build_worker_deployment_spec,
)

from panel_dask_testkit.kube import CHART_DIR, RESTRICTED, apply_crds, run

pytestmark = pytest.mark.controlplane

LINT_CASES = [*CI_CASES, "kind"]
STANDARD_LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
}
COMPONENTS = {"panel", "operator", "scheduler", "worker", "test", "uninstall-cleanup"}


def case_values(case: str) -> str:
    return str(CHART_DIR / "values-kind.yaml") if case == "kind" else str(values_file(case))


@pytest.fixture(scope="module")
def crds(control_plane: Any, gateway_api_crds: Any) -> None:
    apply_crds(control_plane)
    gateway_api_crds("standard")  # the gateway case's HTTPRoute


@pytest.mark.parametrize("case", LINT_CASES)
def test_helm_lint_strict(control_plane: Any, case: str) -> None:
    out = run(control_plane.helm, "lint", "--strict", str(CHART_DIR), "-f", case_values(case))
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("case", LINT_CASES)
def test_renders_and_passes_server_dry_run_in_restricted_namespace(
    control_plane: Any, namespace_factory: Any, crds: None, case: str, tmp_path: Any
) -> None:
    namespace = namespace_factory(labels=RESTRICTED)
    docs = render(control_plane, "panel-dask", namespace, "-f", case_values(case))
    result = server_dry_run(control_plane, namespace, docs, tmp_path / "manifest.yaml")
    assert result.stdout.count("(server dry run)") == len(docs)


def dask_kubernetes_children(cluster: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """What dask-kubernetes' controller creates from the DaskCluster, built by its own code."""
    name = cluster["metadata"]["name"]
    labels = cluster["metadata"]["labels"]
    scheduler, worker = cluster["spec"]["scheduler"], cluster["spec"]["worker"]
    scheduler_labels = labels | scheduler["metadata"]["labels"]
    worker_labels = labels | worker["metadata"]["labels"]
    return [
        build_scheduler_deployment_spec(name, scheduler["spec"], {}, scheduler_labels),
        build_scheduler_service_spec(name, scheduler["service"], {}, scheduler_labels),
        build_worker_deployment_spec(
            f"{name}-default", namespace, name, "abcde", worker["spec"], {}, worker_labels
        ),
    ]


def as_pod(deployment: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(deployment["spec"]["template"])
    return {"apiVersion": "v1", "kind": "Pod", **template}


def test_pods_dask_kubernetes_creates_are_admitted_as_restricted(
    control_plane: Any, namespace_factory: Any, tmp_path: Any
) -> None:
    """The scheduler and worker pods come from the DaskCluster's templates, not from Helm:
    build them with dask-kubernetes' own builders and let Pod Security admission judge."""
    namespace = namespace_factory(labels=RESTRICTED)
    docs = render(control_plane, "panel-dask", namespace)
    children = dask_kubernetes_children(documents_of(docs, "DaskCluster")[0], namespace)
    deployments = [c for c in children if c["kind"] == "Deployment"]
    objects = children + [as_pod(d) for d in deployments]
    server_dry_run(control_plane, namespace, objects, tmp_path / "children.yaml")
    service = children[1]
    assert service["metadata"]["name"] == "panel-dask-scheduler"
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "tcp-comm": 8786,
        "http-dashboard": 8787,
    }
    assert service["spec"]["type"] == "ClusterIP"


@pytest.mark.parametrize(
    ("case", "count"),
    [
        ("default", 5),  # panel, operator, scheduler, worker, helm test
        ("idle-timeout", 6),  # and the uninstall hook
    ],
)
def test_every_pod_spec_is_hardened_the_same_way(control_plane: Any, case: str, count: int) -> None:
    """A readable per-field report; the admission tests above are the authority."""
    docs = render(control_plane, "panel-dask", "ns", "-f", str(values_file(case)))
    problems = []
    for name, spec in pod_specs(docs):
        pod = spec["securityContext"]
        if pod.get("runAsNonRoot") is not True or pod.get("runAsUser") != 1000:
            problems.append(f"{name}: pod runAsNonRoot/runAsUser")
        for container in spec["containers"]:
            ctx = container["securityContext"]
            expected = {
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            }
            wrong = {k: ctx.get(k) for k, v in expected.items() if ctx.get(k) != v}
            if wrong:
                problems.append(f"{name}/{container['name']}: {wrong}")
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if "/tmp" not in mounts:
                problems.append(f"{name}/{container['name']}: no writable /tmp")
    assert problems == []
    assert len(list(pod_specs(docs))) == count


def hook_jobs(control_plane: Any, *helm_args: str) -> list[str]:
    docs = render(control_plane, "panel-dask", "ns", *helm_args)
    return [job["metadata"]["name"] for job in documents_of(docs, "Job")]


def test_uninstall_hook_only_for_a_cluster_with_an_idle_timeout(control_plane: Any) -> None:
    """Only a DaskCluster with idleTimeout carries a kopf finalizer; nothing else needs the hook."""
    idle = ["-f", str(values_file("idle-timeout"))]
    assert hook_jobs(control_plane) == []
    assert hook_jobs(control_plane, *idle) == ["panel-dask-operator-uninstall-cleanup"]
    assert hook_jobs(control_plane, *idle, "--set", "operator.uninstallCleanup.enabled=false") == []
    assert hook_jobs(control_plane, *idle, "--set", "operator.enabled=false") == []


def test_every_object_carries_the_standard_labels(control_plane: Any) -> None:
    # The idle-timeout case renders every component, the uninstall hook included.
    docs = render(control_plane, "panel-dask", "ns", "-f", str(values_file("idle-timeout")))
    for doc in docs:
        missing = STANDARD_LABELS - set(doc["metadata"]["labels"])
        assert not missing, f"{doc['kind']}/{doc['metadata']['name']} lacks {missing}"
    # Pod labels: Deployment and Job templates, the DaskCluster's pods, the test pod.
    templates = [
        d["spec"]["template"]["metadata"]["labels"]
        for kind in ("Deployment", "Job")
        for d in documents_of(docs, kind)
    ]
    cluster = documents_of(docs, "DaskCluster")[0]["spec"]
    templates += [
        cluster["scheduler"]["metadata"]["labels"],
        cluster["worker"]["metadata"]["labels"],
    ]
    templates += [d["metadata"]["labels"] for d in documents_of(docs, "Pod")]
    components = {labels["app.kubernetes.io/component"] for labels in templates}
    assert components == COMPONENTS
    for labels in templates:
        assert STANDARD_LABELS <= set(labels)
