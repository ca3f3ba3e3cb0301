"""The app image as Dask scheduler plus worker; a client on the host runs tasks on them.

Both containers use the host network bound to 127.0.0.1, so every connection
(client to scheduler, worker to scheduler) stays on loopback.
"""

import asyncio

import pytest
from distributed import Client

from panel_dask_app import tasks

pytestmark = [pytest.mark.docker, pytest.mark.dask]

CONNECT_TIMEOUT_S = 120
# The scheduler's HTTP routes as the chart enables them (contract): the API
# route, off by default, is what the operator reads queue counts from.
HTTP_ROUTES = (
    '["distributed.http.scheduler.prometheus","distributed.http.scheduler.info",'
    '"distributed.http.scheduler.json","distributed.http.health","distributed.http.proxy",'
    '"distributed.http.statics","distributed.http.scheduler.api"]'
)


@pytest.fixture
def dask_cluster(images, run_container, loopback_port, wait_for_http):
    """A scheduler (with the chart's dashboard prefix and HTTP API) and one worker."""
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
        options=(
            "--network", "host",
            "--env", f"DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES={HTTP_ROUTES}",
        ),
    )  # fmt: skip
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
