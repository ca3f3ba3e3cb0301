"""Start and stop a real control plane on loopback.

etcd, kube-apiserver (RBAC on), kube-controller-manager, kube-scheduler and kwok
with a few fake nodes.

Every process runs in its own session with its log under the state folder;
``state.json`` records ports and pids, so a later ``down`` (another process, e.g.
``make cluster-down``) stops exactly what ``up`` started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panel_dask_testcluster import pki
from panel_dask_testcluster.build import STAGES_FILE, build
from panel_dask_testcluster.pins import cache_root
from panel_dask_testkit.net import free_port
from panel_dask_testkit.processes import ManagedProcess, ProcessExitedError
from panel_dask_testkit.waiting import wait_for

NODE_COUNT = 3
NODE_LABEL = "type=kwok"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
START_TIMEOUT = 120.0
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")

# Metadata of every request (who, verb, resource, user agent), no bodies: enough to
# count what a client did, cheap enough to leave on.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
"""


class ControlPlaneError(RuntimeError):
    """A component did not start; the message names it and quotes its log."""


def default_state_dir() -> Path:
    """Where ``make cluster-up`` keeps its control plane."""
    return cache_root() / "cluster"


@dataclass
class ControlPlane:
    """A running control plane and the ways to talk to it."""

    state_dir: Path
    bin_dir: Path
    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (``system:masters``)."""
        return self.state_dir / "admin.kubeconfig"

    @property
    def server(self) -> str:
        """The apiserver's URL."""
        return f"https://127.0.0.1:{self.ports['kube-apiserver']}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the apiserver's serving certificate."""
        return self.state_dir / "pki" / "ca.crt"

    @property
    def audit_log(self) -> Path:
        """The apiserver's audit log: one JSON event per request (metadata level)."""
        return self.state_dir / "logs" / "audit.log"

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` plus KUBECONFIG and the tools first on PATH."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["HELM_CACHE_HOME"] = str(self.state_dir / "helm" / "cache")
        env["HELM_CONFIG_HOME"] = str(self.state_dir / "helm" / "config")
        env["HELM_DATA_HOME"] = str(self.state_dir / "helm" / "data")
        return env

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run this control plane's kubectl as admin; ``kwargs`` go to ``subprocess.run``."""
        kwargs.setdefault("env", self.env)
        return subprocess.run([str(self.bin_dir / "kubectl"), *args], **kwargs)

    def helm(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run the pinned helm against this control plane as admin."""
        kwargs.setdefault("env", self.env)
        return subprocess.run([str(self.bin_dir / "helm"), *args], **kwargs)

    def metrics(self) -> str:
        """The apiserver's Prometheus metrics text."""
        result = self.kubectl("get", "--raw", "/metrics", capture_output=True, text=True)
        if result.returncode != 0:
            raise ControlPlaneError(f"GET /metrics failed: {result.stderr}")
        return result.stdout

    def save(self) -> None:
        """Record ports and pids for a later ``down``."""
        state = {"bin_dir": str(self.bin_dir), "ports": self.ports, "pids": self.pids}
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> ControlPlane:
        """The control plane ``up`` recorded in ``state_dir``."""
        state = json.loads((state_dir / "state.json").read_text())
        return cls(state_dir, Path(state["bin_dir"]), state["ports"], state["pids"])


def kubeconfig_text(server: str, ca: Path, cert: Path, key: Path, user: str) -> str:
    """A one-context kubeconfig with a client certificate."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "panel-dask-test",
                "cluster": {"server": server, "certificate-authority": str(ca)},
            }
        ],
        "users": [
            {"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}
        ],
        "contexts": [
            {"name": "panel-dask-test", "context": {"cluster": "panel-dask-test", "user": user}}
        ],
        "current-context": "panel-dask-test",
    }
    return json.dumps(config, indent=2)


def component_args(cp: ControlPlane, name: str) -> list[str]:
    """The command line of one component."""
    pki_dir, state, ports = cp.state_dir / "pki", cp.state_dir, cp.ports
    if name == "etcd":
        peer = f"http://127.0.0.1:{ports['etcd-peer']}"
        client = f"http://127.0.0.1:{ports['etcd']}"
        return [
            "--name=default", f"--data-dir={state / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}", "--unsafe-no-fsync", "--log-level=warn",
        ]  # fmt: skip
    if name == "kube-apiserver":
        return [
            f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={ports['kube-apiserver']}", "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki_dir / 'apiserver.crt'}",
            f"--tls-private-key-file={pki_dir / 'apiserver.key'}",
            f"--client-ca-file={pki_dir / 'ca.crt'}",
            "--authorization-mode=Node,RBAC", "--anonymous-auth=false",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki_dir / 'sa.pub'}",
            f"--service-account-signing-key-file={pki_dir / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true",
            f"--audit-policy-file={state / 'audit-policy.yaml'}",
            f"--audit-log-path={cp.audit_log}", "--audit-log-format=json",
            "--audit-log-maxsize=200", "--audit-log-maxbackup=1", "--profiling=false",
        ]  # fmt: skip
    kubeconfig = state / f"{name}.kubeconfig"
    if name == "kube-controller-manager":
        return [
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={ports[name]}",
            f"--cluster-signing-cert-file={pki_dir / 'ca.crt'}",
            f"--cluster-signing-key-file={pki_dir / 'ca.key'}",
            f"--root-ca-file={pki_dir / 'ca.crt'}",
            f"--service-account-private-key-file={pki_dir / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--use-service-account-credentials=true", "--leader-elect=false",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
            "--kube-api-qps=100", "--kube-api-burst=200", "--profiling=false",
        ]  # fmt: skip
    if name == "kube-scheduler":
        return [
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={ports[name]}",
            "--leader-elect=false", "--kube-api-qps=100", "--kube-api-burst=200",
            "--profiling=false",
        ]  # fmt: skip
    if name == "kwok":
        return [
            f"--kubeconfig={kubeconfig}", "--manage-all-nodes=false",
            f"--manage-nodes-with-label-selector={NODE_LABEL}",
            f"--config={cp.bin_dir / STAGES_FILE}", f"--cidr={POD_CIDR}", "--node-ip=10.0.0.1",
            f"--server-address=127.0.0.1:{ports['kwok']}", "--node-lease-duration-seconds=40",
        ]  # fmt: skip
    raise ValueError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")


def binary_of(name: str) -> str:
    """Each component's binary has its own name."""
    return name


def _health_url(cp: ControlPlane, name: str) -> str:
    if name == "etcd":
        return f"http://127.0.0.1:{cp.ports['etcd']}/health"
    if name == "kwok":
        return f"http://127.0.0.1:{cp.ports['kwok']}/healthz"
    path = "/readyz" if name == "kube-apiserver" else "/healthz"
    return f"https://127.0.0.1:{cp.ports[name]}{path}"


def is_healthy(cp: ControlPlane, name: str) -> bool:
    """True when the component answers its health endpoint with 200."""
    context = ssl.create_default_context(cafile=str(cp.ca_file))
    context.load_cert_chain(cp.state_dir / "pki" / "admin.crt", cp.state_dir / "pki" / "admin.key")
    if name in ("kube-controller-manager", "kube-scheduler"):
        # Self-signed serving certificates generated by the components themselves.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(_health_url(cp, name), timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_component(cp: ControlPlane, name: str) -> None:
    """Start one component in its own session and wait until it reports healthy."""
    process = ManagedProcess(
        name,
        [str(cp.bin_dir / binary_of(name)), *component_args(cp, name)],
        cp.state_dir / "logs",
        cwd=cp.state_dir,
    )
    cp.pids[name] = process.pid
    cp.save()
    try:
        process.wait_until(lambda: is_healthy(cp, name), f"{name} healthy", START_TIMEOUT)
    except (ProcessExitedError, TimeoutError) as error:
        raise ControlPlaneError(str(error)) from None


def node_manifest(index: int) -> dict[str, Any]:
    """A fake node kwok manages: labelled for kwok, no taints so any pod may land there."""
    name = f"kwok-node-{index}"
    key, value = NODE_LABEL.split("=")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                key: value,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": f"zone-{index % 2}",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250"},
        },
    }


def _wait(cp: ControlPlane, what: str, *args: str) -> None:
    """Wait until ``kubectl args`` succeeds with output."""

    def answered() -> str:
        result = cp.kubectl(*args, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    try:
        wait_for(answered, what, START_TIMEOUT, 0.5)
    except TimeoutError as error:
        raise ControlPlaneError(str(error)) from None


def create_nodes(cp: ControlPlane, count: int = NODE_COUNT) -> None:
    """Create the fake nodes and wait until kwok has made every one Ready."""
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [node_manifest(i) for i in range(count)],
    }
    result = cp.kubectl(
        "apply", "-f", "-", input=json.dumps(manifest), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ControlPlaneError(f"creating nodes failed: {result.stderr}")
    for index in range(count):
        _wait(cp, f"node kwok-node-{index} Ready", "wait", "--for=condition=Ready",
              f"node/kwok-node-{index}", "--timeout=5s")  # fmt: skip


def start(state_dir: Path, progress: bool = True) -> ControlPlane:
    """Build if needed, then start every component in ``state_dir``; returns the control plane."""
    bin_dir = build()
    if state_dir.exists():
        shutil.rmtree(state_dir)
    (state_dir / "logs").mkdir(parents=True)
    pki.write_pki(state_dir / "pki")
    names = [*COMPONENTS, "etcd-peer"]
    cp = ControlPlane(state_dir, bin_dir, {name: free_port() for name in names})
    (state_dir / "audit-policy.yaml").write_text(AUDIT_POLICY)
    identities = {
        "admin": pki.ADMIN, "kube-controller-manager": pki.CONTROLLER_MANAGER,
        "kube-scheduler": pki.SCHEDULER, "kwok": pki.KWOK,
    }  # fmt: skip
    for file_stem, identity in identities.items():
        text = kubeconfig_text(
            cp.server, cp.ca_file, state_dir / "pki" / f"{identity.stem}.crt",
            state_dir / "pki" / f"{identity.stem}.key", identity.user,
        )  # fmt: skip
        (state_dir / f"{file_stem}.kubeconfig").write_text(text)
    cp.save()
    try:
        for index, name in enumerate(COMPONENTS, start=1):
            began = time.monotonic()
            start_component(cp, name)
            if progress:
                print(
                    f"[{index}/{len(COMPONENTS) + 1}] {name} ready "
                    f"({time.monotonic() - began:.1f}s)",
                    flush=True,
                )
        create_nodes(cp)
        _wait(
            cp,
            "the default ServiceAccount",
            "get",
            "serviceaccount",
            "default",
            "-n",
            "default",
            "-o",
            "name",
        )
        if progress:
            print(
                f"[{len(COMPONENTS) + 1}/{len(COMPONENTS) + 1}] {NODE_COUNT} kwok nodes Ready",
                flush=True,
            )
    except BaseException:
        stop(state_dir)
        raise
    return cp


def _ours(pid: int, bin_dir: str) -> bool:
    """True if ``pid`` still runs one of our binaries (a pid can be reused)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return command.startswith(bin_dir)


def stop(state_dir: Path, timeout: float = 15.0) -> list[str]:
    """Stop every component recorded in ``state_dir`` (newest first) and remove the folder."""
    if not (state_dir / "state.json").exists():
        shutil.rmtree(state_dir, ignore_errors=True)
        return []
    cp = ControlPlane.load(state_dir)
    stopped = []
    for name in reversed(list(cp.pids)):
        pid = cp.pids[name]
        if not _ours(pid, str(cp.bin_dir)):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _ours(pid, str(cp.bin_dir)) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if _ours(pid, str(cp.bin_dir)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        _reap(pid)
        stopped.append(name)
    shutil.rmtree(state_dir, ignore_errors=True)
    return stopped


def _reap(pid: int) -> None:
    """Collect a child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


@contextlib.contextmanager
def running_control_plane(state_dir: Path | None = None) -> Iterator[ControlPlane]:
    """A control plane for the duration of a ``with`` block (benchmarks, scripts)."""
    import tempfile

    directory = state_dir or Path(tempfile.mkdtemp(prefix="panel-dask-cp-"))
    try:
        cp = start(directory)
    except ControlPlaneError as error:
        # A free port can be taken by another process between choosing and binding it;
        # one retry with fresh ports is enough, a real fault fails twice.
        print(f"control plane start failed, retrying once with new ports: {error}")
        cp = start(directory)
    try:
        yield cp
    finally:
        stop(directory)
