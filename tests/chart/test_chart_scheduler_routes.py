"""The chart's scheduler serves exactly the product's one route list.

Helm cannot import Python, so the chart keeps its own copy of the list in the
DaskCluster template; this test renders the chart and fails when that copy and
``panel_dask_app.scheduler_routes`` disagree.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from panel_dask_app.scheduler_routes import ROUTES_VARIABLE, SCHEDULER_HTTP_ROUTES
from panel_dask_testcluster import build

pytestmark = pytest.mark.go  # helm, from the control plane's tool set

CHART = Path(__file__).resolve().parents[2] / "charts/panel-dask"
TEMPLATE = "templates/dask/daskcluster.yaml"


@pytest.fixture(scope="module")
def scheduler_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The literal environment of the scheduler container the chart renders by default."""
    home = tmp_path_factory.mktemp("helm")
    env = {**os.environ, **{f"HELM_{d}_HOME": str(home / d) for d in ("CACHE", "CONFIG", "DATA")}}
    helm = str(build.build() / "helm")
    result = subprocess.run(
        [helm, "template", "panel-dask", str(CHART), "--show-only", TEMPLATE],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [cluster] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    [container] = cluster["spec"]["scheduler"]["spec"]["containers"]
    return {variable["name"]: variable.get("value", "") for variable in container["env"]}


def test_chart_scheduler_routes_are_the_product_list(scheduler_env: dict[str, str]) -> None:
    assert json.loads(scheduler_env[ROUTES_VARIABLE]) == list(SCHEDULER_HTTP_ROUTES)


def test_the_list_serves_the_autoscaler_and_retirement() -> None:
    assert "panel_dask_app.scheduler_api" in SCHEDULER_HTTP_ROUTES
    assert "distributed.http.scheduler.api" in SCHEDULER_HTTP_ROUTES
