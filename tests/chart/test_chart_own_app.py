"""A team's own app on the chart: one image for Panel, the scheduler and the workers; its pages.

Dask's rule is that the client and the cluster import the same code, so
`image.repository`/`image.tag` must reach all three containers at once, and
`panel.apps` reaches `panel-dask-serve` as PANEL_DASK_APPS, spelled as
panel_dask_app.user_apps accepts it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chart_cluster import documents_of, render

from panel_dask_app import user_apps
from panel_dask_app.config import Settings
from panel_dask_testkit.kube import CHART_DIR, attempt

pytestmark = pytest.mark.controlplane

Docs = list[dict[str, Any]]
OWN_IMAGE = ["--set", "image.repository=acme/sales,image.tag=1"]


def app_containers(docs: Docs) -> dict[str, dict[str, Any]]:
    """Panel's, the scheduler's and the workers' containers, by role."""
    (panel,) = [
        d for d in documents_of(docs, "Deployment") if d["metadata"]["name"].endswith("-panel")
    ]
    (cluster,) = documents_of(docs, "DaskCluster")
    (panel_container,) = panel["spec"]["template"]["spec"]["containers"]
    (scheduler,) = cluster["spec"]["scheduler"]["spec"]["containers"]
    (worker,) = cluster["spec"]["worker"]["spec"]["containers"]
    return {"panel": panel_container, "scheduler": scheduler, "worker": worker}


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def test_one_image_override_reaches_panel_the_scheduler_and_the_workers(control_plane: Any) -> None:
    docs = render(control_plane, "panel-dask", "ns", *OWN_IMAGE)
    images = {role: c["image"] for role, c in app_containers(docs).items()}
    assert images == dict.fromkeys(("panel", "scheduler", "worker"), "acme/sales:1")
    # The operator ships without the app: its own image stays.
    (operator,) = [
        d for d in documents_of(docs, "Deployment") if d["metadata"]["name"].endswith("-operator")
    ]
    assert operator["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "panel-dask-operator:"
    )


def test_a_numeric_tag_in_a_values_file_stays_that_integer(control_plane: Any, tmp_path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image:\n  repository: acme/sales\n  tag: 20260101\n")
    docs = render(control_plane, "panel-dask", "ns", "-f", str(values))
    images = {c["image"] for c in app_containers(docs).values()}
    assert images == {"acme/sales:20260101"}


def test_apps_reach_panel_as_the_variable_settings_read(control_plane: Any) -> None:
    apps = ["acme_sales.pages.sales", "/opt/reports/summary.ipynb"]
    sets = [arg for i, app in enumerate(apps) for arg in ("--set", f"panel.apps[{i}]={app}")]
    containers = app_containers(render(control_plane, "panel-dask", "ns", *sets))
    variables = env(containers["panel"])
    assert Settings.from_env(variables).apps == tuple(apps)
    assert "PANEL_DASK_APPS" not in env(containers["scheduler"])


def test_default_apps_are_ours(control_plane: Any) -> None:
    """No variable at all: panel-dask-serve serves the panel-dask pages."""
    containers = app_containers(render(control_plane, "panel-dask", "ns"))
    assert "PANEL_DASK_APPS" not in env(containers["panel"])


@pytest.mark.parametrize("entry", ["acme-sales", "acme sales.py", "a.py,b.py", ""])
def test_an_entry_neither_path_nor_module_is_refused_naming_it(
    control_plane: Any, entry: str
) -> None:
    result = attempt(
        control_plane.helm, "template", "panel-dask", str(CHART_DIR),
        "--set-json", f"panel.apps={json.dumps(['acme_sales.pages.sales', entry])}",
    )  # fmt: skip
    assert result.returncode != 0, f"helm accepted panel.apps entry {entry!r}"
    assert re.search(r"panel[./]apps[./]1", result.stderr), result.stderr


def test_the_schema_accepts_exactly_what_settings_accept() -> None:
    """values.schema.json repeats the app's pattern; the two stay one rule."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    items = schema["properties"]["panel"]["properties"]["apps"]["items"]
    assert items["pattern"] == user_apps.ENTRY_PATTERN
    assert items["minLength"] == 1
