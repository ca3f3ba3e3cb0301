"""``python -m panel_dask_testcluster build|build-node|build-docs|build-monitoring|...``.

``build`` makes the control plane's binaries, ``build-node`` the kind node's
(kubelet, kubeadm, kube-proxy, kind, CoreDNS, kube-router, pause, capwrap),
``build-docs`` helm-docs, ``build-monitoring`` the Prometheus server of the kind
end-to-end run. ``chart-docs`` rewrites the chart README from its
template and values.yaml with helm-docs (``--check``: exit 1 when it is stale).

``up`` leaves the control plane running and ends with two lines a shell can
``eval``: ``export KUBECONFIG=...`` and ``export PATH=...:$PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from panel_dask_testcluster import chart_docs, cluster
from panel_dask_testcluster.build import (
    BuildError,
    build,
    build_node,
    build_tool_set,
    is_built,
    is_node_built,
    is_set_built,
)
from panel_dask_testcluster.pins import DOCS, MONITORING, ToolSet, bin_dir, node_bin_dir

PinSet = tuple[Callable[[], Path], Callable[[Path], bool], Callable[..., Path]]


def _one_tool(tool_set: ToolSet) -> PinSet:
    return (
        tool_set.bin_dir,
        functools.partial(is_set_built, tool_set),
        functools.partial(build_tool_set, tool_set),
    )


# Each pin set: its bin folder, whether it is cached, how to build it.
PIN_SETS: dict[str, PinSet] = {
    "build": (bin_dir, is_built, build),
    "build-node": (node_bin_dir, is_node_built, build_node),
    "build-docs": _one_tool(DOCS),
    "build-monitoring": _one_tool(MONITORING),
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m panel_dask_testcluster", description=__doc__)
    parser.add_argument("command", choices=[*PIN_SETS, "chart-docs", "up", "down", "status"])
    parser.add_argument(
        "--state-dir", type=Path, default=cluster.default_state_dir(),
        help="where the control plane keeps certificates, data and logs (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="build*: rebuild even if cached")
    parser.add_argument(
        "--print-bin-dir", action="store_true",
        help="build*: print only the bin folder on stdout (progress goes to stderr)",
    )  # fmt: skip
    parser.add_argument(
        "--cached-only", action="store_true",
        help="build*: never build; fail unless this pin set is cached",
    )  # fmt: skip
    parser.add_argument(
        "--check", action="store_true",
        help="chart-docs: write nothing; exit 1 when the chart README is stale",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.command in PIN_SETS:
            return build_command(args.command, args.force, args.print_bin_dir, args.cached_only)
        elif args.command == "chart-docs":
            return chart_docs_command(args.check)
        elif args.command == "up":
            if (args.state_dir / "state.json").exists():
                print("stopping the previous control plane first", file=sys.stderr)
                cluster.stop(args.state_dir)
            cp = cluster.start(args.state_dir)
            print(f"control plane up: {cp.server} (logs in {args.state_dir / 'logs'})")
            print(f"export KUBECONFIG={cp.kubeconfig}")
            print(f"export PATH={cp.bin_dir}:$PATH")
        elif args.command == "down":
            stopped = cluster.stop(args.state_dir)
            print(f"stopped {', '.join(stopped)}" if stopped else "no control plane was running")
        else:
            return status(args.state_dir)
    except (BuildError, cluster.ControlPlaneError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def build_command(command: str, force: bool, print_bin_dir: bool, cached_only: bool) -> int:
    """Build one pin set (or check its cache); scripts capture the folder with --print-bin-dir."""
    folder, built, builder = PIN_SETS[command]
    target = folder()
    if cached_only:
        if not built(target):
            print(f"error: {command}: nothing cached in {target}", file=sys.stderr)
            return 1
    else:
        with contextlib.redirect_stdout(sys.stderr) if print_bin_dir else contextlib.nullcontext():
            target = builder(force=force)
    if print_bin_dir:
        print(target)
    return 0


def chart_docs_command(check: bool) -> int:
    """Rewrite the chart README with helm-docs, or (``check``) say whether it is stale."""
    readme = chart_docs.CHART_DIR / "README.md"
    rendered = chart_docs.render()
    if check:
        if rendered != readme.read_text():
            print(f"{readme} is stale: run make chart-docs", file=sys.stderr)
            return 1
        return 0
    readme.write_text(rendered)
    print(f"wrote {readme}")
    return 0


def status(state_dir: Path) -> int:
    """Print each component's pid and health; 0 when all are healthy."""
    if not (state_dir / "state.json").exists():
        print(f"no control plane in {state_dir}")
        return 3
    cp = cluster.ControlPlane.load(state_dir)
    healthy = True
    for name in cluster.COMPONENTS:
        ok = cluster.is_healthy(cp, name)
        healthy &= ok
        print(f"{name:24} pid {cp.pids.get(name, '-'):>7}  {'healthy' if ok else 'NOT healthy'}")
    print(f"export KUBECONFIG={cp.kubeconfig}")
    print(f"export PATH={cp.bin_dir}:$PATH")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
