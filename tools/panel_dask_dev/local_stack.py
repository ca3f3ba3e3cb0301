"""`panel-dask-dev`: the whole product on one machine, no Kubernetes.

Starts a Dask scheduler (dashboard and HTTP API on) with worker processes in
this process's event loop, the operator's queue autoscaler on that local
cluster, and the Panel app as a `panel-dask-serve` subprocess. Ctrl-C or
SIGTERM stops every process it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import dask
from distributed import LocalCluster

from panel_dask_app import user_apps
from panel_dask_app.bounds import parse_bounded_int
from panel_dask_app.ports import DASHBOARD_PORT, METRICS_PORT, PANEL_PORT, SCHEDULER_PORT
from panel_dask_app.scheduler_routes import routes_config
from panel_dask_app.serve import PAGES
from panel_dask_operator import telemetry
from panel_dask_operator.local import LocalAutoscaler, start_local_autoscaler
from panel_dask_testkit.net import http_status
from panel_dask_testkit.processes import ManagedProcess, ProcessExitedError


@dataclass(frozen=True)
class StackOptions:
    """Where the local stack listens and how big it is."""

    host: str = "127.0.0.1"
    scheduler_port: int = SCHEDULER_PORT
    dashboard_port: int = DASHBOARD_PORT
    panel_port: int = PANEL_PORT
    # Prometheus metrics, as on Kubernetes: the local autoscaler's (this process)
    # and the Panel server's, on two ports since they run here side by side.
    metrics_port: int = METRICS_PORT
    panel_metrics_port: int = METRICS_PORT + 1
    workers: int = 2
    threads_per_worker: int = 2
    autoscaler: bool = True
    # A team's own pages (PANEL_DASK_APPS); empty: ours.
    apps: tuple[str, ...] = ()
    ready_timeout: float = 120.0

    @property
    def scheduler_address(self) -> str:
        """The scheduler's TCP address."""
        return f"tcp://{self.host}:{self.scheduler_port}"

    @property
    def dashboard_url(self) -> str:
        """The dashboard as a browser on this machine reaches it."""
        return f"http://localhost:{self.dashboard_port}"

    @property
    def panel_url(self) -> str:
        """The app as a browser on this machine reaches it."""
        return f"http://localhost:{self.panel_port}"

    @property
    def routes(self) -> list[str]:
        """The pages' URL paths."""
        return [user_apps.route(app) for app in self.apps] or [f"/{page}" for page in PAGES]


def parse_args(argv: Sequence[str]) -> StackOptions:
    """Command-line options; the defaults are the documented local ports."""
    defaults = StackOptions()
    parser = argparse.ArgumentParser(prog="panel-dask-dev", description=__doc__.split("\n")[0])
    port = _bounded_int(1, 65535)
    parser.add_argument("--scheduler-port", type=port, default=defaults.scheduler_port)
    parser.add_argument("--dashboard-port", type=port, default=defaults.dashboard_port)
    parser.add_argument("--panel-port", type=port, default=defaults.panel_port)
    parser.add_argument("--metrics-port", type=port, default=defaults.metrics_port)
    parser.add_argument("--panel-metrics-port", type=port, default=defaults.panel_metrics_port)
    parser.add_argument("--workers", type=_bounded_int(0, 64), default=defaults.workers)
    parser.add_argument(
        "--threads-per-worker", type=_bounded_int(1, 64), default=defaults.threads_per_worker
    )
    parser.add_argument(
        "--no-autoscaler", dest="autoscaler", action="store_false", help="keep workers fixed"
    )
    parser.add_argument(
        "--apps",
        type=_apps,
        default=defaults.apps,
        metavar="ENTRIES",
        help="your own pages instead of ours, comma-separated: module names or paths "
        "(PANEL_DASK_APPS); their package must be importable here, e.g. on PYTHONPATH, "
        "which the Panel server and the workers inherit",
    )
    args = parser.parse_args(argv)
    return StackOptions(**vars(args))


