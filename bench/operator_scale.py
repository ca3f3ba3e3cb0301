"""The operator at scale: 1 → 200 Ready workers on a real apiserver with kwok nodes.

Everything is real except the worker containers: the control plane (etcd,
kube-apiserver, controller-manager, scheduler, kwok nodes), the chart's CRDs and
chart, the operator as a process authenticated with the chart's ServiceAccount
token, and a real ``dask scheduler`` holding a big backlog of tasks that the
operator reads through ``PANEL_DASK_METRICS_URL``. kwok pods run no code, so the
workers they stand for never connect: the backlog stays, the autoscaler asks for
its maximum, and what is timed is the Kubernetes side (decision, Deployments,
Pods Ready).

API requests are counted from the apiserver's audit log (one JSON line per
request), filtered on the operator's ServiceAccount; this includes the
dask-kubernetes controller that runs inside the operator process.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.figures import pyplot, save
from bench.progress import Progress
from bench.stats import NotMeasuredError, rounded
from panel_dask_testkit.kube import (
    OPERATOR_SERVICE_ACCOUNT,
    RELEASE,
    apply_crds,
    install_chart,
    service_account_kubeconfig,
)
from panel_dask_testkit.kube import run as run_tool
from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.operator_process import OperatorProcess
from panel_dask_testkit.waiting import wait_for

NAMESPACE = "bench-operator"
GROUP = f"{RELEASE}-default"
TASKS_PER_WORKER = 4


def sizes(quick: bool) -> dict[str, float]:
    """Target workers and idle-measurement window for a full or a quick run."""
    if quick:
        return {"maximum": 20, "idle_s": 20.0}
    return {"maximum": 200, "idle_s": 30.0}


def install(cp: Any, maximum: int) -> None:
    """CRDs, a namespace, and the chart with the autoscaler bounds under test."""
    apply_crds(cp)
    run_tool(cp.kubectl, "create", "namespace", NAMESPACE)
    values = {
        "dask.worker.replicas": 1,
        "autoscaler.minimum": 1,
        "autoscaler.maximum": maximum,
        "autoscaler.tasksPerWorker": TASKS_PER_WORKER,
        "autoscaler.pollIntervalSeconds": 1,
    }
    install_chart(cp, NAMESPACE, values, timeout="300s")


def operator_requests(audit_log: Path, since: float, until: float) -> list[dict[str, Any]]:
    """Audit events of requests the operator's ServiceAccount made in [since, until) (epoch s)."""
    user = f"system:serviceaccount:{NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}"
    events = []
    for line in audit_log.read_text(errors="replace").splitlines():
        if user not in line:
            continue
        event = json.loads(line)
        if event.get("user", {}).get("username") != user:
            continue
        if event.get("stage") not in (None, "ResponseComplete", "Panic"):
            continue
        stamp = _epoch(event.get("requestReceivedTimestamp", ""))
        if since <= stamp < until:
            events.append(event)
    return events


