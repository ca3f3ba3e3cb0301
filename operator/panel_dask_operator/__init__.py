"""panel-dask operator: provisions Dask clusters and autoscales workers from the queue."""
