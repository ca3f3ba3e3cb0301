"""The operator's ServiceAccount, impersonated for real requests against the real apiserver.

tests/chart/test_chart_rbac.py asks the authorizer (`kubectl auth can-i`);
these make the calls themselves as `system:serviceaccount:<ns>:<operator>`
(`kubectl --as`), so what RBAC answers is what a request actually meets:
the operator's own work succeeds, everything else is Forbidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import test_chart_rbac as rbac

from panel_dask_testkit.kube import attempt, run

pytestmark = pytest.mark.controlplane

AUTOSCALER = {
    "apiVersion": "panel-dask.io/v1alpha1",
    "kind": "DaskQueueAutoscaler",
    "metadata": {"name": "probe"},
    "spec": {"cluster": "panel-dask", "minimum": 1, "maximum": 3},
}


@pytest.fixture(scope="module")
def release(control_plane: Any, namespace_factory: Any) -> Iterator[str]:
    with rbac.installed_release(
        control_plane, namespace_factory(), "--set", "autoscaler.enabled=false"
    ) as namespace:
        yield namespace


def as_operator(control_plane: Any, namespace: str, *args: str, **kwargs: Any) -> Any:
    user = f"system:serviceaccount:{namespace}:{rbac.SERVICE_ACCOUNT}"
    return control_plane.kubectl(f"--as={user}", *args, capture_output=True, text=True, **kwargs)


def forbidden(result: Any, namespace: str) -> bool:
    return (
        result.returncode != 0
        and "is forbidden" in result.stderr
        and (f"system:serviceaccount:{namespace}:{rbac.SERVICE_ACCOUNT}" in result.stderr)
    )


def test_the_operator_does_its_own_work(control_plane: Any, release: str, tmp_path: Any) -> None:
    # An admin creates the resource the operator serves; the operator reads,
    # patches its status and spec, and records events about it.
    manifest = tmp_path / "dqa.json"
    manifest.write_text(json.dumps(AUTOSCALER))
    run(control_plane.kubectl, "apply", "-n", release, "-f", str(manifest))
    listed = as_operator(control_plane, release, "get", "dqa", "-n", release, "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "daskqueueautoscaler.panel-dask.io/probe"
    status = as_operator(
        control_plane, release, "patch", "dqa", "probe", "-n", release, "--type=merge",
        "--subresource=status", "-p", '{"status": {"desired": 2}}',
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    spec = as_operator(
        control_plane, release, "patch", "dqa", "probe", "-n", release, "--type=merge",
        "-p", '{"metadata": {"finalizers": ["kopf.zalando.org/KopfFinalizerMarker"]}}',
    )  # fmt: skip
    assert spec.returncode == 0, spec.stderr
    event = as_operator(
        control_plane, release, "create", "-n", release, "-f", "-",
        input=json.dumps({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "probe.1"},
            "involvedObject": {"kind": "DaskQueueAutoscaler", "name": "probe",
                               "namespace": release},
            "reason": "Probe", "message": "impersonation test", "type": "Normal",
        }),
    )  # fmt: skip
    assert event.returncode == 0, event.stderr
    pods = as_operator(control_plane, release, "get", "pods", "-n", release)
    assert pods.returncode == 0, pods.stderr
    # Let the admin remove the finalizer the operator would remove.
    run(
        control_plane.kubectl, "patch", "dqa", "probe", "-n", release, "--type=merge",
        "-p", '{"metadata": {"finalizers": null}}',
    )  # fmt: skip
    run(control_plane.kubectl, "delete", "dqa", "probe", "-n", release, "--wait")


@pytest.mark.parametrize(
    "request_args",
    [
        pytest.param(["get", "secrets", "-n", "{ns}"], id="read-secrets"),
        pytest.param(["get", "pods", "-n", "kube-system"], id="pods-elsewhere"),
        pytest.param(["get", "namespaces"], id="list-namespaces"),
        pytest.param(["get", "nodes"], id="list-nodes"),
        pytest.param(
            [
                "create",
                "rolebinding",
                "grab",
                "-n",
                "{ns}",
                "--clusterrole=admin",
                "--serviceaccount={ns}:panel-dask-operator",
            ],
            id="bind-itself-admin",
        ),  # fmt: skip
        pytest.param(
            ["create", "role", "grab", "-n", "{ns}", "--verb=get", "--resource=secrets"],
            id="create-role",
        ),
        pytest.param(["delete", "namespace", "{ns}"], id="delete-own-namespace"),
        pytest.param(["create", "configmap", "x", "-n", "{ns}"], id="create-configmap"),
    ],
)
def test_everything_else_is_forbidden(
    control_plane: Any, release: str, request_args: list[str]
) -> None:
    args = [arg.replace("{ns}", release) for arg in request_args]
    result = as_operator(control_plane, release, *args)
    assert forbidden(result, release), (result.returncode, result.stdout, result.stderr)


def test_it_cannot_create_the_resources_users_own(
    control_plane: Any, release: str, tmp_path: Any
) -> None:
    manifest = tmp_path / "dqa.json"
    manifest.write_text(json.dumps(AUTOSCALER | {"metadata": {"name": "not-mine"}}))
    result = as_operator(control_plane, release, "create", "-n", release, "-f", str(manifest))
    assert forbidden(result, release), result.stderr
    assert attempt(control_plane.kubectl, "get", "dqa", "not-mine", "-n", release).returncode != 0
