"""The kind-node pin set: pins agree with tools/go/*/go.mod, its own cache, capwrap's go test."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from panel_dask_testcluster import build, pins

GO_TEST_TIMEOUT_S = 600


def go_mod(module: str) -> str:
    return (pins.GO_MODULES / module / "go.mod").read_text()


def requirements(text: str) -> dict[str, str]:
    """Module path -> version of every require line (replace lines left out)."""
    text = text.split("\nreplace", 1)[0]
    return dict(re.findall(r"^\s*(?:require\s+)?([\w.\-/]+\.[\w.\-/]+) (v\S+)", text, re.MULTILINE))


def tool_directives(text: str) -> set[str]:
    block = re.search(r"^tool \((.*?)^\)", text, re.MULTILINE | re.DOTALL)
    single = re.findall(r"^tool (\S+)$", text, re.MULTILINE)
    return set(block.group(1).split() if block else single)


def test_every_node_package_is_a_tool_of_its_module_or_the_module_itself():
    for tool in pins.NODE_TOOLS:
        text = go_mod(tool.module)
        own = re.findall(r"^module (\S+)$", text, re.MULTILINE)
        assert set(tool.packages) <= tool_directives(text) | set(own), tool.module


@pytest.mark.parametrize(
    ("module", "path", "version"),
    [
        ("kubernetes-node", "k8s.io/kubernetes", pins.KUBERNETES_VERSION),
        ("kind", "sigs.k8s.io/kind", pins.KIND_VERSION),
        ("coredns", "github.com/coredns/coredns", pins.COREDNS_VERSION),
        ("kube-router", "github.com/cloudnativelabs/kube-router/v2", pins.KUBE_ROUTER_VERSION),
    ],
)
def test_node_versions_are_the_go_mod_versions(module, path, version):
    assert requirements(go_mod(module))[path] == version


def test_node_kubernetes_module_resolves_like_the_control_plane():
    """Same release, same replace block, and every shared dependency at the same version."""
    control_plane, node = go_mod("kubernetes"), go_mod("kubernetes-node")
    assert control_plane.split("\nreplace", 1)[1] == node.split("\nreplace", 1)[1]
    cp_versions, node_versions = requirements(control_plane), requirements(node)
    differing = {
        path: (cp_versions[path], node_versions[path])
        for path in cp_versions.keys() & node_versions.keys()
        if cp_versions[path] != node_versions[path]
    }
    assert not differing
    assert "k8s.io/kubernetes" in cp_versions.keys() & node_versions.keys()
    cp_tool = next(t for t in pins.TOOLS if t.module == "kubernetes")
    node_tool = next(t for t in pins.NODE_TOOLS if t.module == "kubernetes-node")
    assert node_tool.ldflags == cp_tool.ldflags


def test_node_cache_is_its_own_folder_and_keyed_by_module_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DASK_CACHE", str(tmp_path / "cache"))
    assert pins.node_bin_dir().is_relative_to(tmp_path / "cache" / "node")
    assert pins.node_bin_dir() != pins.bin_dir()
    assert not build.is_node_built()
    copy = tmp_path / "go"
    shutil.copytree(pins.GO_MODULES, copy, ignore=shutil.ignore_patterns("*_test.go"))
    monkeypatch.setattr(pins, "GO_MODULES", copy)
    before = pins.node_pin_key()
    assert before.startswith(f"node-k8s-{pins.KUBERNETES_VERSION}-")
    control_plane = pins.pin_key()
    source = copy / "capwrap" / "main.go"
    source.write_text(source.read_text() + "\n// changed\n")
    assert pins.node_pin_key() != before
    assert pins.pin_key() == control_plane  # the control plane's cache is untouched


def test_every_node_binary_is_expected_and_version_checked():
    names = build.node_expected_binaries()
    assert set(names) == {
        *("kubelet", "kubeadm", "kube-proxy", "kind", "coredns", "kube-router", "capwrap"),
        build.PAUSE,
        "traefik",
    }
    assert set(build.NODE_VERSION_CHECKS) == set(names) - {"capwrap"}
    assert any(f"-DVERSION=v{pins.PAUSE_VERSION}-" in flag for flag in pins.PAUSE_CFLAGS)


def test_build_node_reuses_a_complete_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DASK_CACHE", str(tmp_path))
    target = pins.node_bin_dir()
    target.mkdir(parents=True)
    for name in build.node_expected_binaries():
        (target / name).touch()
    result = subprocess.run(
        [sys.executable, "-m", "panel_dask_testcluster", "build-node"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"kind node tools up to date in {target}" in result.stdout


@pytest.mark.go
def test_capwrap_go_tests_pass():
    go = shutil.which("go")
    assert go, "go is missing (Go 1.26+ builds and tests capwrap)"
    result = subprocess.run(
        [go, "test", "-count=1", "./..."],
        cwd=pins.GO_MODULES / "capwrap",
        env={**build.go_env(), "GOFLAGS": "-mod=readonly"},
        capture_output=True, text=True, timeout=GO_TEST_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
