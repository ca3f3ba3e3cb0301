"""pytest fixtures for the real control plane.

``control_plane`` (session) builds the tools if needed and starts one control
plane for the whole run; ``namespace`` / ``namespace_factory`` give each test
namespaces of its own, deleted afterwards. Tests that use the control plane are
marked ``controlplane`` so ``-m "not controlplane"`` runs without it.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from panel_dask_testcluster import cluster, gateway_api, prometheus_operator
from panel_dask_testkit.waiting import wait_for

FIXTURES = {"control_plane", "namespace", "namespace_factory"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the control plane."""
    for item in items:
        if FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.controlplane)


@pytest.fixture(scope="session")
def gateway_api_crds(
    control_plane: cluster.ControlPlane,
) -> Callable[[gateway_api.Channel], None]:
    """Install a Gateway API channel's CRDs: ``gateway_api_crds("standard")``.

    Cluster-wide and left installed; a test that needs the other channel applies
    it over this one, so each test names the channel it relies on.
    """

    def install(channel: gateway_api.Channel) -> None:
        gateway_api.install_crds(control_plane.kubectl, channel)

    return install


@pytest.fixture(scope="session")
def prometheus_operator_crds(control_plane: cluster.ControlPlane) -> None:
    """The ServiceMonitor and PodMonitor CRDs, installed once and left installed."""
    prometheus_operator.install_crds(control_plane.kubectl)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[cluster.ControlPlane]:
    """One real control plane for the test run, stopped and removed at the end."""
    with cluster.running_control_plane(Path(tempfile.mkdtemp(prefix="panel-dask-cp-"))) as cp:
        yield cp


def create_namespace(
    cp: cluster.ControlPlane, hint: str, labels: dict[str, str] | None = None
) -> str:
    """Create a uniquely named namespace (named after ``hint``) and wait until it takes pods."""
    base = "".join(c for c in hint.lower().replace("_", "-") if c.isalnum() or c == "-")
    name = f"{base[:40].strip('-')}-{uuid.uuid4().hex[:6]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }
    result = cp.kubectl(
        "create", "-f", "-", input=json.dumps(manifest), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    wait_for_default_service_account(cp, name)
    return name


def delete_namespaces(cp: cluster.ControlPlane, names: list[str]) -> None:
    """Delete namespaces without waiting: their finalization runs in the background."""
    for name in names:
        cp.kubectl(
            "delete", "namespace", name, "--wait=false", "--ignore-not-found", capture_output=True
        )


@pytest.fixture(scope="module")
def namespace_factory(
    control_plane: cluster.ControlPlane, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Create namespaces (optionally labelled), deleted when the test module ends.

    Module-scoped so module-scoped fixtures (an installed chart) can use it too.
    """
    created: list[str] = []

    def make(labels: dict[str, str] | None = None) -> str:
        created.append(create_namespace(control_plane, Path(request.node.name).stem, labels))
        return created[-1]

    yield make
    delete_namespaces(control_plane, created)


@pytest.fixture
def namespace(control_plane: cluster.ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for this test, deleted when it ends."""
    name = create_namespace(control_plane, request.node.name)
    yield name
    delete_namespaces(control_plane, [name])


def wait_for_default_service_account(cp: cluster.ControlPlane, namespace: str) -> None:
    """Pods are refused until the controller-manager has made the ``default`` ServiceAccount."""
    wait_for(
        lambda: (
            cp.kubectl(
                "get", "serviceaccount", "default", "-n", namespace, capture_output=True
            ).returncode
            == 0
        ),
        f"namespace {namespace}'s default ServiceAccount",
        60,
    )
