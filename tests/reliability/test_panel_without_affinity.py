"""Does Panel need sticky sessions? A page from one replica, its websocket on the other.

Two real `panel-dask-serve` processes sharing the cookie secret (as the
chart's pods do) behind Debian's nginx with no affinity cookie
(panel_dask_testkit.nginx, ``affinity=False``). Round robin sends a page and its websocket
to different replicas whenever they fall on different turns; the balancer
here does that every time (pages to replica A, websocket upgrades to B), so
the outcome is not left to request counts. Real chromium opens the task page
and runs a task.

What happens (Bokeh 3.9, Panel 1.9): B has never seen the session id, so it
builds a new session from the page's signed token and the page works: the
widgets answer, a task runs on Dask. A keeps the session it rendered, which
no websocket ever claims. And the session B rebuilt is not the page A
rendered: its widgets' stylesheets point at cdn.holoviz.org instead of the
server's own /static, so a cluster without internet access (or with a
Content-Security-Policy) shows unstyled widgets: the task table as plain
text. (Panel rewrites its models' stylesheet URLs to the server's /static in
server_html_page_for_session, panel/io/server.py, i.e. only on the path that
renders the HTML page; a session Bokeh creates for a websocket never takes
it.) The control case (websocket back to A) loads nothing from outside.
So the chart keeps a page and its websocket on one pod (cookie affinity)
and warns where it cannot.
"""

import os

import pytest

from panel_dask_testkit.browser import loopback_context, open_tasks, run_fibonacci_10
from panel_dask_testkit.local_dask import running_dask
from panel_dask_testkit.net import HOST, free_port
from panel_dask_testkit.nginx import NGINX, NginxBalancer
from panel_dask_testkit.panel_server import running_replicas
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.dask, pytest.mark.browser]

CDN = "https://cdn.holoviz.org/"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two Panel servers on one Dask cluster, and the port a balancer will listen on."""
    assert os.path.exists(NGINX), "Debian's nginx is missing: run `make system-deps`"
    lb_port = free_port()
    with (
        running_dask(tmp_path_factory.mktemp("dask"), workers=1, threads=2) as dask,
        running_replicas(tmp_path_factory.mktemp("panel"), dask, 2, lb_port) as servers,
    ):
        yield servers, lb_port


def balancer(tmp_path, replicas, websocket_to: int):
    servers, port = replicas
    lb = NginxBalancer(
        tmp_path / "nginx",
        [f"{HOST}:{servers[0].port}"],
        port=port,
        affinity=False,
        websocket_backends=[f"{HOST}:{servers[websocket_to].port}"],
    )
    lb.start()
    return lb


def use_the_page(chromium, url):
    """Open /tasks, run fibonacci(10); returns what the browser tried to load from outside."""
    context, probe = loopback_context(chromium)
    run_fibonacci_10(open_tasks(context.new_page(), url), 0)
    context.close()  # closes the websocket, so the balancer logs it
    assert probe.errors == []
    return probe.blocked


def replica_of(lb, path):
    """The replica that served ``path``; a websocket's line appears once nginx saw it close."""

    def replicas():
        return {replica for uri, _, replica in lb.upstreams() if uri == path}

    wait_for(replicas, f"the balancer's log line for {path}", 10)
    [upstream] = replicas()
    return upstream


def log_count(server, line):
    return server.process.log_path.read_text(errors="replace").count(line)


def test_websocket_on_another_replica_rebuilds_the_session_with_cdn_stylesheets(
    chromium, replicas, tmp_path
):
    servers, _ = replicas
    lb = balancer(tmp_path, replicas, websocket_to=1)
    before = [log_count(server, "ServerConnection created") for server in servers]
    try:
        blocked = use_the_page(chromium, lb.url)
        # The page came from A, its websocket went to B, and the page still worked.
        assert replica_of(lb, "/tasks") == f"{HOST}:{servers[0].port}"
        assert replica_of(lb, "/tasks/ws") == f"{HOST}:{servers[1].port}"
        # B connected a session (built from the token); A's rendered session got no connection.
        after = [log_count(server, "ServerConnection created") for server in servers]
        assert [a - b for a, b in zip(after, before, strict=True)] == [0, 1]
        # ... but B's rebuilt session asked the browser for stylesheets from the CDN.
        assert blocked, "the rebuilt session loaded everything from the server"
        assert all(url.startswith(CDN) for url in blocked), blocked
        assert any("tabulator" in url for url in blocked), blocked
    finally:
        lb.stop()


def test_websocket_on_the_page_replica_loads_nothing_from_outside(chromium, replicas, tmp_path):
    servers, _ = replicas
    lb = balancer(tmp_path, replicas, websocket_to=0)
    try:
        assert use_the_page(chromium, lb.url) == []
        assert replica_of(lb, "/tasks/ws") == f"{HOST}:{servers[0].port}"
    finally:
        lb.stop()
