"""The kind values file renders with the chart and points at the kind-loaded images."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.controlplane

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts/panel-dask"
# The file `make kind-up` installs with (hack/kind-up.sh, KIND_VALUES).
KIND_VALUES = CHART / "values-kind.yaml"
KIND_TAGS = {"panel-dask-app:dev", "panel-dask-operator:dev"}


def _containers(node):
    """Every dict with an `image` key anywhere in a manifest (Pods, DaskCluster specs)."""
    if isinstance(node, dict):
        if isinstance(node.get("image"), str):
            yield node
        for value in node.values():
            yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


@pytest.fixture(scope="module")
def rendered(control_plane):
    assert KIND_VALUES.is_file(), f"{KIND_VALUES.relative_to(REPO)} is missing"
    result = control_plane.helm(
        "template", "panel-dask", str(CHART), "--namespace", "panel-dask",
        "--values", str(KIND_VALUES),
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_kind_values_use_the_locally_built_images_without_pulling(rendered):
    containers = list(_containers(rendered))
    images = {c["image"] for c in containers}
    assert images >= KIND_TAGS, f"rendered images: {sorted(images)}"
    kind_loaded = [c for c in containers if c["image"] in KIND_TAGS]
    # `kind load` puts the images on the nodes; there is no registry to pull from.
    pulling = [c.get("name") for c in kind_loaded if c.get("imagePullPolicy") == "Always"]
    assert not pulling, f"containers that would pull the kind-loaded images: {pulling}"


def test_kind_values_route_the_app_and_the_dask_dashboard_through_the_ingress(rendered):
    paths = {
        path["path"]
        for doc in rendered
        if doc["kind"] == "Ingress"
        for rule in doc["spec"].get("rules", [])
        for path in rule["http"]["paths"]
    }
    assert "/" in paths
    assert any(p.startswith("/dask") for p in paths), paths
