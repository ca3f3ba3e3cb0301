"""The state of one browser session's tasks, with no widgets and no Dask.

Views render these objects and ``session.TaskSession`` drives them, so the
logic here (validation, the outstanding cap, what the table shows) is tested
with plain pytest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import param

from panel_dask_app.tasks import TASKS, TaskInputError, get_spec, parse_argument

SUBMITTED = "submitted"
WAITING = "waiting"
QUEUED = "queued"
PROCESSING = "processing"
FINISHED = "finished"
ERROR = "error"
CANCELLED = "cancelled"
LOST = "lost"
STATES = [SUBMITTED, WAITING, QUEUED, PROCESSING, FINISHED, ERROR, CANCELLED, LOST]
DONE_STATES = frozenset({FINISHED, ERROR, CANCELLED, LOST})

BATCH_MAX = 50
TABLE_COLUMNS = [
    "#",
    "task",
    "input",
    "state",
    "retries",
    "worker",
    "duration (s)",
    "result or error",
]

# How the scheduler's task states read to a user. "memory" and "erred" are left
# out: the awaited future reports those, with the result or the error attached.
_SCHEDULER_STATES = {
    "released": WAITING,
    "waiting": WAITING,
    "queued": QUEUED,
    "no-worker": QUEUED,
    "processing": PROCESSING,
}


def display_state(scheduler_state: str | None) -> str | None:
    """Map a scheduler task state to the table's state, or None to keep the current one."""
    return _SCHEDULER_STATES.get(scheduler_state or "")


class TaskRecord(param.Parameterized):
    """One submitted task as this session sees it."""

    key = param.String(doc="The Dask key, unique per submission.")
    number = param.Integer(default=1, bounds=(1, None), doc="Position in this session.")
    task = param.String(doc="Task name from panel_dask_app.tasks.TASKS.")
    argument = param.Number(doc="The validated input.")
    state: param.Selector[str] = param.Selector(default=SUBMITTED, objects=STATES)
    worker = param.String(default="")
    duration = param.Number(default=None, allow_None=True, doc="Seconds on the worker.")
    result = param.String(default="", doc="The value, or the error, as text.")
    retries = param.Integer(
        default=0, bounds=(0, None), doc="Runs lost to a dead worker; Dask re-ran the task."
    )

    ROW_FIELDS = ("number", "task", "argument", "state", "retries", "worker", "duration", "result")
    """What row() reads: a change to any of them changes the record's row."""

    @property
    def done(self) -> bool:
        """Whether the task reached a state it never leaves."""
        return self.state in DONE_STATES

    def row(self) -> dict[str, object]:
        """The table row for this record."""
        argument = int(self.argument) if float(self.argument).is_integer() else self.argument
        return {
            "#": self.number,
            "task": self.task,
            "input": argument,
            "state": self.state,
            "retries": self.retries,
            # The scheme is noise in a narrow column; host:port identifies the worker.
            "worker": self.worker.partition("://")[2] or self.worker,
            "duration (s)": None if self.duration is None else round(self.duration, 3),
            "result or error": self.result,
        }


Row = dict[str, object]


@dataclass(frozen=True)
class TableChange:
    """How the shown table becomes the records' table, in the cheapest terms.

    A click adds rows and a result changes a few cells of one row, so a page
    sends those cells rather than the whole table again: with fifty sessions,
    rebuilding each table on every change was half of the server's time.
    """

    patches: dict[str, list[tuple[int, object]]] = field(default_factory=dict)
    """New cell values of rows already shown, by column: (row position, value)."""
    appended: list[Row] = field(default_factory=list)
    """Rows added after the shown ones."""
    replace: bool = False
    """Rows were removed or reordered: show the whole table again."""


