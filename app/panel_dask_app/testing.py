"""Real local processes for tests and benchmarks: a Dask scheduler, workers, the Panel server.

Everything binds to 127.0.0.1 on free ports, so it runs beside a developer's
`make dev`. Each process logs to a file whose tail goes into failure messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from distributed import LocalCluster

from panel_dask_app.local_stack import SCHEDULER_HTTP_ROUTES

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until truthy; fail after ``timeout`` seconds saying ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


async def eventually(
    predicate: Callable[[], object], within: float, what: str, interval: float = 0.1
) -> object:
    """Await until ``predicate()`` (or what it returns, awaited) is truthy, for ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(interval)


def process_cluster(workers: int = 1) -> LocalCluster:
    """An asynchronous in-process scheduler with one-thread worker processes on loopback.

    Enter it with ``async with``; autoscaler tests drive its worker processes.
    """
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        asynchronous=True,
        host=HOST,
        dashboard_address=":0",
    )


class ManagedProcess:
    """A subprocess with its own log file and process group, stopped on request."""

    def __init__(self, name: str, argv: Sequence[str], log_dir: Path, env: Mapping[str, str]):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        # A process group lets stop() reach the worker processes a nanny spawns.
        self.process = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def running(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(grace)
        # Stray children of a killed leader still hold the group id.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


class LocalDask:
    """A real `dask scheduler` and `dask worker` processes on loopback."""

    def __init__(self, log_dir: Path, *, scheduler_port: int | None = None) -> None:
        self.log_dir = log_dir
        self.scheduler_port = scheduler_port or free_port()
        self.dashboard_port = free_port()
        self.scheduler: ManagedProcess | None = None
        self.workers: list[ManagedProcess] = []
        self._starts = 0

    @property
    def address(self) -> str:
        """The scheduler's TCP address."""
        return f"tcp://{HOST}:{self.scheduler_port}"

    @property
    def dashboard_url(self) -> str:
        """The scheduler's dashboard base URL."""
        return f"http://{HOST}:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        """Environment for the Dask processes: the HTTP API routes switched on."""
        env = dict(os.environ)
        env["DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"] = json.dumps(SCHEDULER_HTTP_ROUTES)
        return env

    def start_scheduler(self, timeout: float = 60.0) -> None:
        """Start the scheduler (again, on the same ports) and wait until it answers."""
        self._starts += 1
        self.scheduler = ManagedProcess(
            f"scheduler-{self._starts}",
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                HOST,
                "--port",
                str(self.scheduler_port),
                "--dashboard-address",
                f"{HOST}:{self.dashboard_port}",
            ],
            self.log_dir,
            self.env(),
        )
        scheduler = self.scheduler
        try:
            wait_for(
                lambda: (
                    not scheduler.running() or http_status(f"{self.dashboard_url}/health") == 200
                ),
                timeout,
                "the Dask scheduler's /health",
            )
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{scheduler.log_tail()}") from None
        if not scheduler.running():
            raise RuntimeError(f"the Dask scheduler exited:\n{scheduler.log_tail()}")

    def stop_scheduler(self) -> None:
        """Stop the scheduler; its workers notice and exit too."""
        if self.scheduler is not None:
            self.scheduler.stop()

    def start_workers(self, count: int = 1, threads: int = 1, timeout: float = 60.0) -> None:
        """Start ``count`` worker processes and wait until the scheduler sees them all."""
        expected = self.worker_count() + count
        worker = ManagedProcess(
            f"workers-{len(self.workers) + 1}",
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                self.address,
                "--host",
                HOST,
                "--nworkers",
                str(count),
                "--nthreads",
                str(threads),
                "--no-dashboard",
                "--local-directory",
                str(self.log_dir / "dask-worker-space"),
            ],
            self.log_dir,
            self.env(),
        )
        self.workers.append(worker)
        try:
            wait_for(lambda: self.worker_count() >= expected, timeout, f"{expected} Dask workers")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{worker.log_tail()}") from None

    def worker_count(self) -> int:
        """Workers the scheduler knows, through its HTTP API."""
        try:
            url = f"{self.dashboard_url}/api/v1/get_workers"
            with urllib.request.urlopen(url, timeout=5) as response:
                count: int = json.load(response)["num_workers"]
                return count
        except (OSError, ValueError, KeyError):
            return 0

    def close(self) -> None:
        """Stop every process this object started."""
        for worker in self.workers:
            worker.stop()
        self.stop_scheduler()


@contextlib.contextmanager
def running_dask(log_dir: Path, workers: int, threads: int) -> Iterator[LocalDask]:
    """A real scheduler and ``workers`` worker processes of ``threads`` threads, stopped after."""
    log_dir.mkdir(parents=True, exist_ok=True)
    dask = LocalDask(log_dir)
    try:
        dask.start_scheduler()
        dask.start_workers(count=workers, threads=threads)
        yield dask
    finally:
        dask.close()


class PanelServer:
    """`panel-dask-serve` as a subprocess, pointed at a Dask scheduler."""

    def __init__(
        self,
        log_dir: Path,
        dask: LocalDask,
        *,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            PANEL_ADDRESS=HOST,
            PANEL_PORT=str(self.port),
            PANEL_ALLOW_WEBSOCKET_ORIGIN=f"localhost:{self.port},{HOST}:{self.port}",
            DASK_SCHEDULER_ADDRESS=dask.address,
            DASK_DASHBOARD_URL=dask.dashboard_url,
        )
        env.update(extra_env or {})
        self.process = ManagedProcess(
            "panel", [sys.executable, "-m", "panel_dask_app.serve", *extra_args], log_dir, env
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until /health answers 200."""
        try:
            wait_for(
                lambda: not self.process.running() or http_status(f"{self.url}/health") == 200,
                timeout,
                "the Panel server's /health",
            )
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.process.log_tail()}") from None
        if not self.process.running():
            raise RuntimeError(f"the Panel server exited:\n{self.process.log_tail()}")

    def stop(self) -> None:
        """Stop the server."""
        self.process.stop()
