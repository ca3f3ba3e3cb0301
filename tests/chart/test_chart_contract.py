"""The chart agrees with the Python owners of its contracts.

panel_dask_app.ports owns Panel's port, the scheduler's comm and dashboard ports
and the dashboard prefix; panel_dask_operator.__main__ owns the operator's health
port; panel_dask_operator.policy.SPEC_DEFAULTS owns the autoscaler's defaults. The
chart writes each once (`_helpers.tpl`, `values.yaml`, the CRD); these tests read
every place the rendered manifests use them, so a change on either side alone fails.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml

from panel_dask_app import ports
from panel_dask_app.config import DATA_ROWS_MAX, DATA_ROWS_MIN, Settings
from panel_dask_operator import __main__ as operator_main
from panel_dask_operator import telemetry as operator_telemetry
from panel_dask_operator.autoscaler import poll_interval
from panel_dask_operator.policy import SPEC_DEFAULTS, ScalingSpec
from panel_dask_operator.scheduler import scheduler_base_url
from panel_dask_testcluster.build import build
from panel_dask_testcluster.chart_docs import CHART_DIR

pytestmark = pytest.mark.go  # helm, from the control plane's tool set

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
    assert named_ports(container)["health"] == operator_main.HEALTH_PORT
    assert container["livenessProbe"]["httpGet"] == {
        "path": operator_main.LIVENESS_PATH,
        "port": "health",
    }
    assert not any(arg.startswith(("--liveness", "-L")) for arg in container["args"])


def test_data_rows_default_and_bounds_are_the_apps(docs: Docs) -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    rows = schema["properties"]["panel"]["properties"]["dataRows"]
    assert values["panel"]["dataRows"] == Settings().data_rows
    assert (rows["minimum"], rows["maximum"]) == (DATA_ROWS_MIN, DATA_ROWS_MAX)
    (panel,) = one(docs, "Deployment", "-panel")["spec"]["template"]["spec"]["containers"]
    assert env(panel)["PANEL_DASK_DATA_ROWS"] == str(Settings().data_rows)


def test_metrics_ports_are_where_panel_and_the_operator_serve_them(docs: Docs) -> None:
    (panel,) = one(docs, "Deployment", "-panel")["spec"]["template"]["spec"]["containers"]
    assert named_ports(panel)["metrics"] == ports.METRICS_PORT
    assert env(panel)["PANEL_DASK_METRICS_PORT"] == str(ports.METRICS_PORT)
    (operator,) = one(docs, "Deployment", "-operator")["spec"]["template"]["spec"]["containers"]
    assert named_ports(operator)["metrics"] == operator_telemetry.METRICS_PORT
    assert f"--metrics-port={operator_telemetry.METRICS_PORT}" in operator["args"]


def test_operator_reads_the_scheduler_where_the_chart_serves_it(docs: Docs) -> None:
    """The operator ships without the app, so it keeps its own port and prefix: checked here."""
    cluster = one(docs, "DaskCluster")
    name = cluster["metadata"]["name"]
    service = {
        port["name"]: port["port"] for port in cluster["spec"]["scheduler"]["service"]["ports"]
    }
    assert scheduler_base_url(name, "ns", env={}) == (
        f"http://{name}-scheduler.ns.svc:{service['http-dashboard']}{ports.DASHBOARD_PREFIX}"
    )


AUTOSCALER_FIELDS = list(SPEC_DEFAULTS)


def crd_spec_schema() -> dict[str, Any]:
    crd = yaml.safe_load(
        (CHART_DIR / "crds" / "daskqueueautoscalers.panel-dask.io.yaml").read_text()
    )
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def test_autoscaler_defaults_are_the_policys_in_the_crd_and_the_values() -> None:
    """policy.SPEC_DEFAULTS is the owner; the CRD and values.yaml repeat it exactly."""
    crd = {field: crd_spec_schema()[field]["default"] for field in AUTOSCALER_FIELDS}
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["autoscaler"]
    assert crd == SPEC_DEFAULTS
    assert {field: values[field] for field in AUTOSCALER_FIELDS} == SPEC_DEFAULTS
    default = ScalingSpec()
    assert (default.minimum, default.maximum) == (
        SPEC_DEFAULTS["minimum"],
        SPEC_DEFAULTS["maximum"],
    )
    assert default.tasks_per_worker == SPEC_DEFAULTS["tasksPerWorker"]
    assert default.scale_down_delay == SPEC_DEFAULTS["scaleDownDelaySeconds"]
    assert ScalingSpec.from_resource({"cluster": "c"}) == default
    assert poll_interval({}) == SPEC_DEFAULTS["pollIntervalSeconds"]


def test_rendered_autoscaler_carries_the_defaults(docs: Docs) -> None:
    spec = one(docs, "DaskQueueAutoscaler")["spec"]
    assert {field: spec[field] for field in AUTOSCALER_FIELDS} == SPEC_DEFAULTS


def bounds(schema: dict[str, Any]) -> tuple[object, bool, object]:
    """(lowest, lowest excluded, highest) of a JSON Schema or an OpenAPI v3 (CRD) property.

    OpenAPI v3 marks an exclusive minimum with ``exclusiveMinimum: true`` beside
    ``minimum``; JSON Schema puts the number in ``exclusiveMinimum`` itself.
    """
    exclusive = schema.get("exclusiveMinimum", False)
    if isinstance(exclusive, bool):
        return schema.get("minimum"), exclusive, schema.get("maximum")
    return exclusive, True, schema.get("maximum")


def test_values_schema_bounds_are_the_crds() -> None:
    """`helm install` refuses what the API server would: the same bounds per field."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    values = schema["properties"]["autoscaler"]["properties"]
    crd = crd_spec_schema()
    for field in AUTOSCALER_FIELDS:
        assert bounds(values[field]) == bounds(crd[field]), field
