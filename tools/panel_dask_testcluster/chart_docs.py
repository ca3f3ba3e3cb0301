"""The chart README, rendered by helm-docs from its template and values.yaml.

charts/panel-dask/README.md.gotmpl holds the prose; helm-docs fills in the values
table from the ``# --`` comments in values.yaml (the convention of argo-helm and
grafana's charts). README.md is generated: edit the template or the comments.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from panel_dask_testcluster.build import BuildError, build_tool_set
from panel_dask_testcluster.pins import DOCS, REPO_ROOT

CHART_DIR = REPO_ROOT / "charts" / "panel-dask"
TEMPLATE = "README.md.gotmpl"
# File order keeps related keys together; the version footer would change the
# README on every helm-docs upgrade.
HELM_DOCS_ARGS = (
    "--sort-values-order=file",
    "--skip-version-footer",
    f"--template-files={TEMPLATE}",
    "--log-level=warning",
)


def render(chart_dir: Path = CHART_DIR) -> str:
    """Return the README helm-docs renders for ``chart_dir`` (helm-docs is built once).

    helm-docs reports a broken template or values file as a warning and still
    exits 0, so any warning counts as a failure here.
    """
    helm_docs = build_tool_set(DOCS) / DOCS.binary
    result = subprocess.run(
        [str(helm_docs), f"--chart-search-root={chart_dir}", "--dry-run", *HELM_DOCS_ARGS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0 or result.stderr.strip() or not result.stdout:
        raise BuildError(f"helm-docs failed for {chart_dir}:\n{result.stderr.strip()}")
    return result.stdout
