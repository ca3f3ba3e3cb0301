"""The user's journey on a real kind cluster, one step per test, in order.

`make kind-up` (the session's `kind` fixture) builds the cluster offline and
installs the chart; Debian's chromium reaches the app through the ingress
controller on the host's port 80. The steps build on each other: the browser
session Alice opens in the second step keeps going through the scaling of
Panel and the loss of her pod, and the last steps take everything down again.

Expected numbers come from the installed release (its values, the autoscaler's
spec) and from the app's own task functions, never from literals here.
"""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any
from urllib.parse import urljoin

import prometheus as prom
import pytest
from kind_cluster import (
    APP_URL,
    KEEP,
    RUNS,
    TASK_CLIENTS,
    KindCluster,
    Observed,
    docker,
    fetch,
    host_of,
    ready,
)
from panel_dask_dashboard.build import CHART_COPY
from panel_dask_dashboard.render import draw
from playwright.sync_api import expect

from panel_dask_app.dashboard import DEFAULT_PLOTS, plot_url
from panel_dask_app.dataset import DAY_ROWS
from panel_dask_app.state import BATCH_MAX
from panel_dask_app.tasks import TASKS, fibonacci
from panel_dask_testcluster.pins import cache_root
from panel_dask_testkit.browser import cell, loopback_context, rows
from panel_dask_testkit.data_page import choose_bucket, expect_plot, open_data
from panel_dask_testkit.kube import run
from panel_dask_testkit.waiting import wait_for

# Generous per-step bounds (a 2-core machine runs the whole cluster); the
# kind-up in the fixture is bounded by the fixture itself, not by these.
pytestmark = [pytest.mark.kind, pytest.mark.timeout(900, func_only=True)]

# Where the run leaves what a person would rather see than read.
DASHBOARD_PNG = cache_root() / "e2e" / "dashboard.png"
LONG = 180_000  # ms, Playwright's waits for pages and tasks
POD_WAIT = 300.0  # s, for pods to start, become Ready or go away
FIBONACCI = TASKS["fibonacci"]
SLEEP = TASKS["sleep_seconds"]
FIB_20 = str(fibonacci(20))
# The app names each key after its task (session.py), so the scheduler's keys say whose they are.
SLEEP_KEYS = f"{SLEEP.name}-"
# A probe task outlives the checks made while it runs; a cancelled one still
# holds a worker thread until it ends (Dask cannot interrupt a running task).
PROBE_SECONDS = 30
KEPT_SECONDS = SLEEP.maximum
BACKLOG_SECONDS = 30  # long enough that new worker pods start before one worker could drain it


# --- the browser -------------------------------------------------------------------------


class User:
    """One browser (its own cookies) with one page of the app."""

    def __init__(self, chromium: Any) -> None:
        self.context, self.probe = loopback_context(chromium, timeout_ms=60_000)
        self.page = self.context.new_page()
        self.closed = False

    def check(self) -> None:
        assert self.probe.errors == [], f"JavaScript errors on the page: {self.probe.errors}"
        assert self.probe.blocked == [], (
            f"the page reached beyond this machine: {self.probe.blocked}"
        )

    def close(self) -> None:
        if not self.closed:
            self.context.close()
            self.closed = True
        self.check()


@pytest.fixture(scope="module")
def prometheus(kind):
    """A real Prometheus scraping the release from before the backlog to the end."""
    server = prom.deploy(kind)
    yield server
    prom.remove(kind)


@pytest.fixture(scope="module")
def alice(chromium):
    """The user whose page stays open from the first task to the loss of her pod."""
    user = User(chromium)
    yield user
    user.close()


def open_tasks(page: Any) -> None:
    page.goto(f"{APP_URL}/tasks")
    expect(page.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG)


