"""The operator image starts and its liveness endpoint answers.

Two honest setups: with a kubeconfig for the test control plane (a real
kube-apiserver on 127.0.0.1) the operator logs in and watches for real, and its
default liveness endpoint http://127.0.0.1:8080/healthz answers (host network);
with a kubeconfig whose apiserver refuses connections, liveness still answers
while kopf keeps retrying, so a probe does not kill a pod during an apiserver
outage.
"""

import socket
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

LIVENESS_PORT = 8080
CRDS = Path(__file__).resolve().parents[2] / "charts/panel-dask/crds"
STAYS_UP_S = 5


@pytest.fixture
def operator_kubeconfig(control_plane, tmp_path):
    """A self-contained kubeconfig (certificates inline) readable by uid 1000."""
    view = control_plane.kubectl(
        "config", "view", "--flatten", "--minify", capture_output=True, text=True
    )
    assert view.returncode == 0, view.stderr
    path = tmp_path / "kubeconfig"
    path.write_text(view.stdout)
    path.chmod(0o644)
    return path


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


UNREACHABLE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:%d"}}]
users: [{name: nobody, user: {token: unused}}]
contexts: [{name: down, context: {cluster: down, user: nobody}}]
current-context: down
"""


def _assert_hardened_and_up(docker, container):
    time.sleep(STAYS_UP_S)  # a crash loop would show up as an exited container
    state = docker.inspect(container)["State"]
    assert state["Status"] == "running", docker.logs(container)
    assert docker.main_process_uid(container) == 1000
    caps = docker("exec", container, "grep", "CapEff", "/proc/1/status")
    assert caps.split()[1] == "0000000000000000"


def test_operator_liveness_answers_while_the_apiserver_is_unreachable(
    images, run_container, loopback_port, tmp_path, wait_for_http, docker
):
    closed_port, liveness_port = loopback_port(), loopback_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG % closed_port)
    kubeconfig.chmod(0o644)
    container = run_container(
        images["operator"],
        "--namespace", "panel-dask",
        f"--liveness=http://127.0.0.1:{liveness_port}/healthz",
        options=(
            "--network", "host",
            "--volume", f"{kubeconfig}:/etc/panel-dask/kubeconfig:ro",
            "--env", "KUBECONFIG=/etc/panel-dask/kubeconfig",
        ),
    )  # fmt: skip
    status, body = wait_for_http(f"http://127.0.0.1:{liveness_port}/healthz", container)
    assert status == 200, body
    assert '"alive": true' in body
    _assert_hardened_and_up(docker, container)
    assert f"127.0.0.1:{closed_port}" in docker.logs(container), "it should be retrying the API"


@pytest.mark.controlplane
def test_operator_liveness_answers_while_watching_a_real_apiserver(
    images, run_container, control_plane, namespace, operator_kubeconfig, wait_for_http, docker
):
    applied = control_plane.kubectl(
        "apply", "--server-side", "-f", str(CRDS), capture_output=True, text=True
    )
    assert applied.returncode == 0, applied.stderr
    assert not _port_in_use(LIVENESS_PORT), (
        f"127.0.0.1:{LIVENESS_PORT} is taken; the operator's liveness port must be free"
    )
    container = run_container(
        images["operator"],
        "--namespace",
        namespace,
        options=(
            "--network",
            "host",
            "--volume",
            f"{operator_kubeconfig}:/etc/panel-dask/kubeconfig:ro",
            "--env",
            "KUBECONFIG=/etc/panel-dask/kubeconfig",
        ),
    )
    status, body = wait_for_http(f"http://127.0.0.1:{LIVENESS_PORT}/healthz", container)
    assert status == 200, body
    _assert_hardened_and_up(docker, container)
