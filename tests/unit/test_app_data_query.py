"""The /data page's logic without a cluster: the dataset's shape, queries, aggregation, drawing."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel_dask_app.data_query import (
    AGGREGATIONS,
    BUCKETS,
    MAX_POINTS,
    RASTERIZE_ABOVE,
    DataQuery,
    build_query,
    estimate_points,
    should_rasterize,
)
from panel_dask_app.data_tasks import (
    aggregate_frame,
    answer,
    combine_summaries,
    rasterize_line,
    summarize_partition,
)
from panel_dask_app.dataset import DAY_ROWS, MAX_PARTITIONS, NAMES, DatasetSpec, make_frame
from panel_dask_app.tasks import TaskInputError

THREE_DAYS = DatasetSpec(3 * DAY_ROWS)
VALID = {
    "column": "x",
    "aggregation": "mean",
    "group_by": "time",
    "bucket": "1h",
    "names": [],
    "x_range": (-1.0, 1.0),
    "days": (1, 3),
}


@pytest.fixture(scope="module")
def frame():
    """The three-day dataset, generated in this process exactly as the workers generate it."""
    return make_frame(THREE_DAYS).compute()


def test_dataset_holds_whole_days_in_at_most_max_partitions():
    assert (DatasetSpec(5_000_000).days, DatasetSpec(5_000_000).rows) == (58, 58 * DAY_ROWS)
    assert DatasetSpec(DAY_ROWS).partitions == 1
    huge = DatasetSpec(1_000_000_000)
    assert huge.partitions <= MAX_PARTITIONS
    assert huge.days == huge.partitions * huge.partition_days
    assert huge.rows >= huge.requested_rows
    assert DatasetSpec(DAY_ROWS).name != DatasetSpec(2 * DAY_ROWS).name


def test_generated_frame_matches_the_spec(frame):
    assert len(frame) == THREE_DAYS.rows
    assert make_frame(THREE_DAYS).npartitions == THREE_DAYS.partitions
    assert set(frame["name"].unique()) <= set(NAMES)
    assert frame["x"].between(-1, 1).all()


def test_widget_values_become_a_query():
    query = build_query(
        THREE_DAYS, **{**VALID, "names": ["Bob", "Alice", "Bob"], "x_range": [0, 0.5]}
    )
    assert query == DataQuery(
        column="x",
        aggregation="mean",
        group_by="time",
        bucket="1h",
        names=("Alice", "Bob"),  # the widget's order and repeats do not matter
        x_range=(0.0, 0.5),
        days=(1, 3),
    )
    assert query.describe() == "mean of x per 1 hour, days 1–3"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("column", "z", "column: choose one of x, y, id; got 'z'"),
        ("aggregation", "median", "aggregation: choose one of mean, sum"),
        ("group_by", "id", "group by: choose one of time, name"),
        ("bucket", "2h", "bucket: choose one of 1s, 1min"),
        ("names", ["Mallory"], "names: choose among Alice, Bob"),
        ("x_range", (0.5, -0.5), "x range: expected -1 <= low <= high <= 1"),
        ("x_range", (-2, 0), "x range: expected -1 <= low <= high <= 1"),
        ("x_range", ("a", 0), "x range: expected"),
        ("days", (0, 2), "days: expected 1 <= first <= last <= 3, got (0, 2)"),
        ("days", (2, 4), "days: expected 1 <= first <= last <= 3"),
        ("days", (1.5, 2), "days: expected"),
    ],
)
def test_bad_widget_values_name_the_field_and_what_it_accepts(field, value, message):
    with pytest.raises(TaskInputError) as caught:
        build_query(THREE_DAYS, **{**VALID, field: value})
    assert str(caught.value).startswith(message)


def test_std_of_one_row_buckets_is_refused():
    with pytest.raises(TaskInputError, match="^aggregation: std needs two rows"):
        build_query(THREE_DAYS, **{**VALID, "aggregation": "std", "bucket": "1s"})
    assert build_query(THREE_DAYS, **{**VALID, "aggregation": "std", "bucket": "1min"})


def test_points_are_estimated_from_days_and_bucket():
    query = build_query(THREE_DAYS, **VALID)
    assert estimate_points(query, THREE_DAYS) == 72
    by_name = build_query(THREE_DAYS, **{**VALID, "group_by": "name", "names": ["Tim", "Ray"]})
    assert estimate_points(by_name, THREE_DAYS) == 2
    one_day_of_seconds = build_query(THREE_DAYS, **{**VALID, "bucket": "1s", "days": (2, 2)})
    assert estimate_points(one_day_of_seconds, THREE_DAYS) == DAY_ROWS


def test_a_query_with_more_points_than_a_plot_takes_is_refused():
    dataset = DatasetSpec(20 * DAY_ROWS)  # 20 days of seconds: 1,728,000 points
    assert 20 * DAY_ROWS > MAX_POINTS
    with pytest.raises(TaskInputError, match="^bucket: 1 second .* gives 1,728,000 points"):
        build_query(dataset, **{**VALID, "bucket": "1s", "days": (1, 20)})
    assert build_query(dataset, **{**VALID, "bucket": "1s", "days": (1, 11)})


def test_rasterize_only_where_the_points_are_many():
    assert not should_rasterize(RASTERIZE_ABOVE)
    assert should_rasterize(RASTERIZE_ABOVE + 1)


def reference(frame, query):
    """The same question asked of pandas directly, as a user would write it."""
    first = pd.Timestamp("2000-01-01") + pd.Timedelta(days=query.days[0] - 1)
    last = pd.Timestamp("2000-01-01") + pd.Timedelta(days=query.days[1])
    rows = frame[
        (frame.index >= first)
        & (frame.index < last)
        & frame["x"].between(*query.x_range)
        & (frame["name"].isin(query.names) if query.names else True)
    ]
    keys = rows["name"].astype(str) if query.group_by == "name" else rows.index.floor(query.bucket)
    return rows[query.column].astype(float).groupby(keys).agg(query.aggregation)


queries = st.builds(
    DataQuery,
    column=st.sampled_from(["x", "y", "id"]),
    aggregation=st.sampled_from(AGGREGATIONS),
    group_by=st.sampled_from(["time", "name"]),
    bucket=st.sampled_from([b for b in BUCKETS if b != "1s"]),
    names=st.lists(st.sampled_from(NAMES), max_size=3, unique=True).map(tuple),
    x_range=st.tuples(st.floats(-1, 0), st.floats(0, 1)),
    days=st.sampled_from([(1, 3), (2, 2), (2, 3)]),
)


@settings(max_examples=40, deadline=None)
@given(query=queries, split=st.sampled_from([1, 2, 3]))
def test_partition_summaries_combine_to_what_pandas_computes(frame, query, split):
    # However the rows are split into partitions (whole days), the answer is pandas'.
    days = np.array_split(np.arange(3), split)
    parts = [frame.iloc[d[0] * DAY_ROWS : (d[-1] + 1) * DAY_ROWS] for d in days]
    got = answer([summarize_partition(part, query) for part in parts], query)
    expected = reference(frame, query)
    assert got.image is None and got.series is not None
    assert got.points == len(expected)
    assert list(got.series.index) == list(expected.index)
    # std from sums of squares differs from pandas' two-pass std in the last digits.
    np.testing.assert_allclose(got.series.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-9)
    assert got.rows == int(
        reference(frame, DataQuery(**{**query.__dict__, "aggregation": "count"})).sum()
    )


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_name_summaries_merge_across_partitions(frame, aggregation):
    # Every name recurs in every day, so each statistic is really merged.
    query = DataQuery(group_by="name", aggregation=aggregation, column="y", days=(1, 3))
    days = [frame.iloc[i * DAY_ROWS : (i + 1) * DAY_ROWS] for i in range(3)]
    summaries = [summarize_partition(day, query) for day in days]
    assert not combine_summaries(summaries).index.has_duplicates
    got = answer(summaries, query).series
    np.testing.assert_allclose(got, reference(frame, query), rtol=1e-6, atol=1e-9)


def test_many_points_come_back_as_an_image(frame):
    query = DataQuery(bucket="1s", days=(1, 1))
    got = aggregate_frame(frame, query)
    assert got.points == DAY_ROWS and got.rows == DAY_ROWS
    assert got.series is None and got.image is not None
    assert got.image.dims == ("value", "time")
    assert got.image["time"].dtype.kind == "M"
    # One line through every second: each column of pixels is crossed.
    assert (got.image.sum("value") > 0).all()


def test_rasterize_line_survives_a_flat_or_empty_series():
    times = pd.date_range("2000-01-01", periods=5, freq="1s")
    flat = rasterize_line(pd.Series([1.0] * 5, index=times), size=(10, 4))
    assert flat.shape == (4, 10) and int(flat.sum()) > 0
    empty = rasterize_line(pd.Series([np.nan] * 5, index=times), size=(10, 4))
    assert int(empty.sum()) == 0