def fill_form(page: Any, task: Any, argument: str, count: int) -> None:
    """Pick the task, type its input and how many copies (the batch size)."""
    choice = page.get_by_role("combobox").first
    field = page.locator(".task-argument input")
    if choice.evaluate("select => select.selectedOptions[0].text") != task.label:
        choice.select_option(label=task.label)
        # The server resets the input for the new task; type after it has.
        expect(field).to_have_value(task.default)
    field.fill(argument)
    field.press("Enter")
    batch = page.locator(".batch-size input")
    batch.fill(str(count))
    batch.press("Enter")


def submit(page: Any) -> None:
    page.get_by_role("button", name="Submit").click()


def clear_finished(page: Any) -> None:
    """Empty the table of done tasks, so the next one is its first row."""
    page.get_by_role("button", name="Clear finished").click()
    # A Panel pod that just lost a sibling shares the node with its replacement starting.
    expect(rows(page)).to_have_count(0, timeout=LONG)


def run_fibonacci_20(page: Any) -> None:
    clear_finished(page)
    fill_form(page, FIBONACCI, "20", 1)
    submit(page)
    row = rows(page).first
    expect(cell(row, "state")).to_have_text("finished", timeout=LONG)
    expect(cell(row, "result or error")).to_have_text(FIB_20)


def serving_panel_pod(kind: KindCluster, page: Any, keep_running: bool = False) -> tuple[str, str]:
    """The Panel pod that serves this page, and the key of the task that showed it.

    Each Panel process has one Dask client, so a task the page submits is
    wanted, on the scheduler, by a client whose connection comes from the pod's
    IP. The task (a sleep) is cancelled afterwards unless ``keep_running``.
    """
    clear_finished(page)
    before = set(kind.on_scheduler(TASK_CLIENTS, SLEEP_KEYS))
    fill_form(page, SLEEP, f"{KEPT_SECONDS if keep_running else PROBE_SECONDS:g}", 1)
    submit(page)
    row = rows(page).first
    expect(cell(row, "state")).to_have_text(re.compile("queued|processing"), timeout=LONG)
    new = {k: v for k, v in kind.on_scheduler(TASK_CLIENTS, SLEEP_KEYS).items() if k not in before}
    assert len(new) == 1, f"expected this page's one new task on the scheduler, found {new}"
    ((key, peers),) = new.items()
    assert len(peers) == 1, f"{key} is wanted by {peers}"
    address = host_of(peers[0])
    pods = kind.deployment_pods(kind.panel_deployment)
    serving = [p["metadata"]["name"] for p in pods if p["status"].get("podIP") == address]
    assert len(serving) == 1, f"no single Panel pod has the IP {address}: {pod_ips(pods)}"
    if not keep_running:
        row.get_by_title("Cancel this task").click()
        expect(cell(row, "state")).to_have_text("cancelled", timeout=LONG)
    return serving[0], key


# --- the cluster ----------------------------------------------------------------------------


def pod_ips(pods: list[dict[str, Any]]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["status"].get("podIP", "") for p in pods}


def release_values(kind: KindCluster) -> dict[str, Any]:
    """The values the release was installed with, chart defaults included."""
    out = run(kind.helm, "get", "values", kind.release, "-n", kind.namespace, "--all", "-o", "json")
    values: dict[str, Any] = json.loads(out)
    return values


def owners(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(o["kind"], o["name"]) for o in resource["metadata"].get("ownerReferences", [])}


def panel_pods_ready(kind: KindCluster, replicas: int) -> Observed:
    pods = kind.deployment_pods(kind.panel_deployment)
    status = kind.get("deployment", kind.panel_deployment)["status"]
    live = [p["metadata"]["name"] for p in pods if ready(p)]
    settled = len(live) == len(pods) == replicas == status.get("readyReplicas")
    return Observed(settled, {"ready": live, "all": pod_ips(pods), "deployment": status})


def workers_at_minimum(kind: KindCluster, minimum: int) -> Observed:
    """The worker group, its pods and the scheduler all at the autoscaler's minimum."""
    group = kind.get("daskworkergroup", kind.worker_group)["spec"]["worker"]["replicas"]
    pods = kind.dask_pods("worker")
    connected = kind.scheduler_workers()
    live = {p["status"].get("podIP") for p in pods if ready(p)}
    settled = (
        group == len(pods) == len(live) == len(connected) == minimum
        and {host_of(a) for a in connected} == live
    )
    return Observed(settled, {"replicas": group, "pods": pod_ips(pods), "scheduler": connected})


