"""Routing the chart renders for each ingress controller preset.

`ingress.controller` picks where the controller reads its affinity and
websocket settings: ingress-nginx from the Ingresses, Traefik's Kubernetes
Ingress provider from the backend Service, `generic` from nowhere (NOTES.txt
says so). The `/dask/api` refusal relies on nothing controller-specific: the
`/dask` Ingress routes that longer Prefix to Panel, whose server answers 403
(tests/dask/test_app_server.py checks the server's side).
"""

from __future__ import annotations

from typing import Any

import pytest
from chart_cluster import documents_of, install_notes, named, render

from panel_dask_testkit.kube import CHART_DIR, attempt

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
PANEL = "panel-dask-panel"
DASHBOARD = "panel-dask-dashboard"
PRESETS = ["nginx", "traefik", "generic"]
NGINX_PANEL = {
    "nginx.ingress.kubernetes.io/affinity": "cookie",
    "nginx.ingress.kubernetes.io/affinity-mode": "persistent",
    "nginx.ingress.kubernetes.io/session-cookie-name": "panel-dask-affinity",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
}
TRAEFIK_SERVICE = {
    "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
    "traefik.ingress.kubernetes.io/service.sticky.cookie.name": "panel-dask-affinity",
    "traefik.ingress.kubernetes.io/service.sticky.cookie.httponly": "true",
    "traefik.ingress.kubernetes.io/service.sticky.cookie.samesite": "lax",
}
CONTROLLER_PREFIXES = ("nginx.ingress.kubernetes.io/", "traefik.ingress.kubernetes.io/")


def annotations(doc: dict[str, Any]) -> dict[str, str]:
    return doc["metadata"].get("annotations") or {}


def controller_keys(doc: dict[str, Any]) -> list[str]:
    return [key for key in annotations(doc) if key.startswith(CONTROLLER_PREFIXES)]


def preset(control_plane: Any, controller: str, *args: str) -> list[dict[str, Any]]:
    return render(control_plane, RELEASE, "ns", "--set", f"ingress.controller={controller}", *args)


def routes(docs: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(Ingress, path, Service, port name) of every path the chart routes."""
    return {
        (
            doc["metadata"]["name"],
            path["path"],
            path["backend"]["service"]["name"],
            path["backend"]["service"]["port"]["name"],
        )
        for doc in documents_of(docs, "Ingress")
        for rule in doc["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["pathType"] == "Prefix"
    }


def test_nginx_preset_keeps_the_ingress_nginx_annotations(control_plane: Any) -> None:
    docs = preset(control_plane, "nginx")
    assert NGINX_PANEL.items() <= annotations(named(docs, "Ingress", PANEL)).items()
    assert controller_keys(named(docs, "Service", PANEL)) == []


def test_the_default_preset_is_nginx(control_plane: Any) -> None:
    def routing(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [d for d in docs if d["kind"] in {"Ingress", "Service"}]

    default = render(control_plane, RELEASE, "ns")
    assert routing(default) == routing(preset(control_plane, "nginx"))


def test_traefik_preset_puts_the_sticky_cookie_on_the_panel_service(control_plane: Any) -> None:
    """Traefik's Ingress provider reads service.* annotations from the Service only."""
    docs = preset(control_plane, "traefik", "--set", "ingress.className=traefik")
    service = annotations(named(docs, "Service", PANEL))
    assert service == TRAEFIK_SERVICE
    for name in (PANEL, DASHBOARD):
        ingress = named(docs, "Ingress", name)
        assert controller_keys(ingress) == [], name
        assert ingress["spec"]["ingressClassName"] == "traefik"


def test_traefik_cookie_is_secure_when_the_host_is_served_over_tls(control_plane: Any) -> None:
    tls = ["--set", "ingress.tls.enabled=true", "--set", "ingress.tls.secretName=t"]
    docs = preset(control_plane, "traefik", *tls)
    service = annotations(named(docs, "Service", PANEL))
    assert service["traefik.ingress.kubernetes.io/service.sticky.cookie.secure"] == "true"


def test_generic_preset_sets_no_controller_annotations(control_plane: Any) -> None:
    docs = preset(control_plane, "generic")
    for kind, name in [("Ingress", PANEL), ("Ingress", DASHBOARD), ("Service", PANEL)]:
        assert controller_keys(named(docs, kind, name)) == [], f"{kind}/{name}"


@pytest.mark.parametrize("controller", PRESETS)
def test_extra_annotations_reach_the_panel_ingress_under_every_preset(
    control_plane: Any, controller: str
) -> None:
    docs = preset(
        control_plane, controller, "--set", "ingress.annotations.cert-manager\\.io/issuer=acme"
    )
    assert annotations(named(docs, "Ingress", PANEL))["cert-manager.io/issuer"] == "acme"


def test_an_unknown_controller_is_refused(control_plane: Any) -> None:
    result = attempt(
        control_plane.helm, "template", RELEASE, str(CHART_DIR), "--set", "ingress.controller=istio"
    )
    assert result.returncode != 0
    assert "controller" in result.stderr, result.stderr


@pytest.mark.parametrize("controller", ["traefik", "generic"])
def test_nginx_basic_auth_is_refused_where_the_controller_would_ignore_it(
    control_plane: Any, controller: str
) -> None:
    """A dashboard the user believes protected must not be served open."""
    result = attempt(
        control_plane.helm, "template", RELEASE, str(CHART_DIR),
        "--set", f"ingress.controller={controller}",
        "--set", "ingress.dashboard.basicAuthSecret=dask-htpasswd",
    )  # fmt: skip
    assert result.returncode != 0
    assert "ingress.dashboard.basicAuthSecret" in result.stderr, result.stderr


def test_notes_warn_when_no_preset_pins_a_browser_to_its_pod(control_plane: Any) -> None:
    warning = "no sticky sessions"
    assert warning in install_notes(control_plane, "--set", "ingress.controller=generic")
    single = ["--set", "ingress.controller=generic", "--set", "panel.replicas=1"]
    assert warning not in install_notes(control_plane, *single)
    for controller in ("nginx", "traefik"):
        assert warning not in install_notes(
            control_plane, "--set", f"ingress.controller={controller}"
        )


@pytest.mark.parametrize("controller", PRESETS)
def test_the_scheduler_api_is_routed_to_panel_under_every_preset(
    control_plane: Any, controller: str
) -> None:
    """Ingress longest-prefix: /dask/api beats /dask and lands on Panel, which answers 403.

    In the same Ingress object as /dask, because the Ingress API defines the
    longest-match rule between the paths of one Ingress.
    """
    docs = preset(control_plane, controller)
    assert routes(docs) == {
        (PANEL, "/", PANEL, "http"),
        (DASHBOARD, "/dask", "panel-dask-scheduler", "http-dashboard"),
        (DASHBOARD, "/dask/api", PANEL, "http"),
    }
    assert not [
        key
        for doc in documents_of(docs, "Ingress")
        for key in annotations(doc)
        if "denylist" in key or "whitelist" in key
    ]


def test_without_the_block_the_api_path_goes_to_the_scheduler(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", "--set", "ingress.dashboard.blockApi=false")
    assert (DASHBOARD, "/dask/api", PANEL, "http") not in routes(docs)


def test_kind_values_use_traefik(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", "-f", str(CHART_DIR / "values-kind.yaml"))
    assert {i["spec"]["ingressClassName"] for i in documents_of(docs, "Ingress")} == {"traefik"}
    assert annotations(named(docs, "Service", PANEL)) == TRAEFIK_SERVICE
