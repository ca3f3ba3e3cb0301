"""The Dask scheduler restarted under an open page: the user is told, then carries on.

tests/dask/test_app_reconnect.py checks the shared client and the session state;
this is what the person sees in the browser: the connection alert, the lost
rows with a notice, and a task that runs once the scheduler is back, with no
page reload and no Panel restart.
"""

import re

import pytest
from playwright.sync_api import expect

from panel_dask_testkit.browser import (
    LONG_MS,
    cell,
    choose_sleep,
    loopback_context,
    rows,
    set_argument,
)
from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.panel_server import PanelServer

pytestmark = [pytest.mark.dask, pytest.mark.browser]

LONG = LONG_MS


def test_scheduler_restart_is_explained_and_new_work_succeeds(chromium, tmp_path):
    dask = LocalDask(tmp_path / "dask")
    server = None
    context, probe = loopback_context(chromium)
    try:
        dask.start_scheduler()
        dask.start_workers(count=1, threads=1)
        server = PanelServer(tmp_path, dask)
        server.wait_ready()
        page = context.new_page()
        page.goto(f"{server.url}/tasks")
        status = page.locator(".dask-connection")
        expect(status).to_contain_text("Dask: connected", timeout=LONG)
        choose_sleep(page, "45")
        page.get_by_role("button", name="Submit").click()
        running = rows(page).first
        expect(cell(running, "state")).to_have_text("processing", timeout=LONG)
        page.evaluate("window.sameDocument = true")

        dask.close()
        expect(status).to_contain_text(
            re.compile("Dask: (reconnecting|disconnected)"), timeout=LONG
        )
        expect(status).to_contain_text(dask.address.removeprefix("tcp://"))
        expect(cell(running, "state")).to_have_text("lost", timeout=LONG)
        message = page.locator(".task-message")
        expect(message).to_contain_text("1 unfinished task(s) (#1) were lost", timeout=LONG)
        expect(message).to_contain_text("Submit them again")

        dask.start_scheduler()
        dask.start_workers(count=1, threads=1)
        expect(status).to_contain_text("Dask: connected", timeout=LONG)
        page.get_by_role("combobox").first.select_option(label="Fibonacci (CPU-bound)")
        # The server resets the input for the new task; type after it has.
        expect(page.locator(".task-argument input")).to_have_value("20")
        set_argument(page, "10")
        page.get_by_role("button", name="Submit").click()
        after = rows(page).nth(1)
        expect(cell(after, "state")).to_have_text("finished", timeout=LONG)
        expect(cell(after, "result or error")).to_have_text("55")
        # The same page all along: the app recovered, the browser did not reload.
        assert page.evaluate("window.sameDocument") is True
        probe.check(failed=False)
    finally:
        context.close()
        if server is not None:
            server.stop()
        dask.close()
