"""The chart's Gateway API HTTPRoute, checked against the real Gateway API CRDs.

The CRDs come from the sigs.k8s.io/gateway-api module (the test kit's
``gateway_api_crds`` fixture). Standard-channel CRDs must accept the route as
rendered by default; session persistence (GEP-1619) exists only in the
Experimental channel, so standard refuses it and experimental accepts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_cluster import documents_of, install_notes, named, render, values_file

from panel_dask_testcluster import gateway_api
from panel_dask_testkit.kube import CHART_DIR, RESTRICTED, attempt

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
PANEL = "panel-dask-panel"
SCHEDULER = "panel-dask-scheduler"
GATEWAY = ["-f", str(values_file("gateway"))]
STICKY = ["--set", "gateway.sessionPersistence.enabled=true"]
WARNING = "no sticky sessions on the HTTPRoute"


def httproute(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [route] = documents_of(docs, "HTTPRoute")
    return route


def rules(route: dict[str, Any]) -> set[tuple[str, str, int]]:
    """(path prefix, Service, port) of every rule."""
    return {
        (match["path"]["value"], ref["name"], ref["port"])
        for rule in route["spec"]["rules"]
        for match in rule["matches"]
        for ref in rule["backendRefs"]
        if match["path"]["type"] == "PathPrefix"
    }


def dry_run_route(control_plane: Any, namespace: str, route: dict[str, Any], tmp: Path) -> Any:
    """Server dry run of the HTTPRoute alone, field validation strict (kubectl's default)."""
    manifest = tmp / "httproute.yaml"
    manifest.write_text(yaml.safe_dump(route))
    return attempt(
        control_plane.kubectl, "apply", "--dry-run=server", "-n", namespace, "-f", str(manifest)
    )


def test_no_httproute_unless_enabled(control_plane: Any) -> None:
    assert documents_of(render(control_plane, RELEASE, "ns"), "HTTPRoute") == []


def test_httproute_routes_panel_dashboard_and_refuses_the_api(control_plane: Any) -> None:
    """/dask/api goes to Panel (403): longest PathPrefix wins across an HTTPRoute's rules."""
    route = httproute(render(control_plane, RELEASE, "ns", *GATEWAY))
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert rules(route) == {
        ("/", PANEL, 80),
        ("/dask", SCHEDULER, 8787),
        ("/dask/api", PANEL, 80),
    }
    assert route["spec"]["parentRefs"] == [
        {"name": "web", "namespace": "gateway", "sectionName": "http"}
    ]
    assert route["spec"]["hostnames"] == ["panel-dask.example.org"]
    assert all("sessionPersistence" not in rule for rule in route["spec"]["rules"])


def test_backend_ports_follow_the_panel_service_port(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", *GATEWAY, "--set", "panel.service.port=8080")
    service = named(docs, "Service", PANEL)
    assert service["spec"]["ports"][0]["port"] == 8080
    assert ("/", PANEL, 8080) in rules(httproute(docs))


def test_without_the_block_the_api_path_goes_to_the_scheduler(control_plane: Any) -> None:
    docs = render(
        control_plane, RELEASE, "ns", *GATEWAY, "--set", "gateway.dashboard.blockApi=false"
    )
    assert rules(httproute(docs)) == {("/", PANEL, 80), ("/dask", SCHEDULER, 8787)}


def test_hostnames_are_allowed_websocket_origins(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", *GATEWAY)
    deployment = named(docs, "Deployment", PANEL)
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["PANEL_ALLOW_WEBSOCKET_ORIGIN"] == "panel-dask.example.org"


def test_session_persistence_is_a_cookie_on_the_panel_rule_only(control_plane: Any) -> None:
    route = httproute(render(control_plane, RELEASE, "ns", *GATEWAY, *STICKY))
    sticky = [rule for rule in route["spec"]["rules"] if "sessionPersistence" in rule]
    assert [rule["matches"][0]["path"]["value"] for rule in sticky] == ["/"]
    assert sticky[0]["sessionPersistence"] == {
        "type": "Cookie",
        "sessionName": "panel-dask-affinity",
    }


def test_standard_channel_accepts_the_httproute_and_refuses_session_persistence(
    control_plane: Any, gateway_api_crds: Any, namespace_factory: Any, tmp_path: Path
) -> None:
    gateway_api_crds("standard")
    assert gateway_api.installed_channel(control_plane.kubectl) == "standard"
    namespace = namespace_factory(labels=RESTRICTED)

    plain = httproute(render(control_plane, RELEASE, namespace, *GATEWAY))
    accepted = dry_run_route(control_plane, namespace, plain, tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert (
        "httproute.gateway.networking.k8s.io/panel-dask created (server dry run)" in accepted.stdout
    )

    sticky = httproute(render(control_plane, RELEASE, namespace, *GATEWAY, *STICKY))
    refused = dry_run_route(control_plane, namespace, sticky, tmp_path)
    assert refused.returncode != 0
    assert "sessionPersistence" in refused.stderr, refused.stderr


def test_experimental_channel_accepts_session_persistence(
    control_plane: Any, gateway_api_crds: Any, namespace_factory: Any, tmp_path: Path
) -> None:
    gateway_api_crds("experimental")
    try:
        assert gateway_api.installed_channel(control_plane.kubectl) == "experimental"
        namespace = namespace_factory(labels=RESTRICTED)
        sticky = httproute(render(control_plane, RELEASE, namespace, *GATEWAY, *STICKY))
        accepted = dry_run_route(control_plane, namespace, sticky, tmp_path)
        assert accepted.returncode == 0, accepted.stderr
        assert "(server dry run)" in accepted.stdout
    finally:
        # Other tests (the ci cases' dry runs) expect what users install by default.
        gateway_api_crds("standard")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("gateway.parentRefs=web", "/gateway/parentRefs"),
        ("gateway.hostnames=panel-dask.example.org", "/gateway/hostnames"),
        ("gateway.sessionPersistence=true", "/gateway/sessionPersistence"),
    ],
)
def test_schema_refuses_a_non_list_naming_the_field(
    control_plane: Any, value: str, field: str
) -> None:
    result = attempt(
        control_plane.helm, "template", RELEASE, str(CHART_DIR),
        "--set", "gateway.enabled=true", "--set", value,
    )  # fmt: skip
    assert result.returncode != 0
    assert field in result.stderr, result.stderr


def test_schema_refuses_an_enabled_route_without_a_parent(control_plane: Any) -> None:
    result = attempt(
        control_plane.helm, "template", RELEASE, str(CHART_DIR), "--set", "gateway.enabled=true"
    )
    assert result.returncode != 0
    assert "/gateway/parentRefs" in result.stderr, result.stderr


@pytest.mark.parametrize("controller", ["nginx", "traefik", "generic"])
def test_panel_service_port_is_websocket_under_every_preset(
    control_plane: Any, controller: str
) -> None:
    """appProtocol sits on the port; Traefik's sticky cookie stays on the Service's annotations."""
    docs = render(control_plane, RELEASE, "ns", "--set", f"ingress.controller={controller}")
    service = named(docs, "Service", PANEL)
    ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert ports["http"]["appProtocol"] == "kubernetes.io/ws"
    assert "appProtocol" not in ports["metrics"]  # plain HTTP for Prometheus
    sticky = (service["metadata"].get("annotations") or {}).get(
        "traefik.ingress.kubernetes.io/service.sticky.cookie"
    )
    assert sticky == ("true" if controller == "traefik" else None)


def test_notes_warn_when_the_route_has_no_session_persistence(
    control_plane: Any, gateway_api_crds: Any
) -> None:
    gateway_api_crds("standard")
    many = ["--set", "panel.replicas=2"]
    assert WARNING in install_notes(control_plane, *GATEWAY, *many)
    assert WARNING not in install_notes(control_plane, *GATEWAY, *many, *STICKY)
    assert WARNING not in install_notes(control_plane, *GATEWAY)  # the ci case runs one pod
