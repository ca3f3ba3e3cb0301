"""``make dev``'s stack (``panel-dask-dev``): the app, Dask and the autoscaler on one machine.

Kept out of the app distribution so the production image holds no development
module; it depends on the app and the operator by plain imports.
"""
