"""The app image as a Panel server: hardened, non-root, reachable on a loopback port."""

import pytest

pytestmark = pytest.mark.docker


@pytest.fixture
def panel_server(images, run_container, wait_for_http, loopback_port):
    """panel-dask-serve in a read-only container, port 5006 published on 127.0.0.1."""
    port = loopback_port()
    container = run_container(
        images["app"],
        options=(
            "--publish", f"127.0.0.1:{port}:5006",
            # The browser's origin is the published address, as behind an ingress.
            "--env", f"PANEL_ALLOW_WEBSOCKET_ORIGIN=127.0.0.1:{port}",
        ),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    status, _ = wait_for_http(f"{base}/health", container)
    return container, base, status


def test_health_answers_200(panel_server):
    _, _, status = panel_server
    assert status == 200


def test_serves_the_app_pages(panel_server, wait_for_http):
    container, base, _ = panel_server
    status, index = wait_for_http(f"{base}/", container)
    assert status == 200
    assert "/tasks" in index, "the index should link the tasks page"
    status, tasks_page = wait_for_http(f"{base}/tasks", container)
    assert status == 200
    assert "bokeh" in tasks_page.lower(), "the tasks page should be a Bokeh/Panel document"


def test_refuses_the_scheduler_api_path_the_ingress_sends_here(panel_server, wait_for_http):
    """The chart routes /dask/api to Panel; the image's server must refuse it, not 404."""
    container, base, _ = panel_server
    status, body = wait_for_http(f"{base}/dask/api/v1/retire_workers", container)
    assert status == 403, body


def test_runs_as_non_root(panel_server, docker):
    container, _, _ = panel_server
    assert docker.main_process_uid(container) == 1000


def test_root_filesystem_is_read_only_and_tmp_is_writable(panel_server, docker):
    container, _, _ = panel_server
    root_mount = docker("exec", container, "awk", '$2 == "/" {print $4}', "/proc/mounts")
    assert "ro" in root_mount.split(","), f"root filesystem mounted {root_mount}"
    probe = docker("exec", container, "sh", "-c", "touch /tmp/probe && echo tmp-ok")
    assert probe == "tmp-ok"
    effective_caps = docker("exec", container, "grep", "CapEff", "/proc/1/status")
    assert effective_caps.split()[1] == "0000000000000000", "all capabilities should be dropped"
