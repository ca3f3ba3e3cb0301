"""What the /data page asks of its dataset, validated, and how its answer is drawn.

Pure functions and plain values, no Panel and no Dask: the widgets' values
become a ``DataQuery`` here, refused with the field at fault and what it
accepts, and the point count decides whether the plot is rasterized. The
workers import this module too (``data_tasks`` reads the query).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import UnionType

from panel_dask_app.dataset import NAMES, DatasetSpec
from panel_dask_app.tasks import TaskInputError

COLUMNS = ("x", "y", "id")
AGGREGATIONS = ("mean", "sum", "min", "max", "count", "std")
GROUP_BY = ("time", "name")
# Every bucket divides a day, and partitions hold whole days, so a bucket never
# straddles two partitions (see data_tasks.combine_summaries).
BUCKETS = {"1s": 1, "1min": 60, "10min": 600, "1h": 3600, "1D": 86_400}
BUCKET_LABELS = {
    "1s": "1 second (every row)",
    "1min": "1 minute",
    "10min": "10 minutes",
    "1h": "1 hour",
    "1D": "1 day",
}
X_BOUNDS = (-1.0, 1.0)  # dask.datasets.timeseries draws x and y uniformly from here
# What the Panel process accepts back: a million points is 16 MB per session.
MAX_POINTS = 1_000_000
# A Bokeh line draws this many points smoothly; beyond, datashader rasterizes.
RASTERIZE_ABOVE = 20_000


@dataclass(frozen=True)
class DataQuery:
    """One aggregation of the dataset: filters, grouping, the value and how it is reduced."""

    column: str = "x"
    aggregation: str = "mean"
    group_by: str = "time"
    bucket: str = "1h"
    names: tuple[str, ...] = ()  # empty: every name
    x_range: tuple[float, float] = X_BOUNDS
    days: tuple[int, int] = (1, 1)  # first and last day, counted from 1, inclusive

    def describe(self) -> str:
        """A short title, e.g. ``mean of x per 1 hour, days 1–3``."""
        per = (
            f"per {BUCKET_LABELS[self.bucket].split(' (')[0]}"
            if self.group_by == "time"
            else ("per name")
        )
        return f"{self.aggregation} of {self.column} {per}, days {self.days[0]}–{self.days[1]}"


def _choice(field: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise TaskInputError(field, f"choose one of {', '.join(allowed)}; got {value!r}")
    return value


def _pair(field: str, value: object, kind: type | UnionType, hint: str) -> tuple[float, float]:
    """A (low, high) pair of numbers of ``kind`` with low <= high, or the field's error."""
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value)
        or not value[0] <= value[1]
    ):
        raise TaskInputError(field, f"expected {hint}, got {value!r}")
    return value[0], value[1]


def _x_range(value: object) -> tuple[float, float]:
    lowest, highest = X_BOUNDS
    hint = f"{lowest:g} <= low <= high <= {highest:g}"
    low, high = _pair("x range", value, int | float, hint)
    if not lowest <= low <= high <= highest:
        raise TaskInputError("x range", f"expected {hint}, got {value!r}")
    return float(low), float(high)


def _days(value: object, dataset: DatasetSpec) -> tuple[int, int]:
    hint = f"1 <= first <= last <= {dataset.days}"
    first, last = _pair("days", value, int, hint)
    if not 1 <= first <= last <= dataset.days:
        raise TaskInputError("days", f"expected {hint}, got {value!r}")
    return int(first), int(last)


def build_query(
    dataset: DatasetSpec,
    *,
    column: object,
    aggregation: object,
    group_by: object,
    bucket: object,
    names: object,
    x_range: object,
    days: object,
) -> DataQuery:
    """Turn the widgets' values into a validated query on ``dataset``.

    Raises:
        TaskInputError: naming the field at fault and the values it accepts,
            including a query whose answer would exceed ``MAX_POINTS``.
    """
    if not isinstance(names, list | tuple) or not all(n in NAMES for n in names):
        raise TaskInputError("names", f"choose among {', '.join(NAMES)}; got {names!r}")
    query = DataQuery(
        column=_choice("column", column, COLUMNS),
        aggregation=_choice("aggregation", aggregation, AGGREGATIONS),
        group_by=_choice("group by", group_by, GROUP_BY),
        bucket=_choice("bucket", bucket, list(BUCKETS)),
        names=tuple(sorted(set(names), key=NAMES.index)),
        x_range=_x_range(x_range),
        days=_days(days, dataset),
    )
    if query.aggregation == "std" and query.group_by == "time" and query.bucket == "1s":
        raise TaskInputError(
            "aggregation",
            "std needs two rows or more per bucket and a 1 second bucket holds one; "
            "choose a longer bucket",
        )
    points = estimate_points(query, dataset)
    if points > MAX_POINTS:
        raise TaskInputError(
            "bucket",
            f"{BUCKET_LABELS[query.bucket]} over days {query.days[0]}–{query.days[1]} gives "
            f"{points:,} points, more than the {MAX_POINTS:,} a plot here takes; "
            "choose a longer bucket or fewer days",
        )
    return query


def selected_seconds(query: DataQuery, dataset: DatasetSpec) -> int:
    """Seconds of data (= rows) inside the query's day range."""
    first = (query.days[0] - 1) * 86_400
    last = min(query.days[1] * 86_400, dataset.rows)
    return max(last - first, 0)


def estimate_points(query: DataQuery, dataset: DatasetSpec) -> int:
    """At most how many points the answer has: one per bucket, or one per name."""
    if query.group_by == "name":
        return len(query.names or NAMES)
    return math.ceil(selected_seconds(query, dataset) / BUCKETS[query.bucket])


def should_rasterize(points: int) -> bool:
    """Whether datashader should draw this many points rather than Bokeh glyphs."""
    return points > RASTERIZE_ABOVE
