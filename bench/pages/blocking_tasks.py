"""/blocking_tasks: the app's /tasks page with a blocking Submit (see bench/blocking.py)."""

import panel as pn

from bench.blocking import blocking_tasks_page

pn.extension("tabulator")

if pn.state.served:
    blocking_tasks_page().servable()
