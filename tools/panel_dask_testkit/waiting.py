"""The one wait helper: poll until something is true, or say what never happened.

Two forms with one argument order, ``(check, what, timeout, interval)``:
``wait_for`` blocks (threads, subprocess tests, fixtures) and ``wait_for_async``
awaits (tests that run on the event loop the checked code runs on, where a
blocking sleep would stop the very thing being waited for).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _timed_out(what: str, timeout: float, last: object) -> TimeoutError:
    return TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def wait_for(check: Callable[[], T], what: str, timeout: float = 120.0, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy and return that.

    Raises TimeoutError naming ``what`` and quoting the last value after ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout, last)
        time.sleep(interval)


async def wait_for_async(
    check: Callable[[], Any | Awaitable[Any]],
    what: str,
    # The same arguments as wait_for; asyncio.timeout could not name what never happened.
    timeout: float = 120.0,  # noqa: ASYNC109
    interval: float = 0.1,
) -> Any:
    """``wait_for`` on the running event loop; ``check`` may return an awaitable."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if loop.time() > deadline:
            raise _timed_out(what, timeout, last)
        await asyncio.sleep(interval)
