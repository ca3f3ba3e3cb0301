"""/data: aggregate a Dask DataFrame on the cluster and plot the answer with hvPlot."""

import panel as pn

from panel_dask_app.views.layout import data_page

pn.extension()

if pn.state.served:
    data_page().servable()
