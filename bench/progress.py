"""Progress lines for long runs: one line per step with a bar, so `make bench` output
reads the same in a terminal and in a CI log (no carriage returns)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 20


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """A text bar such as ``[######--------------]`` for ``done`` of ``total``."""
    total = max(total, 1)
    filled = min(width, round(width * done / total))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class Progress:
    """Counts the steps of one benchmark and prints a line for each."""

    def __init__(self, name: str, total: int, stream: TextIO = sys.stdout) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.stream = stream
        self.started = time.monotonic()

    def step(self, message: str) -> None:
        """Count one step done and say what it measured."""
        self.done += 1
        self.note(message)

    def note(self, message: str) -> None:
        """Print a line without counting a step (what is starting, a figure)."""
        elapsed = time.monotonic() - self.started
        minutes, seconds = divmod(int(elapsed), 60)
        print(
            f"{self.name:<15} {bar(self.done, self.total)} {self.done:>2}/{self.total:<2} "
            f"{minutes:d}:{seconds:02d}  {message}",
            file=self.stream,
            flush=True,
        )
