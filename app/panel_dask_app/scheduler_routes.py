"""The Dask scheduler's HTTP routes: the one list every scheduler of the product serves.

Dask serves only a few routes by default, and neither its HTTP API nor ours.
The local stack, the test schedulers and the benchmarks take the list from
here; the chart writes the same list into the scheduler's environment, and
``tests/chart/test_chart_scheduler_routes.py`` fails when the two disagree.
"""

from __future__ import annotations

import json

ROUTES_VARIABLE = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
ROUTES_KEY = "distributed.scheduler.http.routes"

SCHEDULER_HTTP_ROUTES = (
    # Prometheus /metrics, for whoever monitors the cluster (needs the `scheduler` extra).
    "distributed.http.scheduler.prometheus",
    "distributed.http.scheduler.info",
    "distributed.http.scheduler.json",
    "distributed.http.health",
    "distributed.http.proxy",
    "distributed.http.statics",
    # /api/v1: the operator retires workers through it before deleting their pods.
    "distributed.http.scheduler.api",
    # /panel-dask/v1/state: what the queue autoscaler reads (panel_dask_app.scheduler_api).
    "panel_dask_app.scheduler_api",
)


def routes_env() -> dict[str, str]:
    """The environment that gives a ``dask scheduler`` process these routes."""
    return {ROUTES_VARIABLE: json.dumps(list(SCHEDULER_HTTP_ROUTES))}


def routes_config() -> dict[str, list[str]]:
    """The same routes for ``dask.config.set`` before an in-process scheduler starts."""
    return {ROUTES_KEY: list(SCHEDULER_HTTP_ROUTES)}
