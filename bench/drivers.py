"""What a user does on each benchmarked page, in Bokeh protocol terms, with its timing.

The app's /tasks page (and the blocking variant, built from the same view) and the
bare baseline page share the task form: a Select of tasks and the input TextInput
that the server resets to the chosen task's default. Choosing the other task is
the "trivial UI callback": one change sent, one change back, no Dask involved.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass, field

from bench.bokeh_client import BrowserlessSession, Event, SessionError, changed
from panel_dask_app.tasks import TASKS

OTHER_TASK = {"fibonacci": "sleep_seconds", "sleep_seconds": "fibonacci"}
DEFAULT_ARGUMENT = {name: spec.default for name, spec in TASKS.items()}
_DURATION = re.compile(r"run (\d+): duration=([0-9.]+)")


@dataclass
class Timed:
    """One timed action: seconds from sending to the server's answer arriving."""

    latency: float
    censored: bool = False  # no answer before the deadline: ``latency`` is a lower bound


@dataclass
class TaskForm:
    """The task Select and its input, on the app's page, the blocking page or the bare page."""

    session: BrowserlessSession
    select: str = ""
    argument: str = ""
    task: str = ""

    def __post_init__(self) -> None:
        self.select = self.session.find("CustomSelect")
        self.argument = self.session.find("TextInput", css_classes="task-argument")
        self.task = str(self.session.models[self.select].attributes["value"])

    async def toggle(self, within: float) -> Timed:
        """Choose the other task; time until the server shows its default input.

        After a censored toggle the form's state is unknown: stop using this form.
        """
        new = OTHER_TASK[self.task]
        wanted = DEFAULT_ARGUMENT[new]
        reply = self.session.expect(changed(self.argument, "value", lambda v: v == wanted))
        sent = await self.session.change(self.select, "value", new)
        try:
            arrived, _ = await asyncio.wait_for(reply, within)
        except TimeoutError:
            return Timed(within, censored=True)
        self.task = new
        return Timed(arrived - sent)


@dataclass
class Outcome:
    """One offloaded task as the user saw it."""

    latency: float  # click sent -> table shows the task finished
    compute: float  # the task's own run time, measured on the worker


@dataclass
class TasksPage(TaskForm):
    """The app's /tasks page: submit a task and wait until its row says finished."""

    button: str = ""
    source: str = ""
    submitted: int = 0
    _pending: list[asyncio.Future[tuple[float, Event]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.button = self.session.find("Button", label="Submit")
        self.source = self.session.find("ColumnDataSource")

    async def choose(self, task: str, argument: str, within: float = 30.0) -> None:
        """Set the form as a user would: pick ``task``, then type ``argument``."""
        if self.task != task:
            if (await self.toggle(within)).censored:
                raise SessionError(f"choosing {task} got no answer in {within} s")
        await self.session.change(self.argument, "value", argument)

    async def submit(self, within: float) -> Outcome:
        """Click Submit for one task; raises if the row does not say finished in time."""
        row = self.submitted
        self.submitted += 1
        source = self.source

        def shown(event: Event) -> bool:
            # The session has applied this event to its mirror of the table already.
            if event.get("model", {}).get("id") != source:
                return False
            states = self.session.sources.get(source, {}).get("state", [])
            return len(states) > row and states[row] in ("finished", "error", "cancelled", "lost")

        reply = self.session.expect(shown)
        sent = await self.session.click(self.button)
        arrived, _event = await asyncio.wait_for(reply, within)
        table = self.session.sources[source]
        if table["state"][row] != "finished":
            raise SessionError(f"task {table['state'][row]}: {table['result or error'][row]}")
        return Outcome(arrived - sent, float(table["duration (s)"][row]))


@dataclass
class GuidePage:
    """The page written as Panel's Dask how-to writes it (bench/pages/dask_guide.py)."""

    session: BrowserlessSession
    button: str = ""
    result: str = ""
    seconds: str = ""
    submitted: int = 0

    def __post_init__(self) -> None:
        self.button = self.session.find("Button", label="SUBMIT")
        self.result = self.session.find("HTML", css_classes="result")
        self.seconds = self.session.find("Spinner", css_classes="seconds")

    async def choose_seconds(self, seconds: float) -> None:
        """Type how long the task sleeps."""
        await self.session.change(self.seconds, "value", seconds)

    async def submit(self, within: float) -> Outcome:
        """Click SUBMIT; time until the result pane shows this run, and its worker run time."""
        self.submitted += 1
        marker = f"run {self.submitted}:"
        reply = self.session.expect(changed(self.result, "text", lambda t: marker in str(t)))
        sent = await self.session.click(self.button)
        arrived, event = await asyncio.wait_for(reply, within)
        found = _DURATION.search(html.unescape(str(event["new"])))
        if found is None:
            raise SessionError(f"no duration in {event['new']!r}")
        return Outcome(arrived - sent, float(found.group(2)))
