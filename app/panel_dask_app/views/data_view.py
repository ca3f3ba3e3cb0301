"""The /data view: query widgets, progress while the cluster works, the plot of the answer."""

from __future__ import annotations

import html
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on pandas objects)
import hvplot.xarray  # noqa: F401  (and on xarray's, for the rasterized answers)
import panel as pn
import param
from panel.viewable import Viewer
from param.parameters import NoNone

from panel_dask_app.data_query import DataQuery
from panel_dask_app.data_session import DataSession
from panel_dask_app.data_state import QUERY_PARAMETERS, DataState
from panel_dask_app.data_tasks import QueryAnswer
from panel_dask_app.loop import current_loop, on_loop
from panel_dask_app.telemetry import timed_callback
from panel_dask_app.views.tasks_view import at_least_one, message_alert

PLOT_HEIGHT = 420
LINE_COLOUR = "#0f4c81"  # the template's header colour


def progress_text(done: int, total: int) -> str:
    """What the progress bar stands for, e.g. ``Summarised 12 of 58 partitions on the cluster…``."""
    return f"Summarised {done} of {total} partitions on the cluster…"


def plot_answer(answer: QueryAnswer, query: DataQuery) -> hv.Element:
    """Plot an answer with hvPlot: bars per name, a line over time, or datashader's image."""
    title = query.describe()
    label = f"{query.aggregation} of {query.column}"
    common: dict[str, Any] = {"responsive": True, "height": PLOT_HEIGHT, "title": title}
    if answer.image is not None:
        # Pixels no line crosses stay transparent; the colour counts the crossings.
        crossings = answer.image.where(answer.image > 0)
        plot: hv.Element = crossings.hvplot.image(
            x="time", y="value", cmap="Blues", colorbar=False, ylabel=label, **common
        )
        return plot
    series = answer.series
    if series is None:
        raise ValueError("an answer carries a series or an image")
    if query.group_by == "name":
        return series.hvplot.bar(ylabel=label, xlabel="name", rot=45, color=LINE_COLOUR, **common)
    return series.hvplot.line(ylabel=label, xlabel="time", color=LINE_COLOUR, **common)


class DataView(Viewer):
    """Choose the column, filters and aggregation; each change runs on the cluster."""

    session = param.ClassSelector(class_=DataSession, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # Built while the server creates the session, on the server's loop.
        self._loop = current_loop()
        state = self.state
        names = ", ".join(state.param.names.objects[:3])
        self._inputs = pn.Column(
            pn.widgets.Select.from_param(state.param.column, name="Column"),
            pn.widgets.Select.from_param(
                state.param.aggregation, name="Aggregation", css_classes=["data-aggregation"]
            ),
            pn.widgets.RadioButtonGroup.from_param(state.param.group_by, name="Group by"),
            pn.widgets.Select.from_param(state.param.bucket, css_classes=["data-bucket"]),
            pn.widgets.MultiChoice.from_param(
                state.param.names, name="Names (none: all)", placeholder=f"{names}, …"
            ),
            # Throttled: a query per drag, not one per pixel the slider passes.
            pn.widgets.RangeSlider.from_param(
                state.param.x_range, step=0.05, value_throttled=True, name="x range"
            ),
            pn.widgets.IntRangeSlider.from_param(
                state.param.days, step=1, value_throttled=True, name="Days"
            ),
            sizing_mode="stretch_width",
        )
        self._plot = pn.pane.HoloViews(
            None, height=PLOT_HEIGHT, sizing_mode="stretch_width", css_classes=["data-plot"]
        )
        state.param.watch(self._on_query_change, list(QUERY_PARAMETERS))
        state.param.watch(self._show, ["answer"])
        pn.state.onload(self._first_query)

    @property
    def state(self) -> DataState:
        """The state this view renders."""
        return self.session.state

    async def _first_query(self) -> None:
        await on_loop(self._loop, self.session.run())

    @timed_callback("data", "query")
    async def _on_query_change(self, *_events: param.parameterized.Event) -> None:
        await on_loop(self._loop, self.session.run())

    def _show(self, event: param.parameterized.Event) -> None:
        if event.new is not None and self.state.shown is not None:
            self._plot.object = plot_answer(event.new, self.state.shown)

    def controls(self) -> pn.viewable.Viewable:
        """The query's widgets, for the sidebar."""
        return self._inputs

    def __panel__(self) -> pn.viewable.Viewable:
        state = self.state
        return pn.Column(
            message_alert(state, "data-message"),
            pn.indicators.Progress(
                value=state.param.progress_done,
                max=pn.bind(at_least_one, state.param.progress_total),
                visible=state.param.running,
                bar_color="info",
                sizing_mode="stretch_width",
                css_classes=["data-progress"],
            ),
            pn.widgets.StaticText(
                value=pn.bind(progress_text, state.param.progress_done, state.param.progress_total),
                visible=state.param.running,
                css_classes=["data-progress-text"],
                margin=(0, 10),
            ),
            pn.widgets.StaticText(
                value=pn.bind(html.escape, state.param.status),
                css_classes=["data-status"],
                margin=(0, 10),
            ),
            self._plot,
            sizing_mode="stretch_width",
        )
