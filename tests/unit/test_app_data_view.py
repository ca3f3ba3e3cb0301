"""The /data page's state and plots without a cluster or a browser."""

import holoviews as hv
import pandas as pd
import pytest

from panel_dask_app.data_query import RASTERIZE_ABOVE, DataQuery
from panel_dask_app.data_state import DataState
from panel_dask_app.data_tasks import aggregate_frame
from panel_dask_app.dataset import DAY_ROWS, DatasetSpec
from panel_dask_app.tasks import TaskInputError
from panel_dask_app.views.data_view import plot_answer, progress_text

TWO_DAYS = DatasetSpec(2 * DAY_ROWS)


def frame_of(rows):
    index = pd.date_range("2000-01-01", periods=rows, freq="1s", name="timestamp")
    names = pd.Categorical(["Alice", "Bob"] * (rows // 2))
    values = [float(i % 7) for i in range(rows)]
    return pd.DataFrame({"name": names, "id": range(rows), "x": 0.0, "y": values}, index=index)


def test_state_covers_the_whole_dataset_by_default():
    state = DataState(TWO_DAYS)
    assert state.days == (1, 2)
    assert state.param.days.bounds == (1, 2)
    assert state.query() == DataQuery(days=(1, 2))


def test_state_refuses_what_the_query_refuses():
    state = DataState(TWO_DAYS, bucket="1s", aggregation="std")
    with pytest.raises(TaskInputError, match="^aggregation: std needs two rows"):
        state.query()


def test_progress_then_answer_then_status_line():
    state = DataState(TWO_DAYS)
    state.begin(2)
    assert (state.running, state.progress_done, state.progress_total) == (True, 0, 2)
    state.advance(1)
    assert progress_text(state.progress_done, state.progress_total) == (
        "Summarised 1 of 2 partitions on the cluster…"
    )
    state.notify("stale", "warning")
    query = DataQuery(bucket="1h", days=(1, 1))
    state.show(aggregate_frame(frame_of(7200), query), query, 0.25)
    state.end()
    assert not state.running and state.progress_done == 2
    assert state.message == ""
    assert state.status == (
        "Answer 1: mean of x per 1 hour, days 1–1: 2 points (drawn by Bokeh) "
        "from 7,200 of 172,800 rows in 0.25 s."
    )


def test_an_answer_is_drawn_as_bars_line_or_image():
    frame = frame_of(2 * RASTERIZE_ABOVE)
    by_name = DataQuery(group_by="name", column="y", days=(1, 1))
    assert isinstance(plot_answer(aggregate_frame(frame, by_name), by_name), hv.Bars)
    hourly = DataQuery(bucket="1min", column="y", days=(1, 1))
    line = plot_answer(aggregate_frame(frame, hourly), hourly)
    assert isinstance(line, hv.Curve) and len(line) == 2 * RASTERIZE_ABOVE // 60 + 1
    every_second = DataQuery(bucket="1s", column="y", days=(1, 1))
    image = plot_answer(aggregate_frame(frame, every_second), every_second)
    assert isinstance(image, hv.Image)
    assert image.label == "" and "per 1 second" in image.opts.get().kwargs["title"]
