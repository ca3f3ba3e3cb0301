"""The kind cluster `make kind-up` builds, as the e2e tests talk to it.

kubectl and helm go through the test kit's `run`/`get_json` (the one place that
runs them and reports a failing command's stderr); this module gives them the
kind cluster's context, names the release's objects, reads the Dask scheduler
from inside its pod, and runs the kind scripts with their output streamed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panel_dask_testcluster.pins import bin_dir
from panel_dask_testkit.kube import get_json, run

ROOT = Path(__file__).resolve().parents[2]
APP_URL = "http://localhost"
CHART_NAME = "panel-dask"
# Development switches: reuse the cluster kind-up made earlier; keep it afterwards.
REUSE = os.environ.get("PANEL_DASK_E2E_REUSE") == "1"
KEEP = os.environ.get("KEEP_KIND") == "1"
DOCKER = os.environ.get("DOCKER", "docker")


@dataclass(frozen=True)
class Observed:
    """One look for ``wait_for``: truthy when ``ok``; its repr is what was seen.

    wait_for's timeout message quotes the last look, so a wait that fails says
    what the cluster looked like instead of ``None``.
    """

    ok: bool
    seen: Any

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return repr(self.seen)


def ready(pod: dict[str, Any]) -> bool:
    """Running, Ready and not on its way out."""
    if pod["metadata"].get("deletionTimestamp") or pod["status"].get("phase") != "Running":
        return False
    conditions = pod["status"].get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def selector(labels: dict[str, str]) -> str:
    """A kubectl label selector for these labels."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def host_of(address: str) -> str:
    """The IP of a Dask address such as ``tcp://10.244.1.5:40123`` or ``10.244.1.5:40123``."""
    return address.partition("://")[2].rpartition(":")[0] or address.rpartition(":")[0]


