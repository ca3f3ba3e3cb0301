"""The kind scripts' answers to what needs no cluster: bad input and nothing to delete.

The whole `make kind-up` runs in tests/e2e; these check its refusals quickly.
"""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kind_up_refuses_an_unknown_image_source_naming_the_allowed_ones():
    result = _run("hack/kind-up.sh", KIND_IMAGES="registry")
    assert result.returncode == 2
    assert "KIND_IMAGES=registry" in result.stderr
    assert "local" in result.stderr and "upstream" in result.stderr


def test_kind_up_refuses_a_missing_values_file(tmp_path):
    result = _run("hack/kind-up.sh", KIND_VALUES=str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "absent.yaml" in result.stderr and "KIND_VALUES" in result.stderr


def test_kind_down_with_no_cluster_has_nothing_to_delete():
    result = _run("hack/kind-down.sh", KIND_CLUSTER_NAME="panel-dask-absent")
    assert result.returncode == 0, result.stderr
    assert "no kind cluster" in result.stdout + result.stderr
