"""The repository's example of a team's own app (examples/custom-app), as tests use it.

Its package is no dependency of the tests: a test puts it on the Python path
(:data:`EXAMPLE_DIR`) of the processes that import it, as ``make dev`` does.
"""

from __future__ import annotations

from panel_dask_testkit.kube import REPO

EXAMPLE_DIR = REPO / "examples" / "custom-app"
# What the chart's panel.apps and `make dev APPS=...` name, and where Panel serves it.
PAGE_MODULE = "acme_sales.pages.sales"
PAGE_ROUTE = "/sales"
PAGE_TITLE = "ACME sales forecast"
