"""The operator on the real control plane: its process, its credentials, and workers.

kwok pods run no code, so :class:`WorkerKubelet` plays the kubelet for the worker
Deployments dask-kubernetes creates: one real ``dask worker`` process per
Deployment, named after it (as the chart's pods name themselves), started when
the Deployment appears, restarted if it exits while the Deployment exists (a
container restart), stopped when the Deployment goes. The scheduler those
workers join is a real local process; the operator reads it through
``PANEL_DASK_METRICS_URL``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from conftest import DaskProcesses, free_port

from panel_dask_testcluster.waiting import wait_for

CHART_DIR = Path(__file__).resolve().parents[2] / "charts" / "panel-dask"
CRD_DIR = CHART_DIR / "crds"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
RELEASE = "panel-dask"
CLUSTER = "panel-dask"
GROUP = f"{CLUSTER}-default"
SERVICE_ACCOUNT = "panel-dask-operator"


def run(tool: Callable[..., subprocess.CompletedProcess[str]], *args: str) -> str:
    """Run helm or kubectl through the fixture and return stdout; fail with stderr."""
    result = tool(*args, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def get_json(cp: Any, *args: str) -> Any:
    """`kubectl get ... -o json`, parsed."""
    return json.loads(run(cp.kubectl, "get", *args, "-o", "json"))


def apply_crds(cp: Any) -> None:
    """Install the chart's CRDs (ours and dask-kubernetes') and wait until they serve."""
    run(cp.kubectl, "apply", "--server-side", "--force-conflicts", "-f", str(CRD_DIR))
    names = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in CRD_DIR.glob("*.yaml")]
    run(cp.kubectl, "wait", "--for=condition=Established", "--timeout=60s",
        *[f"crd/{name}" for name in names])  # fmt: skip


def install_chart(cp: Any, namespace: str, **values: Any) -> None:
    """`helm install` the chart with typed values (dotted keys spelt ``a__b``)."""
    sets = [f"{k.replace('__', '.')}={json.dumps(v)}" for k, v in values.items()]
    args = [a for s in sets for a in ("--set-json", s)]
    run(cp.helm, "install", RELEASE, str(CHART_DIR), "--namespace", namespace,
        "--wait", "--timeout", "180s", *args)  # fmt: skip


def operator_kubeconfig(cp: Any, namespace: str, path: Path) -> Path:
    """A kubeconfig that authenticates as the chart's operator ServiceAccount (a bound token)."""
    token = run(cp.kubectl, "create", "token", SERVICE_ACCOUNT, "-n", namespace,
                "--duration=2h").strip()  # fmt: skip
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "cp",
             "cluster": {"server": cp.server, "certificate-authority": str(cp.ca_file)}}
        ],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [
            {"name": "operator", "context": {"cluster": "cp", "user": "operator",
                                             "namespace": namespace}}
        ],
        "current-context": "operator",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


class OperatorProcess:
    """``python -m panel_dask_operator --namespace NS`` as a subprocess, logging to a file."""

    def __init__(self, namespace: str, kubeconfig: Path, metrics_url: str, log: Path) -> None:
        self.namespace = namespace
        self.kubeconfig = kubeconfig
        self.metrics_url = metrics_url
        self.log = log
        self.liveness = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        port = free_port()
        self.liveness = f"http://127.0.0.1:{port}/healthz"
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PANEL_DASK_METRICS_URL": self.metrics_url,
        }
        self.starts += 1
        log = open(self.log, "ab")  # noqa: SIM115 - lives with the process
        log.write(f"\n===== operator start {self.starts}\n".encode())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panel_dask_operator", "--namespace", self.namespace,
             f"--liveness={self.liveness}", "--verbose"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(self._alive, f"the operator's liveness {self.liveness}", timeout=60)

    def _alive(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.tail()
        try:
            with urllib.request.urlopen(self.liveness, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the operator; SIGKILL leaves whatever it was doing half done."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class WorkerKubelet(threading.Thread):
    """Keeps one real worker process per worker Deployment of the group (see module doc)."""

    def __init__(self, dask: DaskProcesses, cp: Any, namespace: str, threads: int) -> None:
        super().__init__(daemon=True, name="worker-kubelet")
        import kr8s

        self.dask, self.threads, self.namespace = dask, threads, namespace
        self.api = kr8s.api(kubeconfig=str(cp.kubeconfig))
        self.running: set[str] = set()
        self.started: list[str] = []
        self._halt = threading.Event()
        self.error: BaseException | None = None

    def deployments(self) -> set[str]:
        import kr8s

        items = kr8s.get(
            "deployments", namespace=self.namespace,
            label_selector={"dask.org/workergroup-name": GROUP}, api=self.api,
        )  # fmt: skip
        return {d.name for d in items if not d.metadata.get("deletionTimestamp")}

    def sync(self) -> None:
        wanted = self.deployments()
        for name in sorted(wanted):
            if not self.dask.worker_running(name):
                self.dask.start_worker(name, nthreads=self.threads)
                self.started.append(name)
        for name in self.running - wanted:
            self.dask.stop_worker(name)
        self.running = wanted

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.sync()
            except Exception as error:  # reported by the test through .error
                self.error = error
            self._halt.wait(0.3)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """`wait_for` with a longer default and a short interval."""
    return wait_for(check, what, timeout=timeout, interval=0.3)


def quiet_for(check: Callable[[], bool], what: str, seconds: float) -> None:
    """Assert ``check`` stays true for ``seconds`` (for things that must not happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), what
        time.sleep(0.3)
