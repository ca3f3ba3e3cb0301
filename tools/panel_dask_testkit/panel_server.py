"""``panel-dask-serve`` as a subprocess on loopback, pointed at a :class:`LocalDask`."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.metrics import Samples, scrape
from panel_dask_testkit.net import HOST, free_port, http_status
from panel_dask_testkit.processes import ManagedProcess


def panel_env(port: int, dask: LocalDask, extra_env: Mapping[str, str] | None) -> dict[str, str]:
    """The app server's environment: loopback, its own origins, ``dask``'s addresses."""
    env = dict(os.environ)
    env.update(
        PANEL_ADDRESS=HOST,
        PANEL_PORT=str(port),
        PANEL_ALLOW_WEBSOCKET_ORIGIN=f"localhost:{port},{HOST}:{port}",
        DASK_SCHEDULER_ADDRESS=dask.address,
        DASK_DASHBOARD_URL=dask.dashboard_url,
    )
    env.update(extra_env or {})
    return env


class PanelServer:
    """The app's server; ``argv`` replaces ``panel-dask-serve`` (a bench page, say)."""

    def __init__(
        self,
        log_dir: Path,
        dask: LocalDask,
        *,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
        name: str = "panel",
        argv: Sequence[str] | None = None,
        port: int | None = None,
        metrics: bool = False,
    ) -> None:
        self.port = port or free_port()
        # Off unless asked: replicas on one machine cannot share the chart's port.
        self.metrics_port = free_port() if metrics else 0
        env = {**(extra_env or {}), "PANEL_DASK_METRICS_PORT": str(self.metrics_port)}
        command = argv or [sys.executable, "-m", "panel_dask_app.serve"]
        self.process = ManagedProcess(
            name, [*command, *extra_args], log_dir, panel_env(self.port, dask, env)
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until /health answers 200."""
        self.process.wait_until(
            lambda: http_status(f"{self.url}/health") == 200,
            f"{self.process.name}'s /health",
            timeout,
        )

    def metrics(self) -> Samples:
        """A scrape of the server's Prometheus endpoint (started with ``metrics=True``)."""
        assert self.metrics_port, "this server was started without metrics"
        return scrape(f"http://{HOST}:{self.metrics_port}/metrics")

    def stop(self) -> None:
        """Stop the server."""
        self.process.stop()


# Replicas share it, as the chart's Panel pods share PANEL_COOKIE_SECRET.
REPLICA_COOKIE_SECRET = "replicas-share-this-secret-0123456789abcdef"


@contextlib.contextmanager
def running_replicas(
    log_dir: Path, dask: LocalDask, count: int, balancer_port: int
) -> Iterator[list[PanelServer]]:
    """``count`` app servers set up like the chart's replicas behind a balancer on that port.

    They share the cookie secret, trust X-Forwarded-* headers and accept
    websockets whose origin is the balancer. All are ready when this yields.
    """
    env = {
        "PANEL_ALLOW_WEBSOCKET_ORIGIN": f"{HOST}:{balancer_port},localhost:{balancer_port}",
        "PANEL_USE_XHEADERS": "true",
        "PANEL_COOKIE_SECRET": REPLICA_COOKIE_SECRET,
    }
    servers: list[PanelServer] = []
    try:
        for index in range(count):
            (log_dir / f"panel-{index}").mkdir(parents=True, exist_ok=True)
            servers.append(PanelServer(log_dir / f"panel-{index}", dask, extra_env=env))
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()
