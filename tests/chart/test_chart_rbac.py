"""The operator's ServiceAccount may do what the operator needs in its namespace, no more.

Asked of the real RBAC authorizer with `kubectl auth can-i --as=<service account>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from chart_cluster import values_file

from panel_dask_testkit.kube import CHART_DIR, apply_crds, attempt, run

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
SERVICE_ACCOUNT = "panel-dask-operator"

# What the operator calls (kopf framework + dask-kubernetes' controller + ours).
NEEDED = [
    ("create", "events", ""),
    ("create", "events.events.k8s.io", ""),
    ("watch", "daskclusters.kubernetes.dask.org", ""),
    ("patch", "daskclusters.kubernetes.dask.org", ""),
    ("delete", "daskclusters.kubernetes.dask.org", ""),
    ("patch", "daskclusters.kubernetes.dask.org", "status"),
    ("create", "daskworkergroups.kubernetes.dask.org", ""),
    ("patch", "daskworkergroups.kubernetes.dask.org", "scale"),
    ("watch", "daskautoscalers.kubernetes.dask.org", ""),
    ("list", "daskqueueautoscalers.panel-dask.io", ""),
    ("watch", "daskqueueautoscalers.panel-dask.io", ""),
    ("patch", "daskqueueautoscalers.panel-dask.io", ""),
    ("patch", "daskqueueautoscalers.panel-dask.io", "status"),
    ("create", "deployments.apps", ""),
    ("delete", "deployments.apps", ""),
    ("list", "pods", ""),
    ("create", "services", ""),
    ("watch", "services", ""),
]
# The uninstall hook (the operator's ServiceAccount) deletes DaskClusters, and
# is rendered only when they set idleTimeout.
HOOK_NEEDS = ("deletecollection", "daskclusters.kubernetes.dask.org")
# Never needed: secrets, RBAC (privilege escalation), the pods' exec.
NOT_IN_NAMESPACE = [
    ("get", "secrets", ""),
    ("create", "roles.rbac.authorization.k8s.io", ""),
    ("create", "rolebindings.rbac.authorization.k8s.io", ""),
    ("create", "pods", "exec"),
    ("create", "daskqueueautoscalers.panel-dask.io", ""),
    # Nothing deletes autoscalers in bulk: they carry no finalizer, Helm deletes them.
    ("deletecollection", "daskqueueautoscalers.panel-dask.io", ""),
    # Only the uninstall hook does, and by default it is not rendered.
    (*HOOK_NEEDS, ""),
]
CLUSTER_SCOPED = [
    ("list", "namespaces"),
    ("list", "customresourcedefinitions.apiextensions.k8s.io"),
    ("get", "nodes"),
    ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("list", "clusterkopfpeerings.kopf.dev"),
    ("create", "validatingwebhookconfigurations.admissionregistration.k8s.io"),
]


def can_i(control_plane: Any, namespace: str, verb: str, resource: str, *scope: str) -> bool:
    """Ask the apiserver whether the operator's ServiceAccount may do it."""
    user = f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    result = attempt(control_plane.kubectl, "auth", "can-i", verb, resource, f"--as={user}", *scope)
    answer = result.stdout.strip()
    assert answer in {"yes", "no"}, f"can-i {verb} {resource}: {answer} {result.stderr}"
    return answer == "yes"


@contextmanager
def installed_release(control_plane: Any, namespace: str, *args: str) -> Iterator[str]:
    apply_crds(control_plane)
    run(
        control_plane.helm, "install", RELEASE, str(CHART_DIR), "--namespace", namespace,
        "--set", "networkPolicy.enabled=false", *args,
    )  # fmt: skip
    try:
        yield namespace
    finally:
        run(control_plane.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait")


@pytest.fixture(scope="module")
def namespaced(control_plane: Any, namespace_factory: Any) -> Iterator[str]:
    with installed_release(control_plane, namespace_factory()) as namespace:
        yield namespace


@pytest.mark.parametrize(("verb", "resource", "subresource"), NEEDED)
def test_operator_may_do_what_it_needs_in_its_namespace(
    control_plane: Any, namespaced: str, verb: str, resource: str, subresource: str
) -> None:
    scope = ["-n", namespaced] + ([f"--subresource={subresource}"] if subresource else [])
    assert can_i(control_plane, namespaced, verb, resource, *scope)
    other = ["-n", "kube-system"] + scope[2:]
    assert not can_i(control_plane, namespaced, verb, resource, *other), "leaks to kube-system"


@pytest.mark.parametrize(("verb", "resource", "subresource"), NOT_IN_NAMESPACE)
def test_operator_may_not_do_more_in_its_namespace(
    control_plane: Any, namespaced: str, verb: str, resource: str, subresource: str
) -> None:
    scope = ["-n", namespaced] + ([f"--subresource={subresource}"] if subresource else [])
    assert not can_i(control_plane, namespaced, verb, resource, *scope)


@pytest.mark.parametrize(("verb", "resource"), CLUSTER_SCOPED)
def test_operator_gets_nothing_cluster_scoped_by_default(
    control_plane: Any, namespaced: str, verb: str, resource: str
) -> None:
    assert not can_i(control_plane, namespaced, verb, resource)


def test_no_cluster_role_is_installed_by_default(control_plane: Any, namespaced: str) -> None:
    found = run(
        control_plane.kubectl, "get", "clusterroles,clusterrolebindings", "-o", "name",
        "-l", f"app.kubernetes.io/instance={RELEASE}",
    )  # fmt: skip
    assert namespaced not in found


def test_cluster_wide_rbac_only_when_asked(control_plane: Any, namespace_factory: Any) -> None:
    namespace = namespace_factory()
    with installed_release(control_plane, namespace, "--set", "operator.rbac.clusterWide=true"):
        assert can_i(control_plane, namespace, "list", "pods", "--all-namespaces")
        assert can_i(control_plane, namespace, "patch", "daskclusters.kubernetes.dask.org", "-A")
        assert not can_i(control_plane, namespace, "get", "secrets", "-A")
        roles = run(control_plane.kubectl, "get", "roles", "-n", namespace, "-o", "name")
        assert roles.strip() == ""
    leftover = run(control_plane.kubectl, "get", "clusterroles", "-o", "name")
    assert f"{namespace}-panel-dask-operator" not in leftover


def test_the_uninstall_hook_may_delete_clusters_only_when_rendered(
    control_plane: Any, namespace_factory: Any
) -> None:
    namespace = namespace_factory()
    with installed_release(control_plane, namespace, "-f", str(values_file("idle-timeout"))):
        assert can_i(control_plane, namespace, *HOOK_NEEDS, "-n", namespace)
        assert not can_i(
            control_plane, namespace, "deletecollection", "daskqueueautoscalers.panel-dask.io",
            "-n", namespace,
        )  # fmt: skip
