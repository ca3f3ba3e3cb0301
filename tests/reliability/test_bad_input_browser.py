"""Bad input through a real browser: huge batches, rapid clicks, many tabs of one browser.

A real `panel-dask-serve` with small caps (PANEL_DASK_MAX_OUTSTANDING=4 per
session, PANEL_DASK_MAX_OUTSTANDING_TOTAL=6 per process) on real Dask. Each
abuse ends in a bounded number of tasks and a message naming the field and
the limit, and the server keeps answering: /health, new pages, new work.
"""

import re

import pytest
from playwright.sync_api import expect

from panel_dask_testkit.browser import (
    LONG_MS,
    cell,
    choose_sleep,
    open_tasks,
    probed_context,
    rows,
)
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.net import http_status
from panel_dask_testkit.panel_server import PanelServer

pytestmark = [pytest.mark.dask, pytest.mark.browser]

LONG = LONG_MS
PER_SESSION = 4
PER_PROCESS = 6
TABS = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_dask(tmp_path_factory.mktemp("dask"), workers=1, threads=2) as dask:
        panel = PanelServer(
            tmp_path_factory.mktemp("panel"),
            dask,
            extra_env={
                "PANEL_DASK_MAX_OUTSTANDING": str(PER_SESSION),
                "PANEL_DASK_MAX_OUTSTANDING_TOTAL": str(PER_PROCESS),
            },
        )
        try:
            panel.wait_ready()
            yield panel
        finally:
            panel.stop()


@pytest.fixture
def browser(chromium):
    # Closed tabs and rapid clicks may abort requests: only leaving loopback fails here.
    with probed_context(chromium, errors=False, failed=False) as (context, _):
        yield context


def fill(page, selector, text):
    field = page.locator(f"{selector} input")
    field.fill(text)
    field.press("Enter")


def submit_button(page):
    return page.get_by_role("button", name="Submit")


def message(page):
    return page.locator(".task-message")


def test_huge_batch_and_rapid_clicks_stay_within_the_session_cap(browser, server):
    page = open_tasks(browser.new_page(), server.url)
    choose_sleep(page, "30")

    fill(page, ".batch-size", "1000000")
    submit_button(page).click()
    expect(message(page)).to_contain_text(
        re.compile(r"Nothing submitted\. how many: (must be from 1 to 50|at most 4 unfinished)")
    )
    expect(rows(page)).to_have_count(0)

    fill(page, ".batch-size", "1")
    # Thirty clicks as fast as the page can fire them, none waiting for the last.
    page.evaluate(
        "(button) => { for (let i = 0; i < 30; i++) button.click() }",
        submit_button(page).element_handle(),
    )
    expect(message(page)).to_contain_text(
        f"at most {PER_SESSION} unfinished tasks per session", timeout=LONG
    )
    expect(rows(page)).to_have_count(PER_SESSION, timeout=LONG)
    page.wait_for_timeout(2000)  # late clicks, if any, would have added rows by now
    expect(rows(page)).to_have_count(PER_SESSION)
    assert http_status(f"{server.url}/health") == 200

    page.get_by_role("button", name="Cancel all").click()
    for index in range(PER_SESSION):
        expect(cell(rows(page).nth(index), "state")).to_have_text("cancelled", timeout=LONG)


def test_many_tabs_of_one_browser_share_the_process_cap(browser, server):
    first = open_tasks(browser.new_page(), server.url)
    choose_sleep(first, "60")
    fill(first, ".batch-size", str(PER_SESSION))
    submit_button(first).click()
    expect(rows(first)).to_have_count(PER_SESSION, timeout=LONG)

    second = open_tasks(browser.new_page(), server.url)
    choose_sleep(second, "30")
    fill(second, ".batch-size", "3")
    submit_button(second).click()
    expect(message(second)).to_contain_text(
        f"this server runs at most {PER_PROCESS} unfinished tasks for all its sessions"
    )
    expect(message(second)).to_contain_text("up to 2 more can be submitted now")
    expect(rows(second)).to_have_count(0)

    # Many more tabs from the same browser: each one loads, connects and is told
    # the limit; the server keeps answering throughout.
    tabs = [open_tasks(browser.new_page(), server.url) for _ in range(TABS)]
    for tab in tabs:
        fill(tab, ".batch-size", "3")
        submit_button(tab).click()
    for tab in tabs:
        expect(message(tab)).to_contain_text("for all its sessions", timeout=LONG)
        expect(rows(tab)).to_have_count(0)
        assert http_status(f"{server.url}/health") == 200
    for tab in tabs:
        tab.close()

    # Work ending frees the budget for everyone.
    first.get_by_role("button", name="Cancel all").click()
    expect(cell(rows(first).nth(PER_SESSION - 1), "state")).to_have_text("cancelled", timeout=LONG)
    second.get_by_role("combobox").first.select_option(label="Fibonacci (CPU-bound)")
    # The server resets the input for the new task; type after it has.
    expect(second.locator(".task-argument input")).to_have_value("20")
    fill(second, ".task-argument", "10")
    submit_button(second).click()
    expect(rows(second)).to_have_count(3, timeout=LONG)
    for index in range(3):
        expect(cell(rows(second).nth(index), "result or error")).to_have_text("55", timeout=LONG)
