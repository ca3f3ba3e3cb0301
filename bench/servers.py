"""The real processes a benchmark measures: Dask on loopback, the app's server, bench pages.

Built on ``panel_dask_app.testing`` (the same helpers the integration tests use).
A bench page is served with the flags ``panel-dask-serve`` gives the app (one
process, the same thread pool), so a baseline differs from the app only in its page.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil

from panel_dask_app.config import Settings
from panel_dask_app.testing import (
    HOST,
    LocalDask,
    ManagedProcess,
    PanelServer,
    free_port,
    http_status,
    wait_for,
)

PAGES = Path(__file__).parent / "pages"
REPO = Path(__file__).resolve().parents[1]


class PageServer:
    """``panel serve`` of one bench page (``bench/pages/<name>.py``) beside the app's settings."""

    def __init__(
        self, log_dir: Path, dask: LocalDask, page: str, extra_env: Mapping[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.path = f"/{page}"
        env = dict(os.environ)
        env.update(
            DASK_SCHEDULER_ADDRESS=dask.address,
            DASK_DASHBOARD_URL=dask.dashboard_url,
            # The pages import bench helpers and the app from the repository.
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        )
        env.update(extra_env or {})
        argv = [
            sys.executable, "-m", "panel", "serve", str(PAGES / f"{page}.py"),
            "--address", HOST, "--port", str(self.port),
            "--num-procs", "1", "--num-threads", str(Settings().num_threads),
            "--liveness", "--liveness-endpoint", "health",
            "--allow-websocket-origin", f"{HOST}:{self.port}",
            "--allow-websocket-origin", f"localhost:{self.port}",
        ]  # fmt: skip
        self.process = ManagedProcess(f"page-{page}", argv, log_dir, env)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (for its memory)."""
        return self.process.process.pid

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until /health answers 200."""
        wait_for(
            lambda: not self.process.running() or http_status(f"{self.url}/health") == 200,
            timeout,
            f"the bench page server {self.path}",
        )
        if not self.process.running():
            raise RuntimeError(f"the page server exited:\n{self.process.log_tail()}")

    def stop(self) -> None:
        """Stop the server."""
        self.process.stop()


class AppServer:
    """The app as users run it (``panel-dask-serve``), with the page this benchmark drives."""

    def __init__(
        self, log_dir: Path, dask: LocalDask, extra_env: Mapping[str, str] | None = None
    ) -> None:
        self.server = PanelServer(log_dir, dask, extra_env=extra_env)
        self.path = "/tasks"

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    @property
    def pid(self) -> int:
        """The server's process id: ``panel-dask-serve`` execs ``panel serve`` in place."""
        return self.server.process.process.pid

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until /health answers 200."""
        self.server.wait_ready(timeout)

    def stop(self) -> None:
        """Stop the server."""
        self.server.stop()


Server = PageServer | AppServer


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Wait for ``server`` to answer, stop it afterwards whatever happens."""
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def rss_bytes(pid: int) -> int:
    """Resident memory of one process."""
    return int(psutil.Process(pid).memory_info().rss)
