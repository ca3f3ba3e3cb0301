"""Real Dask processes for the operator tests: a scheduler configured like the chart's."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCHEDULER_ROUTES = json.dumps(
    [
        "distributed.http.scheduler.prometheus",
        "distributed.http.scheduler.info",
        "distributed.http.scheduler.json",
        "distributed.http.health",
        "distributed.http.proxy",
        "distributed.http.statics",
        "distributed.http.scheduler.api",
    ]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate` until truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class DaskProcesses:
    """`dask scheduler` and `dask worker` subprocesses on loopback, like the chart runs them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        # Fixed ports, like a Service: a restarted scheduler has the same address and URL.
        self.dashboard_port = free_port()
        self.scheduler_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.dashboard_port}/dask"
        self.env = {
            **os.environ,
            "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES": SCHEDULER_ROUTES,
            # Workers heartbeat often so the busy/idle view over HTTP is fresh.
            "DASK_DISTRIBUTED__WORKER__HEARTBEAT_INTERVAL": "200ms",
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.address = ""

    def _spawn(self, key: str, *args: str) -> None:
        log = open(self.workdir / f"{key}.log", "wb")  # noqa: SIM115 - lives with the process
        self.procs[key] = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_scheduler(self) -> str:
        scheduler_file = self.workdir / "scheduler.json"
        self._spawn(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.scheduler_port),
            "--dashboard-address",
            f"127.0.0.1:{self.dashboard_port}",
            "--dashboard-prefix",
            "/dask",
            "--scheduler-file",
            str(scheduler_file),
        )
        info = wait_for(
            lambda: scheduler_file.exists() and json.loads(scheduler_file.read_text() or "{}"),
            60,
            "the scheduler file",
        )
        self.address = info["address"]
        return self.address

    def start_worker(self, name: str, nthreads: int = 1) -> None:
        self._spawn(
            f"worker-{name}",
            "worker",
            self.address,
            "--name",
            name,
            "--nthreads",
            str(nthreads),
            "--no-nanny",
            "--host",
            "127.0.0.1",
            "--no-dashboard",
            "--local-directory",
            str(self.workdir),
        )

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler (a crash); start_scheduler brings a new one on the same URL."""
        proc = self.procs.pop("scheduler")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
        (self.workdir / "scheduler.json").unlink(missing_ok=True)

    def worker_running(self, name: str) -> bool:
        proc = self.procs.get(f"worker-{name}")
        return proc is not None and proc.poll() is None

    def stop_worker(self, name: str) -> None:
        """SIGTERM a worker process (what the kubelet does when its pod goes away)."""
        proc = self.procs.pop(f"worker-{name}", None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[DaskProcesses]:
    """A real scheduler (HTTP API, Prometheus, /dask prefix); tests add workers."""
    procs = DaskProcesses(tmp_path)
    procs.start_scheduler()
    try:
        yield procs
    finally:
        procs.stop()


@pytest.fixture(scope="module")
def stack(control_plane: Any, namespace_factory: Any, tmp_path_factory: Any) -> Iterator[Any]:
    """The chart, a scheduler, the worker kubelet and the operator, for one test module."""
    # operator_cluster imports this conftest, so it is imported when first needed.
    from operator_cluster import running_stack

    with running_stack(control_plane, namespace_factory, tmp_path_factory) as running:
        yield running
