"""No package registry or mirror host is written in the repository.

Each host comes from the machine it runs on: the Debian mirror from its apt
sources (hack/debian-mirror.sh, for every debootstrap), pip's index from pip's
own configuration (the dev venv's pip reads it; image builds get the PIP_*
variables passed through), Go's module proxy from GOPROXY. Hosts under the
reserved .invalid and example.* names stand in for real ones in tests and docs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIRROR_SCRIPT = REPO / "hack" / "debian-mirror.sh"

_URL = r"[a-z][a-z0-9+.-]*://(?P<host>[^/\s\"'\]:]+)"
# Where a host would be configured rather than merely mentioned.
CONFIGURING = [
    # a proxy, index or mirror variable given a literal URL
    re.compile(
        rf"\b(GOPROXY|GOSUMDB|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|PIP_FIND_LINKS"
        rf"|DEBIAN_MIRROR)\b[\"']?\s*[=:]\s*[\"']?{_URL}"
    ),
    # pip's own options and configuration keys
    re.compile(rf"(--|\b)(index-url|extra-index-url|find-links|trusted-host)\b\s*[= ]\s*{_URL}"),
    # apt sources, one-line and deb822
    re.compile(rf"^\s*deb(-src)?\s+(\[[^\]]*\]\s+)?{_URL}"),
    re.compile(rf"^\s*URIs:\s*{_URL}"),
    # a mirror handed to debootstrap directly
    re.compile(rf"\bdebootstrap\b.*\s{_URL}"),
    # an image from a named registry: its first path part is a host (a dot or a port)
    re.compile(
        r"^\s*FROM\s+(--\S+\s+)*(?P<host>[a-z0-9-]+(\.[a-z0-9-]+)+|[a-z0-9-]+(?=:\d+/))(:\d+)?/"
    ),
]
RESERVED = re.compile(r"(^|\.)(invalid|example|test|localhost)$|^example\.(com|net|org)$")


def violations(lines: list[str]) -> list[str]:
    """Lines that configure a real host; reserved names (.invalid, example.org) pass."""
    found = []
    for line in lines:
        for pattern in CONFIGURING:
            match = pattern.search(line)
            if match and not RESERVED.search(match["host"]):
                found.append(line.strip())
    return found


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    return [REPO / name for name in listed if (REPO / name).is_file() and name != "go.sum"]


def test_the_check_sees_each_way_of_writing_a_host() -> None:
    written = [
        "ENV GOPROXY=https://modules.internal",
        "pip install --index-url https://packages.internal/simple app",
        "index-url = https://packages.internal/simple",
        "deb [signed-by=/k.gpg] http://debian.internal/debian bookworm main",
        "URIs: http://debian.internal/debian",
        'debootstrap --variant=minbase bookworm "$root" http://debian.internal/debian',
        "FROM images.internal/python:3.11-slim",
        "FROM --platform=linux/amd64 images.internal:5000/python:3.11",
    ]
    assert violations(written) == [line.strip() for line in written]
    allowed = [
        'DEBIAN_MIRROR="http://archive.invalid/debian"',
        "FROM ${BASE_IMAGE} AS builder",
        "FROM python:3.11-slim-bookworm",
        'debootstrap --variant=minbase bookworm "$rootfs" "$mirror"',
        "for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do",
    ]
    assert violations(allowed) == []


def test_no_file_writes_a_registry_or_mirror_host() -> None:
    found = []
    # This file writes made-up hosts on purpose, to show the check finds them.
    for path in set(tracked_text_files()) - {Path(__file__)}:
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(REPO)}: {line}" for line in violations(lines)]
    assert not found, "hosts written in the repository:\n" + "\n".join(found)


def test_every_debootstrap_takes_its_mirror_from_the_machines_apt_sources() -> None:
    callers = [
        path.relative_to(REPO).as_posix()
        for path in tracked_text_files()
        if path.suffix == ".sh" and re.search(r"^\s*debootstrap\s", path.read_text(), re.M)
    ]
    assert callers == ["hack/debootstrap-rootfs.sh"]
    script = (REPO / callers[0]).read_text()
    assert 'mirror=$("$here/debian-mirror.sh")' in script
    assert re.search(r'^debootstrap .* "\$mirror" ', script, re.M)


def mirror(apt: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DEBIAN_MIRROR"}
    return subprocess.run(
        ["bash", str(MIRROR_SCRIPT)],
        env={**environ, "APT_ETC_DIR": str(apt), **env},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@pytest.fixture
def apt(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_mirror_is_the_first_archive_of_the_deb822_sources(apt: Path) -> None:
    (apt / "sources.list.d" / "a-security.sources").write_text(
        "Types: deb\nURIs: http://archive.invalid/debian-security\nSuites: bookworm-security\n"
    )
    (apt / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://archive.invalid/debian\nSuites: bookworm bookworm-updates\n"
    )
    result = mirror(apt)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://archive.invalid/debian\n"


def test_mirror_from_a_one_line_sources_list_with_options(apt: Path) -> None:
    (apt / "sources.list").write_text(
        "# a comment\ndeb [signed-by=/usr/share/keyrings/d.gpg] http://archive.invalid/debian "
        "bookworm main\n"
    )
    assert mirror(apt).stdout == "http://archive.invalid/debian\n"


def test_without_an_apt_source_it_says_how_to_name_one(apt: Path) -> None:
    result = mirror(apt)
    assert result.returncode == 1
    assert "DEBIAN_MIRROR" in result.stderr and result.stdout == ""


def test_debian_mirror_wins_over_the_apt_sources(apt: Path) -> None:
    (apt / "sources.list").write_text("deb http://archive.invalid/debian bookworm main\n")
    result = mirror(apt, DEBIAN_MIRROR="http://chosen.invalid/debian")
    assert result.stdout == "http://chosen.invalid/debian\n"
