"""Panel's own auth, switched on by the environment variables the chart sets from Secrets.

A real `panel-dask-serve` with PANEL_BASIC_AUTH naming a credentials file (as
the chart mounts it) or PANEL_OAUTH_* (as the chart passes them through
secretKeyRef): pages need a login, /health stays open for the probes.
tests/chart/test_chart_security.py checks the chart renders these variables.
"""

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from cryptography.fernet import Fernet

from panel_dask_testkit.local_dask import LocalDask
from panel_dask_testkit.net import http_status
from panel_dask_testkit.panel_server import REPLICA_COOKIE_SECRET as COOKIE_SECRET
from panel_dask_testkit.panel_server import PanelServer

pytestmark = pytest.mark.dask

PAGES = ["/", "/tasks", "/dashboard"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url, data=None):
    """(status, Location header) of one request, redirects not followed."""
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location")


def serve(tmp_path, env):
    server = PanelServer(tmp_path, LocalDask(tmp_path), extra_env=env)
    server.wait_ready()
    return server


def test_basic_auth_from_a_credentials_file(tmp_path):
    credentials = tmp_path / "basic-auth" / "credentials.json"
    credentials.parent.mkdir()
    credentials.write_text(json.dumps({"alice": "Wonder-Land-42"}))
    server = serve(
        tmp_path,
        {"PANEL_BASIC_AUTH": str(credentials), "PANEL_COOKIE_SECRET": COOKIE_SECRET},
    )
    try:
        assert http_status(f"{server.url}/health") == 200
        anonymous = urllib.request.build_opener(NoRedirect)
        for page in PAGES:
            status, location = fetch(anonymous, f"{server.url}{page}")
            assert (status, location.split("?")[0]) == (302, "./login"), page

        def login(password):
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(jar), NoRedirect
            )
            form = urllib.parse.urlencode({"username": "alice", "password": password}).encode()
            fetch(opener, f"{server.url}/login", form)
            return opener

        intruder = login("wonder-land-42")
        assert fetch(intruder, f"{server.url}/tasks")[0] == 302
        alice = login("Wonder-Land-42")
        for page in PAGES:
            assert fetch(alice, f"{server.url}{page}")[0] == 200, page
    finally:
        server.stop()


def test_oauth_sends_the_browser_to_the_provider_with_the_client_id(tmp_path):
    server = serve(
        tmp_path,
        {
            "PANEL_OAUTH_PROVIDER": "github",
            "PANEL_OAUTH_KEY": "client-id-from-a-secret",
            "PANEL_OAUTH_SECRET": "client-secret-from-a-secret",
            "PANEL_OAUTH_ENCRYPTION": Fernet.generate_key().decode(),
            "PANEL_COOKIE_SECRET": COOKIE_SECRET,
        },
    )
    try:
        assert http_status(f"{server.url}/health") == 200
        anonymous = urllib.request.build_opener(NoRedirect)
        status, location = fetch(anonymous, f"{server.url}/tasks")
        assert (status, location.split("?")[0]) == (302, "./login")
        # Not followed: the provider is off this machine.
        status, location = fetch(anonymous, f"{server.url}/login")
        target = urllib.parse.urlsplit(location)
        assert status == 302
        assert (target.scheme, target.netloc) == ("https", "github.com")
        query = urllib.parse.parse_qs(target.query)
        assert query["client_id"] == ["client-id-from-a-secret"]
        assert "client-secret-from-a-secret" not in location
    finally:
        server.stop()
