"""Page builders: each served page is one template around the views.

Only the served page scripts call these, once per browser session.
"""

from __future__ import annotations

import functools

import panel as pn

from panel_dask_app import telemetry
from panel_dask_app.budget import get_budget
from panel_dask_app.client import get_connection
from panel_dask_app.cluster import get_cluster_monitor
from panel_dask_app.config import get_settings
from panel_dask_app.loop import current_loop
from panel_dask_app.session import TaskSession, close_on_session_destroyed
from panel_dask_app.state import SessionTasks
from panel_dask_app.views.cluster_view import ClusterPanel, ConnectionStatus
from panel_dask_app.views.dashboard_view import DashboardState, DashboardView
from panel_dask_app.views.reconnect import TASKS_LOST, install_reconnect, reconnect_notice
from panel_dask_app.views.tasks_view import TasksView

TITLE = "panel-dask"
NAVIGATION = "[Tasks](./tasks) · [Data](./data) · [Dask dashboard](./dashboard)"
# Bootstrap rather than Fast: Panel's Fast design always loads Google Fonts,
# which leaks every page view to a third party and stalls on offline clusters.
Template = pn.template.BootstrapTemplate
# No header busy spinner: Panel syncs it with one process-wide busy flag, so
# every callback of any user would update the spinner of every open session
# (work per click growing with the sessions; users seeing each other's clicks).
# Buttons show their own loading state instead.
TEMPLATE_STYLE = {"sidebar_width": 320, "header_background": "#0f4c81", "busy_indicator": None}


def _start_background_work() -> None:
    # The shared connection and cluster poller belong on the server's loop,
    # which runs the page builders; onload callbacks may run elsewhere.
    if current_loop() is not None:
        get_connection().start()
        get_cluster_monitor().start()
        return

    async def start() -> None:
        get_connection().start()
        get_cluster_monitor().start()

    pn.state.onload(start)


# What a template's sidebar and main take: panes, layouts, widgets and Viewers.
Shown = pn.viewable.Viewable | pn.viewable.Viewer


def _survive_server_loss(main: list[Shown], extra: str = "") -> None:
    """Reload into a fresh session if this server dies; say so on the page that follows."""
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        install_reconnect(pn.state.curdoc)
    notice = reconnect_notice(extra)
    if notice is not None:
        main.insert(0, notice)


def _count_session() -> None:
    """Count this browser session as open on this pod until Panel destroys it."""
    closed = telemetry.session_opened()
    pn.state.on_session_destroyed(lambda _context: closed())


def _sidebar() -> list[Shown]:
    return [
        pn.pane.Markdown(NAVIGATION),
        ConnectionStatus(connection=get_connection()),
        ClusterPanel(monitor=get_cluster_monitor()),
    ]


def tasks_page() -> pn.template.BaseTemplate:
    """The submit-and-monitor page for one session; its tasks die with the session."""
    settings = get_settings()
    tasks = SessionTasks(max_outstanding=settings.max_outstanding)
    session = TaskSession(tasks, get_connection(), budget=get_budget())
    if pn.state.curdoc is not None:
        session.hold_updates = functools.partial(pn.io.hold, pn.state.curdoc)
    close_on_session_destroyed(session)
    _count_session()
    _start_background_work()
    main: list[Shown] = [TasksView(session=session)]
    _survive_server_loss(main, TASKS_LOST)
    return Template(
        title=f"{TITLE} · tasks",
        sidebar=_sidebar(),
        main=main,
        **TEMPLATE_STYLE,
    )


def dashboard_page() -> pn.template.BaseTemplate:
    """The Dask dashboard page: chosen scheduler plots in iframes."""
    view = DashboardView(state=DashboardState(base_url=get_settings().dashboard_url))
    _count_session()
    _start_background_work()
    return _page_with_controls("Dask dashboard", view, "Plots", view.controls())


def _page_with_controls(
    title: str, view: Shown, heading: str, controls: pn.viewable.Viewable
) -> pn.template.BaseTemplate:
    """A page whose view's controls sit in the sidebar under ``heading``."""
    main: list[Shown] = [view]
    _survive_server_loss(main)
    return Template(
        title=f"{TITLE} · {title}",
        sidebar=[*_sidebar(), pn.pane.Markdown(f"### {heading}"), controls],
        main=main,
        **TEMPLATE_STYLE,
    )


def data_page() -> pn.template.BaseTemplate:
    """The dataset explorer for one session; its running query dies with the session."""
    # Imported here, not at the top: Dask DataFrame, HoloViews and hvPlot take
    # seconds to import, and a process serving only the other pages needs none.
    from panel_dask_app.data_session import DataSession
    from panel_dask_app.data_state import DataState
    from panel_dask_app.shared_dataset import get_shared_dataset
    from panel_dask_app.views.data_view import DataView

    dataset = get_shared_dataset()
    session = DataSession(DataState(dataset.spec), get_connection(), dataset, budget=get_budget())
    if pn.state.curdoc is not None:
        session.hold_updates = functools.partial(pn.io.hold, pn.state.curdoc)
    close_on_session_destroyed(session)
    _count_session()
    _start_background_work()
    view = DataView(session=session)
    return _page_with_controls("data", view, "Query", view.controls())
