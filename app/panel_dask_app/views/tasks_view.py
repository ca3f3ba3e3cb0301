"""The submit-and-monitor view: form, progress, and the live table of this session's tasks."""

from __future__ import annotations

import asyncio
import html
from typing import Any

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import HTMLTemplateFormatter
from panel.viewable import Viewer
from param.parameters import NoNone

from panel_dask_app.loop import current_loop, on_loop
from panel_dask_app.session import TaskSession
from panel_dask_app.state import STATES, SessionTasks, TableChange
from panel_dask_app.telemetry import timed_callback

CANCEL_COLUMN = "cancel"
# Fixed widths keep the cancel button in view; the result column takes what is left.
COLUMN_WIDTHS = {
    "#": 50,
    "task": 120,
    "input": 80,
    "state": 100,
    "retries": 70,
    "worker": 150,
    "duration (s)": 125,
    "result or error": 300,
    CANCEL_COLUMN: 44,
}
# How long a submit may take before its button shows a spinner: sooner is not seen.
LOADING_AFTER_S = 0.15
CANCEL_BUTTON = '<span title="Cancel this task" role="button">✕</span>'

_STATE_COLOURS = {
    "finished": "#1a7f37",
    "error": "#cf222e",
    "lost": "#cf222e",
    "cancelled": "#6e7781",
    "processing": "#0969da",
    "queued": "#9a6700",
}


def refused_value(parameter: param.Parameter[Any], value: object) -> str:
    """Say which form field refused ``value`` and what it accepts, like TaskInputError."""
    label = (parameter.label or parameter.name or "").lower()
    bounds = getattr(parameter, "bounds", None)
    if bounds is not None and None not in bounds:
        return f"{label}: must be from {bounds[0]} to {bounds[1]}, got {value!r}"
    return f"{label}: {value!r} is not an accepted value"


# A class per state, coloured by the stylesheet below: a formatter costs the
# server nothing per update, where a pandas Styler re-styles the whole table.
STATE_FORMATTER = HTMLTemplateFormatter(
    template='<span class="task-state task-state-<%= value %>"><%= value %></span>'
)


def message_alert(owner: param.Parameterized, css_class: str) -> pn.pane.Alert:
    """The alert that shows ``owner.message`` in the colour of ``owner.message_kind``, if any."""
    return pn.pane.Alert(
        owner.param.message,
        alert_type=owner.param.message_kind,
        visible=pn.bind(bool, owner.param.message),
        css_classes=[css_class],
        sizing_mode="stretch_width",
    )


def at_least_one(total: int) -> int:
    """The progress bar's maximum: the task count, 1 before any task (no empty bar)."""
    return max(total, 1)


def state_stylesheet() -> str:
    """CSS for the state cells: colour says at a glance what needs attention."""
    return "\n".join(
        f".task-state-{state} {{ color: {colour}; font-weight: 600; }}"
        for state, colour in _STATE_COLOURS.items()
        if state in STATES
    )


