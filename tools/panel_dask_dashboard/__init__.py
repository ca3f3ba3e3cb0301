"""The Grafana dashboard of panel-dask, generated with grafana-foundation-sdk."""