def autoscaler_state(kind: KindCluster) -> tuple[str, str] | None:
    """Status and reason of the DaskQueueAutoscaler's Ready condition (kubectl's State column)."""
    for condition in kind.autoscaler().get("status", {}).get("conditions", []):
        if condition["type"] == "Ready":
            return condition["status"], condition["reason"]
    return None


def new_events(kind: KindCluster, before: set[str]) -> list[dict[str, Any]]:
    return [e for e in kind.autoscaler_events() if e["metadata"]["name"] not in before]


def scale_changes(events: list[dict[str, Any]], reason: str) -> list[tuple[int, int]]:
    """(before, after) of each ScaledUp/ScaledDown Event's "replicas A -> B"."""
    changes = []
    for event in events:
        if event["reason"] == reason:
            found = re.search(r"replicas (\d+) -> (\d+)", event["message"])
            assert found, event["message"]
            changes.append((int(found[1]), int(found[2])))
    return changes


# --- the journey ----------------------------------------------------------------------------


def test_install_gives_ready_panel_operator_scheduler_and_workers(kind):
    replicas = release_values(kind)["panel"]["replicas"]

    def everything_ready() -> Observed:
        panel = kind.deployment_pods(kind.panel_deployment)
        operator = kind.deployment_pods(kind.operator_deployment)
        scheduler = kind.dask_pods("scheduler")
        workers = kind.dask_pods("worker")
        group = kind.get("daskworkergroup", kind.worker_group)["spec"]["worker"]["replicas"]
        counts = {
            name: (sum(ready(p) for p in pods), len(pods))
            for name, pods in [
                ("panel", panel),
                ("operator", operator),
                ("scheduler", scheduler),
                ("workers", workers),
            ]
        }
        expected = {
            "panel": (replicas, replicas),
            "operator": (1, 1),
            "scheduler": (1, 1),
            "workers": (group, group),
        }
        return Observed(group >= 1 and counts == expected, {"ready, all": counts, "group": group})

    wait_for(everything_ready, "every pod of the release Running and Ready", POD_WAIT, 2)
    print(kind.text("get", "pods", "-o", "wide"))

    # The scheduler and the workers are the operator's doing, from the chart's DaskCluster.
    cluster = kind.get("daskcluster", kind.dask_cluster)
    assert cluster["status"].get("phase") == "Running", cluster.get("status")
    scheduler = kind.get("deployment", kind.scheduler_deployment)
    assert ("DaskCluster", kind.dask_cluster) in owners(scheduler)
    group = kind.get("daskworkergroup", kind.worker_group)
    assert ("DaskCluster", kind.dask_cluster) in owners(group)
    worker_deployments = kind.get(
        "deployments", "-l", f"dask.org/workergroup-name={kind.worker_group}"
    )
    assert worker_deployments["items"]
    for deployment in worker_deployments["items"]:
        assert ("DaskWorkerGroup", kind.worker_group) in owners(deployment)

    # The worker pods run Dask workers that reached the scheduler.
    def workers_connected() -> Observed:
        live = {p["status"].get("podIP") for p in kind.dask_pods("worker") if ready(p)}
        connected = kind.scheduler_workers()
        return Observed(
            bool(live) and {host_of(a) for a in connected} == live,
            {"worker pod IPs": live, "scheduler's workers": connected},
        )

    wait_for(workers_connected, "the scheduler to have exactly the Ready worker pods", POD_WAIT, 2)

    # The autoscaler reads the scheduler (its metrics route) and is active.
    wait_for(
        lambda: Observed(autoscaler_state(kind) == ("True", "Active"), kind.autoscaler()),
        "the DaskQueueAutoscaler to be Ready (Active)",
        120,
        2,
    )