def _bounded_int(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: the app's one bounded-integer check, as argparse's error."""

    def parse(text: str) -> int:
        try:
            return parse_bounded_int(text, minimum, maximum)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _apps(text: str) -> tuple[str, ...]:
    """An argparse type: the app's one check of PANEL_DASK_APPS entries."""
    try:
        return user_apps.parse_entries(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def panel_env(options: StackOptions, environ: Mapping[str, str]) -> dict[str, str]:
    """The app server's environment: loopback only, localhost origins, no proxy headers."""
    env = dict(environ)
    env.update(
        PANEL_ADDRESS=options.host,
        PANEL_PORT=str(options.panel_port),
        PANEL_ALLOW_WEBSOCKET_ORIGIN=f"localhost:{options.panel_port},"
        f"127.0.0.1:{options.panel_port}",
        PANEL_USE_XHEADERS="false",
        PANEL_DASK_METRICS_PORT=str(options.panel_metrics_port),
        DASK_SCHEDULER_ADDRESS=options.scheduler_address,
        DASK_DASHBOARD_URL=options.dashboard_url,
    )
    if options.apps:
        env["PANEL_DASK_APPS"] = ",".join(options.apps)
    return env


def busy_ports(options: StackOptions) -> list[int]:
    """Ports the stack needs that something else already listens on."""
    busy = []
    ports = (
        options.scheduler_port,
        options.dashboard_port,
        options.panel_port,
        options.metrics_port,
        options.panel_metrics_port,
    )
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind((options.host, port))
            except OSError:
                busy.append(port)
    return busy


def banner(options: StackOptions, autoscaler: str) -> str:
    """What runs where, printed once everything answers."""
    return "\n".join(
        [
            "",
            "panel-dask is running on this machine:",
            f"  Panel app        {options.panel_url}  (pages {', '.join(options.routes)}; /health)",
            f"  Dask scheduler   {options.scheduler_address}",
            f"  Dask dashboard   {options.dashboard_url}/status",
            f"  Dask workers     {options.workers} processes × "
            f"{options.threads_per_worker} threads",
            f"  Autoscaler       {autoscaler}",
            f"  Metrics          http://localhost:{options.metrics_port}/metrics (autoscaler), "
            f"http://localhost:{options.panel_metrics_port}/metrics (Panel)",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


async def run_stack(options: StackOptions) -> int:
    """Run until Ctrl-C, SIGTERM or the Panel server exiting; returns the exit code."""
    busy = busy_ports(options)
    if busy:
        print(
            f"panel-dask-dev: port(s) {', '.join(map(str, busy))} on {options.host} are in use "
            "(another `make dev`?); stop that or pass --scheduler-port/--dashboard-port/"
            "--panel-port/--metrics-port/--panel-metrics-port.",
            file=sys.stderr,
        )
        return 2
    try:
        # Before any process starts; this process and its children share one Python path.
        user_apps.resolve_all(options.apps)
    except user_apps.AppNotFoundError as exc:
        print(f"panel-dask-dev: --apps: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    # The same routes as the chart's scheduler: the autoscaler reads the state route.
    dask.config.set(routes_config())
    cluster = await LocalCluster(  # type: ignore[no-untyped-call]
        host=options.host,
        scheduler_port=options.scheduler_port,
        dashboard_address=f"{options.host}:{options.dashboard_port}",
        n_workers=options.workers,
        threads_per_worker=options.threads_per_worker,
        processes=True,
        asynchronous=True,
        preload=["panel_dask_dev.dev_worker"],
    )
    server: ManagedProcess | None = None
    autoscaling: LocalAutoscaler | None = None
    try:
        telemetry.serve(options.metrics_port, options.host)
        if options.autoscaler:
            try:
                autoscaling = start_local_autoscaler(cluster)
            except ValueError as exc:  # its settings, e.g. bounds from the environment
                raise RuntimeError(f"the autoscaler cannot start: {exc}") from None
        server = ManagedProcess(
            "panel-dask-serve",
            [sys.executable, "-m", "panel_dask_app.serve"],
            None,  # its output goes to this terminal
            panel_env(options, os.environ),
        )
        health = f"{options.panel_url}/health"
        try:
            await asyncio.to_thread(
                server.wait_until,
                lambda: http_status(health, timeout=2) == 200,
                f"the Panel server to answer {health}",
                options.ready_timeout,
                0.5,
            )
        except (ProcessExitedError, TimeoutError) as exc:
            raise RuntimeError(str(exc)) from None
        described = (
            f"{start_local_autoscaler.__module__} (scales the workers with the queue)"
            if autoscaling
            else "off (--no-autoscaler)"
        )
        print(banner(options, described), flush=True)
        server_exit = loop.create_task(asyncio.to_thread(server.process.wait))
        stopping = loop.create_task(stop.wait())
        await asyncio.wait({server_exit, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not server.running():
            code = server.process.returncode
            print(f"panel-dask-dev: the Panel server exited ({code})", file=sys.stderr)
            return 1
        print("\npanel-dask-dev: stopping…", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"panel-dask-dev: {exc}", file=sys.stderr)
        return 1
    finally:
        if autoscaling is not None:
            autoscaling.stop()
        if server is not None:
            await asyncio.to_thread(server.stop, 10.0)
        await cluster.close()  # type: ignore[misc]  # awaitable: the cluster is asynchronous


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `panel-dask-dev`."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run_stack(options))


if __name__ == "__main__":
    sys.exit(main())
