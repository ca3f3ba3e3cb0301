"""Debian's headless chromium through Playwright, and the app's task page as a browser sees it.

A pytest plugin (this distribution's ``pytest11`` entry point): the ``chromium``
fixture. Playwright never downloads a browser here: it launches
/usr/bin/chromium, and every request to anything but loopback is aborted and
recorded. Playwright is imported only when a test asks for the browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOOPBACK = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1400, "height": 900}
# A task's run, a restart or a reconnection: far above any step's normal time.
LONG_MS = 90_000


class PageProbe:
    """What the pages of a context did that a test should know: blocked requests, errors."""

    def __init__(self) -> None:
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []

    def check(self, *, errors: bool = True, failed: bool = True) -> None:
        """Fail on a request beyond loopback; on script errors and failed requests unless told."""
        assert self.blocked == [], f"the page reached beyond this machine: {self.blocked}"
        if errors:
            assert self.errors == [], f"JavaScript errors on the page: {self.errors}"
        if failed:
            assert self.failed == [], f"requests to the app failed: {self.failed}"


def loopback_context(
    browser: Any, timeout_ms: float = 30_000, **options: Any
) -> tuple[Any, PageProbe]:
    """A browser context whose requests may only reach loopback; returns (context, probe).

    Script errors and failed requests of every page it opens land in the probe.
    """
    options.setdefault("viewport", VIEWPORT)
    context = browser.new_context(**options)
    context.set_default_timeout(timeout_ms)
    probe = PageProbe()

    def loopback_only(route: Any) -> None:
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            probe.blocked.append(route.request.url)
            route.abort()

    def failed(request: Any) -> None:
        if request.url not in probe.blocked:
            probe.failed.append(f"{request.url}: {request.failure}")

    def watch(page: Any) -> None:
        page.on("pageerror", lambda error: probe.errors.append(str(error)))
        page.on("requestfailed", failed)

    context.route("**/*", loopback_only)
    context.on("page", watch)
    return context, probe


@contextmanager
def probed_context(
    browser: Any, *, errors: bool = True, failed: bool = True, **options: Any
) -> Iterator[tuple[Any, PageProbe]]:
    """A :func:`loopback_context` that is closed on leaving, then checked (``PageProbe.check``)."""
    context, probe = loopback_context(browser, **options)
    try:
        yield context, probe
    finally:
        context.close()
    probe.check(errors=errors, failed=failed)


def rows(page: Any) -> Any:
    """The rows of the task table."""
    return page.locator(".task-table .tabulator-row")


def cell(row: Any, field: str) -> Any:
    """One cell of a task table row, by column."""
    return row.locator(f'.tabulator-cell[tabulator-field="{field}"]')


def set_argument(page: Any, text: str) -> None:
    """Type the task's argument and commit it as a user does (Enter)."""
    field = page.locator(".task-argument input")
    field.fill(text)
    field.press("Enter")


def choose_sleep(page: Any, seconds: str) -> None:
    """Pick the sleep task (a long, idle one) and set its seconds."""
    from playwright.sync_api import expect

    page.get_by_role("combobox").first.select_option(label="Sleep (I/O-like)")
    # The server resets the input for the new task; type after it has.
    expect(page.locator(".task-argument input")).to_have_value("1")
    set_argument(page, seconds)


def open_tasks(page: Any, url: str) -> Any:
    """Open ``url``/tasks, wait until it says it reaches Dask; returns the page."""
    from playwright.sync_api import expect

    page.goto(f"{url}/tasks")
    expect(page.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG_MS)
    return page


def run_fibonacci_10(page: Any, row_index: int) -> None:
    """Submit fibonacci(10) (the form's default task) and wait for its row to show 55."""
    from playwright.sync_api import expect

    set_argument(page, "10")
    page.get_by_role("button", name="Submit").click()
    row = rows(page).nth(row_index)
    expect(cell(row, "state")).to_have_text("finished", timeout=LONG_MS)
    expect(cell(row, "result or error")).to_have_text("55")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for one test module.

    Not session-wide: Playwright's sync API keeps an asyncio loop running on the
    main thread while it is open, which would break every async test after it.
    """
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make system-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()