def test_browser_runs_fibonacci_20_five_times_on_worker_pods(kind, alice):
    page = alice.page
    open_tasks(page)
    expect(page.locator(".task-argument input")).to_have_value(FIBONACCI.default)
    fill_form(page, FIBONACCI, "20", 5)
    submit(page)
    expect(rows(page)).to_have_count(5, timeout=LONG)
    shown_workers = []
    for index in range(5):
        row = rows(page).nth(index)
        expect(cell(row, "state")).to_have_text("finished", timeout=LONG)
        expect(cell(row, "result or error")).to_have_text(FIB_20)
        shown_workers.append(cell(row, "worker").inner_text())
    expect(page.locator(".progress-text")).to_have_text("5 of 5 done")

    # Each row names the worker that ran it: a Dask worker pod's address.
    worker_pods = {
        p["status"].get("podIP"): p["metadata"]["name"] for p in kind.dask_pods("worker")
    }
    ran_on = {shown: worker_pods.get(host_of(shown)) for shown in shown_workers}
    assert all(ran_on.values()), f"rows name workers that are no worker pod: {ran_on}"
    alice.check()


def test_dask_dashboard_through_the_ingress_and_its_api_refused(kind, alice):
    status, content_type, _ = fetch(f"{APP_URL}/dask/status")
    assert (status, content_type.split(";")[0]) == (200, "text/html")

    # The dashboard page embeds the scheduler's plots from the same origin.
    pod_spec = kind.get("deployment", kind.panel_deployment)["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for c in pod_spec["containers"] for e in c.get("env", [])}
    dashboard_url = env["DASK_DASHBOARD_URL"]
    page = alice.context.new_page()
    page.goto(f"{APP_URL}/dashboard")
    frames = page.locator("iframe.dask-plot")
    expect(frames).to_have_count(len(DEFAULT_PLOTS), timeout=LONG)
    sources = [frame.get_attribute("src") for frame in frames.all()]
    assert sources == [plot_url(dashboard_url, plot) for plot in DEFAULT_PLOTS]
    for source in sources:
        assert fetch(urljoin(page.url, source))[0] == 200, source
    frames.first.scroll_into_view_if_needed()
    # The plot's Bokeh document renders inside the frame (its websocket goes through the ingress).
    expect(
        page.frame_locator("iframe.dask-plot").first.locator(".bk-Figure, .bk-Canvas, canvas").first
    ).to_be_attached(timeout=LONG)
    page.close()

    # The scheduler serves its HTTP API (the operator uses it) ...
    inside = kind.scheduler_http(f"{dashboard_url}/api/v1/get_workers")
    assert inside[0] == 200 and "workers" in json.loads(inside[1]), inside
    # ... and the ingress refuses it to browsers, spelled any way.
    for path in ("/api/v1", "/api/v1/get_workers", "/api/v1/adaptive_target"):
        status, _, body = fetch(f"{APP_URL}{dashboard_url}{path}")
        assert status >= 400, f"{dashboard_url}{path} answered {status}: {body[:200]}"
        assert '"workers"' not in body and "API V1" not in body, body[:200]
    for path in ("/%61pi/v1/get_workers", "//api/v1/get_workers", "/./api/v1/get_workers"):
        status, _, body = fetch(f"{APP_URL}{dashboard_url}{path}")
        assert '"workers"' not in body, f"{dashboard_url}{path} answered {status}: {body[:200]}"
    alice.check()


def test_data_page_through_the_ingress_plots_and_redraws_on_a_widget_change(kind, chromium):
    """/data aggregates the release's dataset on the worker pods and draws the answer."""
    pod_spec = kind.get("deployment", kind.panel_deployment)["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for c in pod_spec["containers"] for e in c.get("env", [])}
    days = math.ceil(int(env["PANEL_DASK_DATA_ROWS"]) / DAY_ROWS)
    carol = User(chromium)
    page = carol.page
    open_data(page, APP_URL)
    status = page.locator(".data-status")
    expect(status).to_contain_text(f"mean of x per 1 hour, days 1–{days}: {days * 24} points")
    expect_plot(page, {"Line": days * 24})
    choose_bucket(page, "1 day")
    expect(status).to_contain_text(f"Answer 2: mean of x per 1 day, days 1–{days}: {days} points")
    expect_plot(page, {"Line": days})
    carol.close()


def test_network_policies_refuse_a_pod_outside_the_release_and_admit_panel(kind):
    service = kind.scheduler_deployment  # dask-kubernetes names the Service like it
    targets = [
        f"{service}.{kind.namespace}.svc:8786",  # the scheduler's comm port
        f"{service}.{kind.namespace}.svc:8787",  # its dashboard and HTTP API
    ]
    # A pod of the release that the policies admit reaches both ports ...
    panel_pod = next(
        p["metadata"]["name"]
        for p in kind.deployment_pods(kind.panel_deployment)
        if p["status"].get("phase") == "Running" and "deletionTimestamp" not in p["metadata"]
    )
    assert kind.connect_probe(kind.namespace, panel_pod, targets) == dict.fromkeys(targets, "open")
    # ... the same program from a pod in another namespace is refused by the
    # enforcer (kube-router offline, kindnetd upstream): a real CNI, not a stub.
    outside = kind.connect_probe("default", None, targets)
    assert all(result != "open" for result in outside.values()), outside


@pytest.mark.timeout(1800, func_only=True)
def test_backlog_adds_worker_pods_then_drains_to_the_minimum_running_each_task_once(
    kind, chromium, prometheus
):
    spec = kind.autoscaler()["spec"]
    minimum, maximum = spec["minimum"], spec["maximum"]
    threads = release_values(kind)["dask"]["worker"]["threads"]
    # The scale-down window, then a retirement, a pod's exit and a few polls.
    settle = spec["scaleDownDelaySeconds"] + POD_WAIT
    wait_for(
        lambda: workers_at_minimum(kind, minimum),
        f"the workers to settle at the autoscaler's minimum ({minimum}) before the backlog",
        settle,
        2,
    )
    seen_events = {e["metadata"]["name"] for e in kind.autoscaler_events()}

    # Another user submits a batch that, by the autoscaler's own arithmetic,
    # asks for a few more workers than the minimum.
    wanted = min(maximum, minimum + 4)
    assert wanted > minimum, f"maximum {maximum} leaves no room above minimum {minimum}"
    count = min(BATCH_MAX, minimum * threads + (wanted - minimum) * spec["tasksPerWorker"])
    bob = User(chromium)
    open_tasks(bob.page)
    before = set(kind.on_scheduler(TASK_CLIENTS, SLEEP_KEYS))
    fill_form(bob.page, SLEEP, str(BACKLOG_SECONDS), count)
    submit(bob.page)
    expect(bob.page.locator(".progress-text")).to_contain_text(f"of {count} done", timeout=LONG)

    def batch_on_scheduler() -> Observed:
        keys = set(kind.on_scheduler(TASK_CLIENTS, SLEEP_KEYS)) - before
        return Observed(len(keys) == count, sorted(keys))

    keys = wait_for(batch_on_scheduler, f"the {count} tasks on the scheduler", 120, 1).seen

    # The operator asks for more workers (kubectl get dqa: Desired) ...
    def desired_above_minimum() -> Observed:
        status = kind.autoscaler().get("status", {})
        return Observed(status.get("desired", 0) > minimum, status)

    wait_for(desired_above_minimum, "the autoscaler's desired workers above the minimum", 120, 1)
    print(kind.text("get", "dqa", "-o", "wide"))

    # ... and real pods start and connect to the scheduler.
    def more_workers_connected() -> Observed:
        connected = kind.scheduler_workers()
        live = {p["status"].get("podIP") for p in kind.dask_pods("worker") if ready(p)}
        hosts = {host_of(a) for a in connected}
        return Observed(len(connected) > minimum and hosts <= live, (connected, live))

    grown = wait_for(more_workers_connected, "new worker pods connected", POD_WAIT, 2)
    print(f"scheduler's workers during the backlog: {grown.seen[0]}")
    ups = scale_changes(new_events(kind, seen_events), "ScaledUp")
    assert ups and all(after > before for before, after in ups), ups

    # The batch drains: every task finished, none failed, lost or re-run.
    expect(bob.page.locator(".progress-text")).to_have_text(
        f"{count} of {count} done", timeout=count * BACKLOG_SECONDS * 1000
    )
    bob.close()

    # Idle, the workers go back to the minimum once the scale-down window has passed.
    wait_for(
        lambda: workers_at_minimum(kind, minimum),
        f"the workers back at the minimum ({minimum}) after the backlog drained",
        settle,
        2,
    )
    events = new_events(kind, seen_events)
    print("\n".join(f"{e['reason']}: {e['message']}" for e in events))
    downs = scale_changes(events, "ScaledDown")
    assert downs and downs[-1][1] == minimum, downs
    # A scheduler too slow to answer under the load may cost a tick (a Warning,
    # then Recovered); the autoscaler ends the story active.
    assert autoscaler_state(kind) == ("True", "Active"), kind.autoscaler().get("status")

    # Each task went to a worker once and gave one result: retiring workers
    # handed back no running task to be computed again.
    found = kind.on_scheduler(RUNS, keys)
    assert found["runs"] == {key: {"processing": 1, "memory": 1} for key in keys}, found


def test_prometheus_scrapes_every_component_and_saw_the_backlog_come_and_go(kind, prometheus):
    minimum = kind.autoscaler()["spec"]["minimum"]

    def all_up() -> Observed:
        targets = prometheus.targets()
        health = {(t["labels"]["component"], t["labels"]["pod"]): t["health"] for t in targets}
        components = {component for component, _ in health}
        ok = components >= {"panel", "operator", "scheduler", "worker"}
        return Observed(ok and set(health.values()) == {"up"}, health)

    wait_for(all_up, "every Panel, operator, scheduler and worker target up", 120, 2)
    # The operator's series rose with the backlog and fell after it.
    window = "[30m]"
    desired = "panel_dask_autoscaler_desired_workers"
    backlog = "panel_dask_autoscaler_backlog_tasks"
    assert prometheus.value(f"max(max_over_time({desired}{window}))") > minimum
    assert prometheus.value(f"max(max_over_time({backlog}{window}))") > 0
    assert prometheus.value(f"max({desired})") == minimum
    assert prometheus.value(f"max({backlog})") == 0
    assert prometheus.value('sum(panel_dask_autoscaler_decisions_total{direction="up"})') >= 1
    assert prometheus.value('sum(panel_dask_tasks_total{outcome="finished"})') >= 1
    assert prometheus.value("sum(dask_scheduler_workers)") is not None


def test_every_dashboard_panel_has_data_from_this_run(kind, prometheus):
    """Each panel of the chart's Grafana dashboard shows something for this run."""
    board = json.loads(CHART_COPY.read_text())
    picture = draw(board, prometheus.query_range, prometheus.since, time.time(), DASHBOARD_PNG)
    print(f"the dashboard's panels over this run: {picture}")
    empty = []
    for panel in board["panels"]:
        found = []
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "1m")
            found += prometheus.query(f"max_over_time(({expr})[30m:15s])")
        if not [series for series in found if series["value"][1] not in ("NaN", "+Inf")]:
            empty.append(panel["title"])
    assert empty == [], f"dashboard panels without data: {empty}"


def test_scaling_panel_to_three_pods_keeps_the_open_session(kind, alice):
    page = alice.page
    serving, _ = serving_panel_pod(kind, page)
    page.evaluate("window.sameDocument = true")

    run(kind.kubectl, "scale", f"deployment/{kind.panel_deployment}", "--replicas=3",
        "-n", kind.namespace)  # fmt: skip
    wait_for(lambda: panel_pods_ready(kind, 3), "3 Ready Panel pods", POD_WAIT, 2)

    # The open page keeps its session and keeps working.
    run_fibonacci_20(page)
    assert page.evaluate("window.sameDocument") is True
    expect(page.locator(".reconnect-notice")).to_have_count(0)
    assert serving_panel_pod(kind, page)[0] == serving
    # Reloads stay on the same pod among three (the ingress's affinity cookie).
    for _ in range(3):
        page.reload()
        expect(page.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG)
        assert serving_panel_pod(kind, page)[0] == serving
    alice.check()


def test_deleting_the_serving_panel_pod_moves_the_page_to_another(kind, alice):
    page = alice.page
    doomed, key = serving_panel_pod(kind, page, keep_running=True)
    page.evaluate("window.sameDocument = true")

    run(kind.kubectl, "delete", "pod", doomed, "-n", kind.namespace, "--wait=false")

    # The page reloads through the ingress into a fresh session and says why.
    notice = page.locator(".reconnect-notice")
    expect(notice).to_contain_text("Reconnected to a new session", timeout=LONG)
    expect(notice).to_contain_text("submit them again")
    assert page.evaluate("window.sameDocument === undefined")
    expect(page.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG)
    expect(rows(page)).to_have_count(0)
    now_serving, _ = serving_panel_pod(kind, page)
    assert now_serving != doomed
    run_fibonacci_20(page)

    # The lost session's task left the cluster with its pod's Dask client,
    # dropped before it could finish.
    wait_for(
        lambda: Observed(not kind.on_scheduler(TASK_CLIENTS, key), key),
        "the lost session's task to leave the scheduler",
        120,
        2,
    )
    assert kind.on_scheduler(RUNS, [key])["runs"][key]["memory"] == 0
    # The Deployment replaces the pod.
    wait_for(lambda: panel_pods_ready(kind, 3), "3 Ready Panel pods again", POD_WAIT, 2)
    alice.check()


def test_helm_uninstall_leaves_nothing_of_the_release(kind, alice, prometheus):
    alice.close()
    # The monitoring's Role lives in the release namespace but is not the release's.
    prom.remove(kind)
    run(kind.helm, "uninstall", kind.release, "-n", kind.namespace, "--wait", "--timeout", "300s")

    kinds = (
        "all,ingresses,networkpolicies,poddisruptionbudgets,secrets,configmaps,serviceaccounts,"
        "roles,rolebindings,persistentvolumeclaims,daskclusters,daskworkergroups,daskjobs,"
        "daskautoscalers,daskqueueautoscalers"
    )
    # What every namespace has, release or not.
    standard = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}

    def nothing_left() -> Observed:
        items = kind.get(kinds)["items"]
        left = {(i["kind"], i["metadata"]["name"]) for i in items} - standard
        return Observed(not left, sorted(left))

    wait_for(nothing_left, f"namespace {kind.namespace} empty of the release", POD_WAIT, 2)
    instance = f"app.kubernetes.io/instance={kind.release}"
    cluster_wide = kind.get("clusterroles,clusterrolebindings", "-l", instance)["items"]
    assert cluster_wide == []
    releases = json.loads(run(kind.helm, "list", "-n", kind.namespace, "-a", "-o", "json"))
    assert releases == []


def test_kind_down_leaves_no_container_or_network(kind_session):
    if KEEP:
        pytest.skip("KEEP_KIND=1 keeps the cluster")
    kind_session.down()

    label = f"io.x-k8s.kind.cluster={kind_session.cluster.name}"
    assert run(docker, "ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}") == ""
    # kind's Docker network is shared by kind clusters: gone once no other one uses it.
    others = run(docker, "ps", "-aq", "--filter", "label=io.x-k8s.kind.cluster")
    networks = run(docker, "network", "ls", "--format", "{{.Name}}").split()
    if not others:
        assert "kind" not in networks
    # The host is as before: dockerd runs plain containers with its own runtime
    # again (kind-up registered the capability wrapper only where the host needed it).
    if not others:
        assert run(docker, "info", "--format", "{{.DefaultRuntime}}").strip() != "capwrap"
        # The tag images/build.sh gives the app image; kind-up built it.
        assert run(docker, "run", "--rm", "panel-dask-app:dev", "true") == ""
