"""A team's own app under `panel-dask-dev --apps`: its page is served, its tasks run on workers.

The example (examples/custom-app) is on PYTHONPATH, as its README says: the
stack checks the entry, and its Panel server and Dask worker processes inherit
the path. A forecast submitted through the example's own state object and the
app's shared client runs in a worker process, which imported the example's
tasks module by name.
"""

import os
import sys
import urllib.request

import pytest

from panel_dask_app.client import DaskConnection
from panel_dask_testkit.dev_stack import DEV, free_stack_ports, port_args
from panel_dask_testkit.example_app import EXAMPLE_DIR, PAGE_MODULE, PAGE_ROUTE, PAGE_TITLE
from panel_dask_testkit.net import http_status
from panel_dask_testkit.processes import ManagedProcess

pytestmark = pytest.mark.dask


class Stack:
    def __init__(self, process, ports):
        self.process = process
        self.panel = f"http://127.0.0.1:{ports['panel']}"
        self.scheduler = f"tcp://127.0.0.1:{ports['scheduler']}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    ports = free_stack_ports()
    path = os.pathsep.join(filter(None, [str(EXAMPLE_DIR), os.environ.get("PYTHONPATH")]))
    process = ManagedProcess(
        "stack",
        [
            DEV, "--apps", PAGE_MODULE, "--no-autoscaler", "--workers", "1",
            "--threads-per-worker", "2", *port_args(ports),
        ],
        tmp_path_factory.mktemp("stack"),
        {**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    try:
        process.wait_until(lambda: "Press Ctrl-C" in process.log_path.read_text(), "the banner")
        yield Stack(process, ports)
    finally:
        process.stop()


def test_the_own_page_is_served_instead_of_ours(stack):
    assert f"(pages {PAGE_ROUTE}; /health)" in stack.process.log_path.read_text()
    with urllib.request.urlopen(f"{stack.panel}{PAGE_ROUTE}", timeout=30) as response:
        assert response.status == 200
        assert f"<title>{PAGE_TITLE}</title>" in response.read().decode()
    assert http_status(f"{stack.panel}/tasks") == 404
    assert http_status(f"{stack.panel}/health") == 200


async def test_a_forecast_runs_on_a_worker_that_imports_the_users_module(stack, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    from acme_sales.forecast import SalesForecast
    from acme_sales.tasks import forecast_revenue

    connection = DaskConnection(address=stack.scheduler, connect_timeout=10)
    try:
        forecast = SalesForecast(connection=connection, regions=["north", "east"], days=30)
        await forecast.run()
        assert forecast.message == ""
        by_region = {result.region: result for result in forecast.results}
        assert sorted(by_region) == ["east", "north"]
        # The worker ran the very code this process has.
        assert by_region["north"].revenue == forecast_revenue("north", 30).revenue

        client = await connection.get_client()
        worker_pids = set((await client.run(os.getpid)).values())
        assert {result.pid for result in forecast.results} <= worker_pids
        assert os.getpid() not in worker_pids
        imported = await client.run(lambda: "acme_sales.tasks" in sys.modules)
        assert all(imported.values()), imported
    finally:
        await connection.close()


def test_the_stack_refuses_an_app_it_cannot_import_before_starting(tmp_path):
    result = ManagedProcess(
        "refused",
        [DEV, "--apps", PAGE_MODULE, *port_args(free_stack_ports())],
        tmp_path,
        {key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )  # fmt: skip
    assert result.process.wait(60) == 2
    log = result.log_path.read_text()
    assert f"--apps: {PAGE_MODULE!r}: cannot be imported" in log
