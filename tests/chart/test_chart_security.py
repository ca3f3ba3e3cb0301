"""Security settings of the chart, rendered by helm and judged by the real kube-apiserver.

Panel's own auth (basic or OAuth) takes every secret from an existing Secret;
the dashboard route can carry ingress-nginx auth; the scheduler's comm port is
reachable from nowhere but the release's own pods; its HTTP API is refused at
the ingress. tests/reliability/test_panel_auth.py checks that Panel honours the
same environment variables in a running server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from chart_cluster import documents_of, named, render, server_dry_run

from panel_dask_testkit.kube import CHART_DIR, RESTRICTED, apply_crds, attempt

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
BASIC = ["--set", "panel.auth.type=basic", "--set", "panel.auth.basic.existingSecret=panel-users"]
OAUTH = [
    "--set", "panel.auth.type=oauth",
    "--set", "panel.auth.oauth.provider=github",
    "--set", "panel.auth.oauth.existingSecret=panel-oauth",
    "--set", "panel.auth.oauth.extraParams.organization=acme",
]  # fmt: skip
AUTH_VARIABLES = {
    "PANEL_BASIC_AUTH",
    "PANEL_OAUTH_PROVIDER",
    "PANEL_OAUTH_KEY",
    "PANEL_OAUTH_SECRET",
    "PANEL_OAUTH_ENCRYPTION",
    "PANEL_OAUTH_REDIRECT_URI",
    "PANEL_OAUTH_EXTRA_PARAMS",
}


def panel_container(docs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Panel Deployment's pod spec and its one container."""
    deployment = named(docs, "Deployment", "panel-dask-panel")
    spec = deployment["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


@pytest.fixture(scope="module")
def restricted_namespace(control_plane: Any, namespace_factory: Any) -> str:
    apply_crds(control_plane)
    return namespace_factory(labels=RESTRICTED)


def test_no_auth_by_default(control_plane: Any) -> None:
    _, container = panel_container(render(control_plane, RELEASE, "ns"))
    assert AUTH_VARIABLES.isdisjoint(env_of(container))


def test_basic_auth_reads_users_from_a_mounted_secret(
    control_plane: Any, restricted_namespace: str, tmp_path: Any
) -> None:
    docs = render(control_plane, RELEASE, restricted_namespace, *BASIC)
    spec, container = panel_container(docs)
    path = env_of(container)["PANEL_BASIC_AUTH"]["value"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "basic-auth"]
    assert mount["readOnly"] is True
    assert path == f"{mount['mountPath']}/credentials.json"
    # Panel lower-cases PANEL_BASIC_AUTH: a path stays valid only if it has no capitals.
    assert path == path.lower()
    [volume] = [v for v in spec["volumes"] if v["name"] == "basic-auth"]
    assert volume["secret"]["secretName"] == "panel-users"
    assert volume["secret"]["items"] == [{"key": "credentials.json", "path": "credentials.json"}]
    assert not [d for d in documents_of(docs, "Secret") if "users" in d["metadata"]["name"]]
    server_dry_run(control_plane, restricted_namespace, docs, tmp_path / "manifest.yaml")


def test_oauth_takes_client_credentials_only_from_the_secret(
    control_plane: Any, restricted_namespace: str, tmp_path: Any
) -> None:
    docs = render(control_plane, RELEASE, restricted_namespace, *OAUTH)
    _, container = panel_container(docs)
    env = env_of(container)
    assert env["PANEL_OAUTH_PROVIDER"]["value"] == "github"
    for name, key in [
        ("PANEL_OAUTH_KEY", "client-id"),
        ("PANEL_OAUTH_SECRET", "client-secret"),
        ("PANEL_OAUTH_ENCRYPTION", "encryption-key"),
    ]:
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "panel-oauth", "key": key}
    assert json.loads(env["PANEL_OAUTH_EXTRA_PARAMS"]["value"]) == {"organization": "acme"}
    assert "PANEL_OAUTH_REDIRECT_URI" not in env  # Panel derives it from the request
    assert "PANEL_BASIC_AUTH" not in env
    server_dry_run(control_plane, restricted_namespace, docs, tmp_path / "manifest.yaml")


OAUTH_TYPE = "panel.auth.type=oauth"
REFUSED_AUTH = [
    (["panel.auth.type=basic"], "panel.auth.basic.existingSecret"),
    ([OAUTH_TYPE, "panel.auth.oauth.existingSecret=s"], "panel.auth.oauth.provider"),
    ([OAUTH_TYPE, "panel.auth.oauth.provider=github"], "panel.auth.oauth.existingSecret"),
    (["panel.auth.type=ldap"], "panel/auth/type"),
    (["panel.auth.basic.password=hunter2"], "password"),
]


@pytest.mark.parametrize(("settings", "field"), REFUSED_AUTH)
def test_auth_settings_that_cannot_work_are_refused(
    control_plane: Any, settings: list[str], field: str
) -> None:
    args = [arg for setting in settings for arg in ("--set", setting)]
    result = attempt(control_plane.helm, "template", RELEASE, str(CHART_DIR), *args)
    assert result.returncode != 0
    assert field in result.stderr.replace(".", "/") or field in result.stderr, result.stderr


