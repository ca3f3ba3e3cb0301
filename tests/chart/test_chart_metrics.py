"""The chart's metrics: ports, ServiceMonitors, PodMonitors, the dashboard, the scraper's way in.

The monitors are checked by a real apiserver against prometheus-operator's own
CRDs (the test kit's ``prometheus_operator_crds`` fixture, from its Go module),
and each monitor must select the pods it names, on a port they declare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chart_cluster import documents_of, pod_specs, render, server_dry_run
from panel_dask_dashboard import build as dashboard

from panel_dask_app.ports import METRICS_PORT
from panel_dask_testkit.kube import RESTRICTED, apply_crds, attempt

pytestmark = pytest.mark.controlplane

RELEASE = "panel-dask"
MONITORS = [
    "--set",
    "metrics.serviceMonitor.enabled=true",
    "--set",
    "metrics.podMonitor.enabled=true",
]
SCRAPER = ["--set", "networkPolicy.metricsScraperNamespace=monitoring"]
Docs = list[dict[str, Any]]
# Each component: its pods' labels and the container port names they declare.
Pods = dict[str, tuple[dict[str, str], set[str]]]


def pod_labels(docs: Docs) -> Pods:
    """Each component's pod labels and the container port names its pods declare."""
    found = {}
    for doc in docs:
        if doc["kind"] == "Deployment":
            template = doc["spec"]["template"]
            labels = template["metadata"]["labels"]
            found[labels["app.kubernetes.io/component"]] = (labels, _port_names(template["spec"]))
        elif doc["kind"] == "DaskCluster":
            for role in ("scheduler", "worker"):
                # dask-kubernetes labels the pods it creates with these two.
                labels = {
                    "dask.org/cluster-name": doc["metadata"]["name"],
                    "dask.org/component": role,
                }
                found[role] = (labels, _port_names(doc["spec"][role]["spec"]))
    return found


def named(docs: Docs, kind: str, suffix: str) -> Docs:
    return [d for d in documents_of(docs, kind) if d["metadata"]["name"].endswith(suffix)]


def _port_names(pod_spec: dict[str, Any]) -> set[str]:
    return {p["name"] for c in pod_spec["containers"] for p in c.get("ports", []) if "name" in p}


def selected(selector: dict[str, str], pods: Pods) -> list[str]:
    return [name for name, (labels, _) in pods.items() if selector.items() <= labels.items()]


