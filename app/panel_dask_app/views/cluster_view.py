"""Sidebar views: the scheduler connection's status and the cluster summary."""

from __future__ import annotations

from html import escape

import panel as pn
import param
from panel.viewable import Viewer
from param.parameters import NoNone

from panel_dask_app.client import CONNECTED, CONNECTING, RECONNECTING, DaskConnection
from panel_dask_app.cluster import ClusterMonitor, summary_rows

_ALERT_KIND = {CONNECTED: "success", CONNECTING: "info", RECONNECTING: "warning"}

_STATS_CSS = """
.stats {display: grid; grid-template-columns: auto auto; gap: 4px 16px; font-size: 14px;}
.stats dt {color: var(--neutral-foreground-hint, #666);}
.stats dd {margin: 0; font-weight: 600; text-align: right;}
"""


def stats_html(rows: list[tuple[str, str]]) -> str:
    """Render label/value pairs as a compact definition list."""
    cells = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows)
    return f'<dl class="stats">{cells}</dl>'


def status_text(status: str, message: str) -> str:
    """The connection alert's text, e.g. ``**Dask: connected.** Connected to ...``."""
    return f"**Dask: {status}.** {message}"


def alert_kind(status: str) -> str:
    """The alert colour of a connection status; anything unexpected is ``danger``."""
    return _ALERT_KIND.get(status, "danger")


class ConnectionStatus(Viewer):
    """Says whether the app can reach the scheduler, and what happens meanwhile."""

    connection = param.ClassSelector(class_=DaskConnection, allow_None=NoNone)

    def __panel__(self) -> pn.viewable.Viewable:
        status = self.connection.param.status
        return pn.pane.Alert(
            pn.bind(status_text, status, self.connection.param.message),
            alert_type=pn.bind(alert_kind, status),
            css_classes=["dask-connection"],
            sizing_mode="stretch_width",
        )


def summary_html(summary: dict[str, int] | None, error: str) -> str:
    """The cluster panel's content: the summary, and why the last poll failed if it did."""
    note = f'<p class="stats-note">{escape(error)}</p>' if error else ""
    return stats_html(summary_rows(summary)) + note


class ClusterPanel(Viewer):
    """Workers, threads, tasks queued and processing, memory; refreshed by the monitor."""

    monitor = param.ClassSelector(class_=ClusterMonitor, allow_None=NoNone)

    def __panel__(self) -> pn.viewable.Viewable:
        # Every open session redraws this on each poll, so it is a widget, not
        # a pane: a pane's update costs the server about twice as much.
        return pn.Column(
            pn.pane.Markdown("### Cluster", margin=(0, 10)),
            pn.widgets.StaticText(
                value=pn.bind(summary_html, self.monitor.param.summary, self.monitor.param.error),
                stylesheets=[_STATS_CSS],
                css_classes=["cluster-summary"],
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
