"""acme-sales: a team's own Panel app served by panel-dask, with tasks its Dask workers run."""
