"""``panel serve --setup`` script: serve this process's Prometheus metrics from the start.

Panel runs it once in the server process before the first session, so the
endpoint exists even while nobody is on a page.
"""

from panel_dask_app import telemetry
from panel_dask_app.config import get_settings

telemetry.serve(get_settings().metrics_port)
