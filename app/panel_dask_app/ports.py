"""The ports and the path prefix every part of panel-dask agrees on.

The app image serves Panel, the Dask scheduler and its dashboard, so this is
their one Python owner: the app's settings, its refused paths, the local stack
and the tests import these. The Helm chart carries the same numbers in
``_helpers.tpl`` (``panel.port`` for Panel); tests/chart/test_chart_contract.py
renders the chart and fails when the two disagree.
"""

from __future__ import annotations

# Panel's HTTP and websocket port (``PANEL_PORT``).
PANEL_PORT = 5006
# The Dask scheduler's comm port (``tcp://``): clients and workers connect here.
SCHEDULER_PORT = 8786
# The scheduler's HTTP server: dashboard, health and the HTTP routes the operator reads.
DASHBOARD_PORT = 8787
# Where the scheduler serves that HTTP server (``--dashboard-prefix``), and the
# path the ingress routes to it, so the dashboard shares the app's origin.
DASHBOARD_PREFIX = "/dask"
# The scheduler's HTTP API under the prefix; it can retire workers, so the
# ingress routes it to Panel, which refuses it.
SCHEDULER_API_PREFIX = f"{DASHBOARD_PREFIX}/api"
# Where each Panel process serves its Prometheus metrics (``PANEL_DASK_METRICS_PORT``):
# a port of its own, so the Ingress, which routes Panel's port, never exposes them.
METRICS_PORT = 8000
