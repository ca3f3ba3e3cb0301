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

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from conftest import DaskProcesses, free_port
from distributed import Client, Event

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
        wait_for(self.alive, f"the operator's liveness {self.liveness}", timeout=60)

    def alive(self) -> bool:
        """Whether the liveness endpoint answers 200; fails the test if the process died."""
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


DELAY = 4  # scaleDownDelaySeconds
THREADS = 2  # per worker process
SETTINGS = {
    "dask__worker__replicas": 1,
    "autoscaler__minimum": 1,
    "autoscaler__maximum": 6,
    "autoscaler__tasksPerWorker": 2,
    "autoscaler__scaleDownDelaySeconds": DELAY,
    "autoscaler__pollIntervalSeconds": 0.5,
}


@dataclass
class Stack:
    """The running pieces of one operator test module, and how the tests look at them."""

    cp: Any
    namespace: str
    dask: DaskProcesses
    kubelet: WorkerKubelet
    operator: OperatorProcess

    def kubectl(self, *args: str) -> str:
        return run(self.cp.kubectl, *args, "-n", self.namespace)

    def get(self, *args: str) -> Any:
        return get_json(self.cp, *args, "-n", self.namespace)

    def autoscaler(self) -> dict[str, Any]:
        return dict(self.get("daskqueueautoscaler", CLUSTER))

    def replicas(self) -> int:
        return int(self.get("daskworkergroup", GROUP)["spec"]["worker"]["replicas"])

    def worker_deployments(self) -> list[str]:
        items = self.get("deployments", "-l", f"dask.org/workergroup-name={GROUP}")["items"]
        return sorted(
            d["metadata"]["name"] for d in items if not d["metadata"].get("deletionTimestamp")
        )

    def scheduler_workers(self, client: Client) -> list[str]:
        return sorted(
            str(w["name"]) for w in client.scheduler_info(n_workers=-1)["workers"].values()
        )

    def converged(self, client: Client, count: int) -> bool:
        """Replicas, Deployments and connected workers all equal ``count``, and agree."""
        self.check()
        deployments = self.worker_deployments()
        return (
            self.replicas() == count
            and len(deployments) == count
            and self.scheduler_workers(client) == deployments
        )

    def events(self, reason: str) -> dict[str, str]:
        """The autoscaler's Events with this reason: name -> message."""
        items = self.get(
            "events", "--field-selector", f"involvedObject.name={CLUSTER},reason={reason}"
        )["items"]
        return {
            e["metadata"]["name"]: e["message"]
            for e in items
            if e["involvedObject"]["kind"] == "DaskQueueAutoscaler"
        }

    def new_events(self, reason: str, before: dict[str, str]) -> list[str]:
        """Messages of the Events with ``reason`` posted since ``before``; waits for one."""

        def posted() -> list[str]:
            return [m for name, m in self.events(reason).items() if name not in before]

        return list(wait_until(posted, f"a {reason} Event"))

    def ready_condition(self) -> dict[str, Any]:
        conditions = self.autoscaler().get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def check(self) -> None:
        """The operator and the worker kubelet are still alive."""
        assert self.kubelet.error is None, repr(self.kubelet.error)
        assert self.operator.proc is not None and self.operator.proc.poll() is None, (
            self.operator.tail()
        )


def blocked_until(event_name: str):
    """A task that waits for the test's go; built here so Dask ships it by value."""

    def blocked(i: int) -> int:
        Event(event_name).wait()
        return i * 2

    return blocked


def scaled(message: str) -> tuple[int, int]:
    before, after = re.search(r"replicas (\d+) -> (\d+)", message).groups()  # type: ignore[union-attr]
    return int(before), int(after)


@contextlib.contextmanager
def running_stack(
    cp: Any, namespace_factory: Callable[..., str], tmp_path_factory: Any
) -> Iterator[Stack]:
    """The chart in a restricted namespace, a scheduler, the worker kubelet and the operator."""
    apply_crds(cp)
    namespace = namespace_factory(labels=RESTRICTED)
    install_chart(cp, namespace, **SETTINGS)
    workdir = tmp_path_factory.mktemp("operator-cluster")
    dask = DaskProcesses(workdir)
    dask.start_scheduler()
    kubelet = WorkerKubelet(dask, cp, namespace, threads=THREADS)
    kubelet.start()
    kubeconfig = operator_kubeconfig(cp, namespace, workdir / "kubeconfig")
    operator = OperatorProcess(namespace, kubeconfig, dask.base_url, workdir / "operator.log")
    try:
        operator.start()
        yield Stack(cp, namespace, dask, kubelet, operator)
    finally:
        print(operator.tail(200))
        operator.kill(signal.SIGTERM)
        kubelet.stop()
        dask.stop()
