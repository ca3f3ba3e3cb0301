"""A real Panel server on real Dask processes, driven by Debian's headless chromium.

The browser is the test kit's ``chromium`` fixture (Debian's chromium, loopback only).
"""

import pytest

from panel_dask_testkit.browser import probed_context
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.panel_server import PanelServer


@pytest.fixture(scope="module")
def dask_for_browser(tmp_path_factory):
    with running_dask(tmp_path_factory.mktemp("dask"), workers=2, threads=2) as dask:
        yield dask


@pytest.fixture(scope="module")
def panel_server(tmp_path_factory, dask_for_browser):
    # Shorter session lifetimes so a closed tab's session is destroyed within
    # seconds. Not shorter than a page load: a session that expires before its
    # websocket connects is rebuilt outside the request and then points its
    # stylesheets at Panel's CDN instead of this server.
    server = PanelServer(
        tmp_path_factory.mktemp("panel"),
        dask_for_browser,
        extra_args=["--check-unused-sessions", "1000", "--unused-session-lifetime", "5000"],
        metrics=True,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium):
    with probed_context(chromium) as (context, probe):
        page = context.new_page()
        page.probe = probe
        yield page
