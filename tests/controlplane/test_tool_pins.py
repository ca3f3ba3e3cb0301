"""The build cache is keyed by the pins: a changed go.mod means a rebuild."""

from __future__ import annotations

import shutil

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
