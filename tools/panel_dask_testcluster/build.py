"""Build kube-apiserver & co., etcd, kwok and helm with ``go``, once per pin set.

Everything comes from the Go module proxy through the modules in tools/go/. A
finished build is a folder under the cache named after the pins
(:func:`panel_dask_testcluster.pins.bin_dir`); it is reused until a pin changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from panel_dask_testcluster.pins import GO_MODULES, RENAMES, TOOLS, Tool, bin_dir

STAGES_FILE = "kwok-stages.yaml"
# kwok's own stage definitions: nodes become Ready (with a lease), pods Ready with an IP,
# completed pods finish, deleted pods go away. The same set kwokctl uses by default.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)


class BuildError(RuntimeError):
    """A go command failed; the message carries its last output lines."""


def expected_binaries() -> list[str]:
    """Every file a complete build leaves in the bin folder."""
    names = [RENAMES.get(b, b) for tool in TOOLS for b in tool.binaries]
    return [*names, STAGES_FILE]


def is_built(target: Path | None = None) -> bool:
    """True when every binary of this pin set is already in the cache."""
    target = target or bin_dir()
    return all((target / name).exists() for name in expected_binaries())


def go_env() -> dict[str, str]:
    """The environment for go: no VCS stamping, the local toolchain, module proxy defaults."""
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    env["GOFLAGS"] = "-buildvcs=false -mod=readonly"
    env["CGO_ENABLED"] = "0"
    return env


def _go(args: list[str], module_dir: Path) -> str:
    result = subprocess.run(
        ["go", *args], cwd=module_dir, env=go_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-20:])
        raise BuildError(f"go {' '.join(args)} in {module_dir} failed:\n{tail}")
    return result.stdout


class Progress:
    """A package-count progress bar: redrawn in place on a terminal, every 10% in a log."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = max(total, 1), label
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.shown = -1

    def update(self, done: int) -> None:
        """Show ``done`` of ``total`` packages compiled (skipped unless it moved enough)."""
        percent = min(100, 100 * done // self.total)
        step = percent if self.tty else percent // 10 * 10
        if step == self.shown:
            return
        self.shown = step
        filled = 30 * percent // 100
        bar = "#" * filled + "-" * (30 - filled)
        elapsed = time.monotonic() - self.started
        line = f"  [{bar}] {percent:3d}%  {elapsed:4.0f}s  {self.label}"
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n", flush=True)

    def finish(self) -> None:
        """Draw 100% and end the line."""
        self.update(self.total)
        if self.tty:
            print()


def build_tool(tool: Tool, out_dir: Path) -> None:
    """Compile one module's commands into ``out_dir``, printing a package progress bar."""
    module_dir = GO_MODULES / tool.module
    deps = _go(["list", "-deps", *tool.packages], module_dir).split()
    progress, done = Progress(len(deps), tool.module), 0
    ldflags = " ".join(("-s", "-w", *tool.ldflags))
    command = ["go", "build", "-v", "-trimpath", "-p", str(os.cpu_count() or 2)]
    command += ["-ldflags", ldflags, "-o", f"{out_dir}/", *tool.packages]
    process = subprocess.Popen(
        command, cwd=module_dir, env=go_env(), stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    errors: list[str] = []
    for line in process.stderr:
        if line.strip() in deps:
            done += 1
            progress.update(done)
        else:
            errors.append(line.rstrip())
    progress.finish()
    if process.wait() != 0:
        raise BuildError(f"go build in {module_dir} failed:\n" + "\n".join(errors[-30:]))
    for old, new in RENAMES.items():
        if (out_dir / old).exists():
            (out_dir / old).rename(out_dir / new)


def write_kwok_stages(out_dir: Path) -> None:
    """Concatenate kwok's stage files from the pinned kwok module into one config file."""
    module_root = Path(
        _go(["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"], GO_MODULES / "kwok").strip()
    )
    documents = [(module_root / stage).read_text().strip() for stage in KWOK_STAGES]
    (out_dir / STAGES_FILE).write_text("\n---\n".join(documents) + "\n")


@contextlib.contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(force: bool = False) -> Path:
    """Build every tool unless this pin set is cached; returns the bin folder."""
    target = bin_dir()
    if shutil.which("go") is None:
        raise BuildError("the go command is not on PATH; Go 1.26 or newer builds the test tools")
    with _build_lock(target):
        if is_built(target) and not force:
            print(f"test tools up to date in {target}")
            return target
        staging = Path(tempfile.mkdtemp(prefix="bin.", dir=target.parent.parent))
        try:
            for index, tool in enumerate(TOOLS, start=1):
                names = ", ".join(RENAMES.get(b, b) for b in tool.binaries)
                print(f"[{index}/{len(TOOLS)}] building {names}", flush=True)
                build_tool(tool, staging)
            write_kwok_stages(staging)
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(f"test tools built in {target}", file=sys.stderr)
    return target
