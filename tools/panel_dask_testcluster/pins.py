"""What the test control plane is built from, and where the built binaries live.

The versions below must match the Go modules in tools/go/*/go.mod; changing one
changes the cache folder, so the next build rebuilds instead of reusing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GO_MODULES = REPO_ROOT / "tools" / "go"

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
HELM_VERSION = "v3.22.0"


@dataclass(frozen=True)
class Tool:
    """One Go module folder and the commands built from it."""

    module: str
    packages: tuple[str, ...]
    ldflags: tuple[str, ...] = ()

    @property
    def binaries(self) -> tuple[str, ...]:
        """File names go gives the built commands: the last path element, major version dropped."""
        names = []
        for package in self.packages:
            parts = package.rstrip("/").split("/")
            major_suffix = parts[-1][1:].isdigit() and parts[-1].startswith("v")
            names.append(parts[-2] if major_suffix else parts[-1])
        return tuple(names)


def _kube_version_ldflags(package: str, version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    return (
        f"-X {package}.gitVersion={version}",
        f"-X {package}.gitMajor={major}",
        f"-X {package}.gitMinor={minor}",
        f"-X {package}.gitTreeState=clean",
        f"-X {package}.buildDate=1970-01-01T00:00:00Z",
    )


def _minor(version: str) -> str:
    return version.lstrip("v").split(".")[1]


TOOLS = (
    Tool(
        module="kubernetes",
        packages=(
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "k8s.io/kubernetes/cmd/kube-scheduler",
            "k8s.io/kubernetes/cmd/kubectl",
        ),
        ldflags=_kube_version_ldflags("k8s.io/component-base/version", KUBERNETES_VERSION)
        + _kube_version_ldflags("k8s.io/client-go/pkg/version", KUBERNETES_VERSION),
    ),
    Tool(module="etcd", packages=("go.etcd.io/etcd/server/v3",)),
    Tool(
        module="kwok",
        packages=("sigs.k8s.io/kwok/cmd/kwok",),
        ldflags=(
            f"-X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION.lstrip('v')}",
            f"-X sigs.k8s.io/kwok/pkg/consts.KubeVersion={KUBERNETES_VERSION.lstrip('v')}",
        ),
    ),
    Tool(
        module="helm",
        packages=("helm.sh/helm/v3/cmd/helm",),
        ldflags=(
            f"-X helm.sh/helm/v3/internal/version.version={HELM_VERSION}",
            "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
            "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1",
            f"-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor={_minor(KUBERNETES_VERSION)}",
            "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
            f"-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor={_minor(KUBERNETES_VERSION)}",
        ),
    ),
)

# go names etcd's server binary after its package, "server"; everyone calls it etcd.
RENAMES = {"server": "etcd"}


def cache_root() -> Path:
    """``$PANEL_DASK_CACHE`` or ``~/.cache/panel-dask``."""
    return Path(os.environ.get("PANEL_DASK_CACHE", Path.home() / ".cache" / "panel-dask"))


def pin_key() -> str:
    """A short name for this exact set of pins: versions plus every go.mod/go.sum byte."""
    digest = hashlib.sha256()
    for version in (KUBERNETES_VERSION, ETCD_VERSION, KWOK_VERSION, HELM_VERSION):
        digest.update(version.encode())
    for tool in TOOLS:
        digest.update(" ".join(tool.ldflags).encode())
        for name in ("go.mod", "go.sum"):
            path = GO_MODULES / tool.module / name
            if path.exists():
                digest.update(path.read_bytes())
    return f"k8s-{KUBERNETES_VERSION}-{digest.hexdigest()[:12]}"


def bin_dir() -> Path:
    """Where this pin set's binaries are (or will be) built."""
    return cache_root() / "tools" / pin_key() / "bin"
