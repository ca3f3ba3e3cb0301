"""/sales: forecast regional revenue on the Dask cluster."""

import panel as pn

from acme_sales.views import sales_page

pn.extension("tabulator")

if pn.state.served:
    sales_page().servable()
