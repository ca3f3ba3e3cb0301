"""A Panel process SIGKILLed while users are connected through the load balancer.

Three real `panel-dask-serve` processes behind Debian's nginx, configured as
the chart's Ingress (cookie affinity, websocket upgrade: panel_dask_testkit.nginx), one real
Dask scheduler and worker, two chromium users pinned to different replicas.
The replica of one user is killed: the other user's page keeps its session and
keeps working; the affected browser reloads into a fresh session on a live
replica and tells the user so; the dead session's tasks leave the cluster.
"""

import os
import time

import pytest
from distributed import Client
from playwright.sync_api import expect

from panel_dask_testkit.browser import (
    LONG_MS,
    cell,
    choose_sleep,
    loopback_context,
    open_tasks,
    rows,
    run_fibonacci_10,
)
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.net import HOST, free_port, http_status
from panel_dask_testkit.nginx import NGINX, NginxBalancer
from panel_dask_testkit.panel_server import running_replicas
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.dask, pytest.mark.browser]

LONG = LONG_MS
REPLICAS = 3


class User:
    """One browser (its own cookies) with one page, and the replicas that served its page."""

    def __init__(self, chromium):
        self.context, self.probe = loopback_context(chromium)
        self.page = self.context.new_page()
        self.upstreams = []
        self.page.on("response", self._record)

    def _record(self, response):
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.upstreams.append(response.headers.get("x-upstream", ""))

    def open(self, url):
        open_tasks(self.page, url)
        return self.upstreams[-1]


@pytest.fixture
def stack(tmp_path):
    assert os.path.exists(NGINX), "Debian's nginx is missing: run `make system-deps`"
    lb_port = free_port()
    with (
        running_dask(tmp_path / "dask", workers=1, threads=2) as dask,
        running_replicas(tmp_path, dask, REPLICAS, lb_port) as servers,
    ):
        balancer = NginxBalancer(
            tmp_path / "nginx", [f"{HOST}:{s.port}" for s in servers], port=lb_port
        )
        try:
            balancer.start()
            yield dask, servers, balancer
        finally:
            balancer.stop()


def test_killed_replica_user_gets_a_fresh_session_others_keep_theirs(chromium, stack):
    dask, servers, balancer = stack
    by_upstream = {f"{HOST}:{server.port}": server for server in servers}

    affected = User(chromium)
    doomed = affected.open(balancer.url)
    assert doomed in by_upstream, affected.upstreams
    # A second user on another replica: new browsers until the balancer picks one.
    others = []
    for _ in range(12):
        user = User(chromium)
        if user.open(balancer.url) != doomed:
            break
        others.append(user)
    else:
        pytest.fail("the balancer sent 12 new browsers to the same replica")
    bystander = user
    for extra in others:
        extra.context.close()
    page_b = bystander.page
    run_fibonacci_10(page_b, 0)
    # Reloads of the same browser stay on its replica (cookie affinity).
    page_b.reload()
    expect(page_b.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG)
    assert bystander.upstreams[-1] == bystander.upstreams[0]
    run_fibonacci_10(page_b, 0)
    # Work in the session about to die, started last so it is still running at
    # the kill however slow the setup was: a long task on the cluster.
    page_a = affected.page
    choose_sleep(page_a, "60")
    page_a.get_by_role("button", name="Submit").click()
    expect(cell(rows(page_a).first, "state")).to_have_text("processing", timeout=LONG)
    for page in (page_a, page_b):
        page.evaluate("window.sameDocument = true")

    with Client(dask.address, set_as_default=False) as observer:
        sleeping = lambda: observer.run_on_scheduler(  # noqa: E731
            lambda dask_scheduler: [k for k in dask_scheduler.tasks if k.startswith("sleep_")]
        )
        assert len(sleeping()) == 1

        killed_at = time.monotonic()
        by_upstream[doomed].process.kill()

        # The affected browser reloads through the balancer onto a live replica,
        # into a fresh session that says what happened.
        notice = page_a.locator(".reconnect-notice")
        expect(notice).to_contain_text("Reconnected to a new session", timeout=LONG)
        expect(notice).to_contain_text("submit them again")
        # A figure for the report (`pytest -s`), never asserted on.
        elapsed = time.monotonic() - killed_at
        print(f"affected browser in a fresh session {elapsed:.1f} s after the kill")
        assert page_a.evaluate("window.sameDocument === undefined")
        assert affected.upstreams[-1] not in ("", doomed), affected.upstreams
        assert "reconnected" not in page_a.url  # a later manual reload is not announced
        expect(page_a.locator(".dask-connection")).to_contain_text("Dask: connected", timeout=LONG)
        expect(rows(page_a)).to_have_count(0)
        run_fibonacci_10(page_a, 0)

        # The dead session's task left the cluster with its Dask client.
        wait_for(lambda: not sleeping(), "the dead session's task to leave the cluster", 60)

    # The other user never noticed: same page, same session, still working.
    assert page_b.evaluate("window.sameDocument") is True
    expect(page_b.locator(".reconnect-notice")).to_have_count(0)
    expect(rows(page_b)).to_have_count(1)
    run_fibonacci_10(page_b, 1)
    assert bystander.upstreams[-1] != doomed
    for _ in range(10):
        assert http_status(f"{balancer.url}/health") == 200
    for user in (affected, bystander):
        user.probe.check(failed=False)
        user.context.close()
