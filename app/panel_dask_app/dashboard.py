"""The Dask dashboard's individual plots and where to find them.

The base URL comes from ``DASK_DASHBOARD_URL``: the scheduler's own port on a
laptop, the same-origin path ``/dask`` behind the Kubernetes ingress.
"""

from __future__ import annotations

# Label -> path of the scheduler's standalone Bokeh documents
# (distributed/dashboard/scheduler.py: "/individual-*").
PLOTS: dict[str, str] = {
    "Task stream": "/individual-task-stream",
    "Progress": "/individual-progress",
    "Worker memory": "/individual-workers-memory",
    "Processing per worker": "/individual-nprocessing",
    "Occupancy": "/individual-occupancy",
    "CPU": "/individual-cpu",
    "Cluster memory": "/individual-cluster-memory",
    "Task groups": "/individual-groups",
    "Workers table": "/individual-workers",
}
DEFAULT_PLOTS = ["Task stream", "Progress", "Worker memory", "Processing per worker"]


def plot_url(base_url: str, plot: str) -> str:
    """URL of one plot under the dashboard base URL.

    Raises:
        ValueError: ``plot`` is not one of PLOTS.
    """
    try:
        path = PLOTS[plot]
    except KeyError:
        raise ValueError(f"plot: unknown {plot!r}; choose one of {', '.join(PLOTS)}") from None
    return base_url.rstrip("/") + path


def status_url(base_url: str) -> str:
    """URL of the full dashboard, for a link that opens it in its own tab."""
    return base_url.rstrip("/") + "/status"
