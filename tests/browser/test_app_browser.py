"""User journeys through the real app in a real browser."""

import re
import time
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from panel_dask_testkit.browser import cell, loopback_context, open_tasks, rows
from panel_dask_testkit.net import http_status
from panel_dask_testkit.waiting import wait_for

pytestmark = pytest.mark.browser

LONG = 60_000


def submit(page):
    page.get_by_role("button", name="Submit").click()


def test_index_lists_the_pages_and_health_answers(page, panel_server):
    assert http_status(f"{panel_server.url}/health") == 200
    page.goto(panel_server.url)
    expect(page.get_by_role("link", name="Run tasks on Dask")).to_be_visible()
    thumbnails = page.locator("a.page img")
    expect(thumbnails).to_have_count(3)
    for thumbnail in thumbnails.all():
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("img => img.naturalWidth") > 0
    page.get_by_role("link", name="Dask dashboard").click()
    expect(page).to_have_url(f"{panel_server.url}/dashboard")


def test_fibonacci_20_five_times(page, panel_server, tmp_path):
    open_tasks(page, panel_server.url)
    expect(page.locator(".task-argument input")).to_have_value("20")
    for submitted in range(1, 6):
        submit(page)
        expect(rows(page)).to_have_count(submitted, timeout=LONG)

    for index in range(5):
        row = rows(page).nth(index)
        expect(cell(row, "state")).to_have_text("finished", timeout=LONG)
        expect(cell(row, "result or error")).to_have_text("6765")
        expect(cell(row, "worker")).to_have_text(re.compile(r"^127\.0\.0\.1:\d+$"))
    expect(page.locator(".progress-text")).to_contain_text("5 of 5 done")
    expect(page.locator(".cluster-summary")).to_contain_text("Workers")
    expect(page.locator(".cluster-summary dd").first).to_have_text("2", timeout=LONG)
    page.screenshot(path=str(tmp_path / "tasks-page.png"), full_page=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "n: must be from 0 to 35, got -1"),
        ("1000000000", "n: must be from 0 to 35, got 1000000000"),
        ("twenty", "n: expected an integer from 0 to 35, got 'twenty'"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_submitted(page, panel_server, text, message):
    open_tasks(page, panel_server.url)
    field = page.locator(".task-argument input")
    # Type and click straight away, as a person does: the click must see the new text.
    field.fill(text)
    submit(page)
    expect(page.locator(".task-message")).to_contain_text(f"Nothing submitted. {message}")
    expect(rows(page)).to_have_count(0)

    # The page keeps working: a valid input goes through afterwards.
    field.fill("10")
    field.press("Enter")
    submit(page)
    expect(rows(page)).to_have_count(1, timeout=LONG)
    expect(cell(rows(page).first, "state")).to_have_text("finished", timeout=LONG)
    expect(cell(rows(page).first, "result or error")).to_have_text("55")


def test_cancel_one_task_from_its_row(page, panel_server):
    open_tasks(page, panel_server.url)
    page.locator(".task-table").wait_for()
    page.get_by_role("combobox").first.select_option(label="Sleep (I/O-like)")
    field = page.locator(".task-argument input")
    expect(field).to_have_value("1")
    field.fill("30")
    field.press("Enter")
    submit(page)
    row = rows(page).first
    expect(cell(row, "state")).to_have_text(re.compile("queued|processing"), timeout=LONG)
    row.get_by_title("Cancel this task").click()
    expect(cell(row, "state")).to_have_text("cancelled", timeout=LONG)
    expect(page.locator(".task-message")).to_contain_text("Cancelled task #1.")


def test_closing_the_tab_cancels_its_tasks_on_the_scheduler(
    chromium, panel_server, dask_for_browser
):
    from distributed import Client

    context, _ = loopback_context(chromium)
    page = open_tasks(context.new_page(), panel_server.url)
    page.get_by_role("combobox").first.select_option(label="Sleep (I/O-like)")
    field = page.locator(".task-argument input")
    field.fill("45")
    field.press("Enter")
    batch = page.locator(".batch-size input")
    batch.fill("6")
    batch.press("Enter")
    submit(page)
    expect(rows(page)).to_have_count(6, timeout=LONG)

    with Client(dask_for_browser.address, set_as_default=False) as observer:

        def sleep_tasks():
            return observer.run_on_scheduler(
                lambda dask_scheduler: [
                    key for key in dask_scheduler.tasks if str(key).startswith("sleep_seconds-")
                ]
            )

        deadline = time.monotonic() + 30
        while len(sleep_tasks()) < 6:
            assert time.monotonic() < deadline, "the six tasks never reached the scheduler"
            # Not time.sleep: Playwright serves the page's routed requests only while waiting.
            page.wait_for_timeout(200)
        context.close()
        deadline = time.monotonic() + 60
        while left := sleep_tasks():
            assert time.monotonic() < deadline, f"tasks still on the scheduler: {left}"
            time.sleep(0.5)


def test_dashboard_page_embeds_a_live_scheduler_plot(page, panel_server, dask_for_browser):
    page.goto(f"{panel_server.url}/dashboard")
    frame = page.locator("iframe.dask-plot").first
    expect(frame).to_be_attached(timeout=LONG)
    src = frame.get_attribute("src")
    assert src.startswith(dask_for_browser.dashboard_url + "/individual-")
    assert http_status(urljoin(page.url, src)) == 200
    expect(page.locator("iframe.dask-plot")).to_have_count(4)
    # The plot's Bokeh document renders inside the frame.
    frame.scroll_into_view_if_needed()
    expect(
        page.frame_locator("iframe.dask-plot").first.locator(".bk-Figure, .bk-Canvas, canvas").first
    ).to_be_attached(timeout=LONG)


def test_metrics_count_the_session_its_tasks_and_its_clicks(chromium, panel_server):
    """What a Prometheus scrape of the Panel pod says about one user's visit."""
    before = panel_server.metrics()
    context, _probe = loopback_context(chromium)
    page = context.new_page()
    open_tasks(page, panel_server.url)
    opened = panel_server.metrics()
    assert opened.value("panel_dask_sessions_open") >= before.value("panel_dask_sessions_open") + 1
    for submitted in range(1, 3):
        submit(page)
        expect(rows(page)).to_have_count(submitted, timeout=LONG)
    for index in range(2):
        expect(cell(rows(page).nth(index), "state")).to_have_text("finished", timeout=LONG)

    def grew(name, **labels):
        return panel_server.metrics().value(name, **labels) - (before.value(name, **labels) or 0)

    assert grew("panel_dask_tasks_total", outcome="submitted") == 2
    assert grew("panel_dask_tasks_total", outcome="finished") == 2
    assert grew("panel_dask_tasks_total", outcome="failed") == 0
    assert grew("panel_dask_callback_seconds_count", page="tasks", action="submit") == 2
    context.close()

    def closed():
        now = panel_server.metrics()
        return now.value("panel_dask_session_duration_seconds_count") > (
            before.value("panel_dask_session_duration_seconds_count") or 0
        )

    wait_for(closed, "the closed tab's session counted as ended", timeout=30)
