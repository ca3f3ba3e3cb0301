"""What the test clusters are built from, and where the built binaries live.

Four pin sets, each with its own cache folder: the control plane (``build``:
kube-apiserver & co., etcd, kwok, helm), the kind node (``build-node``:
kubelet, kubeadm, kube-proxy, kind, CoreDNS, kube-router, pause, capwrap), the
chart's docs tool (``build-docs``: helm-docs) and the end-to-end run's
Prometheus (``build-monitoring``).
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
# Gateway API CRDs for the chart's HTTPRoute tests, read from this module's
# config/crd/{standard,experimental}. The minor Traefik v3.7 is built against
# (v1.6); v1.7 needs a newer Go than the pinned toolchain.
GATEWAY_API_MODULE = "sigs.k8s.io/gateway-api"
GATEWAY_API_VERSION = "v1.6.3"


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


def _kubernetes_tool(module: str, *commands: str) -> Tool:
    """Commands of k8s.io/kubernetes, stamped with the release as upstream's build does.

    The control plane and the node build them from two modules of the same release.
    """
    return Tool(
        module=module,
        packages=tuple(f"k8s.io/kubernetes/cmd/{command}" for command in commands),
        ldflags=_kube_version_ldflags("k8s.io/component-base/version", KUBERNETES_VERSION)
        + _kube_version_ldflags("k8s.io/client-go/pkg/version", KUBERNETES_VERSION),
    )


TOOLS = (
    _kubernetes_tool(
        "kubernetes", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"
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


# The kind node's pin set: what `kind create cluster` needs inside and beside the
# node image, built from the same Kubernetes release as the control plane.
KIND_VERSION = "v0.33.0"
COREDNS_VERSION = "v1.15.0"
KUBE_ROUTER_VERSION = "v2.1.0"
# The kind cluster's ingress controller (tools/go/traefik, built by traefik.py).
TRAEFIK_VERSION = "v3.7.13"
# build/pause/Makefile's TAG in the pinned k8s.io/kubernetes module (the build checks it);
# kubeadm of this release expects the pause image with this tag.
PAUSE_VERSION = "3.10.2"
# pause.c prints this for -v; upstream's Makefile passes -DVERSION=v$(TAG)-$(REV).
PAUSE_CFLAGS = (
    "-Os",
    "-Wall",
    "-Werror",
    "-static",
    f"-DVERSION=v{PAUSE_VERSION}-{KUBERNETES_VERSION}",
)

_KUBE_ROUTER_VERSION_PKG = "github.com/cloudnativelabs/kube-router/v2/pkg/version"

NODE_TOOLS: tuple[Tool, ...] = (
    _kubernetes_tool("kubernetes-node", "kubelet", "kubeadm", "kube-proxy"),
    Tool(module="kind", packages=("sigs.k8s.io/kind",)),
    Tool(
        module="coredns",
        packages=("github.com/coredns/coredns",),
        ldflags=(f"-X github.com/coredns/coredns/coremain.GitCommit={COREDNS_VERSION}",),
    ),
    Tool(
        module="kube-router",
        packages=("github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",),
        ldflags=(
            f"-X {_KUBE_ROUTER_VERSION_PKG}.Version={KUBE_ROUTER_VERSION}",
            f"-X {_KUBE_ROUTER_VERSION_PKG}.BuildDate=1970-01-01T00:00:00Z",
        ),
    ),
    # Our own runc wrapper (tools/go/capwrap/main.go says why).
    Tool(module="capwrap", packages=("paneldask/tools/capwrap",)),
    # Traefik, the kind cluster's ingress controller, joins this set from its own
    # module tools/go/traefik with its version and build in
    # tools/panel_dask_testcluster/traefik.py. It is not a plain Tool here: its
    # module needs generated dependency copies before `go build`. The three places
    # to add it are marked "Traefik:" (node_pin_key below, build.node_expected_binaries
    # and build.node_steps).
)

# Versions (not from a go.mod) that go into the node cache key as well.
NODE_VERSIONS = (
    KUBERNETES_VERSION,
    TRAEFIK_VERSION,
    KIND_VERSION,
    COREDNS_VERSION,
    KUBE_ROUTER_VERSION,
    PAUSE_VERSION,
)


def _module_files(module: str) -> list[Path]:
    """go.mod, go.sum and the non-test Go sources (our own modules have some) of one module."""
    folder = GO_MODULES / module
    names = [folder / "go.mod", folder / "go.sum"]
    names += sorted(p for p in folder.glob("*.go") if not p.name.endswith("_test.go"))
    return [p for p in names if p.exists()]


def _digest_tools(digest: hashlib._Hash, tools: tuple[Tool, ...]) -> None:
    """Feed each tool's module, packages, flags and module file bytes into ``digest``."""
    for tool in tools:
        digest.update(" ".join((tool.module, *tool.packages, *tool.ldflags)).encode())
        for path in _module_files(tool.module):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())


