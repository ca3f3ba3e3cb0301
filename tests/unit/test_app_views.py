"""Views built and driven without a browser or a cluster."""

import asyncio
from types import SimpleNamespace

import panel as pn

from panel_dask_app.client import CONNECTED, DISCONNECTED, RECONNECTING, DaskConnection
from panel_dask_app.cluster import ClusterMonitor, summary_rows
from panel_dask_app.session import TaskSession
from panel_dask_app.state import FINISHED, SessionTasks, SubmissionPlan
from panel_dask_app.views.cluster_view import ClusterPanel, ConnectionStatus, stats_html
from panel_dask_app.views.tasks_view import (
    CANCEL_COLUMN,
    TasksView,
    state_stylesheet,
)
from panel_dask_testkit.waiting import wait_for_async

SUMMARY = {
    "workers": 3,
    "threads": 6,
    "queued": 12,
    "processing": 6,
    "memory_used": 3 * 2**30,
    "memory_limit": 12 * 2**30,
}


def find(viewable, kind):
    return [obj for obj in viewable.select(kind)]


def test_summary_rows_format_counts_and_memory():
    assert summary_rows(SUMMARY) == [
        ("Workers", "3"),
        ("Threads", "6"),
        ("Queued", "12"),
        ("Processing", "6"),
        ("Memory", "3.00 GiB / 12.00 GiB"),
    ]
    assert {value for _, value in summary_rows(None)} == {"–"}


def test_stats_html_escapes_values():
    assert (
        stats_html([("a<b", "1 & 2")]) == '<dl class="stats"><dt>a&lt;b</dt><dd>1 &amp; 2</dd></dl>'
    )


def test_state_cells_are_coloured_by_meaning():
    css = state_stylesheet()
    assert ".task-state-finished { color: #1a7f37" in css
    assert ".task-state-error { color: #cf222e" in css
    assert ".task-state-submitted" not in css


def test_connection_status_follows_the_connection():
    connection = DaskConnection(address="tcp://127.0.0.1:1")
    [alert] = find(ConnectionStatus(connection=connection).__panel__(), pn.pane.Alert)
    connection.param.update(status=CONNECTED, message="Connected to tcp://127.0.0.1:1")
    assert alert.alert_type == "success"
    assert "**Dask: connected.**" in alert.object
    connection.param.update(status=RECONNECTING, message="Lost the Dask scheduler")
    assert alert.alert_type == "warning"
    connection.status = DISCONNECTED
    assert alert.alert_type == "danger"


def test_cluster_panel_shows_the_monitor_summary():
    monitor = ClusterMonitor(connection=DaskConnection(address="tcp://127.0.0.1:1"))
    [html] = find(ClusterPanel(monitor=monitor).__panel__(), pn.widgets.StaticText)
    monitor.param.update(summary=None, error="scheduler did not answer")
    assert "scheduler did not answer" in html.value
    monitor.param.update(summary=SUMMARY, error="")
    assert "<dd>12</dd>" in html.value
    assert "did not answer" not in html.value


def make_view():
    tasks = SessionTasks()
    session = TaskSession(tasks, DaskConnection(address="tcp://127.0.0.1:1"))
    return TasksView(session=session), tasks


async def test_submit_button_reports_bad_input_and_stops_loading():
    view, tasks = make_view()
    view.__panel__()
    tasks.argument = "-1"
    await view._on_submit(None)
    assert tasks.message == "Nothing submitted. n: must be from 0 to 35, got -1"
    assert tasks.total == 0
    assert view._submit.loading is False


async def test_a_submit_that_waits_shows_a_spinner_until_it_is_done():
    view, _tasks = make_view()
    view.__panel__()
    release = asyncio.Event()

    async def waiting_submit():
        await release.wait()
        return []

    view.session.submit = waiting_submit
    clicked = asyncio.get_running_loop().create_task(view._on_submit(None))
    await wait_for_async(lambda: view._submit.loading, "the submit button's spinner", timeout=10)
    release.set()
    await clicked
    assert view._submit.loading is False


