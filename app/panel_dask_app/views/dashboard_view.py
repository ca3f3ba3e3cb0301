"""The Dask dashboard page: chosen scheduler plots, each in its own iframe."""

from __future__ import annotations

from html import escape

import panel as pn
import param
from panel.viewable import Viewer
from param.parameters import NoNone

from panel_dask_app.config import Settings
from panel_dask_app.dashboard import DEFAULT_PLOTS, PLOTS, plot_url, status_url


class DashboardState(param.Parameterized):
    """Which plots to show, from which dashboard."""

    base_url = param.String(default=Settings().dashboard_url, doc="DASK_DASHBOARD_URL.")
    plots = param.ListSelector(default=DEFAULT_PLOTS, objects=list(PLOTS), label="Plots")
    height = param.Integer(default=360, bounds=(150, 1200), label="Plot height (px)")

    def urls(self) -> list[tuple[str, str]]:
        """(label, URL) of every chosen plot, in catalogue order."""
        return [(plot, plot_url(self.base_url, plot)) for plot in PLOTS if plot in self.plots]


def iframe_html(label: str, url: str, height: int) -> str:
    """One titled iframe; ``loading=lazy`` spares the scheduler plots nobody scrolls to."""
    return (
        f'<iframe class="dask-plot" title="{escape(label)}" src="{escape(url)}" '
        f'style="width:100%;height:{height}px;border:0" loading="lazy"></iframe>'
    )


class DashboardView(Viewer):
    """Pick plots; each shows live in an iframe from the scheduler's dashboard."""

    state = param.ClassSelector(class_=DashboardState, allow_None=NoNone)

    @param.depends("state.plots", "state.height")
    def _plots(self) -> pn.viewable.Viewable:
        cards = [
            pn.Card(
                pn.pane.HTML(
                    iframe_html(label, url, self.state.height), sizing_mode="stretch_width"
                ),
                title=label,
                sizing_mode="stretch_width",
            )
            for label, url in self.state.urls()
        ]
        if not cards:
            return pn.pane.Markdown("Choose at least one plot.")
        return pn.GridBox(*cards, ncols=2, sizing_mode="stretch_width")

    def controls(self) -> pn.viewable.Viewable:
        """Plot choice and height, for the sidebar."""
        return pn.Column(
            pn.widgets.CheckBoxGroup.from_param(self.state.param.plots),
            pn.widgets.IntSlider.from_param(self.state.param.height, step=30),
            pn.pane.Markdown(
                f"[Open the full Dask dashboard ↗]({status_url(self.state.base_url)})"
            ),
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.param.ParamMethod(self._plots, sizing_mode="stretch_width")
