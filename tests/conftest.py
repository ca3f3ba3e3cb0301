"""Shared pytest configuration: fixtures that several test folders use live in plugins."""

pytest_plugins = ["panel_dask_testcluster.pytest_plugin", "browser_fixtures"]
