"""Draw the dashboard's panels from a Prometheus' range queries, as one PNG.

No Grafana server can be built here (its frontend is a large JavaScript build),
so the end-to-end run draws what each panel's queries return with matplotlib:
the same expressions, the same legends, one subplot per panel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

# (expr, start, end, step) -> Prometheus' range result: [{"metric": {...}, "values": [[t, "v"]]}]
RangeQuery = Callable[[str, float, float, float], list[dict[str, Any]]]
RATE_INTERVAL = "1m"  # what Grafana's $__rate_interval would be at this zoom


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend format: ``{{label}}`` replaced by the series' label."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()


def draw(
    board: dict[str, Any], query_range: RangeQuery, start: float, end: float, out: Path
) -> Path:
    """Render every panel over ``[start, end]`` into ``out`` (a PNG); returns ``out``."""
    panels = board["panels"]
    rows = (len(panels) + 1) // 2
    figure, axes = plt.subplots(rows, 2, figsize=(14, 3.2 * rows), squeeze=False)
    step = max(2.0, (end - start) / 300)
    for axis, panel in zip(axes.flat, panels, strict=False):
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", RATE_INTERVAL)
            for series in query_range(expr, start, end, step):
                times = [(float(t) - start) / 60 for t, _ in series["values"]]
                values = [float(v) for _, v in series["values"]]
                axis.plot(times, values, label=legend(target["legendFormat"], series["metric"]))
        axis.set_title(panel["title"], fontsize=10)
        axis.set_xlabel("minutes", fontsize=8)
        axis.set_ylabel(panel["fieldConfig"]["defaults"].get("unit", ""), fontsize=8)
        axis.tick_params(labelsize=7)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7, loc="upper left")
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.suptitle(f"{board['title']}: one end-to-end run on kind", fontsize=12)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return out
