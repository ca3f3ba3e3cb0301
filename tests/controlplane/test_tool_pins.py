"""The build cache is keyed by the pins: a changed go.mod means a rebuild."""

from __future__ import annotations

import shutil
import subprocess

from panel_dask_testcluster import build, cluster, pins


def test_pin_key_changes_with_a_go_mod(tmp_path, monkeypatch):
    copy = tmp_path / "go"
    shutil.copytree(pins.GO_MODULES, copy)
    monkeypatch.setattr(pins, "GO_MODULES", copy)
    before = pins.pin_key()
    assert before == pins.pin_key()
    (copy / "helm" / "go.mod").write_text((copy / "helm" / "go.mod").read_text() + "\n// changed\n")
    assert pins.pin_key() != before
    assert pins.pin_key().startswith(f"k8s-{pins.KUBERNETES_VERSION}-")


def test_cache_lives_under_the_chosen_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DASK_CACHE", str(tmp_path))
    assert pins.bin_dir().is_relative_to(tmp_path / "tools")
    assert not build.is_built()


def test_every_binary_and_the_kwok_stages_are_expected():
    names = set(build.expected_binaries())
    assert {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"} <= names
    assert {"etcd", "kwok", "helm", build.STAGES_FILE} <= names


def test_kubernetes_binaries_are_stamped_with_the_release():
    kubernetes = next(t for t in pins.TOOLS if t.module == "kubernetes")
    assert (
        f"-X k8s.io/component-base/version.gitVersion={pins.KUBERNETES_VERSION}"
        in kubernetes.ldflags
    )


def test_apiserver_runs_with_rbac_and_service_account_signing(tmp_path):
    cp = cluster.ControlPlane(
        tmp_path,
        tmp_path / "bin",
        {n: 1000 + i for i, n in enumerate([*cluster.COMPONENTS, "etcd-peer"])},
    )
    args = cluster.component_args(cp, "kube-apiserver")
    assert "--authorization-mode=Node,RBAC" in args
    assert "--anonymous-auth=false" in args
    assert any(a.startswith("--service-account-signing-key-file=") for a in args)
    assert all("127.0.0.1" in a for a in args if a.startswith(("--bind-address", "--etcd-servers")))


def test_docs_cache_is_its_own_folder_keyed_by_its_module(tmp_path, monkeypatch):
    """helm-docs has a pin set of its own: changing it never rebuilds a cluster's tools."""
    monkeypatch.setenv("PANEL_DASK_CACHE", str(tmp_path / "cache"))
    assert pins.docs_bin_dir().is_relative_to(tmp_path / "cache" / "docs")
    assert not build.is_docs_built()
    copy = tmp_path / "go"
    shutil.copytree(pins.GO_MODULES, copy)
    monkeypatch.setattr(pins, "GO_MODULES", copy)
    before, control_plane, node = pins.docs_pin_key(), pins.pin_key(), pins.node_pin_key()
    assert before.startswith(f"helm-docs-{pins.HELM_DOCS_VERSION}-")
    go_mod = copy / "helm-docs" / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\n// changed\n")
    assert pins.docs_pin_key() != before
    assert (pins.pin_key(), pins.node_pin_key()) == (control_plane, node)


def test_helm_docs_pin_is_the_go_mod_version_and_a_tool_of_it():
    text = (pins.GO_MODULES / "helm-docs" / "go.mod").read_text()
    (tool,) = pins.DOCS_TOOLS
    assert f"github.com/norwoodj/helm-docs {pins.HELM_DOCS_VERSION}" in text
    assert f"\ntool {tool.packages[0]}\n" in text


def test_built_helm_docs_reports_the_pinned_version():
    result = subprocess.run(
        [str(build.build_docs() / build.HELM_DOCS), "--version"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"version {pins.HELM_DOCS_VERSION.lstrip('v')}" in result.stdout
