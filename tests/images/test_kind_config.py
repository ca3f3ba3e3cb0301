"""kind-config.yaml as kind itself reads it, checked where kind clusters cannot run.

tools/go/kindcheck is built with `go` against sigs.k8s.io/kind: it loads the
file with kind's loader (strict: unknown fields fail), runs kind's validation
and merges the kubeadm patches with kind's patch code, then prints the nodes.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.go

REPO = Path(__file__).resolve().parents[2]
GO_BUILD_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def kindcheck(tmp_path_factory) -> Path:
    go = shutil.which("go")
    assert go, "go is missing (Go 1.26+ builds the kind config check)"
    binary = tmp_path_factory.mktemp("kindcheck") / "kindcheck"
    build = subprocess.run(
        [go, "build", "-p", "2", "-o", str(binary), "."],
        cwd=REPO / "tools/go/kindcheck",
        env={**os.environ, "GOFLAGS": "-mod=readonly"},
        capture_output=True,
        text=True,
        timeout=GO_BUILD_TIMEOUT_S,
    )
    assert build.returncode == 0, build.stderr
    return binary


def _check(kindcheck: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(kindcheck), str(config)], capture_output=True, text=True, timeout=60)


def test_kind_config_has_an_ingress_ready_node_with_ports_80_443_on_loopback(kindcheck):
    result = _check(kindcheck, REPO / "kind-config.yaml")
    assert result.returncode == 0, result.stderr
    cluster = json.loads(result.stdout)
    assert cluster["name"] == "panel-dask"
    ingress_nodes = [n for n in cluster["nodes"] if n["labels"].get("ingress-ready") == "true"]
    assert len(ingress_nodes) == 1, cluster["nodes"]
    (node,) = ingress_nodes
    # Traefik's Deployment (hack/kind/traefik.yaml) selects this label.
    assert node["role"] == "control-plane"
    mapped = {
        (m["containerPort"], m["hostPort"], m["listenAddress"], m["protocol"])
        for m in node["portMappings"]
    }
    # Traefik's NodePort Service (hack/kind/traefik.yaml) owns the node ports.
    assert mapped == {(30080, 80, "127.0.0.1", "TCP"), (30443, 443, "127.0.0.1", "TCP")}


@pytest.mark.parametrize(
    ("written", "instead", "named"),
    [
        ("extraPortMappings:", "extraPortMapping:", "extraPortMapping"),  # an unknown field
        ("hostPort: 443", "hostPort: 80", "80"),  # a host port mapped twice
    ],
)
def test_kindcheck_rejects_a_broken_config_naming_the_fault(
    kindcheck, tmp_path, written, instead, named
):
    text = (REPO / "kind-config.yaml").read_text()
    assert written in text
    broken = tmp_path / "kind-config.yaml"
    broken.write_text(text.replace(written, instead))
    result = _check(kindcheck, broken)
    assert result.returncode != 0
    assert named in result.stderr
