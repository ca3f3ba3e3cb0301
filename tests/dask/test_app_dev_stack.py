"""`panel-dask-dev` brings up scheduler, workers and Panel, and takes them all down again."""

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from panel_dask_app.testing import free_port, http_status, wait_for

pytestmark = pytest.mark.dask

DEV = Path(sys.executable).parent / "panel-dask-dev"


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [
        pytest.param(signal.SIGINT, True, id="ctrl-c"),
        pytest.param(signal.SIGTERM, False, id="sigterm-to-the-stack-only"),
    ],
)
def test_stack_serves_and_stops_every_process(tmp_path, signum, to_group):
    ports = {"scheduler": free_port(), "dashboard": free_port(), "panel": free_port()}
    log_path = tmp_path / "stack.log"
    with log_path.open("wb") as log:
        stack = subprocess.Popen(
            [
                str(DEV),
                "--scheduler-port", str(ports["scheduler"]),
                "--dashboard-port", str(ports["dashboard"]),
                "--panel-port", str(ports["panel"]),
                "--workers", "1",
                "--threads-per-worker", "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        try:
            wait_for(
                lambda: stack.poll() is not None or "Press Ctrl-C" in log_path.read_text(),
                120,
                "the stack's banner",
            )
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{log_path.read_text()}") from None
        output = log_path.read_text()
        assert stack.poll() is None, output
        assert f"http://localhost:{ports['panel']}" in output
        assert f"tcp://127.0.0.1:{ports['scheduler']}" in output
        assert f"http://localhost:{ports['dashboard']}/status" in output

        panel = f"http://127.0.0.1:{ports['panel']}"
        dashboard = f"http://127.0.0.1:{ports['dashboard']}"
        assert http_status(f"{panel}/health") == 200
        assert http_status(f"{panel}/tasks") == 200
        assert http_status(f"{dashboard}/individual-task-stream") == 200
        with urllib.request.urlopen(f"{dashboard}/api/v1/get_workers", timeout=10) as response:
            assert json.load(response)["num_workers"] == 1, "HTTP API route should be on"

        children = psutil.Process(stack.pid).children(recursive=True)
        assert len(children) >= 2, "expected the Panel server and a worker process"

        if to_group:
            os.killpg(stack.pid, signum)
        else:
            stack.send_signal(signum)
        assert stack.wait(60) == 0, log_path.read_text()
        assert "Traceback" not in log_path.read_text(), "the stack should stop in order"
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
        assert http_status(f"{panel}/health", timeout=2) is None
    finally:
        try:
            os.killpg(stack.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
