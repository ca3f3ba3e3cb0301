"""The operator's test stack on the real control plane: chart, scheduler, workers, operator.

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
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from distributed import Client, Event

from panel_dask_testkit.kube import (
    RESTRICTED,
    apply_crds,
    get_json,
    install_chart,
    run,
    service_account_kubeconfig,
)
from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.operator_process import OperatorProcess
from panel_dask_testkit.waiting import wait_for

CLUSTER = "panel-dask"
GROUP = f"{CLUSTER}-default"
# Workers heartbeat often so the scheduler's busy/idle view is fresh.
WORKER_ENV = {"DASK_DISTRIBUTED__WORKER__HEARTBEAT_INTERVAL": "200ms"}


class WorkerKubelet(threading.Thread):
    """Keeps one real worker process per worker Deployment of the group (see module doc)."""

    def __init__(self, dask: LocalDask, cp: Any, namespace: str, threads: int) -> None:
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
                self.dask.start_worker(name, threads=self.threads)
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


def quiet_for(check: Callable[[], bool], what: str, seconds: float) -> None:
    """Assert ``check`` stays true for ``seconds`` (for things that must not happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), what
        time.sleep(0.3)


DELAY = 4  # scaleDownDelaySeconds
THREADS = 2  # per worker process
SETTINGS = {
    "dask.worker.replicas": 1,
    "autoscaler.minimum": 1,
    "autoscaler.maximum": 6,
    "autoscaler.tasksPerWorker": 2,
    "autoscaler.scaleDownDelaySeconds": DELAY,
    "autoscaler.pollIntervalSeconds": 0.5,
}


@dataclass
class Stack:
    """The running pieces of one operator test module, and how the tests look at them."""

    cp: Any
    namespace: str
    dask: LocalDask
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

        return list(wait_for(posted, f"a {reason} Event"))

    def ready_condition(self) -> dict[str, Any]:
        conditions = self.autoscaler().get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def check(self) -> None:
        """The operator and the worker kubelet are still alive."""
        assert self.kubelet.error is None, repr(self.kubelet.error)
        assert self.operator.running(), self.operator.tail()


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
    install_chart(cp, namespace, SETTINGS)
    workdir = tmp_path_factory.mktemp("operator-cluster")
    dask = LocalDask(workdir, dashboard_prefix="/dask", extra_env=WORKER_ENV)
    kubelet = WorkerKubelet(dask, cp, namespace, threads=THREADS)
    kubeconfig = service_account_kubeconfig(cp, namespace, workdir / "kubeconfig")
    operator = OperatorProcess(namespace, kubeconfig, dask.dashboard_url, workdir)
    try:
        dask.start_scheduler()
        kubelet.start()
        operator.start()
        yield Stack(cp, namespace, dask, kubelet, operator)
    finally:
        print(operator.tail(200))
        operator.stop()
        if kubelet.is_alive():
            kubelet.stop()
        dask.close()
