"""panel-dask: the Panel app whose heavy work runs on Dask."""
