"""One list of what the scheduler needs beyond the app: panel-dask-app's `scheduler` extra.

The app image runs the Dask scheduler, whose HTTP routes (panel_dask_app.scheduler_routes)
serve what the operator and monitoring read; some need packages the app itself
does not (prometheus-client for /metrics, without which distributed quietly
serves a "not available" page). Every install that runs a scheduler installs
the extra, and the extra covers every route.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("scheduler_extra_probe.py")


def test_every_install_that_runs_a_scheduler_takes_the_extra() -> None:
    dockerfile = (REPO / "images" / "app.Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*'?\./app(\[[^\]]*\])?'?", dockerfile)
    assert installs and "[scheduler]" in installs, f"app.Dockerfile installs {installs}"
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"-e 'app\[[^\]]*\bscheduler\b[^\]]*\]'", makefile)
    tools = (REPO / "tools" / "pyproject.toml").read_text()
    assert '"panel-dask-app[scheduler]"' in tools


def test_the_extra_covers_every_scheduler_route() -> None:
    result = subprocess.run(
        [sys.executable, str(PROBE)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    routes = json.loads(result.stdout.splitlines()[-1])
    assert "distributed.http.scheduler.prometheus" in routes
    broken = {
        name: found
        for name, found in routes.items()
        if isinstance(found, str) or any("NotAvailable" in handler for handler in found)
    }
    assert not broken, f"routes the app and its `scheduler` extra cannot serve: {broken}"