def node_pin_key() -> str:
    """A short name for the kind-node pin set: versions, flags and every module file byte."""
    digest = hashlib.sha256()
    for version in NODE_VERSIONS:
        digest.update(version.encode())
    digest.update(" ".join(PAUSE_CFLAGS).encode())
    _digest_tools(digest, NODE_TOOLS)
    # Traefik's module and the generated dependency copies it builds against.
    from panel_dask_testcluster.traefik import generation_key  # imports this module

    for path in _module_files("traefik"):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(generation_key().encode())
    return f"node-k8s-{KUBERNETES_VERSION}-{digest.hexdigest()[:12]}"


def node_bin_dir() -> Path:
    """Where the kind-node pin set's binaries are (or will be) built."""
    return cache_root() / "node" / node_pin_key() / "bin"


@dataclass(frozen=True)
class ToolSet:
    """A pin set of one Go tool with a cache folder of its own.

    A change to it never rebuilds the control plane or the node, and theirs never
    rebuild it. ``check`` is the tool's version command and what it must print.
    """

    folder: str
    version: str
    tool: Tool
    check: tuple[str, ...]
    prints: str

    @property
    def binary(self) -> str:
        """The one command this set builds."""
        (name,) = self.tool.binaries
        return name

    def pin_key(self) -> str:
        """A short name for this set: its version and every module file byte."""
        digest = hashlib.sha256(self.version.encode())
        _digest_tools(digest, (self.tool,))
        return f"{self.binary}-{self.version}-{digest.hexdigest()[:12]}"

    def bin_dir(self) -> Path:
        """Where this set's binary is (or will be) built."""
        return cache_root() / self.folder / self.pin_key() / "bin"


# helm-docs writes the chart README's values table (``make chart-docs``); a cold
# build is about 270 small packages.
HELM_DOCS_VERSION = "v1.14.2"
DOCS = ToolSet(
    folder="docs",
    version=HELM_DOCS_VERSION,
    tool=Tool(
        module="helm-docs",
        packages=("github.com/norwoodj/helm-docs/cmd/helm-docs",),
        ldflags=(f"-X main.version={HELM_DOCS_VERSION.lstrip('v')}",),
    ),
    check=("--version",),
    prints=f"version {HELM_DOCS_VERSION.lstrip('v')}",
)

# The Prometheus server the kind end-to-end run scrapes the product with. Its Go
# module is tagged v0.<major><minor>.<patch>: v0.316.0 is Prometheus 3.16.0.
PROMETHEUS_MODULE_VERSION = "v0.316.0"
PROMETHEUS_VERSION = "3.16.0"
_PROMETHEUS_VERSION_PKG = "github.com/prometheus/common/version"
MONITORING = ToolSet(
    folder="monitoring",
    version=PROMETHEUS_MODULE_VERSION,
    tool=Tool(
        module="prometheus",
        packages=("github.com/prometheus/prometheus/cmd/prometheus",),
        ldflags=(
            f"-X {_PROMETHEUS_VERSION_PKG}.Version={PROMETHEUS_VERSION}",
            f"-X {_PROMETHEUS_VERSION_PKG}.Branch=v{PROMETHEUS_VERSION}",
            f"-X {_PROMETHEUS_VERSION_PKG}.BuildDate=19700101-00:00:00",
        ),
    ),
    check=("--version",),
    prints=f"version {PROMETHEUS_VERSION}",
)
# ServiceMonitor and PodMonitor CRDs for the chart tests, read from this module's
# example/prometheus-operator-crd.
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"
