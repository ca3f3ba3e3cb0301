"""`python -m panel_dask_testcluster up/down` as `make cluster-up/down` run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from panel_dask_testcluster.cluster import COMPONENTS, ControlPlane


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panel_dask_testcluster", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/cmdline").read_bytes() != b""


@pytest.mark.controlplane
def test_up_prints_eval_lines_and_down_leaves_nothing_behind(tmp_path):
    state = tmp_path / "cp"
    up = cli("up", "--state-dir", str(state))
    assert up.returncode == 0, up.stderr + up.stdout
    last_two = up.stdout.strip().splitlines()[-2:]
    assert last_two[0].startswith("export KUBECONFIG=")
    assert last_two[1].startswith("export PATH=") and last_two[1].endswith(":$PATH")

    cp = ControlPlane.load(state)
    assert set(cp.pids) == set(COMPONENTS)
    env = dict(os.environ, KUBECONFIG=last_two[0].split("=", 1)[1])
    nodes = subprocess.run(
        [str(cp.bin_dir / "kubectl"), "get", "nodes", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert nodes.stdout.split() == [f"node/kwok-node-{i}" for i in range(3)]
    status = cli("status", "--state-dir", str(state))
    assert status.returncode == 0 and status.stdout.count("healthy") == len(COMPONENTS)

    down = cli("down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr
    assert not [name for name, pid in cp.pids.items() if alive(pid)]
    assert not [name for name, port in cp.ports.items() if listening(port)]
    assert not state.exists()
    again = cli("down", "--state-dir", str(state))
    assert again.returncode == 0 and "no control plane" in again.stdout


def test_status_without_a_control_plane_says_so(tmp_path):
    result = cli("status", "--state-dir", str(tmp_path / "none"))
    assert result.returncode == 3 and "no control plane" in result.stdout
