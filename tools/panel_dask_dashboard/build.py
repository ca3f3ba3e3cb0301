"""Build the panel-dask Grafana dashboard from the metrics the product defines.

Every query names a metric through the object that defines it
(:mod:`panel_dask_operator.telemetry`, :mod:`panel_dask_app.telemetry`), so a
renamed metric changes the dashboard on the next ``make chart-dashboard`` and
the test that compares it with the chart's copy fails until it is committed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos
from prometheus_client.metrics import MetricWrapperBase

import panel_dask_app.telemetry as panel
import panel_dask_operator.telemetry as operator

UID = "panel-dask"
TITLE = "panel-dask"
CHART_COPY = Path(__file__).resolve().parents[2] / "charts/panel-dask/dashboards/panel-dask.json"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
WIDTH, HEIGHT = 12, 8
# The scheduler's own series (distributed.http.scheduler.prometheus).
SCHEDULER_TASKS = "dask_scheduler_tasks"


def series(metric: MetricWrapperBase, suffix: str = "") -> str:
    """The sample name Prometheus stores for ``metric`` (``_total``, ``_bucket``...)."""
    [family] = [described.name for described in metric.describe()]
    return f"{family}{suffix}"


def query(expr: str, legend: str) -> prometheus.Dataquery:
    """One PromQL target with its legend (its refId is set by its panel)."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)


def panel_at(
    index: int, title: str, description: str, unit: str, targets: list[prometheus.Dataquery]
) -> timeseries.Panel:
    """A time series panel in the two-column grid, at position ``index``."""
    built = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=HEIGHT, w=WIDTH, x=(index % 2) * WIDTH, y=(index // 2) * HEIGHT))
    )
    for ref_id, target in zip("ABCDEFGH", targets, strict=False):
        built = built.with_target(target.ref_id(ref_id))
    return built


def quantiles(metric: MetricWrapperBase, by: str) -> list[prometheus.Dataquery]:
    """p50 and p99 of a histogram over the last few minutes, per ``by``."""
    bucket = series(metric, "_bucket")
    return [
        query(
            f"histogram_quantile({q}, sum by (le, {by}) (rate({bucket}[$__rate_interval])))",
            f"p{int(q * 100)} {{{{{by}}}}}",
        )
        for q in (0.5, 0.99)
    ]


def panels() -> list[timeseries.Panel]:
    """What the dashboard shows, in reading order."""
    by_autoscaler = "namespace, autoscaler"
    return [
        panel_at(
            0,
            "Backlog against workers",
            "Tasks queued or running, and the workers asked for, connected and pending.",
            "short",
            [
                query(
                    f"sum by ({by_autoscaler}) ({series(operator.BACKLOG_TASKS)})",
                    "backlog {{autoscaler}}",
                ),
                query(
                    f"sum by ({by_autoscaler}) ({series(operator.DESIRED_WORKERS)})",
                    "desired {{autoscaler}}",
                ),
                query(
                    f"sum by ({by_autoscaler}) ({series(operator.READY_WORKERS)})",
                    "ready {{autoscaler}}",
                ),
                query(
                    f"sum by ({by_autoscaler}) ({series(operator.PENDING_WORKERS)})",
                    "pending {{autoscaler}}",
                ),
            ],
        ),
        panel_at(
            1,
            "Scale decisions",
            "Decisions acted on per interval, by direction.",
            "short",
            [
                query(
                    f"sum by (direction) (increase({series(operator.DECISIONS, '_total')}"
                    "{direction!='hold'}[$__rate_interval]))",
                    "{{direction}}",
                ),
                query(
                    f"sum by (reason) (increase({series(operator.ERRORS, '_total')}"
                    "[$__rate_interval]))",
                    "error: {{reason}}",
                ),
            ],
        ).draw_style(GraphDrawStyle.BARS),
        panel_at(
            2,
            "User-visible latency",
            "Time the Panel server took to handle a user's action.",
            "s",
            quantiles(panel.CALLBACK_SECONDS, "action"),
        ),
        panel_at(
            3,
            "Sessions per Panel pod",
            "Browser sessions open on each Panel pod.",
            "short",
            [query(f"sum by (pod) ({series(panel.SESSIONS_OPEN)})", "{{pod}}")],
        ),
        panel_at(
            4,
            "Tasks by outcome",
            "What became of the tasks users submitted, per second.",
            "ops",
            [
                query(
                    f"sum by (outcome) (rate({series(panel.TASKS, '_total')}[$__rate_interval]))",
                    "{{outcome}}",
                )
            ],
        ),
        panel_at(
            5,
            "Scheduler tasks by state",
            "The scheduler's own count of tasks in each state.",
            "short",
            [query(f"sum by (state) ({SCHEDULER_TASKS})", "{{state}}")],
        ),
        panel_at(
            6,
            "Autoscaler tick time",
            "How long one autoscaler tick took: read the scheduler, decide, act.",
            "s",
            quantiles(operator.TICK_SECONDS, "autoscaler"),
        ),
        panel_at(
            7,
            "Kubernetes API requests",
            "Requests the autoscaler made to the API server, by verb.",
            "reqps",
            [
                query(
                    f"sum by (verb) (rate({series(operator.KUBERNETES_REQUESTS, '_total')}"
                    "[$__rate_interval]))",
                    "{{verb}}",
                )
            ],
        ),
    ]


def build() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model."""
    board = (
        dashboard.Dashboard(TITLE)
        .uid(UID)
        .tags(["panel-dask", "dask"])
        .refresh("10s")
        .time("now-30m", "now")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
    )
    for item in panels():
        board = board.with_panel(item)
    encoded: dict[str, Any] = json.loads(
        JSONEncoder(sort_keys=True, indent=2).encode(board.build())
    )
    return encoded


def render() -> str:
    """The dashboard JSON text, as committed in the chart."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the chart's copy of the dashboard."""
    CHART_COPY.parent.mkdir(parents=True, exist_ok=True)
    CHART_COPY.write_text(render())
    print(f"wrote {CHART_COPY.relative_to(CHART_COPY.parents[3])}")


if __name__ == "__main__":
    main()