async def test_cancel_button_in_a_row_targets_that_rows_task():
    view, tasks = make_view()
    [table] = find(view.__panel__(), pn.widgets.Tabulator)
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 2), ["k-0", "k-1"])
    records[1].state = FINISHED
    assert table.value["#"].tolist() == [1, 2]
    await view._on_table_click(SimpleNamespace(column=CANCEL_COLUMN, row=1))
    assert tasks.message == "Task #2 is already finished."
    tasks.notify("")
    await view._on_table_click(SimpleNamespace(column="state", row=1))
    assert tasks.message == "", "clicks outside the cancel column do nothing"


def test_form_widgets_are_bound_to_the_state():
    view, tasks = make_view()
    layout = view.__panel__()
    [text] = [w for w in find(layout, pn.widgets.TextInput) if "task-argument" in w.css_classes]
    [select] = find(layout, pn.widgets.Select)
    select.value = "sleep_seconds"
    assert tasks.task == "sleep_seconds"
    assert text.value == "1"
    assert text.name == "seconds (number, 0 to 60)"
    text.value = "2.5"
    assert tasks.argument == "2.5"


async def test_a_batch_size_past_its_bounds_from_the_browser_is_named_not_submitted():
    view, tasks = make_view()
    pn.panel(view).get_root()  # the widgets' models, as a served page has them
    [(model, _)] = list(view._inputs["batch_size"]._models.values())
    model.value = 1_000_000  # what the browser sends for a huge batch
    await view._on_submit(None)
    assert tasks.message == "Nothing submitted. how many: must be from 1 to 50, got 1000000"
    assert (tasks.batch_size, tasks.total) == (1, 0)
    model.value = 3
    assert view._catch_up_with_browser() is None
    assert tasks.batch_size == 3


def rows(frame):
    """The cells as plain values, missing ones as None: what the browser shows."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_the_table_follows_the_state():
    view, tasks = make_view()
    [table] = find(view.__panel__(), pn.widgets.Tabulator)
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 3), ["k-0", "k-1", "k-2"])
    records[1].param.update(state=FINISHED, result="6765", duration=0.5)
    tasks.refresh()
    assert rows(table.value) == rows(tasks.table)
    assert table.value["state"].tolist() == ["submitted", "finished", "submitted"]
    tasks.new_records(SubmissionPlan("fibonacci", 3, 1), ["k-3"])
    assert table.value["#"].tolist() == [1, 2, 3, 4]
    assert tasks.clear_done() == 1
    assert table.value["#"].tolist() == [1, 3, 4]
    assert rows(table.value) == rows(tasks.table)


def test_a_finished_task_patches_its_cells_instead_of_replacing_the_table():
    view, tasks = make_view()
    [table] = find(view.__panel__(), pn.widgets.Tabulator)
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 2), ["k-0", "k-1"])
    shown = table.value
    replaced = []
    table.param.watch(replaced.append, "value")
    records[0].param.update(state=FINISHED, result="6765", duration=0.5)
    tasks.refresh()
    assert replaced == []
    assert table.value is shown
    assert rows(table.value) == rows(tasks.table)
    assert table.value["state"].tolist() == ["finished", "submitted"]


def test_the_progress_follows_the_state():
    view, tasks = make_view()
    [bar] = find(view.__panel__(), pn.indicators.Progress)
    [text] = [
        w for w in find(view.__panel__(), pn.widgets.StaticText) if "progress-text" in w.css_classes
    ]
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 2), ["k-0", "k-1"])
    assert (bar.value, bar.max, text.value) == (0, 2, "0 of 2 done")
    records[0].param.update(state=FINISHED, result="6765")
    tasks.refresh()
    assert (bar.value, bar.max, text.value) == (1, 2, "1 of 2 done")
