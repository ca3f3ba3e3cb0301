"""The real processes a benchmark measures: Dask on loopback, the app's server, bench pages.

Built on the test kit (``panel_dask_testkit``: the same helpers the integration
tests use). A bench page is served with the flags ``panel-dask-serve`` gives
the app (one process, the same thread pool), so a baseline differs from the
app only in its page.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil

from panel_dask_app.config import Settings
from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.net import HOST, free_port
from panel_dask_testkit.panel_server import PanelServer

PAGES = Path(__file__).parent / "pages"
REPO = Path(__file__).resolve().parents[1]


class PageServer(PanelServer):
    """``panel serve`` of one bench page (``bench/pages/<name>.py``) beside the app's settings."""

    def __init__(
        self, log_dir: Path, dask: LocalDask, page: str, extra_env: Mapping[str, str] | None = None
    ) -> None:
        port = free_port()
        # The pages import bench helpers and the app from the repository.
        python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        argv = [
            sys.executable, "-m", "panel", "serve", str(PAGES / f"{page}.py"),
            "--address", HOST, "--port", str(port),
            "--num-procs", "1", "--num-threads", str(Settings().num_threads),
            "--liveness", "--liveness-endpoint", "health",
            "--allow-websocket-origin", f"{HOST}:{port}",
            "--allow-websocket-origin", f"localhost:{port}",
        ]  # fmt: skip
        super().__init__(
            log_dir,
            dask,
            extra_env={"PYTHONPATH": python_path, **(extra_env or {})},
            name=f"page-{page}",
            argv=argv,
            port=port,
        )
        self.path = f"/{page}"

    @property
    def pid(self) -> int:
        """The server's process id (for its memory)."""
        return self.process.pid


class AppServer(PanelServer):
    """The app as users run it (``panel-dask-serve``), with the page this benchmark drives."""

    def __init__(
        self,
        log_dir: Path,
        dask: LocalDask,
        extra_env: Mapping[str, str] | None = None,
        path: str = "/tasks",
    ) -> None:
        super().__init__(log_dir, dask, extra_env=extra_env)
        self.path = path

    @property
    def pid(self) -> int:
        """The server's process id: ``panel-dask-serve`` execs ``panel serve`` in place."""
        return self.process.pid


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
