"""Fixtures for the image tests: a Docker CLI that builds with BuildKit, the built
images, and containers that are always removed.

`make test` starts the daemon (hack/dockerd-up.sh) and builds the images before
pytest runs; the `images` fixture reruns the build, which Docker's layer cache
makes quick, so these tests also run on their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from panel_dask_testkit.net import free_port
from panel_dask_testkit.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
APP_IMAGE = "panel-dask-app:dev"
OPERATOR_IMAGE = "panel-dask-operator:dev"
# How every container in these tests runs: the hardening the chart applies.
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")
BUILD_TIMEOUT_S = 1800


@dataclass
class Docker:
    """A docker CLI with the calls the tests need; failures carry the CLI's stderr."""

    cli: str

    def __call__(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        proc = subprocess.run(
            [self.cli, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc.stdout.strip()

    def inspect(self, ref: str) -> dict:
        return json.loads(self("inspect", ref))[0]

    def main_process_uid(self, container: str) -> int:
        """The real uid of the container's PID 1, read from /proc inside it."""
        status = self("exec", container, "cat", "/proc/1/status")
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        return int(uid_line.split()[1])

    def logs(self, container: str) -> str:
        proc = subprocess.run(
            [self.cli, "logs", container], capture_output=True, text=True, timeout=30, check=False
        )
        return proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def docker() -> Docker:
    proc = subprocess.run(
        ["bash", str(REPO / "hack/docker-cli.sh")], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"no docker CLI that builds with BuildKit: {proc.stderr}")
    client = Docker(proc.stdout.strip())
    info = subprocess.run(
        [client.cli, "info"], capture_output=True, text=True, timeout=30, check=False
    )
    if info.returncode != 0:
        pytest.fail(f"the Docker daemon does not answer (start it: make docker-up):\n{info.stderr}")
    return client


@pytest.fixture(scope="session")
def images(docker: Docker) -> dict[str, str]:
    """Build both images on the local Debian base (no registry here)."""
    env = {**os.environ, "LOCAL_BASE": "1", "DOCKER": docker.cli}
    proc = subprocess.run(
        ["bash", str(REPO / "images/build.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"images/build.sh failed:\n{proc.stdout}\n{proc.stderr}")
    return {"app": APP_IMAGE, "operator": OPERATOR_IMAGE}


@pytest.fixture
def run_container(docker: Docker) -> Iterator:
    """Start detached containers (hardened) and remove them, with their volumes, after."""
    started: list[str] = []

    def run(image: str, *args: str, options: tuple[str, ...] = ()) -> str:
        container = docker("run", "--detach", *HARDENED, *options, image, *args)
        started.append(container)
        return container

    yield run
    for container in started:
        docker("rm", "--force", "--volumes", container, check=False)


@pytest.fixture
def loopback_port() -> Callable[[], int]:
    """Ports free on 127.0.0.1 right now, for host-network containers that bind their own."""
    return free_port


@pytest.fixture
def wait_for_http(docker: Docker) -> Callable[..., tuple[int, str]]:
    """GET a URL until it answers (any status), or fail with the container's log."""
    return lambda url, container, timeout_s=120: _wait_for_http(docker, url, container, timeout_s)


def _wait_for_http(docker: Docker, url: str, container: str, timeout_s: float) -> tuple[int, str]:
    def answer() -> tuple[int, str] | None:
        if docker.inspect(container)["State"]["Status"] != "running":
            pytest.fail(f"container exited before {url} answered:\n{docker.logs(container)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except OSError:
            return None

    try:
        return wait_for(answer, f"{url} to answer", timeout_s, 0.5)
    except TimeoutError as error:
        pytest.fail(f"{error}:\n{docker.logs(container)}")
