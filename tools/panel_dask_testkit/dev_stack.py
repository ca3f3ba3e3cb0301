"""``panel-dask-dev`` on free ports, so tests run beside a developer's `make dev` and each other."""

from __future__ import annotations

import os
import sys

from panel_dask_testkit.net import free_port

DEV = os.path.join(os.path.dirname(sys.executable), "panel-dask-dev")
# Every port the stack listens on, by the name of its --<name>-port option.
PORT_NAMES = ("scheduler", "dashboard", "panel", "metrics", "panel-metrics")


def free_stack_ports() -> dict[str, int]:
    """A free port for each of the stack's listeners."""
    return {name: free_port() for name in PORT_NAMES}


def port_args(ports: dict[str, int]) -> list[str]:
    """The stack's command-line options for ``ports``."""
    return [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
