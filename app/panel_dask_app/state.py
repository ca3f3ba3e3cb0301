"""The state of one browser session's tasks, with no widgets and no Dask.

Views render these objects and ``session.TaskSession`` drives them, so the
logic here (validation, the outstanding cap, what the table shows) is tested
with plain pytest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    table = param.DataFrame(doc="One row per record; refreshed by refresh().")
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
        self.refresh()

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
        self.refresh()
        return removed

    def notify(self, message: str, kind: str = "info") -> None:
        """Show feedback on the last action (nothing to send when it is already shown)."""
        if (message, kind) != (self.message, self.message_kind):
            self.param.update(message=message, message_kind=kind)

    def refresh(self) -> None:
        """Recompute the table and the counters from the records."""
        rows = [record.row() for record in self.records]
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS, index=[r.key for r in self.records])
        done = sum(record.done for record in self.records)
        self.param.update(
            table=table,
            total=len(self.records),
            done=done,
            outstanding=len(self.records) - done,
            progress_text=summarize(self.records),
        )


def summarize(records: list[TaskRecord]) -> str:
    """A one-line summary of ``records`` for the progress bar, e.g. ``3 of 5 done, 1 failed``."""
    if not records:
        return "No tasks yet."
    counts = {state: 0 for state in STATES}
    for record in records:
        counts[record.state] += 1
    done = sum(counts[state] for state in DONE_STATES)
    parts = [f"{done} of {len(records)} done"]
    retried = sum(record.retries > 0 for record in records)
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
