"""The operator's wiring: command line, loaded handlers, finalizers, status conditions."""

from __future__ import annotations

import kopf
import pytest

from panel_dask_operator import compat, conditions, handlers
from panel_dask_operator.__main__ import kopf_arguments, metrics_port


def test_command_line_defaults_liveness_and_module():
    args = kopf_arguments(["--namespace", "ns", "--verbose"])
    assert args[:3] == ["run", "--module", "panel_dask_operator.handlers"]
    assert "--liveness=http://0.0.0.0:8080/healthz" in args
    assert {"--namespace", "ns", "--verbose"} <= set(args)


def test_command_line_keeps_an_explicit_liveness():
    args = kopf_arguments(["-n", "ns", "--liveness=http://127.0.0.1:9/x"])
    assert [a for a in args if "liveness" in a] == ["--liveness=http://127.0.0.1:9/x"]


def test_command_line_requires_a_namespace():
    with pytest.raises(SystemExit, match="--namespace is required"):
        kopf_arguments(["--verbose"])


@pytest.mark.parametrize(
    ("argv", "port"),
    [
        (["-n", "ns"], 8000),
        (["-n", "ns", "--metrics-port", "9123"], 9123),
        (["--metrics-port=0", "-n", "ns"], 0),
    ],
)
def test_metrics_port_is_ours_not_kopfs(argv, port):
    assert metrics_port(argv) == (port, ["-n", "ns"])


@pytest.mark.parametrize("value", ["x", "-1", "70000", ""])
def test_metrics_port_refuses_what_is_not_a_port(value):
    with pytest.raises(SystemExit, match="--metrics-port takes a port from 0 to 65535"):
        metrics_port(["-n", "ns", "--metrics-port", value][: 4 if value else 3])


def test_no_handler_puts_finalizers_on_dask_clusters_or_autoscalers():
    registry = kopf.get_default_registry()
    assert handlers.supervisor is not None
    spawning = list(compat.timer_handlers(registry))
    # The one timer left serves only DaskClusters that set spec.idleTimeout.
    assert [h.fn.__name__ for h in spawning] == ["daskcluster_autoshutdown"]
    assert spawning[0].when is not None
    assert not spawning[0].when(spec={})
    changing = registry._changing.get_all_handlers()
    assert not [h.id for h in changing if h.requires_finalizer]


def test_ready_condition_moves_its_time_only_on_change():
    first = conditions.ready([], False, "SchedulerUnreachable", "GET x failed")
    again = conditions.ready(first, False, "SchedulerUnreachable", "GET x failed again")
    assert again[0]["lastTransitionTime"] == first[0]["lastTransitionTime"]
    assert again[0]["message"] == "GET x failed again"
    fixed = conditions.ready([{"type": "Other", "status": "True"}, *again], True, "Active", "ok")
    assert [c["type"] for c in fixed] == ["Other", "Ready"]
    assert fixed[1]["status"] == "True"


def test_rfc3339_round_trip():
    assert conditions.parse_rfc3339(conditions.rfc3339(1_700_000_000.25)) == 1_700_000_000.25
    assert conditions.rfc3339(None) is None
    assert conditions.parse_rfc3339("not a time") is None


def test_dask_kubernetes_scale_down_uses_our_retirement():
    from dask_kubernetes.operator.controller import controller

    from panel_dask_operator import dask_controller

    # its replica handler looks the function up at call time, so kubectl scale uses ours
    assert controller.retire_workers is dask_controller.retire_workers


@pytest.mark.parametrize(
    ("service", "phase"),
    [
        ({"spec": {"type": "ClusterIP"}, "status": {"loadBalancer": {}}}, "Running"),
        ({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}, "Pending"),
        (
            {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{}]}}},
            "Running",
        ),
    ],
)
def test_cluster_phase_from_its_scheduler_service(service, phase):
    from panel_dask_operator.dask_controller import phase_of

    assert phase_of(service) == phase


def test_settings_survive_idle_streams_and_long_outages():
    from panel_dask_operator.configure import configure

    settings = kopf.OperatorSettings()
    configure(settings=settings)
    assert (settings.watching.server_timeout, settings.watching.client_timeout) == (120, 150)
    assert settings.networking.request_timeout == 10
    backoffs = list(settings.networking.error_backoffs)
    assert backoffs == sorted(backoffs) and 540 <= sum(backoffs) <= 720
    assert settings.peering.standalone and settings.scanning.disabled
