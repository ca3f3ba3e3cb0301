"""The app image as Dask scheduler plus worker, configured as the chart configures them.

The scheduler's arguments and environment come from the chart itself (`helm
template` of the DaskCluster), so the image is tested with what Kubernetes runs.
Two set-ups: on the host network bound to 127.0.0.1 (a client on the host runs
tasks on a container worker), and exactly the chart's command on Docker's
bridge network with the dashboard port published on loopback (what the
operator reads from the scheduler).
"""

import asyncio
import os
import subprocess
import tempfile
from pathlib import Path

import aiohttp
import pytest
import yaml
from distributed import Client

from panel_dask_app import tasks
from panel_dask_operator import scheduler as operator_scheduler
from panel_dask_operator.scheduler import SchedulerClient
from panel_dask_testcluster import build

pytestmark = [pytest.mark.docker, pytest.mark.dask]

CONNECT_TIMEOUT_S = 120
CHART = Path(__file__).resolve().parents[2] / "charts/panel-dask"
DASK_CLUSTER_TEMPLATE = "templates/dask/daskcluster.yaml"


@pytest.fixture(scope="module")
def chart_scheduler():
    """The scheduler container of the DaskCluster the chart renders with default values."""
    helm = build.build() / "helm"
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            **{f"HELM_{d}_HOME": f"{home}/{d}" for d in ("CACHE", "CONFIG", "DATA")},
        }
        result = subprocess.run(
            [str(helm), "template", "panel-dask", str(CHART), "--show-only", DASK_CLUSTER_TEMPLATE],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [cluster] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    [container] = cluster["spec"]["scheduler"]["spec"]["containers"]
    # docker run can pass literal values only; the chart's scheduler has no other kind.
    assert all("value" in variable for variable in container.get("env", [])), container["env"]
    return container


def docker_env(container):
    """`--env` options for a container's literal environment variables."""
    return tuple(
        option
        for variable in container.get("env", [])
        for option in ("--env", f"{variable['name']}={variable['value']}")
    )


def container_port(container, name):
    [port] = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return port


@pytest.fixture
def dask_cluster(images, run_container, loopback_port, wait_for_http, chart_scheduler):
    """A scheduler (with the chart's HTTP routes and dashboard prefix) and one worker."""
    port, dashboard = loopback_port(), loopback_port()
    scheduler = run_container(
        images["app"],
        "dask",
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dashboard-address",
        f"127.0.0.1:{dashboard}",
        "--dashboard-prefix",
        "/dask",
        options=("--network", "host", *docker_env(chart_scheduler)),
    )
    address = f"tcp://127.0.0.1:{port}"
    wait_for_http(f"http://127.0.0.1:{dashboard}/dask/health", scheduler)
    worker = run_container(
        images["app"],
        "dask",
        "worker",
        address,
        "--host",
        "127.0.0.1",
        "--nthreads",
        "2",
        "--name",
        "container-worker",
        "--no-dashboard",
        options=("--network", "host"),
    )
    return address, scheduler, worker, f"http://127.0.0.1:{dashboard}/dask"


async def test_client_on_host_completes_tasks_on_container_worker(dask_cluster):
    address, _, _, _ = dask_cluster

    def uid_and_tasks_module():
        # Defined here so cloudpickle ships it by value: workers cannot import tests.
        import os

        import panel_dask_app.tasks

        return os.getuid(), panel_dask_app.tasks.__file__

    async with Client(address, asynchronous=True, timeout=CONNECT_TIMEOUT_S) as client:
        await asyncio.wait_for(client.wait_for_workers(1), CONNECT_TIMEOUT_S)
        fib = await client.submit(tasks.fibonacci, 20, pure=False)
        norm = await client.submit(tasks.matrix_norm, 50, pure=False)
        slept = await client.submit(tasks.sleep_seconds, 0.1, pure=False)
        # Where the work ran: the worker's own uid and the module file it imported.
        where = await client.run(uid_and_tasks_module)
    assert fib == tasks.fibonacci(20) == 6765
    assert norm == pytest.approx(tasks.matrix_norm(50))
    assert slept == 0.1
    ((uid, module_file),) = where.values()
    assert uid == 1000
    assert module_file.startswith("/opt/panel-dask/"), "the worker ran the image's task code"


@pytest.mark.parametrize("role", ["scheduler", "worker"])
def test_dask_containers_run_non_root_without_capabilities(dask_cluster, docker, role):
    _, scheduler, worker, _ = dask_cluster
    container = scheduler if role == "scheduler" else worker
    assert docker.main_process_uid(container) == 1000
    caps = docker("exec", container, "grep", "CapEff", "/proc/1/status")
    assert caps.split()[1] == "0000000000000000"


def test_scheduler_serves_its_http_api_under_the_dashboard_prefix(dask_cluster, wait_for_http):
    _, scheduler, _, http_base = dask_cluster
    status, body = wait_for_http(f"{http_base}/api/v1", scheduler)
    assert status == 200, body
    assert "API V1" in body


@pytest.fixture
def chart_run_scheduler(
    images, docker, run_container, loopback_port, wait_for_http, chart_scheduler
):
    """The scheduler exactly as the chart runs it, and one worker connected to it.

    Returns the base URL the operator would use (dashboard port and prefix),
    reached through the published dashboard port, and the worker's name.
    """
    dashboard = container_port(chart_scheduler, "http-dashboard")
    host_port = loopback_port()
    scheduler = run_container(
        images["app"],
        *chart_scheduler["args"],
        options=("--publish", f"127.0.0.1:{host_port}:{dashboard}", *docker_env(chart_scheduler)),
    )
    probe = chart_scheduler["readinessProbe"]["httpGet"]["path"]
    status, body = wait_for_http(f"http://127.0.0.1:{host_port}{probe}", scheduler)
    assert status == 200, body
    # The worker reaches the scheduler on the bridge network, as a pod reaches its Service.
    ip = docker.inspect(scheduler)["NetworkSettings"]["IPAddress"]
    address = f"tcp://{ip}:{container_port(chart_scheduler, 'tcp-comm')}"
    name = "chart-worker"
    run_container(
        images["app"], "dask", "worker", address, "--name", name, "--nthreads", "2",
        "--no-dashboard",
    )  # fmt: skip
    return f"http://127.0.0.1:{host_port}{operator_scheduler.DASHBOARD_PREFIX}", name


def test_chart_serves_the_scheduler_where_the_operator_looks(chart_scheduler):
    """The operator's in-cluster URL is the chart's dashboard port and prefix."""
    args = chart_scheduler["args"]
    assert args[args.index("--dashboard-prefix") + 1] == operator_scheduler.DASHBOARD_PREFIX
    assert container_port(chart_scheduler, "http-dashboard") == operator_scheduler.DASHBOARD_PORT


async def test_scheduler_as_the_chart_runs_it_serves_what_the_operator_reads(chart_run_scheduler):
    base, worker = chart_run_scheduler
    async with aiohttp.ClientSession() as session:
        # Prometheus text with the scheduler's own series (the `scheduler` extra), not
        # distributed's "Prometheus metrics are not available" placeholder: for monitoring.
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
            assert response.status == 200, text
        assert "# TYPE dask_scheduler_tasks gauge" in text, text[:500]

        # The operator's whole read: the state route of the app image, long-polled.
        scheduler = SchedulerClient(session, base)
        snapshot = await scheduler.snapshot()
        for _ in range(CONNECT_TIMEOUT_S // 5):
            if snapshot.ready_workers == 1:
                break
            snapshot = await scheduler.snapshot(wait=5)  # answers when the worker arrives
        assert snapshot.threads == 2
        assert [w.name for w in snapshot.workers] == [worker]
        assert not snapshot.workers[0].busy

        # The API route graceful scale-down calls (off unless the chart enables it).
        retired = await scheduler.retire([snapshot.workers[0].address], time_limit=60)
        assert retired == [worker]
