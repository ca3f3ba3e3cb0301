"""``python -m panel_dask_operator --namespace NS [kopf run options]``.

Runs ``kopf run`` on :mod:`panel_dask_operator.handlers` with the liveness
endpoint on http://0.0.0.0:8080/healthz unless ``--liveness`` is given. That port
is the chart's operator ``health`` port (tests/chart/test_chart_contract.py).
"""

from __future__ import annotations

import sys

from kopf import cli

HEALTH_PORT = 8080
LIVENESS_PATH = "/healthz"
LIVENESS = f"http://0.0.0.0:{HEALTH_PORT}{LIVENESS_PATH}"
USAGE = "python -m panel_dask_operator --namespace NS [kopf run options]"


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
    """Entry point: build kopf's command line and hand over to it."""
    arguments = kopf_arguments(sys.argv[1:] if argv is None else argv)
    cli.main(args=arguments, prog_name="python -m panel_dask_operator")


if __name__ == "__main__":
    main()
