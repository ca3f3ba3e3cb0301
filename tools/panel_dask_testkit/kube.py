"""The chart on a Kubernetes API: run helm and kubectl, read objects, install CRDs and the chart.

One place for what the chart, operator and end-to-end tests and the operator
benchmark all need. ``tool`` is anything that runs a command like
``subprocess.run`` with its arguments: a control plane's or a kind cluster's
``kubectl``/``helm``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from panel_dask_testcluster.crds import apply_crd_files

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "charts" / "panel-dask"
CRD_DIR = CHART_DIR / "crds"
# Pod Security labels of a namespace that admits only `restricted` pods, as the chart promises.
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
RELEASE = "panel-dask"
OPERATOR_SERVICE_ACCOUNT = "panel-dask-operator"

Tool = Callable[..., subprocess.CompletedProcess[str]]


class Cluster(Protocol):
    """What a control plane or a kind cluster offers: its kubectl and helm."""

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster."""
        ...

    def helm(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run helm against this cluster."""
        ...


class CommandFailedError(AssertionError):
    """A helm or kubectl command failed; the message quotes its stderr."""


def attempt(tool: Tool, *args: str) -> subprocess.CompletedProcess[str]:
    """Run helm or kubectl and return the result, success or not."""
    return tool(*args, capture_output=True, text=True)


def run(tool: Tool, *args: str) -> str:
    """Run helm or kubectl and return stdout; fail with the command's stderr."""
    result = attempt(tool, *args)
    if result.returncode != 0:
        raise CommandFailedError(f"{' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def get_json(cluster: Cluster, *args: str) -> Any:
    """`kubectl get ... -o json`, parsed."""
    return json.loads(run(cluster.kubectl, "get", *args, "-o", "json"))


def apply_crds(cluster: Cluster) -> None:
    """Install or update every CRD in the chart's crds/ (ours and dask-kubernetes') and wait."""
    apply_crd_files(cluster.kubectl, sorted(CRD_DIR.glob("*.yaml")))


def install_chart(
    cluster: Cluster, namespace: str, values: Mapping[str, Any], timeout: str = "180s"
) -> None:
    """`helm install --wait` the chart with typed values, keyed by dotted path."""
    sets = [
        a for key, value in values.items() for a in ("--set-json", f"{key}={json.dumps(value)}")
    ]
    run(
        cluster.helm, "install", RELEASE, str(CHART_DIR), "--namespace", namespace,
        "--wait", "--timeout", timeout, *sets,
    )  # fmt: skip


class ControlPlaneLike(Cluster, Protocol):
    """A cluster whose apiserver URL and CA a kubeconfig can name."""

    server: str
    ca_file: Path


def service_account_kubeconfig(
    cp: ControlPlaneLike, namespace: str, path: Path, account: str = OPERATOR_SERVICE_ACCOUNT
) -> Path:
    """A kubeconfig that authenticates as ServiceAccount ``account`` (a bound token, 2 h)."""
    token = run(cp.kubectl, "create", "token", account, "-n", namespace, "--duration=2h").strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "cp",
                "cluster": {"server": cp.server, "certificate-authority": str(cp.ca_file)},
            }
        ],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [
            {"name": account, "context": {"cluster": "cp", "user": account, "namespace": namespace}}
        ],
        "current-context": account,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