def test_monitors_are_rendered_only_when_asked(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns")
    assert not documents_of(docs, "ServiceMonitor") and not documents_of(docs, "PodMonitor")
    assert not named(docs, "ConfigMap", "-grafana-dashboard")
    assert not named(docs, "Service", "-metrics")


def test_each_pod_monitor_selects_its_component_on_a_port_it_declares(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", *MONITORS)
    pods = pod_labels(docs)
    monitors = documents_of(docs, "PodMonitor")
    assert sorted(m["metadata"]["labels"]["app.kubernetes.io/component"] for m in monitors) == [
        "operator", "panel", "scheduler", "worker",
    ]  # fmt: skip
    for monitor in monitors:
        component = monitor["metadata"]["labels"]["app.kubernetes.io/component"]
        assert selected(monitor["spec"]["selector"]["matchLabels"], pods) == [component]
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["port"] in pods[component][1], (component, endpoint)
        assert endpoint["path"].endswith("/metrics")
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ns"]}


def test_each_service_monitor_selects_a_service_with_its_port(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", *MONITORS)
    services = {d["metadata"]["name"]: d for d in documents_of(docs, "Service")}
    # dask-kubernetes makes the scheduler's Service from the DaskCluster's service spec.
    [cluster] = documents_of(docs, "DaskCluster")
    scheduler_service = {
        "metadata": {"labels": {"dask.org/cluster-name": cluster["metadata"]["name"],
                                "dask.org/component": "scheduler"}},
        "spec": cluster["spec"]["scheduler"]["service"],
    }  # fmt: skip
    candidates = [*services.values(), scheduler_service]
    monitors = documents_of(docs, "ServiceMonitor")
    assert len(monitors) == 3
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        [service] = [s for s in candidates if selector.items() <= s["metadata"]["labels"].items()]
        [endpoint] = monitor["spec"]["endpoints"]
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_metrics_never_go_out_through_the_ingress_or_the_route(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", *MONITORS, "--set", "gateway.enabled=true",
                  "--set", "gateway.parentRefs[0].name=web")  # fmt: skip
    backends = [
        path["backend"]["service"]["port"]
        for ingress in documents_of(docs, "Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends and all(port.get("name") != "metrics" for port in backends), backends
    [route] = documents_of(docs, "HTTPRoute")
    ports = {ref["port"] for rule in route["spec"]["rules"] for ref in rule["backendRefs"]}
    assert METRICS_PORT not in ports


def test_metrics_off_serves_nothing(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", "--set", "metrics.enabled=false", *MONITORS)
    assert not documents_of(docs, "ServiceMonitor") and not documents_of(docs, "PodMonitor")
    for name, spec in pod_specs(docs):
        assert "metrics" not in _port_names(spec), name
    [panel] = named(docs, "Deployment", "-panel")
    [container] = panel["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PANEL_DASK_METRICS_PORT"] == "0"


def test_apiserver_accepts_the_monitors(
    control_plane: Any, prometheus_operator_crds: None, namespace_factory: Any, tmp_path: Path
) -> None:
    namespace = namespace_factory(labels=RESTRICTED)
    apply_crds(control_plane)
    docs = render(control_plane, RELEASE, namespace, *MONITORS)
    monitors = documents_of(docs, "ServiceMonitor") + documents_of(docs, "PodMonitor")
    result = server_dry_run(control_plane, namespace, monitors, tmp_path / "monitors.yaml")
    assert result.stdout.count("(server dry run)") == 7, result.stdout


def test_apiserver_refuses_a_monitor_without_an_endpoint_port(
    control_plane: Any, prometheus_operator_crds: None, namespace_factory: Any, tmp_path: Path
) -> None:
    """The CRD's schema is really checked: a broken monitor is refused, naming the field."""
    namespace = namespace_factory()
    [monitor, *_] = documents_of(render(control_plane, RELEASE, namespace, *MONITORS), "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["interval"] = "soon"
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(json.dumps(monitor))
    result = attempt(control_plane.kubectl, "apply", "--dry-run=server", "-n", namespace,
                     "-f", str(manifest))  # fmt: skip
    assert result.returncode != 0 and "interval" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--set", "metrics.podMonitor.interval=soon"], "metrics.podMonitor.interval"),
        (["--set", "networkPolicy.metricsScraperNamespace=Not_A_Name"],
         "networkPolicy.metricsScraperNamespace"),
        # Labels are strings: --set makes 1 a number, --set-string passes.
        (["--set", "metrics.dashboard.labels.grafana_dashboard=1"],
         "metrics/dashboard/labels/grafana_dashboard"),
        (["--set-string", "metrics.dashboard.labels.grafana_dashboard=1"], None),
    ],
)  # fmt: skip
def test_values_schema_checks_the_metrics_values(
    control_plane: Any, args: list[str], field: str | None
) -> None:
    result = attempt(control_plane.helm, "template", RELEASE, str(dashboard.CHART_COPY.parents[1]),
                     *args)  # fmt: skip
    if field is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert field.replace(".", "/") in result.stderr or field in result.stderr, result.stderr


def test_network_policies_admit_the_scraper_only_to_the_metrics_ports(control_plane: Any) -> None:
    def scraper_ports(docs: Docs) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for policy in documents_of(docs, "NetworkPolicy"):
            for rule in policy["spec"]["ingress"]:
                for peer in rule["from"]:
                    names = peer.get("namespaceSelector", {}).get("matchLabels", {})
                    if names.get("kubernetes.io/metadata.name") == "monitoring":
                        found[policy["metadata"]["name"]] = {p["port"] for p in rule["ports"]}
        return found

    assert scraper_ports(render(control_plane, RELEASE, "ns")) == {}
    assert scraper_ports(render(control_plane, RELEASE, "ns", *SCRAPER)) == {
        "panel-dask-scheduler": {8787},
        "panel-dask-worker": {8788},
    }


def test_dashboard_config_map_carries_the_generated_dashboard(control_plane: Any) -> None:
    docs = render(control_plane, RELEASE, "ns", "--set", "metrics.dashboard.enabled=true")
    [config_map] = named(docs, "ConfigMap", "-grafana-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["panel-dask.json"]) == dashboard.build()


def test_committed_dashboard_is_what_the_builder_makes() -> None:
    """`make chart-dashboard` regenerates it; a metric renamed without that fails here."""
    assert dashboard.CHART_COPY.read_text() == dashboard.render()


def test_dashboard_queries_name_the_metrics_the_product_serves() -> None:
    board = dashboard.build()
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for name in (
        "panel_dask_autoscaler_backlog_tasks", "panel_dask_autoscaler_desired_workers",
        "panel_dask_autoscaler_decisions_total", "panel_dask_sessions_open",
        "panel_dask_callback_seconds_bucket", "panel_dask_tasks_total",
    ):  # fmt: skip
        assert name in exprs, name
