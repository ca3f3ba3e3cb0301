"""Debian's headless chromium through Playwright, shared by the browser and reliability tests.

Loaded as a pytest plugin by tests/conftest.py. Playwright never downloads a
browser here: it launches /usr/bin/chromium, and every request to anything but
loopback is aborted and recorded.
"""

from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOOPBACK = {"127.0.0.1", "localhost"}


class PageProbe:
    """What a page did that a test should know about: blocked requests, script errors."""

    def __init__(self):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []


def loopback_context(browser, **options):
    """A browser context whose requests may only reach loopback; returns (context, probe)."""
    context = browser.new_context(**options)
    probe = PageProbe()

    def loopback_only(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            probe.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    return context, probe


@pytest.fixture(scope="module")
def chromium():
    """Chromium for one test module.

    Not session-wide: Playwright's sync API keeps an asyncio loop running on the
    main thread while it is open, which would break every async test after it.
    """
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make system-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()
