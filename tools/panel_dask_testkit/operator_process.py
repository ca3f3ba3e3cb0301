"""``python -m panel_dask_operator`` as a process outside any cluster, for tests and benchmarks.

It authenticates with a kubeconfig (usually the chart's ServiceAccount token,
:func:`panel_dask_testkit.kube.service_account_kubeconfig`) and reads the
scheduler at ``metrics_url`` (``PANEL_DASK_METRICS_URL``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from panel_dask_testkit.metrics import Samples, scrape
from panel_dask_testkit.net import HOST, free_port, http_status
from panel_dask_testkit.processes import ManagedProcess


class OperatorProcess:
    """The operator of one namespace; ``start`` again after ``stop``/``kill`` restarts it.

    ``kubeconfig`` and ``metrics_url`` may be changed between runs. Every run
    appends to the one log, ``log_dir/operator.log``.
    """

    def __init__(
        self,
        namespace: str,
        kubeconfig: Path,
        metrics_url: str,
        log_dir: Path,
        verbose: bool = True,
    ) -> None:
        self.namespace = namespace
        self.kubeconfig = kubeconfig
        self.metrics_url = metrics_url
        self.log_dir = log_dir
        self.verbose = verbose
        self.liveness = ""
        self.telemetry_url = ""
        self.process: ManagedProcess | None = None

    @property
    def log(self) -> Path:
        """The log every run appends to."""
        return self.log_dir / "operator.log"

    @property
    def pid(self) -> int | None:
        """The running process's id."""
        return None if self.process is None else self.process.pid

    def start(self, timeout: float = 90.0) -> None:
        """Start the operator and wait until its liveness endpoint answers 200."""
        self.liveness = f"http://{HOST}:{free_port()}/healthz"
        metrics_port = free_port()
        self.telemetry_url = f"http://{HOST}:{metrics_port}/metrics"
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PANEL_DASK_METRICS_URL": self.metrics_url,
        }
        argv = [
            sys.executable, "-m", "panel_dask_operator", "--namespace", self.namespace,
            f"--liveness={self.liveness}", f"--metrics-port={metrics_port}",
            *(["--verbose"] if self.verbose else []),
        ]  # fmt: skip
        self.process = ManagedProcess("operator", argv, self.log_dir, env)
        self.process.wait_until(self.alive, f"the operator's liveness {self.liveness}", timeout)

    def running(self) -> bool:
        """Whether the operator process runs."""
        return self.process is not None and self.process.running()

    def alive(self) -> bool:
        """Whether the liveness endpoint answers 200."""
        return http_status(self.liveness, timeout=2) == 200

    def metrics(self) -> Samples:
        """A scrape of the operator's Prometheus endpoint."""
        return scrape(self.telemetry_url)

    def stop(self) -> None:
        """SIGTERM: the operator shuts down as a pod's operator does."""
        if self.process is not None:
            self.process.stop(grace=30)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: whatever it was doing stays half done."""
        if self.process is not None:
            self.process.kill()
        self.process = None

    def tail(self, lines: int = 60) -> str:
        """The end of the log, every run included."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
