"""The operator's Prometheus metrics: what each autoscaler saw, decided and failed at.

kopf has no metrics of its own, so a platform engineer could only read the
autoscaler's state from its status and Events. These series let Prometheus
answer "why did the workers grow?" over time. They are served by
prometheus-client on their own port (:data:`METRICS_PORT`), beside kopf's
liveness endpoint, and `make dev`'s local autoscaler records the same series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

METRICS_PORT = 8000
AUTOSCALER_LABELS = ("namespace", "autoscaler")
# Ticks are a scheduler read plus at most a few API calls: tens of ms to seconds.
TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

BACKLOG_TASKS = Gauge(
    "panel_dask_autoscaler_backlog_tasks",
    "Tasks waiting for or running on a worker at the last tick",
    AUTOSCALER_LABELS,
)
DESIRED_WORKERS = Gauge(
    "panel_dask_autoscaler_desired_workers",
    "Workers the policy asked for at the last tick",
    AUTOSCALER_LABELS,
)
READY_WORKERS = Gauge(
    "panel_dask_autoscaler_ready_workers",
    "Workers connected to the scheduler at the last tick",
    AUTOSCALER_LABELS,
)
PENDING_WORKERS = Gauge(
    "panel_dask_autoscaler_pending_workers",
    "Workers asked for that have not connected yet",
    AUTOSCALER_LABELS,
)
DECISIONS = Counter(
    "panel_dask_autoscaler_decisions",
    "Scale decisions acted on, by direction (up, down, hold)",
    (*AUTOSCALER_LABELS, "direction"),
)
ERRORS = Counter(
    "panel_dask_autoscaler_errors",
    "Ticks that failed, by the reason also written to the status condition",
    (*AUTOSCALER_LABELS, "reason"),
)
TICK_SECONDS = Histogram(
    "panel_dask_autoscaler_tick_seconds",
    "Time one tick took: read the scheduler, decide, act",
    AUTOSCALER_LABELS,
    buckets=TICK_BUCKETS,
)
KUBERNETES_REQUESTS = Counter(
    "panel_dask_operator_kubernetes_requests",
    "Kubernetes API requests the autoscaler made, by verb",
    ("verb",),
)


def observe_tick(
    namespace: str,
    autoscaler: str,
    *,
    backlog: int,
    desired: int,
    ready: int,
    pending: int,
    direction: str,
) -> None:
    """Record what one successful tick saw and decided."""
    labels = (namespace, autoscaler)
    BACKLOG_TASKS.labels(*labels).set(backlog)
    DESIRED_WORKERS.labels(*labels).set(desired)
    READY_WORKERS.labels(*labels).set(ready)
    PENDING_WORKERS.labels(*labels).set(pending)
    DECISIONS.labels(*labels, direction).inc()


def observe_error(namespace: str, autoscaler: str, reason: str) -> None:
    """Count a failed tick under the reason its condition reports."""
    ERRORS.labels(namespace, autoscaler, reason).inc()


def count_request(verb: str) -> None:
    """Count one Kubernetes API request (``get``, ``list``, ``patch``, ``create``, ``delete``)."""
    KUBERNETES_REQUESTS.labels(verb).inc()


def forget(namespace: str, autoscaler: str) -> None:
    """Drop a deleted autoscaler's gauges, so dashboards stop showing its last values."""
    for gauge in (BACKLOG_TASKS, DESIRED_WORKERS, READY_WORKERS, PENDING_WORKERS):
        try:
            gauge.remove(namespace, autoscaler)
        except KeyError:
            pass


def serve(port: int = METRICS_PORT, address: str = "0.0.0.0") -> None:  # noqa: S104 - in-pod
    """Serve every metric of this process on ``http://address:port/metrics`` (a daemon thread)."""
    start_http_server(port, addr=address)
