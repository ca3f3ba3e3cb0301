"""A real Panel server on real Dask processes, driven by Debian's headless chromium.

Playwright never downloads a browser here: it launches /usr/bin/chromium, and
every request to anything but loopback is aborted and recorded.
"""

from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from panel_dask_app.testing import LocalDask, PanelServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def dask_for_browser(tmp_path_factory):
    dask = LocalDask(tmp_path_factory.mktemp("dask"))
    try:
        dask.start_scheduler()
        dask.start_workers(count=2, threads=2)
        yield dask
    finally:
        dask.close()


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
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make system-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


class PageProbe:
    """What a page did that a test should know about: blocked requests, script errors."""

    def __init__(self):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    probe = PageProbe()

    def loopback_only(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            probe.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda error: probe.errors.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: (
            None
            if request.url in probe.blocked
            else probe.failed.append(f"{request.url}: {request.failure}")
        ),
    )
    page.probe = probe
    yield page
    context.close()
    assert probe.errors == [], f"JavaScript errors on the page: {probe.errors}"
    assert probe.failed == [], f"requests to the app failed: {probe.failed}"
    assert probe.blocked == [], f"the page reached beyond this machine: {probe.blocked}"
