"""/pandas_data: the app's /data page computing with pandas in the Panel process."""

import panel as pn

from bench.pandas_data import pandas_data_page

pn.extension()

if pn.state.served:
    pandas_data_page().servable()
