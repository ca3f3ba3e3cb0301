"""`panel-dask-serve` as a process: health and pages while no scheduler answers, bad settings,
and the 403 it answers for the scheduler's API path the chart's Ingress routes to it."""

import httpx
import pytest

from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.net import http_status
from panel_dask_testkit.panel_server import PanelServer
from panel_dask_testkit.waiting import wait_for

pytestmark = pytest.mark.dask


def test_serves_every_page_while_the_scheduler_is_away(tmp_path):
    nowhere = LocalDask(tmp_path)  # its ports are free: no scheduler listens there
    # The environment the chart's Deployment gives the Panel container.
    env = {"PANEL_USE_XHEADERS": "true", "PANEL_NUM_THREADS": "4"}
    server = PanelServer(tmp_path, nowhere, extra_env=env)
    try:
        server.wait_ready()
        for path in ["/health", "/", "/tasks", "/dashboard"]:
            assert http_status(f"{server.url}{path}", timeout=30) == 200, path
        wait_for(
            lambda: "cannot reach Dask scheduler" in server.process.log_tail(100),
            "the server to report the missing scheduler",
            60,
        )
        assert http_status(f"{server.url}/health") == 200
    finally:
        server.stop()


def test_bad_settings_stop_the_server_with_the_variable_named(tmp_path):
    server = PanelServer(tmp_path, LocalDask(tmp_path), extra_env={"PANEL_NUM_THREADS": "lots"})
    wait_for(lambda: not server.process.running(), "the server to refuse to start", 60)
    assert server.process.process.returncode != 0
    assert "PANEL_NUM_THREADS: expected an integer from 1 to 64, got 'lots'" in (
        server.process.log_tail()
    )
    server.stop()


def test_refuses_the_scheduler_api_path_for_every_method(tmp_path):
    """The chart routes /dask/api on the Ingress to Panel; this is the answer a browser gets."""
    server = PanelServer(tmp_path, LocalDask(tmp_path))
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for path in ["/dask/api", "/dask/api/", "/dask/api/v1", "/dask/api/v1/retire_workers"]:
                for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
                    response = client.request(method, path, json={"workers": ["w"]})
                    assert response.status_code == 403, (method, path, response.text)
            # Only that prefix: Panel's own pages and unknown paths answer as before.
            assert client.get("/tasks").status_code == 200
            assert client.get("/dask/apix").status_code == 404
    finally:
        server.stop()
