"""One session's forecasts: the chosen regions and horizon, submitted to Dask, results as they come.

The work goes through panel-dask's one shared asynchronous client
(``panel_dask_app.client.get_connection``): every session of the server
process shares one scheduler connection, and the page never blocks Panel's
event loop while the workers compute.
"""

from __future__ import annotations

import asyncio
from typing import Any

import param
from distributed import Future, as_completed
from param.parameters import NoNone

from acme_sales.tasks import DAYS_MAX, REGIONS, RegionForecast, forecast_revenue
from panel_dask_app.client import DaskConnection, DaskUnavailableError


class SalesForecast(param.Parameterized):
    """What the user asked for and what the workers answered; no widgets here."""

    connection = param.ClassSelector(class_=DaskConnection, allow_None=NoNone)
    regions = param.ListSelector(default=list(REGIONS), objects=list(REGIONS))
    days = param.Integer(default=90, bounds=(1, DAYS_MAX), label="Days ahead")
    results = param.List(default=[], item_type=RegionForecast, doc="In order of arrival.")
    running = param.Boolean(default=False)
    message = param.String(default="", doc="Why the last run failed, if it did.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._futures: list[Future[RegionForecast]] = []

    async def run(self) -> None:
        """Forecast every chosen region on the cluster, one task each."""
        if self.running:
            return
        self.param.update(running=True, results=[], message="")
        try:
            client = await self.connection.get_client()
            # pure=False: a new run computes again rather than reusing a held result.
            self._futures = [
                client.submit(forecast_revenue, region, self.days, pure=False)
                for region in self.regions
            ]
            # The client is no process default (it serves every session): name its loop.
            async for future in as_completed(self._futures, loop=client.loop):
                self.results = [*self.results, await future]
        except DaskUnavailableError as error:
            self.message = str(error)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a task's own error, shown rather than lost
            self.message = f"{type(error).__name__}: {error}"
        finally:
            self._futures = []
            self.running = False

    async def close(self) -> None:
        """Cancel what is still running (the browser session ended)."""
        futures, self._futures = self._futures, []
        for future in futures:
            await future.cancel()
