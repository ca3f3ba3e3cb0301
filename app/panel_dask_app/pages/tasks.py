"""/tasks: submit work to Dask and watch it."""

import panel as pn

from panel_dask_app.views.layout import tasks_page

pn.extension("tabulator")

if pn.state.served:
    tasks_page().servable()
