"""hack/debootstrap-rootfs.sh, the one debootstrap recipe, with a stand-in debootstrap.

The stand-in takes its target the way debootstrap does (`[OPTION...] SUITE
TARGET [MIRROR]`) and runs in a temporary folder, so the recipe is checked in
seconds, without root or a mirror, and nothing lands in the repository: a
stand-in that took the mirror for the target once wrote `http:/<host>/...`
folders into the working directory it ran from.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "hack" / "debootstrap-rootfs.sh"
MIRROR = "http://archive.invalid/debian"

# Writes what a Debian root holds, plus the package lists and logs the recipe
# must leave out of the tarball; records its positional arguments.
STAND_IN = """#!/usr/bin/env bash
set -euo pipefail
positional=()
for arg in "$@"; do [[ $arg == --* ]] || positional+=("$arg"); done
printf '%s\\n' "${positional[@]}" >"$RECORD"
root=${positional[1]}
[[ -d $root ]] || { echo "E: target $root is not a folder" >&2; exit 1; }
mkdir -p "$root/etc" "$root/var/lib/apt/lists" "$root/var/log"
echo bookworm >"$root/etc/debian_version"
echo index >"$root/var/lib/apt/lists/archive_dists_bookworm_InRelease"
echo log >"$root/var/log/dpkg.log"
if [[ ${STAND_IN_FAILS:-0} == 1 ]]; then echo "E: no route to the mirror"; exit 1; fi
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, str]:
    """PATH with the stand-in debootstrap and an `id` that answers root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "debootstrap").write_text(STAND_IN)
    (bin_dir / "id").write_text("#!/usr/bin/env bash\necho 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    (tmp_path / "tmp").mkdir()
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DEBIAN_MIRROR": MIRROR,
        "TMPDIR": str(tmp_path / "tmp"),
        "RECORD": str(tmp_path / "arguments"),
    }


def make_rootfs(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        ["bash", str(SCRIPT), "out/rootfs.tar", "out/debootstrap.log", "ca-certificates", "a test"],
        cwd=work, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_tarball_holds_the_root_without_package_lists_or_logs(
    tmp_path: Path, stand_in: dict[str, str]
) -> None:
    result = make_rootfs(tmp_path, stand_in)
    assert result.returncode == 0, result.stderr
    suite, target, mirror = (tmp_path / "arguments").read_text().split()
    assert (suite, mirror) == ("bookworm", MIRROR)
    assert Path(target).parent == tmp_path / "tmp", "the root is built in a fresh temporary folder"
    assert not Path(target).exists(), "and removed afterwards"
    with tarfile.open(tmp_path / "work" / "out" / "rootfs.tar") as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}
    assert "etc/debian_version" in names
    assert {"var/lib/apt/lists", "var/log"} <= names
    assert not [n for n in names if n.startswith(("var/lib/apt/lists/", "var/log/"))]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "work" / "out").iterdir()) == [
        "debootstrap.log",
        "rootfs.tar",
    ]


def test_a_failed_debootstrap_shows_its_log_and_leaves_no_tarball(
    tmp_path: Path, stand_in: dict[str, str]
) -> None:
    result = make_rootfs(tmp_path, {**stand_in, "STAND_IN_FAILS": "1"})
    assert result.returncode == 1
    assert "E: no route to the mirror" in result.stderr
    assert sorted(p.name for p in (tmp_path / "work" / "out").iterdir()) == ["debootstrap.log"]
    assert list((tmp_path / "tmp").iterdir()) == [], "the temporary root is removed"
