"""``panel serve --setup`` script: prepare the server process before its first session.

Panel runs it once in the server process, so the metrics endpoint exists even
while nobody is on a page, and the collector is tuned once the modules every
page needs are imported (``gc_policy``).
"""

from panel_dask_app import gc_policy, telemetry
from panel_dask_app.config import get_settings
from panel_dask_app.views import layout  # noqa: F401  (imported before the freeze)

settings = get_settings()
if settings.metrics_port:
    telemetry.serve(settings.metrics_port)
gc_policy.apply()
