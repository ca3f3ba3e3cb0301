"""Helpers the chart tests share: run helm/kubectl on the test control plane, wait, parse.

Only the chart tests use these; they wrap the `control_plane` fixture's
`helm`/`kubectl` so a failing command reports its own stderr.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from panel_dask_testcluster.chart_docs import CHART_DIR

CI_DIR = CHART_DIR / "ci"
CRD_DIR = CHART_DIR / "crds"
CI_CASES = sorted(p.name.removesuffix("-values.yaml") for p in CI_DIR.glob("*-values.yaml"))
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
WAIT_SECONDS = 120


def run(tool: Callable[..., subprocess.CompletedProcess[str]], *args: str) -> str:
    """Run helm or kubectl through the fixture and return stdout; fail with stderr."""
    result = tool(*args, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def attempt(
    tool: Callable[..., subprocess.CompletedProcess[str]], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run helm or kubectl and return the result, success or not."""
    return tool(*args, capture_output=True, text=True)


def get_json(control_plane: Any, *args: str) -> Any:
    """`kubectl get ... -o json`, parsed."""
    return json.loads(run(control_plane.kubectl, "get", *args, "-o", "json"))


def values_file(case: str) -> Path:
    """Path of a ci case's values file."""
    return CI_DIR / f"{case}-values.yaml"


def render(
    control_plane: Any, release: str, namespace: str, *helm_args: str
) -> list[dict[str, Any]]:
    """`helm template` the chart and return its documents (hooks included)."""
    out = run(
        control_plane.helm, "template", release, str(CHART_DIR), "--namespace", namespace,
        *helm_args,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(out) if doc]


def server_dry_run(
    control_plane: Any, namespace: str, docs: list[dict[str, Any]], manifest: Path
) -> subprocess.CompletedProcess[str]:
    """`kubectl apply --dry-run=server` of ``docs``; fails on refusal or a PodSecurity warning.

    A namespace with warn=restricted makes the apiserver warn about Deployments
    whose pods it would refuse, so a warning is a failure too.
    """
    manifest.write_text(yaml.safe_dump_all(docs))
    result = attempt(
        control_plane.kubectl, "apply", "--dry-run=server", "-n", namespace, "-f", str(manifest)
    )
    assert result.returncode == 0, result.stderr
    assert "PodSecurity" not in result.stderr, result.stderr
    return result


def documents_of(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The documents of one kind."""
    return [doc for doc in docs if doc["kind"] == kind]


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec the chart renders or makes dask-kubernetes create, named."""
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "Pod":
            yield name, doc["spec"]
        elif doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "DaskCluster":
            yield f"{name} scheduler", doc["spec"]["scheduler"]["spec"]
            yield f"{name} worker", doc["spec"]["worker"]["spec"]


def apply_crds(control_plane: Any) -> None:
    """Install or update every CRD in the chart's crds/ and wait until they serve."""
    run(control_plane.kubectl, "apply", "--server-side", "--force-conflicts", "-f", str(CRD_DIR))
    names = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in CRD_DIR.glob("*.yaml")]
    run(
        control_plane.kubectl, "wait", "--for=condition=Established", "--timeout=60s",
        *[f"crd/{name}" for name in names],
    )  # fmt: skip
