"""What the kind scripts do on a machine without the kind toolchain (like CI).

The full `make kind-up` needs Docker with kind node images and is not run here;
these check the paths that are reachable: it names every missing tool with how
to install it, and kind-down succeeds when there is nothing to delete.
"""

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("docker", "kind", "kubectl", "helm")


def _path_without_kind_tools(tmp_path: Path) -> str:
    """A PATH with just what the scripts' shell plumbing needs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("bash", "dirname"):
        found = shutil.which(command)
        assert found, command
        (bin_dir / command).symlink_to(found)
    return str(bin_dir)


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": _path_without_kind_tools(tmp_path)}
    return subprocess.run(
        ["bash", str(REPO / script)], env=env, capture_output=True, text=True, timeout=60
    )


def test_kind_up_names_each_missing_tool_with_how_to_install_it(tmp_path):
    result = _run("hack/kind-up.sh", tmp_path)
    assert result.returncode == 1
    report = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    named = {line.split()[0] for line in report}
    assert named == set(TOOLS), result.stderr
    assert all(("http" in line or "install" in line) for line in report), result.stderr


def test_kind_down_without_kind_has_nothing_to_delete(tmp_path):
    result = _run("hack/kind-down.sh", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no kind cluster to delete" in result.stderr
