"""The /data page's dataset: what it holds and the lazy Dask DataFrame that generates it.

``dask.datasets.timeseries`` makes one row per second (a name, an id, x and y)
inside each partition's task, so the workers generate the data themselves and
nothing is downloaded. The same spec and seed give the same rows everywhere:
on the cluster, in tests, and in the benchmark's pandas baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import dask.dataframe as dd
import dask.datasets
import pandas as pd

DAY_ROWS = 86_400  # one row per second
START = pd.Timestamp("2000-01-01")
SEED = 2000
# Enough partitions to spread over many workers, few enough that the scheduler
# and every query's progress stay light even for a billion rows.
MAX_PARTITIONS = 256
DTYPES = {"name": "category", "id": int, "x": float, "y": float}
# The names dask's demo data draws from (dask.dataframe.io.demo.names).
NAMES = (
    "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah", "Ingrid",
    "Jerry", "Kevin", "Laura", "Michael", "Norbert", "Oliver", "Patricia", "Quinn", "Ray",
    "Sarah", "Tim", "Ursula", "Victor", "Wendy", "Xavier", "Yvonne", "Zelda",
)  # fmt: skip
# Part of the published name: bump it when the generated rows change.
GENERATION = 1


@dataclass(frozen=True)
class DatasetSpec:
    """The dataset for ``PANEL_DASK_DATA_ROWS``: whole days, split into whole-day partitions.

    Partitions hold whole days so that no time bucket of a query (all divide
    a day) spans two partitions, and the row count is rounded up to whole
    partitions because ``timeseries`` drops a partial last one.
    """

    requested_rows: int

    @property
    def partition_days(self) -> int:
        """Days per partition: one, or more when the days outnumber ``MAX_PARTITIONS``."""
        return math.ceil(math.ceil(self.requested_rows / DAY_ROWS) / MAX_PARTITIONS)

    @property
    def partitions(self) -> int:
        """How many partitions (and so tasks per query) the dataset has."""
        return math.ceil(math.ceil(self.requested_rows / DAY_ROWS) / self.partition_days)

    @property
    def days(self) -> int:
        """Days of data, from ``START``."""
        return self.partitions * self.partition_days

    @property
    def rows(self) -> int:
        """Rows actually generated (``requested_rows`` rounded up to whole partitions)."""
        return self.days * DAY_ROWS

    @property
    def name(self) -> str:
        """The name it is published under on the scheduler: one dataset per size."""
        return f"panel-dask-timeseries-g{GENERATION}-{self.rows}-rows"


def make_frame(spec: DatasetSpec) -> dd.DataFrame:
    """The lazy Dask DataFrame of ``spec``: nothing is computed until it is persisted."""
    frame: dd.DataFrame = dask.datasets.timeseries(
        start=START,
        end=START + pd.Timedelta(days=spec.days),
        freq="1s",
        partition_freq=f"{spec.partition_days}D",
        dtypes=DTYPES,
        seed=SEED,
    )
    return frame