def test_dashboard_basic_auth_annotates_only_the_dashboard_ingress(control_plane: Any) -> None:
    docs = render(
        control_plane, RELEASE, "ns", "--set", "ingress.dashboard.basicAuthSecret=dask-htpasswd"
    )
    dashboard = named(docs, "Ingress", "panel-dask-dashboard")["metadata"]["annotations"]
    assert dashboard["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert dashboard["nginx.ingress.kubernetes.io/auth-secret"] == "dask-htpasswd"
    assert dashboard["nginx.ingress.kubernetes.io/auth-realm"]
    panel = named(docs, "Ingress", "panel-dask-panel")["metadata"]["annotations"]
    assert not [key for key in panel if "/auth-" in key]


def test_dashboard_annotations_from_values_reach_the_dashboard_ingress(control_plane: Any) -> None:
    """The oauth2-proxy example documented in values.yaml, passed through verbatim."""
    prefix = "ingress.dashboard.annotations.nginx\\.ingress\\.kubernetes\\.io"
    docs = render(
        control_plane, RELEASE, "ns",
        "--set-string", f"{prefix}/auth-url=https://$host/oauth2/auth",
        "--set-string", f"{prefix}/auth-signin=https://$host/oauth2/start?rd=$escaped_request_uri",
    )  # fmt: skip
    annotations = named(docs, "Ingress", "panel-dask-dashboard")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-url"] == "https://$host/oauth2/auth"
    assert annotations["nginx.ingress.kubernetes.io/auth-signin"].endswith(
        "rd=$escaped_request_uri"
    )


def test_the_scheduler_http_api_is_refused_at_the_ingress(control_plane: Any) -> None:
    """/dask/api goes to Panel (403), in the /dask Ingress; test_chart_ingress.py covers presets."""
    docs = render(control_plane, RELEASE, "ns")
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for p in named(docs, "Ingress", "panel-dask-dashboard")["spec"]["rules"][0]["http"]["paths"]
        if p["pathType"] == "Prefix"
    }
    assert paths == {"/dask": "panel-dask-scheduler", "/dask/api": "panel-dask-panel"}
    opened = render(control_plane, RELEASE, "ns", "--set", "ingress.dashboard.blockApi=false")
    [path] = named(opened, "Ingress", "panel-dask-dashboard")["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/dask"


def test_scheduler_comm_port_is_reachable_only_from_the_release(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", "--set", "ingress.tls.enabled=false")
    # No Ingress routes to the comm port: only Panel's http and the dashboard port.
    backends = {
        (p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
        for d in documents_of(docs, "Ingress")
        for rule in d["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert backends == {
        ("panel-dask-panel", "http"),
        ("panel-dask-scheduler", "http-dashboard"),
    }
    # The scheduler Service dask-kubernetes creates stays inside the cluster.
    [cluster] = documents_of(docs, "DaskCluster")
    assert cluster["spec"]["scheduler"]["service"]["type"] == "ClusterIP"
    assert not [d for d in docs if d["kind"] == "Service" and d["spec"].get("type") != "ClusterIP"]
    # NetworkPolicy: 8786 only from this namespace's Panel, worker and operator pods.
    [policy] = [
        d
        for d in documents_of(docs, "NetworkPolicy")
        if d["metadata"]["name"].endswith("scheduler")
    ]
    for rule in policy["spec"]["ingress"]:
        ports = {p["port"] for p in rule["ports"]}
        if 8786 in ports:
            assert all(set(peer) == {"podSelector"} for peer in rule["from"]), rule
    assert any(8786 in {p["port"] for p in r["ports"]} for r in policy["spec"]["ingress"])


def ingress_peers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scheduler NetworkPolicy's peers that carry a namespaceSelector."""
    [policy] = [
        d
        for d in documents_of(docs, "NetworkPolicy")
        if d["metadata"]["name"] == "panel-dask-scheduler"
    ]
    return [
        peer
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
        if "namespaceSelector" in peer
    ]


def test_network_policy_admits_the_ingress_controller_namespace_by_name(
    control_plane: Any,
) -> None:
    [default] = ingress_peers(render(control_plane, RELEASE, "ns"))
    assert default["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
    }
    docs = render(
        control_plane, RELEASE, "ns", "--set", "networkPolicy.ingressControllerNamespace=traefik"
    )
    [peer] = ingress_peers(docs)
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}


def test_a_namespace_selector_overrides_the_namespace_name(control_plane: Any) -> None:
    docs = render(
        control_plane, RELEASE, "ns",
        "--set", "networkPolicy.ingressControllerNamespace=traefik",
        "--set", "networkPolicy.ingressControllerNamespaceSelector.matchLabels.team=edge",
        "--set", "networkPolicy.ingressControllerPodSelector.matchLabels.app=proxy",
    )  # fmt: skip
    [peer] = ingress_peers(docs)
    assert peer == {
        "namespaceSelector": {"matchLabels": {"team": "edge"}},
        "podSelector": {"matchLabels": {"app": "proxy"}},
    }


def test_kind_values_admit_traefik_to_the_dashboard_port(control_plane: Any) -> None:
    """Traefik reaches the dashboard; the e2e run's Prometheus (namespace monitoring) scrapes."""
    docs = render(control_plane, RELEASE, "ns", "-f", str(CHART_DIR / "values-kind.yaml"))
    names = [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
             for p in ingress_peers(docs)]  # fmt: skip
    assert names == ["traefik", "monitoring"]


def test_values_carry_no_secret_material() -> None:
    """Every secret the chart reads is a Secret name plus a key; nothing else looks like one."""
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())

    def leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
        if isinstance(node, dict):
            return [leaf for k, v in node.items() for leaf in leaves(v, f"{path}.{k}".strip("."))]
        return [(path, node)]

    suspicious = [
        path
        for path, _ in leaves(values)
        if any(word in path.lower() for word in ("password", "token", "clientsecret"))
        and not path.lower().endswith(("key", "existingsecret"))
    ]
    assert suspicious == []
