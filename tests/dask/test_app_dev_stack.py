"""`panel-dask-dev` brings up scheduler, workers and Panel, and takes them all down again."""

import json
import signal
import urllib.request

import psutil
import pytest

from panel_dask_testkit.dev_stack import DEV, free_stack_ports, port_args
from panel_dask_testkit.metrics import scrape
from panel_dask_testkit.net import http_status
from panel_dask_testkit.processes import ManagedProcess

pytestmark = pytest.mark.dask


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [
        pytest.param(signal.SIGINT, True, id="ctrl-c"),
        pytest.param(signal.SIGTERM, False, id="sigterm-to-the-stack-only"),
    ],
)
def test_stack_serves_and_stops_every_process(tmp_path, signum, to_group):
    ports = free_stack_ports()
    stack = ManagedProcess(
        "stack",
        [
            DEV,
            *port_args(ports),
            "--workers", "1",
            "--threads-per-worker", "1",
        ],
        tmp_path,
    )  # fmt: skip
    log_path = stack.log_path
    try:
        stack.wait_until(lambda: "Press Ctrl-C" in log_path.read_text(), "the stack's banner")
        output = log_path.read_text()
        assert stack.running(), output
        assert f"http://localhost:{ports['panel']}" in output
        assert f"tcp://127.0.0.1:{ports['scheduler']}" in output
        assert f"http://localhost:{ports['dashboard']}/status" in output

        panel = f"http://127.0.0.1:{ports['panel']}"
        dashboard = f"http://127.0.0.1:{ports['dashboard']}"
        assert http_status(f"{panel}/health") == 200
        assert http_status(f"{panel}/tasks", timeout=30) == 200  # the first page imports its views
        assert http_status(f"{dashboard}/individual-task-stream") == 200
        with urllib.request.urlopen(f"{dashboard}/api/v1/get_workers", timeout=10) as response:
            assert json.load(response)["num_workers"] == 1, "HTTP API route should be on"

        # Prometheus metrics, as on Kubernetes: the local autoscaler's and Panel's.
        autoscaler = scrape(f"http://127.0.0.1:{ports['metrics']}/metrics")
        ticked = autoscaler.value("panel_dask_autoscaler_tick_seconds_count", namespace="local")
        assert ticked and ticked > 0
        assert autoscaler.value("panel_dask_autoscaler_ready_workers", namespace="local") == 1
        panel_metrics = scrape(f"http://127.0.0.1:{ports['panel-metrics']}/metrics")
        assert panel_metrics.value("panel_dask_sessions_open") is not None

        children = psutil.Process(stack.pid).children(recursive=True)
        assert len(children) >= 2, "expected the Panel server and a worker process"

        if to_group:
            stack.signal(signum)
        else:
            stack.process.send_signal(signum)
        assert stack.process.wait(60) == 0, log_path.read_text()
        assert "Traceback" not in log_path.read_text(), "the stack should stop in order"
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
        assert http_status(f"{panel}/health", timeout=2) is None
    finally:
        stack.kill()
