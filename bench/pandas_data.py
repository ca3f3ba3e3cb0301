"""The app's /data page computing with pandas in the Panel process: the data benchmark's baseline.

What the page would be without Dask: the same dataset (same spec and seed),
generated once into this process's memory, and each widget change aggregated
by the very functions the workers run (``aggregate_frame``), on a thread so
the server's event loop stays free. Everything else is the app's own view,
state and template.
"""

from __future__ import annotations

import asyncio
import functools
import time

import pandas as pd
import panel as pn

from panel_dask_app.client import get_connection
from panel_dask_app.config import get_settings
from panel_dask_app.data_session import DataSession
from panel_dask_app.data_state import DataState
from panel_dask_app.data_tasks import aggregate_frame
from panel_dask_app.dataset import DatasetSpec, make_frame
from panel_dask_app.shared_dataset import SharedDataset
from panel_dask_app.tasks import TaskInputError
from panel_dask_app.views import layout
from panel_dask_app.views.data_view import DataView

_CACHE_KEY = "bench.pandas_frame"


def local_frame(spec: DatasetSpec) -> pd.DataFrame:
    """The whole dataset in this process, generated once (``pn.state.as_cached``)."""
    return pn.state.as_cached(_CACHE_KEY, lambda: make_frame(spec).compute(scheduler="sync"))


class PandasDataSession(DataSession):
    """The app's session with the cluster replaced by pandas on this process's copy."""

    async def run(self) -> None:
        """Aggregate the state's query here; an answer superseded meanwhile is not shown."""
        self._requests += 1
        request = self._requests
        try:
            query = self.state.query()
        except TaskInputError as exc:
            self.state.notify(f"Not run. {exc}", "danger")
            return
        started = time.perf_counter()
        self.state.begin(1)
        frame = await asyncio.to_thread(local_frame, self.dataset.spec)
        answer = await asyncio.to_thread(aggregate_frame, frame, query)
        if request == self._requests:
            with self.hold_updates():
                self.state.show(answer, query, time.perf_counter() - started)
            self.state.end()


def pandas_data_page() -> pn.template.BaseTemplate:
    """The /data page of the app, built the same way, computing with pandas here."""
    dataset = SharedDataset(DatasetSpec(get_settings().data_rows))
    session = PandasDataSession(DataState(dataset.spec), get_connection(), dataset)
    if pn.state.curdoc is not None:
        session.hold_updates = functools.partial(pn.io.hold, pn.state.curdoc)
    view = DataView(session=session)
    return layout.Template(
        title=f"{layout.TITLE} · data (pandas in the Panel process)",
        sidebar=[view.controls()],
        main=[view],
        **layout.TEMPLATE_STYLE,
    )
