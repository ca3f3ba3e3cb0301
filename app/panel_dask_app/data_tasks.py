"""The /data page's work on the dataset, in pandas: what each worker does to its partitions.

A query is a map and a reduce. Each partition is filtered and summarised per
group (count, sum, sum of squares, min, max), then one task combines the
summaries and finishes the aggregation, so only the answer, never the rows,
reaches the Panel process. The summaries combine exactly whatever the
partitioning; ``aggregate_frame`` runs the same two steps on one whole frame
(tests, the benchmark's pandas baseline). Free of Panel and of Dask's client:
the workers import this module by name.

Where the answer has many points, the reduce task also rasterizes it with
datashader, so the Panel process receives an image of fixed size rather than
the points: rasterizing a million points in the Panel process (hvPlot's
``rasterize=True``) holds its event loop, and so every session, for seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datashader
import numpy as np
import pandas as pd
import xarray as xr

from panel_dask_app.data_query import DataQuery, should_rasterize
from panel_dask_app.dataset import DAY_ROWS, START

SUMMARY_COLUMNS = ("count", "sum", "sumsq", "min", "max")
_COMBINE = {"count": "sum", "sum": "sum", "sumsq": "sum", "min": "min", "max": "max"}
RASTER_SIZE = (900, 400)  # pixels: about the plot's size on a laptop screen


@dataclass(frozen=True)
class QueryAnswer:
    """What a query sends back: its points, or (many points) datashader's image of them."""

    points: int
    rows: int  # rows that passed the filters and were aggregated
    series: pd.Series | None = None
    image: xr.DataArray | None = None


def select_rows(frame: pd.DataFrame, query: DataQuery) -> pd.DataFrame:
    """The rows of ``frame`` inside the query's days, x range and names."""
    first = START + pd.Timedelta(seconds=(query.days[0] - 1) * DAY_ROWS)
    last = START + pd.Timedelta(seconds=query.days[1] * DAY_ROWS)
    index = frame.index
    keep = (index >= first) & (index < last)
    keep &= frame["x"].between(*query.x_range).to_numpy()
    if query.names:
        keep &= frame["name"].isin(query.names).to_numpy()
    return frame[keep]


def summarize_partition(frame: pd.DataFrame, query: DataQuery) -> pd.DataFrame:
    """Count, sum, sum of squares, min and max of the query's column per group, in one partition."""
    rows = select_rows(frame, query)
    values = rows[query.column].astype("float64")
    keys = rows["name"].array if query.group_by == "name" else rows.index.floor(query.bucket)
    columns = pd.DataFrame({"value": values.to_numpy(), "square": (values * values).to_numpy()})
    grouped = columns.groupby(keys, sort=True, observed=True)
    value = grouped["value"]
    summary = pd.DataFrame(
        {
            "count": value.count(),
            "sum": value.sum(),
            "sumsq": grouped["square"].sum(),
            "min": value.min(),
            "max": value.max(),
        },
        columns=list(SUMMARY_COLUMNS),
    )
    if query.group_by == "name":
        # Plain strings: summaries of different partitions then always concatenate.
        summary.index = summary.index.astype(str)
    summary.index.name = query.group_by
    return summary


def combine_summaries(summaries: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One summary from many: groups found in several partitions are merged exactly.

    Time buckets never span partitions (whole-day partitions, buckets that
    divide a day), so their summaries only need concatenating; names recur in
    every partition and are merged.
    """
    combined = pd.concat(list(summaries)) if summaries else pd.DataFrame(columns=SUMMARY_COLUMNS)
    if combined.index.is_unique:
        return combined.sort_index()
    return combined.groupby(level=0, sort=True).agg(_COMBINE)


def finish(summary: pd.DataFrame, query: DataQuery) -> pd.Series:
    """The query's aggregation from a combined summary; groups with no rows are absent."""
    count = summary["count"].astype("float64")
    if query.aggregation == "mean":
        result = summary["sum"] / count
    elif query.aggregation == "std":
        # Sample standard deviation (ddof=1), as pandas computes it; NaN for one row.
        variance = (summary["sumsq"] - summary["sum"] ** 2 / count) / (count - 1)
        result = np.sqrt(variance.clip(lower=0.0))
    elif query.aggregation == "count":
        result = count
    else:
        result = summary[query.aggregation].astype("float64")
    result.name = f"{query.aggregation} of {query.column}"
    return result


def rasterize_line(series: pd.Series, size: tuple[int, int] = RASTER_SIZE) -> xr.DataArray:
    """How many line segments of ``series`` cross each pixel, by datashader (time on x)."""
    nanoseconds = series.index.as_unit("ns").asi8
    values = series.to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    canvas = datashader.Canvas(
        plot_width=size[0],
        plot_height=size[1],
        x_range=(int(nanoseconds[0]), int(nanoseconds[-1])),
        y_range=(low, high),
    )
    counts = canvas.line(
        pd.DataFrame({"time": nanoseconds, "value": values}), "time", "value", datashader.count()
    )
    times = pd.to_datetime(counts["time"].to_numpy().astype("int64"), unit="ns")
    image: xr.DataArray = counts.assign_coords(time=times).rename("lines")
    return image


def answer(summaries: Sequence[pd.DataFrame], query: DataQuery) -> QueryAnswer:
    """The reduce task: combine the summaries, finish the aggregation, rasterize many points."""
    summary = combine_summaries(summaries)
    series = finish(summary, query)
    rows = int(summary["count"].sum())
    if query.group_by == "time" and should_rasterize(len(series)):
        return QueryAnswer(len(series), rows, image=rasterize_line(series))
    return QueryAnswer(len(series), rows, series=series)


def aggregate_frame(frame: pd.DataFrame, query: DataQuery) -> QueryAnswer:
    """The whole query on one pandas frame, in this process (tests, pandas baseline)."""
    return answer([summarize_partition(frame, query)], query)