def _epoch(stamp: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def first_request(events: list[dict[str, Any]], verb: str, resource: str) -> float | None:
    """When (epoch s) the apiserver received the first ``verb`` on ``resource`` in ``events``."""
    stamps = [
        _epoch(e.get("requestReceivedTimestamp", ""))
        for e in events
        if e.get("verb") == verb and e.get("objectRef", {}).get("resource") == resource
    ]
    return min(stamps) if stamps else None


def by_kind(events: list[dict[str, Any]]) -> dict[str, int]:
    """Request counts keyed ``verb resource`` (watches included), most frequent first."""
    counts = Counter(
        f"{e.get('verb')} {e.get('objectRef', {}).get('resource', e.get('requestURI', '?'))}"
        for e in events
    )
    return dict(counts.most_common())


def ready_since(cp: Any) -> list[float]:
    """When (epoch s, 1 s resolution) each worker pod of the group last became Ready."""
    jsonpath = ('{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}'
                '{.status}={.lastTransitionTime}{" "}{end}{end}')  # fmt: skip
    selector = f"dask.org/workergroup-name={GROUP}"
    out = run_tool(cp.kubectl, "get", "pods", "-n", NAMESPACE, "-l", selector, "-o",
                   f"jsonpath={jsonpath}")  # fmt: skip
    return sorted(
        _epoch(stamp) for status, _, stamp in (w.partition("=") for w in out.split())
        if status == "True"
    )  # fmt: skip


def since(stamps: list[float], started: float, resolution: float = 0.0) -> list[float]:
    """Stamps after ``started``, as seconds since it (sorted).

    A stamp truncated to ``resolution`` seconds says "between t and t + resolution":
    it counts from ``started - resolution`` and is reported as its upper bound.
    """
    return sorted(rounded(t + resolution - started, 3) for t in stamps if t + resolution > started)


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``operator_scale`` object of latest.json."""
    from distributed import Client

    from panel_dask_testcluster.cluster import running_control_plane

    size = sizes(quick)
    maximum, idle_s = int(size["maximum"]), size["idle_s"]
    progress = Progress("operator_scale", 5)
    work = Path(tempfile.mkdtemp(prefix="bench-operator-"))
    with running_control_plane() as cp:
        progress.step("control plane up (etcd, apiserver, controller-manager, scheduler, kwok)")
        install(cp, maximum)
        progress.step(f"chart installed (autoscaler 1..{maximum}, {TASKS_PER_WORKER}/worker)")
        dask = LocalDask(work)
        operator = None
        try:
            dask.start_scheduler()
            kubeconfig = service_account_kubeconfig(cp, NAMESPACE, work / "kubeconfig")
            operator = OperatorProcess(
                NAMESPACE, kubeconfig, dask.dashboard_url, work, verbose=False
            )
            operator.start()
            wait_for(lambda: len(ready_since(cp)) >= 1, "one Ready worker pod", 180)
            time.sleep(3)  # the first reconciles settle
            idle_start = time.time()
            time.sleep(idle_s)
            idle = operator_requests(cp.audit_log, idle_start, time.time())
            progress.step(f"idle at 1 worker: {len(idle)} requests in {idle_s:.0f} s")

            tasks = maximum * TASKS_PER_WORKER * 2
            with Client(dask.address, timeout=30) as client:
                futures = client.map(time.sleep, [1.0] * tasks, pure=False)
                started = time.time()
                deadline = started + (600 if not quick else 240)
                ready: list[float] = []
                while len(ready) < maximum:
                    if time.time() > deadline:
                        raise NotMeasuredError(
                            f"{maximum} Ready workers not reached in time ({len(ready)} Ready)"
                        )
                    if not operator.running():
                        raise NotMeasuredError("the operator exited during the burst")
                    time.sleep(1.0)
                    ready = ready_since(cp)
                burst = operator_requests(cp.audit_log, started, time.time())
                # Times come from the apiserver (audit log, microseconds) and from the
                # pods' Ready transition (kwok, 1 s resolution), not from this poll.
                patched = first_request(burst, "patch", "daskworkergroups")
                decision = None if patched is None else patched - started
                created = since(
                    [_epoch(e["requestReceivedTimestamp"]) for e in burst
                     if e.get("verb") == "create"
                     and e.get("objectRef", {}).get("resource") == "deployments"],
                    started,
                )  # fmt: skip
                became_ready = since(ready, started, resolution=1.0)
                if not became_ready:
                    raise NotMeasuredError("no worker pod became Ready after the backlog")
                ready_at = became_ready[-1]
                progress.step(f"{maximum} Ready in {ready_at:.1f} s; {len(burst)} requests")
                steady_start = time.time()
                time.sleep(idle_s)
                steady = operator_requests(cp.audit_log, steady_start, time.time())
                progress.step(f"steady at {maximum}: {len(steady)} requests in {idle_s:.0f} s")
                del futures
        finally:
            if operator is not None:
                operator.stop()
            dask.close()
    per_minute = 60.0 / idle_s
    return {
        "target_ready_workers": maximum,
        "backlog_tasks": tasks,
        "tasks_per_worker": TASKS_PER_WORKER,
        "poll_interval_s": 1,
        "decision_s": None if decision is None else rounded(decision, 3),
        "last_deployment_created_s": created[-1] if created else None,
        "first_new_worker_ready_s": became_ready[0],
        "ready_workers_s": rounded(ready_at),
        "ready_times_are_upper_bounds_within_s": 1.0,
        "api_requests_during_scale_up": len(burst),
        "api_requests_by_kind_during_scale_up": by_kind(burst),
        "idle_requests_per_minute_at_1_worker": rounded(len(idle) * per_minute, 1),
        "idle_requests_by_kind_at_1_worker": by_kind(idle),
        "steady_requests_per_minute_at_max_workers": rounded(len(steady) * per_minute, 1),
        "idle_window_s": idle_s,
        "timeline": {
            "replicas_patched_s": None if decision is None else rounded(decision, 3),
            "deployments_created_s": created,
            "pods_ready_s": became_ready,
        },
        "method": "kwok pods run no code: the workers never connect, so the scheduler's "
        "backlog stays and the autoscaler holds at its maximum; requests are from the "
        "apiserver's audit log for the operator's ServiceAccount (the operator process, "
        "including the dask-kubernetes controller inside it)",
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Replicas asked for, Deployments and Ready pods over time during the scale-up."""
    plt = pyplot()

    timeline = result["timeline"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, key in (("worker Deployments created", "deployments_created_s"),
                       ("worker Pods Ready", "pods_ready_s")):  # fmt: skip
        times = timeline[key]
        ax.step([0.0, *times], range(1, len(times) + 2), where="post", label=label)
    if timeline["replicas_patched_s"] is not None:
        ax.axvline(timeline["replicas_patched_s"], color="grey", linestyle=":",
                   label="replicas patched to the maximum")  # fmt: skip
    ax.set_xlabel("seconds since the backlog appeared")
    ax.set_ylabel("workers")
    ax.set_title(f"Operator on kwok: 1 -> {result['target_ready_workers']} Ready workers")
    ax.legend()
    return save(fig, out_dir, "operator_scale")
