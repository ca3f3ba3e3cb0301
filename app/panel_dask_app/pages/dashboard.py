"""/dashboard: the Dask scheduler's plots in iframes."""

import panel as pn

from panel_dask_app.views.layout import dashboard_page

pn.extension()

if pn.state.served:
    dashboard_page().servable()
