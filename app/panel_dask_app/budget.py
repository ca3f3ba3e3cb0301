"""One cap on the unfinished tasks of all sessions of a server process.

The per-session cap (PANEL_DASK_MAX_OUTSTANDING) bounds one browser tab; a
browser opening many tabs, or many users on one replica, would still multiply
it. This budget bounds the whole process (PANEL_DASK_MAX_OUTSTANDING_TOTAL),
so the server's futures, watchers and the cluster queue it feeds stay bounded
whatever the number of sessions. Plain counting, no I/O: sessions take and
give back on the event loop, with no await in between a check and its take.
"""

from __future__ import annotations

import panel as pn

from panel_dask_app.config import get_settings
from panel_dask_app.tasks import TaskInputError


class ProcessBudget:
    """Counts unfinished tasks across sessions against ``limit``."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.used = 0

    @property
    def room(self) -> int:
        """How many more tasks may be submitted now."""
        return max(self.limit - self.used, 0)

    def take(self, count: int, field: str = "how many") -> None:
        """Reserve ``count`` tasks, or refuse them all.

        Raises:
            TaskInputError: naming the form's ``field`` (the tasks page's "how
                many"; the data page's query counts as one) and what is left.
        """
        if count > self.room:
            raise TaskInputError(
                field,
                f"this server runs at most {self.limit} unfinished tasks for all its sessions "
                f"and {self.used} are unfinished, so up to {self.room} more can be submitted "
                "now; try again when some finish",
            )
        self.used += count

    def give_back(self, count: int = 1) -> None:
        """Release tasks that finished, failed, were cancelled or lost."""
        self.used = max(self.used - count, 0)


_CACHE_KEY = "panel_dask_app.budget"


def get_budget() -> ProcessBudget:
    """Return this process's budget, created once (``pn.state.as_cached``)."""
    return pn.state.as_cached(
        _CACHE_KEY, lambda: ProcessBudget(get_settings().max_outstanding_total)
    )
