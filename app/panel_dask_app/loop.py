"""Run coroutines on the server's event loop, whichever loop a callback lands on.

The shared Dask client, each session's futures and their watchers belong to
the loop the server runs. Panel, when started with --num-threads, may run an
async callback on a fresh event loop in a worker thread (when the thread
carries no current document), and tasks started there die with that loop.
Views therefore hand their work to the loop they were built on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None outside one (plain tests)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def on_loop(loop: asyncio.AbstractEventLoop | None, coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` on ``loop``; directly when already there or when loop is None."""
    if loop is None or loop is current_loop():
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))
