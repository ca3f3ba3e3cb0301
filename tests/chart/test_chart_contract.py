"""The chart agrees with the Python owners of the ports and the `/dask` prefix.

panel_dask_app.ports owns Panel's port, the scheduler's comm and dashboard ports
and the dashboard prefix; panel_dask_operator.__main__ owns the operator's health
port. The chart writes each once (`_helpers.tpl`, `panel.port`); these tests read
every place the rendered manifests use them, so a change on either side alone fails.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from panel_dask_app import ports
from panel_dask_operator import __main__ as operator_main
from panel_dask_testcluster.build import build
from panel_dask_testcluster.chart_docs import CHART_DIR

Docs = list[dict[str, Any]]


def helm_template(*args: str) -> Docs:
    result = subprocess.run(
        [str(build() / "helm"), "template", "panel-dask", str(CHART_DIR), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def docs() -> Docs:
    """The default release, plus the Gateway API route, in one list."""
    return helm_template() + [
        doc for doc in helm_template("--set", "gateway.enabled=true", "--set",
                                     "gateway.parentRefs[0].name=web")
        if doc["kind"] == "HTTPRoute"
    ]  # fmt: skip


def one(docs: Docs, kind: str, name: str = "") -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name)]
    assert len(found) == 1, f"{kind} *{name}: {[d['metadata']['name'] for d in found]}"
    return found[0]


def named_ports(container: dict[str, Any]) -> dict[str, int]:
    return {port["name"]: port["containerPort"] for port in container["ports"]}


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container["env"]}


def test_scheduler_serves_the_owned_ports_under_the_prefix(docs: Docs) -> None:
    scheduler = one(docs, "DaskCluster")["spec"]["scheduler"]
    (container,) = scheduler["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--port") + 1] == str(ports.SCHEDULER_PORT)
    assert args[args.index("--dashboard-address") + 1] == f":{ports.DASHBOARD_PORT}"
    assert args[args.index("--dashboard-prefix") + 1] == ports.DASHBOARD_PREFIX
    assert named_ports(container) == {
        "tcp-comm": ports.SCHEDULER_PORT,
        "http-dashboard": ports.DASHBOARD_PORT,
    }
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == f"{ports.DASHBOARD_PREFIX}/health"
    service = {port["name"]: port["port"] for port in scheduler["service"]["ports"]}
    assert service == {"tcp-comm": ports.SCHEDULER_PORT, "http-dashboard": ports.DASHBOARD_PORT}


def test_scheduler_network_policy_opens_exactly_the_owned_ports(docs: Docs) -> None:
    policy = one(docs, "NetworkPolicy", "-scheduler")
    opened = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
    assert opened == {ports.SCHEDULER_PORT, ports.DASHBOARD_PORT}


def test_panel_listens_where_the_app_expects_and_finds_the_scheduler(docs: Docs) -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert values["panel"]["port"] == ports.PANEL_PORT
    (container,) = one(docs, "Deployment", "-panel")["spec"]["template"]["spec"]["containers"]
    variables = env(container)
    assert variables["PANEL_PORT"] == str(ports.PANEL_PORT)
    assert variables["DASK_SCHEDULER_ADDRESS"].endswith(f":{ports.SCHEDULER_PORT}")
    assert variables["DASK_DASHBOARD_URL"] == ports.DASHBOARD_PREFIX


def test_ingress_and_route_send_the_prefix_to_the_dashboard_and_its_api_to_panel(
    docs: Docs,
) -> None:
    ingress = one(docs, "Ingress", "-dashboard")
    paths = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert paths == {
        ports.DASHBOARD_PREFIX: "panel-dask-scheduler",
        ports.SCHEDULER_API_PREFIX: "panel-dask-panel",
    }
    route = one(docs, "HTTPRoute")
    backends = {
        rule["matches"][0]["path"]["value"]: rule["backendRefs"][0]
        for rule in route["spec"]["rules"]
    }
    assert backends[ports.DASHBOARD_PREFIX]["port"] == ports.DASHBOARD_PORT
    assert backends[ports.SCHEDULER_API_PREFIX]["name"] == "panel-dask-panel"


def test_operator_health_port_is_where_the_operator_answers(docs: Docs) -> None:
    deployment = one(docs, "Deployment", "-operator")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert named_ports(container) == {"health": operator_main.HEALTH_PORT}
    assert container["livenessProbe"]["httpGet"] == {
        "path": operator_main.LIVENESS_PATH,
        "port": "health",
    }
    assert not any(arg.startswith(("--liveness", "-L")) for arg in container["args"])
