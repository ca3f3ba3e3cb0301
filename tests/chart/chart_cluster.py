"""Helpers only the chart tests share: the ci cases, rendering, NOTES, server-side dry runs.

Running helm/kubectl, reading objects and installing the CRDs, which the
operator and end-to-end tests need too, are the test kit's
(``panel_dask_testkit.kube``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from panel_dask_testkit.kube import CHART_DIR, apply_crds, attempt, run

CI_DIR = CHART_DIR / "ci"
CI_CASES = sorted(p.name.removesuffix("-values.yaml") for p in CI_DIR.glob("*-values.yaml"))


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


def install_notes(control_plane: Any, *helm_args: str) -> str:
    """NOTES.txt as `helm install --dry-run` prints it (helm template leaves it out).

    The dry run still maps every kind through the apiserver, so the CRDs must exist.
    """
    apply_crds(control_plane)
    return run(
        control_plane.helm, "install", "panel-dask", str(CHART_DIR), "--namespace", "ns",
        "--dry-run=client", *helm_args,
    )  # fmt: skip


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


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one document of ``kind`` called ``name``."""
    [found] = [doc for doc in documents_of(docs, kind) if doc["metadata"]["name"] == name]
    return found


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
