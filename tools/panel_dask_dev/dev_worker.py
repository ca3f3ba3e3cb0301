"""Worker preload for `panel-dask-dev`: leave Ctrl-C to the stack.

A terminal sends Ctrl-C to every process in the foreground group, so each
worker would die mid-task with its own KeyboardInterrupt traceback while the
stack is already closing them in order.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    """Ignore SIGINT in this worker process (called by Dask when the worker starts)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
