"""A real Prometheus on the kind cluster, scraping the release, and its HTTP API for the tests.

Prometheus is built with go from the module proxy (the ``build-monitoring`` pin
set) into a one-binary image (hack/kind/binary-image.sh), loaded into kind and
deployed from prometheus.yaml. The tests query it through the API server's
service proxy, so no port of the cluster is opened for them.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kind_cluster import ROOT, KindCluster

from panel_dask_testcluster.pins import node_bin_dir
from panel_dask_testkit.kube import run
from panel_dask_testkit.waiting import wait_for

MANIFEST = Path(__file__).with_name("prometheus.yaml")
NAMESPACE = "monitoring"


@dataclass(frozen=True)
class Prometheus:
    """The deployed server: instant and range queries through the API server."""

    kind: KindCluster
    namespace: str = NAMESPACE
    # When it was deployed: the start of everything it has seen.
    since: float = 0.0

    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/<path>`` on Prometheus: its ``data``; an error fails the test."""
        query = urllib.parse.urlencode(params)
        raw = (
            f"/api/v1/namespaces/{self.namespace}/services/http:prometheus:9090/proxy"
            f"/api/v1/{path}?{query}"
        )
        answer = json.loads(run(self.kind.kubectl, "get", "--raw", raw))
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        return list(self.api("query", query=expr)["result"])

    def value(self, expr: str) -> float | None:
        """The single value of an instant query that returns at most one series."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Any]:
        """A range query's result matrix."""
        data = self.api(
            "query_range", query=expr, start=str(start), end=str(end), step=f"{step:.0f}s"
        )
        return list(data["result"])

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets and their health."""
        return list(self.api("targets", state="active")["activeTargets"])


def deploy(kind: KindCluster) -> Prometheus:
    """Build and load the image, apply the manifest, wait until Prometheus is ready."""
    image = subprocess.run(
        ["bash", str(ROOT / "hack/kind/binary-image.sh"), "prometheus", "build-monitoring"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [str(node_bin_dir() / "kind"), "load", "docker-image", "--name", kind.name, image],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # A namespace left by an earlier run may still be terminating.
    kind.kubectl("wait", "--for=delete", f"namespace/{NAMESPACE}", "--timeout=180s",
                 capture_output=True)  # fmt: skip
    manifest = (
        MANIFEST.read_text()
        .replace("RELEASE_NAMESPACE", kind.namespace)
        .replace("NAMESPACE", NAMESPACE)
        .replace("IMAGE", image)
    )
    result = kind.kubectl("apply", "-f", "-", input=manifest, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run(kind.kubectl, "-n", NAMESPACE, "rollout", "status", "deployment/prometheus",
        "--timeout=180s")  # fmt: skip
    prometheus = Prometheus(kind, since=time.time())
    wait_for(lambda: prometheus.api("status/buildinfo"), "Prometheus' API", timeout=60)
    return prometheus


def remove(kind: KindCluster) -> None:
    """Delete what :func:`deploy` made (the Role lives in the release namespace)."""
    kind.kubectl("delete", "namespace", NAMESPACE, "--wait=false", capture_output=True)
    for kind_name in ("rolebinding", "role"):
        kind.kubectl("delete", kind_name, "prometheus-discovery", "-n", kind.namespace,
                     "--ignore-not-found", capture_output=True)  # fmt: skip
