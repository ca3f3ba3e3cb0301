"""The app's /tasks page with a blocking Submit: the baseline of the responsiveness benchmark.

What the page would be without the asynchronous design: a plain callback that
submits with a synchronous client and calls ``.result()``, holding its thread
(Panel's pool, as the app is served with ``--num-threads``) until the task is
done. Everything else is the app's own view, state and template.
"""

from __future__ import annotations

import uuid

import panel as pn
from distributed import Client

from panel_dask_app.budget import get_budget
from panel_dask_app.client import get_connection
from panel_dask_app.config import get_settings
from panel_dask_app.remote import run_task
from panel_dask_app.session import TaskSession
from panel_dask_app.state import ERROR, FINISHED, SessionTasks
from panel_dask_app.tasks import TaskInputError
from panel_dask_app.views import layout
from panel_dask_app.views.tasks_view import TasksView

_CACHE_KEY = "bench.blocking_client"


def blocking_client() -> Client:
    """One synchronous client per server process, created once (``pn.state.as_cached``)."""
    return pn.state.as_cached(
        _CACHE_KEY, lambda: Client(get_settings().scheduler_address, set_as_default=False)
    )


class BlockingTasksView(TasksView):
    """The app's view with Submit as a plain callback that waits for each result."""

    def _on_submit(self, _event: object) -> None:  # type: ignore[override]
        problem = self._catch_up_with_browser()
        if problem is not None:
            self.tasks.notify(f"Nothing submitted. {problem}", "danger")
            return
        try:
            plan = self.tasks.plan()
        except TaskInputError as exc:
            self.tasks.notify(f"Nothing submitted. {exc}", "danger")
            return
        client = blocking_client()
        keys = [f"{plan.task}-{uuid.uuid4().hex}" for _ in range(plan.count)]
        records = self.tasks.new_records(plan, keys)
        self.tasks.notify(f"Submitted {plan.count} × {plan.task}({plan.argument}).", "success")
        for record in records:
            future = client.submit(run_task, plan.task, plan.argument, key=record.key)
            try:
                outcome = future.result()  # the blocking call this baseline is about
            except Exception as exc:
                record.param.update(state=ERROR, result=f"{type(exc).__name__}: {exc}")
                continue
            record.param.update(
                state=FINISHED,
                result=str(outcome["value"]),
                worker=outcome["worker"],
                duration=outcome["duration"],
            )
        self.tasks.refresh()


def blocking_tasks_page() -> pn.template.BaseTemplate:
    """The /tasks page of the app, built the same way, with the blocking view."""
    tasks = SessionTasks(max_outstanding=get_settings().max_outstanding)
    session = TaskSession(tasks, get_connection(), budget=get_budget())
    layout._start_background_work()
    return layout.Template(
        title=f"{layout.TITLE} · tasks (blocking callbacks)",
        sidebar=layout._sidebar(),
        main=[BlockingTasksView(session=session)],
        **layout.TEMPLATE_STYLE,
    )
