"""The build cache is keyed by the pins: a changed go.mod means a rebuild."""

from __future__ import annotations

import shutil
import subprocess

import pytest

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


@pytest.mark.parametrize("tool_set", [pins.DOCS, pins.MONITORING], ids=lambda s: s.folder)
def test_one_tool_set_is_its_own_folder_keyed_by_its_module(tool_set, tmp_path, monkeypatch):
    """helm-docs and Prometheus have pin sets of their own: a change never rebuilds a cluster's."""
    monkeypatch.setenv("PANEL_DASK_CACHE", str(tmp_path / "cache"))
    assert tool_set.bin_dir().is_relative_to(tmp_path / "cache" / tool_set.folder)
    assert not build.is_set_built(tool_set)
    copy = tmp_path / "go"
    shutil.copytree(pins.GO_MODULES, copy)
    monkeypatch.setattr(pins, "GO_MODULES", copy)
    before, control_plane, node = tool_set.pin_key(), pins.pin_key(), pins.node_pin_key()
    others = [s.pin_key() for s in (pins.DOCS, pins.MONITORING) if s is not tool_set]
    assert before.startswith(f"{tool_set.binary}-{tool_set.version}-")
    go_mod = copy / tool_set.tool.module / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\n// changed\n")
    assert tool_set.pin_key() != before
    assert (pins.pin_key(), pins.node_pin_key()) == (control_plane, node)
    assert [s.pin_key() for s in (pins.DOCS, pins.MONITORING) if s is not tool_set] == others


@pytest.mark.parametrize(
    ("tool_set", "module"),
    [
        (pins.DOCS, "github.com/norwoodj/helm-docs"),
        (pins.MONITORING, "github.com/prometheus/prometheus"),
    ],
    ids=["docs", "monitoring"],
)
def test_one_tool_pin_is_the_go_mod_version_and_a_tool_of_it(tool_set, module):
    text = (pins.GO_MODULES / tool_set.tool.module / "go.mod").read_text()
    assert f"{module} {tool_set.version}" in text
    assert f"\ntool {tool_set.tool.packages[0]}\n" in text


@pytest.mark.go
def test_built_helm_docs_reports_the_pinned_version():
    result = subprocess.run(
        [str(build.build_tool_set(pins.DOCS) / pins.DOCS.binary), *pins.DOCS.check],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pins.DOCS.prints in result.stdout
