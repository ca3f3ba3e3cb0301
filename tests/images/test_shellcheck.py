"""Every shell script in the repository passes shellcheck."""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHELLS = {"sh", "bash"}


def _shell_scripts() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    scripts = []
    for name in listed:
        path = REPO / name
        if not path.is_file():
            continue
        if name.endswith(".sh"):
            scripts.append(name)
            continue
        with path.open("rb") as handle:
            first = handle.readline(200)
        interpreter = {Path(word).name for word in first[2:].decode(errors="replace").split()}
        if first.startswith(b"#!") and interpreter & SHELLS:
            scripts.append(name)
    return sorted(scripts)


def test_every_shell_script_passes_shellcheck():
    scripts = _shell_scripts()
    assert "images/build.sh" in scripts and ".ci/run" in scripts, scripts
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: make system-deps installs it"
    result = subprocess.run(
        [shellcheck, "--external-sources", *scripts], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