@dataclass(frozen=True)
class KindCluster:
    """The cluster and release that hack/kind-up.sh makes (same environment variables)."""

    name: str
    release: str
    namespace: str
    tools: Path

    @classmethod
    def from_env(cls) -> KindCluster:
        return cls(
            name=os.environ.get("KIND_CLUSTER_NAME", "panel-dask"),
            release=os.environ.get("RELEASE", "panel-dask"),
            namespace=os.environ.get("NAMESPACE", "panel-dask"),
            tools=bin_dir(),
        )

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    # Object names, as the chart's _helpers.tpl and dask-kubernetes derive them.
    @property
    def fullname(self) -> str:
        return self.release if CHART_NAME in self.release else f"{self.release}-{CHART_NAME}"

    @property
    def panel_deployment(self) -> str:
        return f"{self.fullname}-panel"

    @property
    def operator_deployment(self) -> str:
        return f"{self.fullname}-operator"

    @property
    def dask_cluster(self) -> str:
        return self.fullname

    @property
    def scheduler_deployment(self) -> str:
        return f"{self.dask_cluster}-scheduler"

    @property
    def worker_group(self) -> str:
        return f"{self.dask_cluster}-default"

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """The pinned kubectl on this cluster's context; ``kwargs`` go to ``subprocess.run``."""
        return subprocess.run(
            [str(self.tools / "kubectl"), "--context", self.context, *args], **kwargs
        )

    def helm(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """The pinned helm on this cluster's context."""
        return subprocess.run(
            [str(self.tools / "helm"), "--kube-context", self.context, *args], **kwargs
        )

    # Reading the release.
    def get(self, *args: str) -> Any:
        """`kubectl get ... -o json` in the release namespace, parsed."""
        return get_json(self, *args, "-n", self.namespace)

    def pods(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        """The namespace's pods with these labels, terminating ones included."""
        return self.get("pods", "-l", selector(labels))["items"]

    def deployment_pods(self, deployment: str) -> list[dict[str, Any]]:
        """The pods a Deployment's selector matches."""
        spec = self.get("deployment", deployment)["spec"]
        return self.pods(spec["selector"]["matchLabels"])

    def dask_pods(self, component: str) -> list[dict[str, Any]]:
        """Scheduler or worker pods, by the labels dask-kubernetes puts on what it creates."""
        return self.pods(
            {"dask.org/cluster-name": self.dask_cluster, "dask.org/component": component}
        )

    def autoscaler(self) -> dict[str, Any]:
        """The release's DaskQueueAutoscaler."""
        return self.get("daskqueueautoscaler", self.dask_cluster)

    def autoscaler_events(self) -> list[dict[str, Any]]:
        """Events about the DaskQueueAutoscaler, as `kubectl describe dqa` lists them."""
        fields = f"involvedObject.kind=DaskQueueAutoscaler,involvedObject.name={self.dask_cluster}"
        return self.get("events", "--field-selector", fields)["items"]

    def text(self, *args: str) -> str:
        """What a kubectl command prints in the release namespace (for the test report)."""
        return run(self.kubectl, *args, "-n", self.namespace)

    # The Dask scheduler, read from inside its pod: the NetworkPolicies admit no
    # pod of ours, and the scheduler's own comm port answers on loopback.
    def on_scheduler(self, function: str, *args: Any) -> Any:
        """Run the source's ``probe(*args, dask_scheduler)`` on the scheduler; its JSON result.

        Dask passes the scheduler as the keyword ``dask_scheduler``, after ``args``.
        """
        program = _PROBE.format(function=textwrap.dedent(function))
        out = run(
            self.kubectl, "exec", "-n", self.namespace, f"deployment/{self.scheduler_deployment}",
            "-c", "scheduler", "--", "python", "-c", program, json.dumps(args),
        )  # fmt: skip
        return json.loads(out.strip().splitlines()[-1])

    def scheduler_http(self, path: str) -> tuple[int, str]:
        """GET ``path`` from inside the scheduler's pod, from its own HTTP server: (status, body).

        A separate process, not run_on_scheduler: a blocking request from the
        scheduler's event loop to its own server would wait on itself.
        """
        program = (
            "import json, sys, urllib.request\n"
            "with urllib.request.urlopen(sys.argv[1], timeout=30) as response:\n"
            "    print(json.dumps([response.status, response.read().decode()]))\n"
        )
        out = run(
            self.kubectl, "exec", "-n", self.namespace, f"deployment/{self.scheduler_deployment}",
            "-c", "scheduler", "--", "python", "-c", program, f"http://127.0.0.1:8787{path}",
        )  # fmt: skip
        status, body = json.loads(out.strip().splitlines()[-1])
        return status, body

    def connect_probe(self, namespace: str, pod: str | None, targets: list[str]) -> dict[str, str]:
        """Try a TCP connection to each ``host:port``; {target: "open" or the error's name}.

        From an existing pod of the release (``pod``), or from a throwaway pod of
        the app image in ``namespace`` when ``pod`` is None: a pod outside the release.
        """
        program = (
            "import json, socket, sys\n"
            "result = {}\n"
            "for target in sys.argv[1:]:\n"
            "    host, port = target.rsplit(':', 1)\n"
            "    try:\n"
            "        socket.create_connection((host, int(port)), timeout=5).close()\n"
            "        result[target] = 'open'\n"
            "    except OSError as error:\n"
            "        result[target] = type(error).__name__\n"
            "print(json.dumps(result))\n"
        )
        if pod is None:
            # A pod of its own, read through its log once it has finished: `kubectl
            # run -i` attaches after a short program may already have ended, and
            # then prints nothing.
            image = self.get("deployment", self.panel_deployment)["spec"]["template"]["spec"][
                "containers"
            ][0]["image"]
            name = "netpol-probe"
            run(
                self.kubectl, "delete", "pod", name, "-n", namespace, "--ignore-not-found", "--wait"
            )
            run(self.kubectl, "run", name, "-n", namespace, "--restart=Never",
                f"--image={image}", "--image-pull-policy=IfNotPresent",
                "--command", "--", "python", "-c", program, *targets)  # fmt: skip
            try:
                run(self.kubectl, "wait", f"pod/{name}", "-n", namespace,
                    "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s")  # fmt: skip
                out = run(self.kubectl, "logs", f"pod/{name}", "-n", namespace)
            finally:
                run(self.kubectl, "delete", "pod", name, "-n", namespace, "--ignore-not-found")
        else:
            command = ["exec", "-n", namespace, pod, "--", "python", "-c", program, *targets]
            out = run(self.kubectl, *command)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def scheduler_workers(self) -> list[str]:
        """Addresses of the workers connected to the scheduler."""
        return list(self.on_scheduler(WORKER_ADDRESSES))


_PROBE = """
import json, sys
from distributed import Client
{function}
with Client("tcp://127.0.0.1:8786", timeout=60) as client:
    print(json.dumps(client.run_on_scheduler(probe, *json.loads(sys.argv[1]))))
"""

WORKER_ADDRESSES = """
def probe(dask_scheduler):
    return sorted(dask_scheduler.workers)
"""

# Which client wants each task with this key prefix, as the address its comm
# came from: a Panel pod's IP, since each Panel process has one Dask client.
TASK_CLIENTS = """
def probe(prefix, dask_scheduler):
    comms = dask_scheduler.client_comms
    return {
        str(key): [
            comms[c.client_key].comm.peer_address
            for c in ts.who_wants
            if c.client_key in comms and comms[c.client_key].comm is not None
        ]
        for key, ts in dask_scheduler.tasks.items()
        if str(key).startswith(prefix)
    }
"""

# How often each key entered `processing` (was sent to a worker to run) and
# `memory` (a result arrived), from the scheduler's transition log: a task a
# lost or retired worker had to hand back would go to `processing` again.
RUNS = """
def probe(keys, dask_scheduler):
    runs = {key: {"processing": 0, "memory": 0} for key in keys}
    for entry in dask_scheduler.transition_log:
        key, finish = str(entry[0]), entry[2]
        if key in runs and finish in runs[key]:
            runs[key][finish] += 1
    return {"runs": runs, "log": len(dask_scheduler.transition_log)}
"""


def docker(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The docker CLI (``$DOCKER`` or ``docker``), for the test kit's ``run``."""
    return subprocess.run([DOCKER, *args], **kwargs)


def fetch(url: str, timeout: float = 10.0) -> tuple[int, str, str]:
    """GET ``url``: status, content type and body (error bodies too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read().decode(errors="replace")
            return response.status, response.headers.get("Content-Type", ""), body
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        return error.code, error.headers.get("Content-Type", ""), body


def run_script(
    script: str, write: Callable[[str], None], timeout: float, env: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    """Run ``bash script`` from the repository root, writing each output line as it comes.

    Returns the exit code and the last lines. After ``timeout`` seconds the
    script's process group is terminated (its own bounded waits come first).
    """
    process = subprocess.Popen(
        ["bash", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    tail: deque[str] = deque(maxlen=60)
    watchdog = threading.Timer(timeout, _terminate_group, (process, tail, timeout))
    watchdog.start()
    try:
        for line in process.stdout:
            tail.append(line.rstrip("\n"))
            write(line.rstrip("\n"))
        code = process.wait()
    finally:
        watchdog.cancel()
    return code, list(tail)


def _terminate_group(process: subprocess.Popen[str], tail: deque[str], timeout: float) -> None:
    tail.append(f"[e2e] terminated after {timeout:.0f}s")
    os.killpg(process.pid, signal.SIGTERM)
