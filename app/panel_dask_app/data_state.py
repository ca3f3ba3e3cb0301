"""The state of one /data session, with no widgets and no Dask.

The widgets edit the query's parameters; ``data_session.DataSession`` runs the
query they describe and reports here: progress while the cluster works, then
the answer, or why there is none. Tested with plain pytest.
"""

from __future__ import annotations

import param

from panel_dask_app.data_query import (
    AGGREGATIONS,
    BUCKET_LABELS,
    COLUMNS,
    GROUP_BY,
    X_BOUNDS,
    DataQuery,
    build_query,
)
from panel_dask_app.data_tasks import QueryAnswer
from panel_dask_app.dataset import NAMES, DatasetSpec

# The parameters a user edits; a change to any of them runs a new query.
QUERY_PARAMETERS = ("column", "aggregation", "group_by", "bucket", "names", "x_range", "days")


class DataState(param.Parameterized):
    """What the user asks of the dataset, and what the cluster answered."""

    column: param.Selector[str] = param.Selector(
        default="x", objects=list(COLUMNS), doc="The value aggregated."
    )
    aggregation: param.Selector[str] = param.Selector(default="mean", objects=list(AGGREGATIONS))
    group_by: param.Selector[str] = param.Selector(
        default="time", objects=list(GROUP_BY), label="Group by"
    )
    bucket: param.Selector[str] = param.Selector(
        default="1h",
        objects={label: value for value, label in BUCKET_LABELS.items()},
        label="Time bucket",
    )
    names = param.ListSelector(default=[], objects=list(NAMES), doc="Empty: every name.")
    x_range = param.Range(default=X_BOUNDS, bounds=X_BOUNDS, label="x range")
    days = param.Range(default=(1, 1), label="Days", doc="First and last day, inclusive.")

    answer = param.ClassSelector(
        class_=QueryAnswer, default=None, allow_None=True, doc="The last answer shown."
    )
    shown = param.ClassSelector(
        class_=DataQuery, default=None, allow_None=True, doc="The query of that answer."
    )
    runs = param.Integer(default=0, doc="Answers shown so far in this session.")
    running = param.Boolean(default=False, doc="A query is on the cluster.")
    progress_done = param.Integer(default=0, doc="Partitions summarised by the workers.")
    progress_total = param.Integer(default=0, doc="Partitions the running query reads.")
    status = param.String(default="No answer yet.", doc="One line about the last answer.")
    message = param.String(default="", doc="Feedback on the last query.")
    message_kind: param.Selector[str] = param.Selector(
        default="info", objects=["info", "success", "warning", "danger"]
    )

    def __init__(self, dataset: DatasetSpec, **params: object) -> None:
        super().__init__(**params)
        self.dataset = dataset
        self.param.days.bounds = (1, dataset.days)
        if "days" not in params:
            self.days = (1, dataset.days)

    def query(self) -> DataQuery:
        """The validated query the parameters describe.

        Raises:
            TaskInputError: naming the field at fault and what it accepts.
        """
        days = tuple(int(day) for day in self.days)
        return build_query(
            self.dataset,
            column=self.column,
            aggregation=self.aggregation,
            group_by=self.group_by,
            bucket=self.bucket,
            names=list(self.names),
            x_range=tuple(self.x_range),
            days=days,
        )

    def begin(self, partitions: int) -> None:
        """A query went to the cluster: progress starts at none of ``partitions``."""
        self.param.update(running=True, progress_done=0, progress_total=partitions)

    def advance(self, done: int) -> None:
        """``done`` partitions are summarised (nothing to send when unchanged)."""
        if done != self.progress_done:
            self.progress_done = done

    def end(self) -> None:
        """The running query ended, answered or not."""
        self.running = False

    def show(self, answer: QueryAnswer, query: DataQuery, seconds: float) -> None:
        """Show an answer: the plot follows ``answer``, the status line says what it is."""
        runs = self.runs + 1
        drawn = "rasterized by datashader" if answer.image is not None else "drawn by Bokeh"
        self.param.update(
            answer=answer,
            shown=query,
            runs=runs,
            progress_done=self.progress_total,
            status=(
                f"Answer {runs}: {query.describe()}: {answer.points:,} points ({drawn}) "
                f"from {answer.rows:,} of {self.dataset.rows:,} rows in {seconds:.2f} s."
            ),
        )
        self.notify("")

    def notify(self, message: str, kind: str = "info") -> None:
        """Show feedback on the last query (nothing to send when it is already shown)."""
        if (message, kind) != (self.message, self.message_kind):
            self.param.update(message=message, message_kind=kind)
