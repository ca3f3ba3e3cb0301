"""The /sales page: a form in the sidebar, the forecasts as they arrive, the cluster beside them."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer
from param.parameters import NoNone

from acme_sales.forecast import SalesForecast
from acme_sales.tasks import RegionForecast
from panel_dask_app.client import get_connection
from panel_dask_app.cluster import get_cluster_monitor
from panel_dask_app.session import close_on_session_destroyed
from panel_dask_app.views.cluster_view import ClusterPanel, ConnectionStatus
from panel_dask_app.views.layout import TEMPLATE_STYLE, Template

COLUMNS = ["region", "days", "revenue", "host"]


def results_frame(results: list[RegionForecast]) -> pd.DataFrame:
    """The table's rows: one per region, in order of arrival."""
    return pd.DataFrame([[r.region, r.days, r.revenue, r.host] for r in results], columns=COLUMNS)


class ForecastView(Viewer):
    """The form and the results of one session's :class:`SalesForecast`."""

    forecast = param.ClassSelector(class_=SalesForecast, allow_None=NoNone)

    def controls(self) -> pn.viewable.Viewable:
        """The sidebar form: regions, horizon, and the button that submits."""
        run = pn.widgets.Button(
            name="Forecast", button_type="primary", loading=self.forecast.param.running
        )

        async def submit(_: object) -> None:
            await self.forecast.run()

        run.on_click(submit)
        return pn.Column(
            pn.widgets.MultiChoice.from_param(self.forecast.param.regions),
            pn.widgets.IntInput.from_param(self.forecast.param.days),
            run,
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Alert(
                self.forecast.param.message,
                alert_type="danger",
                visible=pn.bind(bool, self.forecast.param.message),
                css_classes=["forecast-error"],
            ),
            pn.widgets.Tabulator(
                pn.bind(results_frame, self.forecast.param.results),
                disabled=True,
                show_index=False,
                css_classes=["forecast-table"],
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )


def sales_page() -> pn.template.BaseTemplate:
    """The page for one browser session; its running forecasts end with the session."""
    connection = get_connection()
    forecast = SalesForecast(connection=connection)
    close_on_session_destroyed(forecast)
    view = ForecastView(forecast=forecast)

    async def start_shared_pollers() -> None:
        # Process-wide and idempotent: the first session starts them on the server's loop.
        connection.start()
        get_cluster_monitor().start()

    pn.state.onload(start_shared_pollers)
    page: pn.template.BaseTemplate = Template(
        title="ACME sales forecast",
        sidebar=[
            ConnectionStatus(connection=connection),
            view.controls(),
            ClusterPanel(monitor=get_cluster_monitor()),
        ],
        main=[view],
        **TEMPLATE_STYLE,
    )
    return page
