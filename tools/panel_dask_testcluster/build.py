"""Build the test clusters' binaries with ``go``, once per pin set.

``build``: kube-apiserver & co., etcd, kwok and helm for the test control plane.
``build-node``: what a kind node needs (kubelet, kubeadm, kube-proxy, kind, CoreDNS,
kube-router, pause, capwrap). ``build-docs``: helm-docs, for the chart README's
values table; ``build-monitoring``: Prometheus, for the kind end-to-end run.
Everything comes from the Go module proxy through the modules in tools/go/
(pause: gcc on the C file in the pinned k8s.io/kubernetes module). A finished
build is a folder under the cache named after the pins
(:func:`panel_dask_testcluster.pins.bin_dir`, :func:`~panel_dask_testcluster.pins.node_bin_dir`,
:meth:`~panel_dask_testcluster.pins.ToolSet.bin_dir`); it is reused until a pin changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from panel_dask_testcluster.pins import (
    COREDNS_VERSION,
    GO_MODULES,
    KIND_VERSION,
    KUBE_ROUTER_VERSION,
    KUBERNETES_VERSION,
    NODE_TOOLS,
    PAUSE_CFLAGS,
    PAUSE_VERSION,
    RENAMES,
    TOOLS,
    TRAEFIK_VERSION,
    Tool,
    ToolSet,
    bin_dir,
    node_bin_dir,
)

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


PAUSE = "pause"
# A finished node build runs each of these and expects the pinned version in the output,
# so a wrong -X path never lands in the cache. capwrap is left out: it only execs runc.
NODE_VERSION_CHECKS = {
    "kubelet": (["--version"], f"Kubernetes {KUBERNETES_VERSION}"),
    "kubeadm": (["version", "-o", "short"], KUBERNETES_VERSION),
    "kube-proxy": (["--version"], f"Kubernetes {KUBERNETES_VERSION}"),
    "kind": (["version"], f"kind {KIND_VERSION}"),
    "coredns": (["-version"], f"CoreDNS-{COREDNS_VERSION.lstrip('v')}"),
    "kube-router": (["--version"], KUBE_ROUTER_VERSION),
    PAUSE: (["-v"], f"pause.c v{PAUSE_VERSION}-"),
    "traefik": (["version"], TRAEFIK_VERSION),
}


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


def module_source(path: str, version: str) -> Path:
    """Download one module version (a no-op when cached) and return its read-only folder."""
    with tempfile.TemporaryDirectory() as outside_any_module:
        result = subprocess.run(
            ["go", "mod", "download", "-json", f"{path}@{version}"],
            cwd=outside_any_module,
            env=go_env(),
            capture_output=True,
            text=True,
        )
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or "Dir" not in info:
        raise BuildError(f"go mod download {path}@{version} failed: {info or result.stderr}")
    return Path(info["Dir"])


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


Step = tuple[str, Callable[[Path], None]]


def _tool_step(tool: Tool) -> Step:
    names = ", ".join(RENAMES.get(b, b) for b in tool.binaries)
    return names, lambda out_dir: build_tool(tool, out_dir)


def _build_set(
    target: Path,
    what: str,
    steps: list[Step],
    finish: Callable[[Path], None],
    done: Callable[[Path], bool],
    force: bool,
) -> Path:
    """Run ``steps``, then ``finish``, in a staging folder moved to ``target`` unless done."""
    if shutil.which("go") is None:
        raise BuildError(f"the go command is not on PATH; Go 1.26 or newer builds the {what}")
    with _build_lock(target):
        if done(target) and not force:
            print(f"{what} up to date in {target}")
            return target
        staging = Path(tempfile.mkdtemp(prefix="bin.", dir=target.parent.parent))
        try:
            for index, (names, step) in enumerate(steps, start=1):
                print(f"[{index}/{len(steps)}] building {names}", flush=True)
                step(staging)
            finish(staging)
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(f"{what} built in {target}", file=sys.stderr)
    return target


def build(force: bool = False) -> Path:
    """Build every tool unless this pin set is cached; returns the bin folder."""
    steps = [_tool_step(tool) for tool in TOOLS]
    return _build_set(bin_dir(), "test tools", steps, write_kwok_stages, is_built, force)


def node_expected_binaries() -> list[str]:
    """Every file a complete kind-node build leaves in its bin folder."""
    return [*(RENAMES.get(b, b) for tool in NODE_TOOLS for b in tool.binaries), PAUSE, "traefik"]


def is_node_built(target: Path | None = None) -> bool:
    """True when every binary of the kind-node pin set is already in the cache."""
    target = target or node_bin_dir()
    return all((target / name).exists() for name in node_expected_binaries())


def build_pause(out_dir: Path) -> None:
    """Compile Kubernetes' pause.c from the pinned k8s.io/kubernetes module, statically."""
    if shutil.which("gcc") is None:
        raise BuildError("gcc is not on PATH; it compiles the pause binary (apt-get install gcc)")
    download = _go(
        ["mod", "download", "-json", "k8s.io/kubernetes"], GO_MODULES / "kubernetes-node"
    )
    pause_dir = Path(json.loads(download)["Dir"]) / "build" / "pause"
    tag = re.search(r"^TAG \?= *(\S+)", (pause_dir / "Makefile").read_text(), re.MULTILINE)
    if tag is None or tag.group(1) != PAUSE_VERSION:
        found = tag.group(1) if tag else "no TAG"
        raise BuildError(f"{pause_dir}/Makefile has {found}; pins.PAUSE_VERSION is {PAUSE_VERSION}")
    command = ["gcc", *PAUSE_CFLAGS, "-o", str(out_dir / PAUSE), str(pause_dir / "linux/pause.c")]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(command)} failed:\n{result.stderr.strip()}")


