"""The outage proxy: a client behind it loses the apiserver and gets it back."""

from __future__ import annotations

from urllib.parse import urlparse

from panel_dask_testcluster.proxy import LoopbackProxy


def test_cut_makes_the_apiserver_unreachable_and_restore_brings_it_back(control_plane):
    server = urlparse(control_plane.server)
    proxy = LoopbackProxy(str(server.hostname), int(server.port or 443))
    proxy.start()
    via_proxy = ("--server", proxy.url, "--request-timeout=5s")
    try:
        before = control_plane.kubectl(
            "get", "nodes", "-o", "name", *via_proxy, capture_output=True, text=True
        )
        assert before.returncode == 0, before.stderr
        assert "node/kwok-node-0" in before.stdout

        proxy.cut()
        during = control_plane.kubectl("get", "nodes", *via_proxy, capture_output=True, text=True)
        assert during.returncode != 0
        assert "was refused" in during.stderr
        direct = control_plane.kubectl("get", "nodes", "-o", "name", capture_output=True, text=True)
        assert direct.returncode == 0  # only the proxied client lost it

        proxy.restore()
        after = control_plane.kubectl(
            "get", "nodes", "-o", "name", *via_proxy, capture_output=True, text=True
        )
        assert after.returncode == 0, after.stderr
        assert proxy.connections >= 2
    finally:
        proxy.stop()