class TasksView(Viewer):
    """Pick a task and its input, submit one or a batch, watch and cancel them."""

    session = param.ClassSelector(class_=TaskSession, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # Built while the server creates the session, on the server's loop.
        self._loop = current_loop()
        self._submit = pn.widgets.Button(label="Submit", color="primary", on_click=self._on_submit)
        self._cancel_all = pn.widgets.Button(
            label="Cancel all", color="warning", on_click=self._on_cancel_all
        )
        self._clear = pn.widgets.Button(label="Clear finished", on_click=self._on_clear)
        tasks = self.tasks
        # In the order a submit reads them: choosing a task resets its input.
        self._inputs = {
            "task": pn.widgets.Select.from_param(tasks.param.task, name="Task", width=220),
            "argument": pn.widgets.TextInput.from_param(
                tasks.param.argument,
                name=tasks.param.argument_hint,
                width=220,
                css_classes=["task-argument"],
            ),
            # Not linked to the bounded parameter and unbounded in the browser:
            # a bounded input silently puts back the last valid number, and a
            # linked one fails inside Panel. The submit reads it and explains
            # the range instead (see _catch_up_with_browser).
            "batch_size": pn.widgets.IntInput(
                value=tasks.batch_size,
                label=f"How many (1 to {tasks.param.batch_size.bounds[1]})",
                width=140,
                css_classes=["batch-size"],
            ),
        }
        self._table_widget = self._build_table()
        self._progress_bar, self._progress_text = self._build_progress()

    @property
    def tasks(self) -> SessionTasks:
        """The state this view renders."""
        return self.session.tasks

    def _catch_up_with_browser(self) -> str | None:
        """Apply what the browser shows in the form before acting on a click.

        Panel applies a widget's new value after a short delay, on its thread
        pool when the server runs with --num-threads, so a click can overtake
        the text typed just before it and submit the old input
        (holoviz/panel#6155; the ordering fix of holoviz/panel#8311 does not
        cover the thread pool). Bokeh's server-side model already holds the new
        value when the click arrives, so read it from there.

        Returns:
            Why a shown value was refused (e.g. a batch size past its bounds,
            sent by a crafted or stale client), or None when all were applied.
        """
        # Each session builds its own view, so these widgets' models all live
        # in this session's document; no need for curdoc, which a click
        # dispatched from the thread pool may not carry. The state is set
        # directly: the widget's own update may be half-way through on a thread.
        for name, widget in self._inputs.items():
            for model, _parent in list(widget._models.values()):
                shown = widget._process_property_change({"value": model.value})["value"]
                if shown != getattr(self.tasks, name):
                    try:
                        setattr(self.tasks, name, shown)
                    except ValueError:
                        return refused_value(self.tasks.param[name], shown)
        return None

    @timed_callback("tasks", "submit")
    async def _on_submit(self, _event: object) -> None:
        problem = self._catch_up_with_browser()
        if problem is not None:
            self.tasks.notify(f"Nothing submitted. {problem}", "danger")
            return
        # The spinner shows only when the submit waits (for the scheduler, say):
        # a submit answered at once would send two changes no one could see.
        spinner = asyncio.get_running_loop().call_later(
            LOADING_AFTER_S, self._submit.param.update, {"loading": True}
        )
        try:
            await on_loop(self._loop, self.session.submit())
        finally:
            spinner.cancel()
            if self._submit.loading:
                self._submit.loading = False

    @timed_callback("tasks", "cancel-all")
    async def _on_cancel_all(self, _event: object) -> None:
        await on_loop(self._loop, self.session.cancel_all())

    async def _on_clear(self, _event: object) -> None:
        self.session.clear_done()

    @timed_callback("tasks", "table-click")
    async def _on_table_click(self, event: Any) -> None:
        if event.column != CANCEL_COLUMN:
            return
        key = self.tasks.key_at(event.row)
        if key is not None:
            await on_loop(self._loop, self.session.cancel(key))

    def _form(self) -> pn.viewable.Viewable:
        tasks = self.tasks
        return pn.Column(
            pn.Row(
                *self._inputs.values(),
                pn.Row(self._submit, self._cancel_all, self._clear, align="end"),
            ),
            message_alert(tasks, "task-message"),
            sizing_mode="stretch_width",
        )

    def _build_progress(self) -> tuple[pn.indicators.Progress, pn.widgets.StaticText]:
        tasks = self.tasks
        bar = pn.indicators.Progress(
            value=tasks.done,
            max=at_least_one(tasks.total),
            bar_color="success",
            sizing_mode="stretch_width",
            css_classes=["task-progress"],
        )
        # A widget, not a pane: a pane re-applies the template's design on
        # every change, which dominated the server's time with many sessions.
        text = pn.widgets.StaticText(
            value=html.escape(tasks.progress_text), css_classes=["progress-text"], margin=(0, 10)
        )
        # One watcher for the three counters: a refresh changes them in one
        # update, and each widget then sends one change, not one per counter.
        tasks.param.watch(self._show_progress, ["done", "total", "progress_text"])
        return bar, text

    def _show_progress(self, *_events: param.parameterized.Event) -> None:
        tasks = self.tasks
        self._progress_bar.param.update(value=tasks.done, max=at_least_one(tasks.total))
        self._progress_text.value = html.escape(tasks.progress_text)

    def _progress(self) -> pn.viewable.Viewable:
        return pn.Column(self._progress_bar, self._progress_text, sizing_mode="stretch_width")

    def _shown_table(self) -> pd.DataFrame:
        # Rows by position, as patches and the cancel buttons address them.
        return self.tasks.table.reset_index(drop=True)

    def _build_table(self) -> pn.widgets.Tabulator:
        table = pn.widgets.Tabulator(
            self._shown_table(),
            show_index=False,
            disabled=True,
            selectable=False,
            buttons={CANCEL_COLUMN: CANCEL_BUTTON},
            titles={CANCEL_COLUMN: ""},
            # Rows stay in submission order: row positions map to keys for the buttons.
            sortable=False,
            layout="fit_data_fill",
            widths=COLUMN_WIDTHS,
            formatters={"state": STATE_FORMATTER},
            stylesheets=[state_stylesheet()],
            height=420,
            sizing_mode="stretch_width",
            css_classes=["task-table"],
        )
        # Panel awaits coroutine callbacks; its annotation names only plain ones.
        table.on_click(self._on_table_click)  # type: ignore[arg-type]
        self.tasks.param.watch(self._apply_table_change, "table_change")
        return table

    def _apply_table_change(self, event: param.parameterized.Event) -> None:
        """Send the browser only the cells and rows that changed."""
        change: TableChange = event.new
        table = self._table_widget
        # New rows replace the value: Tabulator.stream of a row costs the server
        # about twice as much (bench/upstream/panel_update_costs.py).
        if change.replace or change.appended:
            table.value = self._shown_table()
        elif change.patches:
            table.patch(change.patches, as_index=False)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._form(), self._progress(), self._table_widget, sizing_mode="stretch_width"
        )
