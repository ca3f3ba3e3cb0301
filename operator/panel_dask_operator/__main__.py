"""``python -m panel_dask_operator --namespace NS [--metrics-port N] [kopf run options]``.

Runs ``kopf run`` on :mod:`panel_dask_operator.handlers` with the liveness
endpoint on http://0.0.0.0:8080/healthz unless ``--liveness`` is given. That port
is the chart's operator ``health`` port (tests/chart/test_chart_contract.py).
Prometheus metrics are served on ``--metrics-port`` (8000; 0 turns them off).
"""

from __future__ import annotations

import sys

from kopf import cli

from panel_dask_operator import telemetry

HEALTH_PORT = 8080
LIVENESS_PATH = "/healthz"
LIVENESS = f"http://0.0.0.0:{HEALTH_PORT}{LIVENESS_PATH}"
USAGE = "python -m panel_dask_operator --namespace NS [--metrics-port N] [kopf run options]"
METRICS_FLAG = "--metrics-port"


def metrics_port(argv: list[str]) -> tuple[int, list[str]]:
    """Take ``--metrics-port N`` out of the arguments (kopf does not know it)."""
    port, rest, args = telemetry.METRICS_PORT, [], iter(argv)
    for arg in args:
        if arg == METRICS_FLAG or arg.startswith(f"{METRICS_FLAG}="):
            value = arg.partition("=")[2] if "=" in arg else next(args, "")
            if not value.isdigit() or int(value) > 65535:
                raise SystemExit(f"{USAGE}: {METRICS_FLAG} takes a port from 0 to 65535")
            port = int(value)
        else:
            rest.append(arg)
    return port, rest


def kopf_arguments(argv: list[str]) -> list[str]:
    """The ``kopf run`` command line for our options; refuses to run cluster-wide by accident."""
    args = list(argv)
    if any(a in ("-h", "--help") for a in args):
        return ["run", "--help"]
    scoped = any(a in ("-n", "--namespace", "-A", "--all-namespaces") for a in args) or any(
        a.startswith("--namespace=") for a in args
    )
    if not scoped:
        raise SystemExit(f"{USAGE}: --namespace is required (or --all-namespaces)")
    if not any(a in ("-L", "--liveness") or a.startswith("--liveness=") for a in args):
        args.append(f"--liveness={LIVENESS}")
    return ["run", "--module", "panel_dask_operator.handlers", *args]


def main(argv: list[str] | None = None) -> None:
    """Entry point: serve the metrics, build kopf's command line and hand over to it."""
    port, rest = metrics_port(sys.argv[1:] if argv is None else argv)
    arguments = kopf_arguments(rest)
    if port:
        telemetry.serve(port)
    cli.main(args=arguments, prog_name="python -m panel_dask_operator")


if __name__ == "__main__":
    main()
