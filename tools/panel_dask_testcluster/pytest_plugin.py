"""pytest fixtures for the real control plane.

``control_plane`` (session) builds the tools if needed and starts one control
plane for the whole run; ``namespace`` / ``namespace_factory`` give each test
namespaces of its own, deleted afterwards. Tests that use the control plane are
marked ``controlplane`` so ``-m "not controlplane"`` runs without it.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from panel_dask_testcluster import cluster

FIXTURES = {"control_plane", "namespace", "namespace_factory"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the control plane."""
    for item in items:
        if FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.controlplane)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[cluster.ControlPlane]:
    """One real control plane for the test run, stopped and removed at the end."""
    with cluster.running_control_plane(Path(tempfile.mkdtemp(prefix="panel-dask-cp-"))) as cp:
        yield cp


@pytest.fixture
def namespace_factory(
    control_plane: cluster.ControlPlane, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Create namespaces (optionally labelled) that are deleted when the test ends."""
    created: list[str] = []

    def make(labels: dict[str, str] | None = None) -> str:
        base = request.node.name.lower().replace("_", "-")
        name = "".join(c for c in base if c.isalnum() or c == "-")[:40].strip("-")
        name = f"{name}-{uuid.uuid4().hex[:6]}"
        manifest = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}},
        }
        result = control_plane.kubectl(
            "create", "-f", "-", input=json.dumps(manifest), capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        created.append(name)
        wait_for_default_service_account(control_plane, name)
        return name

    yield make
    for name in created:
        control_plane.kubectl(
            "delete", "namespace", name, "--wait=false", "--ignore-not-found", capture_output=True
        )


@pytest.fixture
def namespace(namespace_factory: Callable[..., str]) -> str:
    """A fresh namespace for this test."""
    return namespace_factory()


def wait_for_default_service_account(cp: cluster.ControlPlane, namespace: str) -> None:
    """Pods are refused until the controller-manager has made the ``default`` ServiceAccount."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        result = cp.kubectl(
            "get", "serviceaccount", "default", "-n", namespace, capture_output=True
        )
        if result.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"namespace {namespace} got no default ServiceAccount within 60s")
