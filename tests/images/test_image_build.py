"""Both images build on the local base and carry the contract the chart relies on."""

from pathlib import Path

import pytest

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"

pytestmark = pytest.mark.docker

OCI_LABELS = (
    "org.opencontainers.image.title",
    "org.opencontainers.image.version",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.created",
    "org.opencontainers.image.licenses",
    "org.opencontainers.image.base.name",
)


@pytest.mark.parametrize("name", ["app", "operator"])
def test_image_is_non_root_with_writable_tmp_volume_and_oci_labels(docker, images, name):
    config = docker.inspect(images[name])["Config"]
    assert config["User"] == "1000:1000", "numeric non-root user, so runAsNonRoot can verify it"
    assert "/tmp" in (config.get("Volumes") or {}), "/tmp must be a volume for --read-only"
    assert "HOME=/tmp" in config["Env"]
    labels = config["Labels"] or {}
    missing = [label for label in OCI_LABELS if not labels.get(label)]
    assert not missing, f"missing OCI labels: {missing}"
    assert labels["org.opencontainers.image.title"] == f"panel-dask-{name}"
    assert labels["org.opencontainers.image.base.name"] == "panel-dask-base:bookworm"


def test_app_image_serves_panel_by_default_and_exposes_dask_ports(docker, images):
    config = docker.inspect(images["app"])["Config"]
    assert config["Cmd"] == ["panel-dask-serve"]
    assert not config.get("Entrypoint"), "no entrypoint, so `dask scheduler` can be the command"
    assert {"5006/tcp", "8786/tcp", "8787/tcp"} <= set(config["ExposedPorts"])


def test_operator_image_runs_the_operator_module(docker, images):
    config = docker.inspect(images["operator"])["Config"]
    assert config["Entrypoint"] == ["python", "-m", "panel_dask_operator"]
    assert "8080/tcp" in config["ExposedPorts"]


@pytest.mark.parametrize(
    ("name", "distribution"), [("app", "panel-dask-app"), ("operator", "panel-dask-operator")]
)
def test_image_installs_the_pinned_versions(docker, images, name, distribution):
    """The venv holds exactly the versions constraints.txt pins (images and dev agree)."""
    lines = CONSTRAINTS.read_text().splitlines()
    pins = dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    frozen = docker(
        "run",
        "--rm",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--entrypoint",
        "pip",
        images[name],
        "list",
        "--format",
        "freeze",
    )
    installed = dict(line.split("==") for line in frozen.splitlines() if "==" in line)
    assert distribution in installed
    shared = {key: pins[key] for key in pins if key in installed}
    assert shared, "no pinned distribution found in the image"
    mismatched = {key: (pins[key], installed[key]) for key in shared if installed[key] != pins[key]}
    assert not mismatched, f"image versions differ from constraints.txt: {mismatched}"
