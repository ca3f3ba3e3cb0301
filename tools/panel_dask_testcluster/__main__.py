"""``python -m panel_dask_testcluster build|build-node|up|down|status``.

``build`` makes the control plane's binaries, ``build-node`` the kind node's
(kubelet, kubeadm, kube-proxy, kind, CoreDNS, kube-router, pause, capwrap).

``up`` leaves the control plane running and ends with two lines a shell can
``eval``: ``export KUBECONFIG=...`` and ``export PATH=...:$PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from panel_dask_testcluster import cluster
from panel_dask_testcluster.build import BuildError, build, build_node, is_built, is_node_built
from panel_dask_testcluster.pins import bin_dir, node_bin_dir


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m panel_dask_testcluster", description=__doc__)
    parser.add_argument("command", choices=["build", "build-node", "up", "down", "status"])
    parser.add_argument(
        "--state-dir", type=Path, default=cluster.default_state_dir(),
        help="where the control plane keeps certificates, data and logs (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true", help="build, build-node: rebuild even if cached"
    )
    parser.add_argument(
        "--print-bin-dir", action="store_true",
        help="build, build-node: print only the bin folder on stdout (progress goes to stderr)",
    )  # fmt: skip
    parser.add_argument(
        "--cached-only", action="store_true",
        help="build, build-node: never build; fail unless this pin set is cached",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.command in ("build", "build-node"):
            return build_command(args.command, args.force, args.print_bin_dir, args.cached_only)
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
    target, built, builder = (
        (bin_dir(), is_built, build)
        if command == "build"
        else (node_bin_dir(), is_node_built, build_node)
    )
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
