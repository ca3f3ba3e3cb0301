"""Real Dask schedulers and workers on loopback, configured like the chart's.

Everything binds to 127.0.0.1 on free ports, so it runs beside a developer's
``make dev``. The ports are chosen once: a restarted scheduler has the same
address and URL, as behind a Kubernetes Service.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

from dask import config as dask_config
from distributed import LocalCluster

from panel_dask_app.scheduler_routes import routes_config, routes_env
from panel_dask_testkit.net import HOST, free_port, http_status
from panel_dask_testkit.processes import ManagedProcess


class LocalDask:
    """A ``dask scheduler`` process and worker processes, each with its own log.

    ``dashboard_prefix="/dask"`` serves the dashboard and HTTP API where the
    chart's scheduler serves them; ``extra_env`` reaches every Dask process.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        dashboard_prefix: str = "",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.scheduler_port = free_port()
        self.dashboard_port = free_port()
        self.dashboard_prefix = dashboard_prefix
        self.env = {**os.environ, **routes_env(), **(extra_env or {})}
        self.scheduler: ManagedProcess | None = None
        self.workers: dict[str, ManagedProcess] = {}
        self._scheduler_starts = 0

    @property
    def address(self) -> str:
        """The scheduler's TCP address."""
        return f"tcp://{HOST}:{self.scheduler_port}"

    @property
    def dashboard_url(self) -> str:
        """The scheduler's dashboard and HTTP API base URL (prefix included)."""
        return f"http://{HOST}:{self.dashboard_port}{self.dashboard_prefix}"

    def start_scheduler(self, timeout: float = 60.0) -> None:
        """Start the scheduler (again, on the same ports) and wait until it answers."""
        self._scheduler_starts += 1
        argv = [
            sys.executable, "-m", "distributed.cli.dask_scheduler",
            "--host", HOST, "--port", str(self.scheduler_port),
            "--dashboard-address", f"{HOST}:{self.dashboard_port}",
        ]  # fmt: skip
        if self.dashboard_prefix:
            argv += ["--dashboard-prefix", self.dashboard_prefix]
        self.scheduler = ManagedProcess(
            f"scheduler-{self._scheduler_starts}", argv, self.log_dir, self.env
        )
        self.scheduler.wait_until(
            lambda: http_status(f"{self.dashboard_url}/health") == 200,
            "the Dask scheduler's /health",
            timeout,
        )

    def stop_scheduler(self) -> None:
        """Stop the scheduler; its nanny-started workers notice and exit too."""
        if self.scheduler is not None:
            self.scheduler.stop()

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler (a crash); ``start_scheduler`` brings one back on the same URL."""
        if self.scheduler is not None:
            self.scheduler.kill()

    def start_workers(self, count: int = 1, threads: int = 1, timeout: float = 60.0) -> None:
        """Start ``count`` worker processes under a nanny; wait until the scheduler sees them."""
        expected = self.worker_count() + count
        name = f"workers-{len(self.workers) + 1}"
        argv = [
            sys.executable, "-m", "distributed.cli.dask_worker", self.address,
            "--host", HOST, "--nworkers", str(count), "--nthreads", str(threads),
            "--no-dashboard", "--local-directory", str(self.log_dir / "dask-worker-space"),
        ]  # fmt: skip
        workers = self.workers[name] = ManagedProcess(name, argv, self.log_dir, self.env)
        workers.wait_until(
            lambda: self.worker_count() >= expected, f"{expected} Dask workers", timeout
        )

    def start_worker(self, name: str, threads: int = 1) -> None:
        """Start one worker process named ``name`` with no nanny, as a worker pod runs; no wait."""
        argv = [
            sys.executable, "-m", "distributed.cli.dask_worker", self.address,
            "--name", name, "--nthreads", str(threads), "--no-nanny",
            "--host", HOST, "--no-dashboard",
            "--local-directory", str(self.log_dir / "dask-worker-space"),
        ]  # fmt: skip
        self.workers[name] = ManagedProcess(f"worker-{name}", argv, self.log_dir, self.env)

    def worker_running(self, name: str) -> bool:
        """Whether the worker process started as ``name`` still runs."""
        worker = self.workers.get(name)
        return worker is not None and worker.running()

    def stop_worker(self, name: str) -> None:
        """SIGTERM one named worker (what the kubelet does when its pod goes away)."""
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.stop()

    def worker_count(self) -> int:
        """Workers the scheduler knows, through its HTTP API."""
        try:
            url = f"{self.dashboard_url}/api/v1/get_workers"
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(json.load(response)["num_workers"])
        except (OSError, ValueError, KeyError):
            return 0

    def close(self) -> None:
        """Stop every process this object started, workers first."""
        for worker in self.workers.values():
            worker.stop()
        self.stop_scheduler()


@contextlib.contextmanager
def running_dask(log_dir: Path, workers: int, threads: int) -> Iterator[LocalDask]:
    """A real scheduler and ``workers`` worker processes of ``threads`` threads, stopped after."""
    dask = LocalDask(log_dir)
    try:
        dask.start_scheduler()
        dask.start_workers(count=workers, threads=threads)
        yield dask
    finally:
        dask.close()


@contextlib.asynccontextmanager
async def process_cluster(workers: int = 1) -> AsyncIterator[LocalCluster]:
    """An asynchronous in-process scheduler with one-thread worker processes on loopback.

    Its scheduler serves the product's HTTP routes, which the local autoscaler
    reads; autoscaler tests drive its worker processes.
    """
    with dask_config.set(routes_config()):
        async with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            asynchronous=True,
            host=HOST,
            dashboard_address=":0",
        ) as cluster:
            yield cluster