def table_change(
    shown_keys: Sequence[str], shown: Sequence[Row], keys: Sequence[str], rows: Sequence[Row]
) -> TableChange | None:
    """What turns the ``shown`` rows into ``rows``; None when they are the same."""
    count = len(shown_keys)
    if list(keys[:count]) != list(shown_keys):
        return TableChange(replace=True)
    patches: dict[str, list[tuple[int, object]]] = {}
    for position, (before, after) in enumerate(zip(shown, rows[:count], strict=True)):
        if before != after:
            for column in TABLE_COLUMNS:
                if before[column] != after[column]:
                    patches.setdefault(column, []).append((position, after[column]))
    appended = list(rows[count:])
    if not patches and not appended:
        return None
    return TableChange(patches=patches, appended=appended)


@dataclass(frozen=True)
class SubmissionPlan:
    """A validated request: run ``task`` on ``argument``, ``count`` times."""

    task: str
    argument: int | float
    count: int


class SessionTasks(param.Parameterized):
    """The form's inputs and the list of tasks of one browser session."""

    task: param.Selector[str] = param.Selector(
        default="fibonacci",
        objects={spec.label: spec.name for spec in TASKS.values()},
        doc="Which task to run.",
    )
    argument = param.String(default=TASKS["fibonacci"].default, doc="The task's input, as typed.")
    argument_hint = param.String(default=TASKS["fibonacci"].hint, constant=True)
    batch_size = param.Integer(
        default=1, bounds=(1, BATCH_MAX), label="How many", doc="Copies to submit at once."
    )
    max_outstanding = param.Integer(
        default=100, bounds=(1, None), doc="Cap on unfinished tasks in one session."
    )
    records = param.List(default=[], item_type=TaskRecord, doc="Submitted tasks, oldest first.")
    table_change = param.ClassSelector(
        class_=TableChange,
        default=None,
        allow_None=True,
        doc="The last change refresh() made to the table, for the view to apply.",
    )
    total = param.Integer(default=0, doc="Tasks in the table.")
    done = param.Integer(default=0, doc="Tasks finished, failed, cancelled or lost.")
    outstanding = param.Integer(default=0, doc="Tasks not done yet.")
    progress_text = param.String(
        default="No tasks yet.",
        doc="One line for the progress bar, e.g. ``3 of 5 done, 1 failed``.",
    )
    message = param.String(default="", doc="Feedback on the last action.")
    message_kind: param.Selector[str] = param.Selector(
        default="info", objects=["info", "success", "warning", "danger"]
    )

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._shown_keys: list[str] = []
        self._shown_rows: list[Row] = []
        # Rows of records unchanged since the last refresh, by key: reading a
        # record's parameters is what a refresh of a long table spends its time on.
        self._rows: dict[str, Row] = {}
        self.refresh()

    @property
    def table(self) -> pd.DataFrame:
        """The table as last refreshed: one row per record, indexed by key."""
        return pd.DataFrame(self._shown_rows, columns=TABLE_COLUMNS, index=self._shown_keys)

    @param.depends("task", watch=True)
    def _reset_argument(self) -> None:
        spec = get_spec(self.task)
        with param.edit_constant(self):
            self.param.update(argument=spec.default, argument_hint=spec.hint)

    def plan(self) -> SubmissionPlan:
        """Validate the form and the outstanding cap.

        Raises:
            TaskInputError: naming the field at fault and the values it accepts.
        """
        argument = parse_argument(self.task, self.argument)
        room = self.max_outstanding - self.outstanding
        if self.batch_size > room:
            raise TaskInputError(
                "how many",
                f"at most {self.max_outstanding} unfinished tasks per session; "
                f"{self.outstanding} are unfinished, so up to {max(room, 0)} more can be "
                "submitted now",
            )
        return SubmissionPlan(self.task, argument, self.batch_size)

    def new_records(self, plan: SubmissionPlan, keys: list[str]) -> list[TaskRecord]:
        """Create and append one record per key for a validated plan."""
        start = (self.records[-1].number if self.records else 0) + 1
        created = [
            TaskRecord(key=key, number=start + i, task=plan.task, argument=plan.argument)
            for i, key in enumerate(keys)
        ]
        for record in created:
            record.param.watch(self._forget_row, list(TaskRecord.ROW_FIELDS))
        self.records = [*self.records, *created]
        self.refresh()
        return created

    def observe(self, progress: Mapping[str, Mapping[str, Any]]) -> list[TaskRecord]:
        """Apply the scheduler's view of the tasks; return records newly re-run.

        ``progress`` maps keys to ``remote.TaskProgress``: the state shows while a
        task is unfinished, the worker while it runs, and the retry count always,
        so a task that finished after a worker died still says it was re-run.
        """
        changed = False
        retried = []
        for key, seen in progress.items():
            record = self.find(key)
            if record is None:
                continue
            update: dict[str, Any] = {}
            if seen["retries"] > record.retries:
                update["retries"] = seen["retries"]
                retried.append(record)
            if not record.done:
                shown = display_state(seen["state"])
                if shown and shown != record.state:
                    update["state"] = shown
                if shown == PROCESSING and seen["worker"] and seen["worker"] != record.worker:
                    update["worker"] = seen["worker"]
            if update:
                record.param.update(**update)
                changed = True
        if changed:
            self.refresh()
        return retried

    def find(self, key: str) -> TaskRecord | None:
        """The record with this key, if this session has it."""
        return next((r for r in self.records if r.key == key), None)

    def key_at(self, row: int) -> str | None:
        """The key shown in table row ``row`` (0-based), for the table's buttons."""
        return self.records[row].key if 0 <= row < len(self.records) else None

    def clear_done(self) -> int:
        """Drop finished, failed, cancelled and lost records; return how many went."""
        kept = [r for r in self.records if not r.done]
        removed = len(self.records) - len(kept)
        self.records = kept
        self._rows = {r.key: self._rows[r.key] for r in kept if r.key in self._rows}
        self.refresh()
        return removed

    def notify(self, message: str, kind: str = "info") -> None:
        """Show feedback on the last action (nothing to send when it is already shown)."""
        if (message, kind) != (self.message, self.message_kind):
            self.param.update(message=message, message_kind=kind)

    def _forget_row(self, *events: param.parameterized.Event) -> None:
        self._rows.pop(events[0].obj.key, None)

    def _row(self, record: TaskRecord) -> Row:
        row = self._rows.get(record.key)
        if row is None:
            row = self._rows[record.key] = record.row()
        return row

    def refresh(self) -> None:
        """Recompute the table and the counters from the records; publish what changed."""
        keys = [record.key for record in self.records]
        rows = [self._row(record) for record in self.records]
        change = table_change(self._shown_keys, self._shown_rows, keys, rows)
        self._shown_keys, self._shown_rows = keys, rows
        done = sum(row["state"] in DONE_STATES for row in rows)
        updates: dict[str, object] = {} if change is None else {"table_change": change}
        self.param.update(
            **updates,
            total=len(rows),
            done=done,
            outstanding=len(rows) - done,
            progress_text=summarize(rows),
        )


def summarize(rows: Sequence[Row]) -> str:
    """The progress bar's line from the table's ``rows``, e.g. ``3 of 5 done, 1 failed``.

    From the rows rather than the records: a refresh has them already, and a
    row is a plain dict, cheap to read.
    """
    if not rows:
        return "No tasks yet."
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[str(row["state"])] += 1
    done = sum(counts[state] for state in DONE_STATES)
    parts = [f"{done} of {len(rows)} done"]
    retried = sum(row["retries"] != 0 for row in rows)
    parts += [
        f"{counts[state]} {label}"
        for state, label in (
            (PROCESSING, "processing"),
            (QUEUED, "queued"),
            (ERROR, "failed"),
            (CANCELLED, "cancelled"),
            (LOST, "lost"),
        )
        if counts[state]
    ]
    if retried:
        parts.append(f"{retried} re-run after a worker was lost")
    return ", ".join(parts)
