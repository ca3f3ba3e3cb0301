"""The /data page in a real browser: the plot renders, a widget change redraws it."""

import pytest
from playwright.sync_api import expect

from panel_dask_app.dataset import DAY_ROWS
from panel_dask_testkit.data_page import choose_bucket, expect_plot, open_data
from panel_dask_testkit.panel_server import PanelServer

pytestmark = pytest.mark.browser

DAYS = 3
LONG = 90_000  # a rasterized answer compiles numba on a fresh worker


@pytest.fixture(scope="module")
def data_server(tmp_path_factory, dask_for_browser):
    server = PanelServer(
        tmp_path_factory.mktemp("panel-data"),
        dask_for_browser,
        extra_env={"PANEL_DASK_DATA_ROWS": str(DAYS * DAY_ROWS)},
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_the_plot_renders_and_a_widget_change_redraws_it(page, data_server):
    open_data(page, data_server.url)
    status = page.locator(".data-status")
    expect(status).to_contain_text(f"mean of x per 1 hour, days 1–{DAYS}: {DAYS * 24} points")
    expect_plot(page, {"Line": DAYS * 24})
    expect(page.locator(".data-plot canvas").first).to_be_visible()

    choose_bucket(page, "1 day")
    expect(status).to_contain_text(f"Answer 2: mean of x per 1 day, days 1–{DAYS}: {DAYS} points")
    expect_plot(page, {"Line": DAYS})

    # Every second of three days: datashader's image arrives instead of the points.
    choose_bucket(page, "1 second (every row)")
    expect(status).to_contain_text("Answer 3: mean of x per 1 second", timeout=LONG)
    expect(status).to_contain_text(f"{DAYS * DAY_ROWS:,} points (rasterized by datashader)")
    expect_plot(page, {"Image": 1})


def test_bad_input_shows_a_message_and_the_page_keeps_working(page, data_server):
    open_data(page, data_server.url)
    choose_bucket(page, "1 second (every row)")
    expect(page.locator(".data-status")).to_contain_text("Answer 2:", timeout=LONG)
    page.locator(".data-aggregation select").select_option("std")
    message = page.locator(".data-message")
    expect(message).to_contain_text("Not run. aggregation: std needs two rows or more")
    expect(page.locator(".data-status")).to_contain_text("Answer 2:")

    choose_bucket(page, "10 minutes")
    expect(page.locator(".data-status")).to_contain_text("Answer 3: std of x per 10 minutes")
    expect(message).to_be_hidden()
    expect_plot(page, {"Line": DAYS * 144})
