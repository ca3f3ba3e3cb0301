"""Driving the /data page in a browser: open it, pick a bucket, read what the plot draws."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from panel_dask_testkit.waiting import wait_for

# The first answer includes generating the dataset on the workers.
FIRST_ANSWER_MS = 180_000

# What the page's plots draw: each renderer of a figure on screen, its glyph and row count.
# (The document may still hold a replaced figure's models; the views are what is shown.)
GLYPHS = """() => [...Bokeh.index.all_views()]
  .filter(view => view.constructor.__name__ === "FigureView")
  .flatMap(view => view.model.renderers.filter(r => r.glyph !== undefined))
  .map(r => [r.glyph.constructor.__name__, r.data_source.get_length()])"""


def open_data(page: Any, url: str, timeout_ms: int = FIRST_ANSWER_MS) -> None:
    """Open /data and wait for its first answer."""
    page.goto(f"{url}/data")
    expect(page.locator(".data-status")).to_contain_text("Answer 1:", timeout=timeout_ms)


def expect_plot(page: Any, drawn: dict[str, int], timeout: float = 30) -> None:
    """Wait until the figures on screen draw ``drawn`` ({glyph type: rows})."""
    wait_for(lambda: dict(page.evaluate(GLYPHS)) == drawn, f"the plot to draw {drawn}", timeout)


def choose_bucket(page: Any, label: str) -> None:
    """Pick the time bucket by its label."""
    page.locator(".data-bucket select").select_option(label=label)