def check_versions(out_dir: Path, checks: dict[str, tuple[list[str], str]]) -> None:
    """Run each built binary's version command; it must name the pinned version."""
    for name, (args, expected) in checks.items():
        result = subprocess.run(
            [str(out_dir / name), *args], capture_output=True, text=True, timeout=60
        )
        output = result.stdout + result.stderr
        if result.returncode != 0 or expected not in output:
            raise BuildError(f"{name} {' '.join(args)}: expected {expected!r}, got:\n{output}")


def build_node(force: bool = False) -> Path:
    """Build the kind-node pin set unless it is cached; returns its bin folder."""
    target = node_bin_dir()
    return _build_set(
        target,
        "kind node tools",
        node_steps(),
        lambda out_dir: check_versions(out_dir, NODE_VERSION_CHECKS),
        is_node_built,
        force,
    )


def node_steps() -> list[Step]:
    """The kind-node build, one progress line each: the Go tools, then pause."""
    return [
        *(_tool_step(tool) for tool in NODE_TOOLS),
        (f"{PAUSE} (gcc)", build_pause),
        ("traefik", _build_traefik),
    ]


def _build_traefik(out_dir: Path) -> None:
    """Traefik needs generated dependency copies first; traefik.py does both."""
    from panel_dask_testcluster.traefik import build_traefik  # traefik.py imports this module

    build_traefik(out_dir)


def is_set_built(tool_set: ToolSet, target: Path | None = None) -> bool:
    """True when the set's binary is already in its cache."""
    return ((target or tool_set.bin_dir()) / tool_set.binary).exists()


def build_tool_set(tool_set: ToolSet, force: bool = False) -> Path:
    """Build a one-tool pin set unless it is cached; returns its bin folder."""
    return _build_set(
        tool_set.bin_dir(),
        f"{tool_set.binary} ({tool_set.folder} tools)",
        [_tool_step(tool_set.tool)],
        lambda out_dir: check_versions(
            out_dir, {tool_set.binary: (list(tool_set.check), tool_set.prints)}
        ),
        lambda target: is_set_built(tool_set, target),
        force,
    )
